// Compile-only: `npx tsc -p packages/events/tsconfig.typetest.json`. Each `@ts-expect-error` line
// must fail to compile; if a type change makes one of them compile, tsc reports the unused
// directive and this check fails.

import type { OmiseEventKey } from './event-catalogue.js';
import { isKnownOmiseEvent } from './event-catalogue.js';
import { parseOmiseEvent } from './parse-omise-event.js';
import type {
  KnownOmiseEvent,
  OmiseCharge,
  OmiseCustomer,
  OmiseDeletedObject,
  OmiseEvent,
  OmiseEventDataMap,
  OmiseEventEnvelope,
  OmiseRefund,
  UnknownOmiseEvent,
} from './types.js';

declare const event: OmiseEvent;
declare function take<T>(value: T): void;

// An `if` on the key narrows `data` to the right object.
if (event.key === 'charge.complete') {
  const amount: number = event.data.amount;
  const charge: OmiseCharge = event.data;
  const status: 'failed' | 'reversed' | 'expired' | 'pending' | 'successful' | undefined = event.data.status;
  take([amount, charge, status]);
  // @ts-expect-error a charge has no `email`
  take(event.data.email);
  // @ts-expect-error `data` is a charge, not a customer
  const customer: OmiseCustomer = event.data;
  take(customer);
}

// So does a `switch`, for every kind of data, including the two special cases in the facts file.
switch (event.key) {
  case 'refund.create': {
    const refund: OmiseRefund = event.data;
    const chargeId: string = event.data.charge;
    take([refund, chargeId]);
    break;
  }
  case 'customer.destroy': {
    const stub: OmiseDeletedObject<'customer'> = event.data;
    const deleted: true = event.data.deleted;
    take([stub, deleted]);
    // @ts-expect-error a deleted stub has no email any more
    take(event.data.email);
    break;
  }
  case 'customer.update.card': {
    // The data is the parent customer, not the card.
    const customer: OmiseCustomer = event.data;
    take(customer);
    // @ts-expect-error no `last_digits` on a customer
    take(event.data.last_digits);
    break;
  }
  case 'schedule.destroy': {
    // Not a stub: the schedule comes back whole, with status `deleted`.
    take(event.data.in_words);
    break;
  }
  case 'transfer.fail': {
    const failureCode: string | null = event.data.failure_code;
    take(failureCode);
    break;
  }
  default: {
    // Other keys, known or not: the key is still a string.
    const key: string = event.key;
    take(key);
  }
}

// Fields every event has need no narrowing.
const id: string = event.id;
const livemode: boolean = event.livemode;
const dataObject: string = event.data.object;
take([id, livemode, dataObject]);
// @ts-expect-error not every event's data has an amount
take(event.data.amount);

// The key is not a free-for-all: comparing it with a number is an error.
// @ts-expect-error key is a string
take(event.key === 42);

// An unknown event: guarded, its data is read through the envelope type, as unknown.
if (!isKnownOmiseEvent(event)) {
  const unknownEvent: UnknownOmiseEvent = event;
  const envelope: OmiseEventEnvelope = unknownEvent;
  const data: unknown = envelope.data;
  take(data);
  // @ts-expect-error unknown data must be checked before use
  take(envelope.data.amount);
} else {
  const key: OmiseEventKey = event.key;
  take(key);
}

// KnownOmiseEvent can be narrowed to a subset of keys.
declare const chargeEvent: KnownOmiseEvent<'charge.create' | 'charge.capture'>;
const chargeKey: 'charge.create' | 'charge.capture' = chargeEvent.key;
const chargeData: OmiseCharge = chargeEvent.data;
take([chargeKey, chargeData]);
// @ts-expect-error only charge keys are allowed
const wrongKey: KnownOmiseEvent<'charge.create'> = { ...chargeEvent, key: 'refund.create' };
take(wrongKey);

// A literal event type-checks against the union, and a wrong data shape for its key does not.
const built: OmiseEvent = {
  object: 'event',
  id: 'evnt_test_1',
  livemode: false,
  location: '/events/evnt_test_1',
  key: 'customer.destroy',
  data: { object: 'customer', id: 'cust_test_1', livemode: false, deleted: true },
};
take(built);

// The data map covers all 35 keys and nothing else.
type MissingFromMap = Exclude<OmiseEventKey, keyof OmiseEventDataMap>;
type ExtraInMap = Exclude<keyof OmiseEventDataMap, OmiseEventKey>;
const noneMissing: [MissingFromMap] extends [never] ? true : false = true;
const noneExtra: [ExtraInMap] extends [never] ? true : false = true;
take([noneMissing, noneExtra]);

// The parser returns the narrowable union.
const parsed = parseOmiseEvent('{}');
if (parsed.key === 'dispute.create') {
  const status: 'open' | 'pending' | 'won' | 'lost' | 'closed' = parsed.data.status;
  take(status);
}
// @ts-expect-error the parser takes only a raw body, not a parsed object
parseOmiseEvent({ object: 'event' });
