// Compile-only (tsconfig.typetest.json, run by typecheck.test.ts): the handler types that
// createOmiseWebhooks().on() gives. Each `@ts-expect-error` line must fail to compile; if a type
// change makes one of them compile, tsc reports the unused directive and the check fails.

import { createFetchHandler } from './create-fetch-handler.js';
import { createNodeMiddleware } from './create-node-middleware.js';
import {
  createOmiseWebhooks,
  type OmiseEventFor,
  type OmiseEventKeysMatching,
  type OmiseWebhooks,
} from './create-omise-webhooks.js';
import type { OmiseWebhookError } from './errors.js';
import type { OmiseEventKey } from './event-catalogue.js';
import type {
  OmiseCharge,
  OmiseCustomer,
  OmiseDeletedObject,
  OmiseEvent,
  OmiseRefund,
  OmiseTransfer,
} from './types.js';

declare function take<T>(value: T): void;
declare const webhooks: OmiseWebhooks;

// One key: `event.data` is that key's object.
webhooks.on('charge.complete', (event) => {
  const key: 'charge.complete' = event.key;
  const charge: OmiseCharge = event.data;
  const amount: number = event.data.amount;
  take([key, charge, amount]);
  // @ts-expect-error a charge has no `email`
  take(event.data.email);
  // @ts-expect-error the data is a charge, not a customer
  const customer: OmiseCustomer = event.data;
  take(customer);
  // @ts-expect-error the key is only ever charge.complete here
  take(event.key === 'refund.create');
});

// A group pattern: the union of that group's events, narrowable by key.
webhooks.on('charge.*', (event) => {
  const key:
    | 'charge.create'
    | 'charge.update'
    | 'charge.capture'
    | 'charge.reverse'
    | 'charge.complete'
    | 'charge.expire' = event.key;
  const charge: OmiseCharge = event.data;
  take([key, charge]);
  // @ts-expect-error refund.create is not a charge event
  take(event.key === 'refund.create');
});
type ChargeKeys = OmiseEventKeysMatching<'charge.*'>;
const everyChargeKey: Record<ChargeKeys, true> = {
  'charge.create': true,
  'charge.update': true,
  'charge.capture': true,
  'charge.reverse': true,
  'charge.complete': true,
  'charge.expire': true,
};
take(everyChargeKey);

// customer.* includes customer.update.card and the deleted stub, narrowed by key.
webhooks.on('customer.*', (event) => {
  if (event.key === 'customer.destroy') {
    const stub: OmiseDeletedObject<'customer'> = event.data;
    take(stub);
  } else {
    const customer: OmiseCustomer = event.data;
    take(customer);
  }
});

// A list: the union of the listed events.
webhooks.on(['refund.create', 'transfer.fail'], (event) => {
  if (event.key === 'refund.create') {
    const refund: OmiseRefund = event.data;
    take(refund);
  } else {
    const transfer: OmiseTransfer = event.data;
    take(transfer);
  }
  // @ts-expect-error neither a refund nor a transfer has `email`
  take(event.data.email);
});

// onAny gets every event, unknown keys included.
webhooks.onAny((event) => {
  const any: OmiseEvent = event;
  const key: string = event.key;
  take([any, key]);
});

// onError gets the library's error, with its code.
webhooks.onError((error) => {
  const typed: OmiseWebhookError = error;
  const code: string = error.code;
  take([typed, code]);
});

// Keys are checked: typos and unknown groups do not compile.
// @ts-expect-error not an event key
webhooks.on('charge.completed', () => {});
// @ts-expect-error not a group
webhooks.on('chargeback.*', () => {});
// @ts-expect-error '*' is onAny
webhooks.on('*', () => {});

// A handler typed for one key cannot be registered for another.
const onRefund = (event: OmiseEventFor<'refund.create'>) => take(event.data.amount);
webhooks.on('refund.create', onRefund);
// @ts-expect-error a refund handler for charge events
webhooks.on('charge.complete', onRefund);
webhooks.removeListener('refund.create', onRefund);
webhooks.removeListener('*', (event: OmiseEvent) => take(event));
webhooks.removeListener('error', (error: OmiseWebhookError) => take(error));

// receive takes raw bytes or text, never a parsed object, and says what happened.
async function receiveTypes() {
  const result = await webhooks.receive({ rawBody: '{}', headers: new Headers() });
  const status: 'handled' | 'duplicate' = result.status;
  take(status);
  await webhooks.receive({ rawBody: new Uint8Array(), headers: { 'omise-signature': ['a', 'b'] } });
  // @ts-expect-error a parsed body is not a raw body
  await webhooks.receive({ rawBody: { object: 'event' }, headers: {} });
}
take(receiveTypes);

// Options are checked too.
createOmiseWebhooks({ secret: 'c2VjcmV0', secrets: ['b2xk'], toleranceSec: 300, dedupe: false });
createOmiseWebhooks({ verifyWithApi: { secretKey: 'skey_test_x', apiUrl: 'http://localhost:4010' } });
// @ts-expect-error windowSec is a number of seconds
createOmiseWebhooks({ secret: 'c2VjcmV0', dedupe: { windowSec: '1h' } });

// The fetch handler is a (Request) => Promise<Response>, fit for a Next.js route file.
const POST: (request: Request) => Promise<Response> = createFetchHandler(webhooks);
take(POST);

// The Node middleware fits the (req, res, next) shape Express and Connect call.
const middleware = createNodeMiddleware(webhooks, { path: '/omise/webhook' });
take<(req: never, res: never, next: (error?: unknown) => void) => unknown>(middleware);

// Every known key is a valid selector.
declare const anyKey: OmiseEventKey;
webhooks.on(anyKey, (event) => take(event.key));
