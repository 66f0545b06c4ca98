import { TEST_PUBLIC_KEY, TEST_SECRET_KEY } from '../../core/omise-keys.js';
/**
 * What the fake Omise API answers: the Events API (Omise's pagination, filters and errors), the
 * test-mode calls that cause events (handled by `FakeOmiseAccount`), and which key each takes.
 * No HTTP here: `fake-omise-server.ts` matches a request to a route and writes the answer.
 */
import type { Clock } from '../../core/ports.js';
import { omiseTime } from '../../core/simulate/ids.js';
import { type FakeOmiseAccount, FakeOmiseError } from './fake-omise-account.js';
import type { FakeOmiseState, JsonObject } from './fake-omise-state.js';
import { type Params, textParam } from './request-params.js';

const LIST_LIMIT_MAX = 100;
const LIST_LIMIT_DEFAULT = 20;

/** The Basic-auth user (the key); Omise takes the key as the user name with an empty password. */
export function basicAuthKey(header: string | undefined): string | null {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? decoded : decoded.slice(0, colon);
}

function invalidFilter(message: string): FakeOmiseError {
  return new FakeOmiseError(400, 'invalid_filter', message);
}

function timeFilter(params: Params, name: 'from' | 'to', fallback: number): number {
  const text = textParam(params, name);
  if (text === undefined || text === '') return fallback;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw invalidFilter(`${name} is not a valid ISO 8601 time: ${JSON.stringify(text)}`);
  return ms;
}

function wholeNumberFilter(params: Params, name: string, fallback: number): number {
  const text = textParam(params, name);
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw invalidFilter(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

type Handler = (match: RegExpExecArray, params: Params) => unknown;

export interface Route {
  method: string;
  pattern: RegExp;
  /** `public` routes are the vault's: they take the public key. */
  auth: 'secret' | 'public' | 'either';
  handle: Handler;
}

const ID = '([a-z]+_test_[0-9a-z]+)';

/** The Events API: `GET /events` (paged, filtered by time) and `GET /events/:id`. */
function eventsApi(state: FakeOmiseState, clock: Clock) {
  function listEvents(params: Params): JsonObject {
    const now = clock.now();
    const limit = wholeNumberFilter(params, 'limit', LIST_LIMIT_DEFAULT);
    if (limit < 1 || limit > LIST_LIMIT_MAX) {
      // Omise documents a maximum of 100; asking for more is refused rather than quietly cut,
      // so a client that relies on more than the documented maximum is caught here, offline.
      throw invalidFilter(`limit must be between 1 and ${LIST_LIMIT_MAX}, got ${limit}`);
    }
    const offset = wholeNumberFilter(params, 'offset', 0);
    const order = textParam(params, 'order') ?? 'chronological';
    if (order !== 'chronological' && order !== 'reverse_chronological') {
      throw invalidFilter(`order must be chronological or reverse_chronological, got ${JSON.stringify(order)}`);
    }
    const from = timeFilter(params, 'from', 0);
    const to = timeFilter(params, 'to', now);
    if (from > to) throw invalidFilter('from must not be later than to');
    const fromText = omiseTime(from);
    const toText = omiseTime(to);
    const matching = state
      .events()
      .filter((item) => item.event.created_at >= fromText && item.event.created_at <= toText);
    if (order === 'reverse_chronological') matching.reverse();
    return {
      object: 'list',
      data: matching.slice(offset, offset + limit).map((item) => item.event),
      limit,
      offset,
      total: matching.length,
      location: '/events',
      order,
      from: fromText,
      to: toText,
    };
  }

  function getEvent(id: string): JsonObject {
    const found = state.getEvent(id);
    if (!found) throw new FakeOmiseError(404, 'not_found', `event ${id} was not found`);
    return found.event;
  }

  return { listEvents, getEvent };
}

/**
 * Every route the fake answers, in the order they are matched.
 *
 * @example
 * const routes = fakeOmiseRoutes({ account, state, clock });
 */
export function fakeOmiseRoutes(context: { account: FakeOmiseAccount; state: FakeOmiseState; clock: Clock }): Route[] {
  const { account } = context;
  const { listEvents, getEvent } = eventsApi(context.state, context.clock);
  return [
    { method: 'GET', pattern: /^\/events$/, auth: 'secret', handle: (_m, p) => listEvents(p) },
    { method: 'GET', pattern: /^\/events\/([^/]+)$/, auth: 'secret', handle: (m) => getEvent(m[1] as string) },
    { method: 'POST', pattern: /^\/tokens$/, auth: 'public', handle: (_m, p) => account.createToken(p) },
    {
      method: 'GET',
      pattern: new RegExp(`^/tokens/${ID}$`),
      auth: 'either',
      handle: (m) => account.retrieve('token', m[1] as string),
    },
    { method: 'POST', pattern: /^\/charges$/, auth: 'secret', handle: (_m, p) => account.createCharge(p) },
    {
      method: 'GET',
      pattern: new RegExp(`^/charges/${ID}$`),
      auth: 'secret',
      handle: (m) => account.retrieve('charge', m[1] as string),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/charges/${ID}$`),
      auth: 'secret',
      handle: (m, p) => account.updateCharge(m[1] as string, p),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/charges/${ID}/capture$`),
      auth: 'secret',
      handle: (m) => account.captureCharge(m[1] as string),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/charges/${ID}/reverse$`),
      auth: 'secret',
      handle: (m) => account.reverseCharge(m[1] as string),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/charges/${ID}/expire$`),
      auth: 'secret',
      handle: (m) => account.expireCharge(m[1] as string),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/charges/${ID}/mark_as_paid$`),
      auth: 'secret',
      handle: (m) => account.completeCharge(m[1] as string, 'paid'),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/charges/${ID}/mark_as_failed$`),
      auth: 'secret',
      handle: (m) => account.completeCharge(m[1] as string, 'failed'),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/charges/${ID}/refunds$`),
      auth: 'secret',
      handle: (m, p) => account.createRefund(m[1] as string, p),
    },
    { method: 'POST', pattern: /^\/customers$/, auth: 'secret', handle: (_m, p) => account.createCustomer(p) },
    {
      method: 'GET',
      pattern: new RegExp(`^/customers/${ID}$`),
      auth: 'secret',
      handle: (m) => account.retrieve('customer', m[1] as string),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/customers/${ID}$`),
      auth: 'secret',
      handle: (m, p) => account.updateCustomer(m[1] as string, p),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/customers/${ID}$`),
      auth: 'secret',
      handle: (m) => account.destroyCustomer(m[1] as string),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/customers/${ID}/cards/${ID}$`),
      auth: 'secret',
      handle: (m) => account.retrieveCard(m[1] as string, m[2] as string),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/customers/${ID}/cards/${ID}$`),
      auth: 'secret',
      handle: (m, p) => account.updateCard(m[1] as string, m[2] as string, p),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/customers/${ID}/cards/${ID}$`),
      auth: 'secret',
      handle: (m) => account.destroyCard(m[1] as string, m[2] as string),
    },
    { method: 'POST', pattern: /^\/recipients$/, auth: 'secret', handle: (_m, p) => account.createRecipient(p) },
    {
      method: 'GET',
      pattern: new RegExp(`^/recipients/${ID}$`),
      auth: 'secret',
      handle: (m) => account.retrieve('recipient', m[1] as string),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/recipients/${ID}$`),
      auth: 'secret',
      handle: (m, p) => account.updateRecipient(m[1] as string, p),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/recipients/${ID}$`),
      auth: 'secret',
      handle: (m) => account.destroyRecipient(m[1] as string),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/recipients/${ID}/verify$`),
      auth: 'secret',
      handle: (m) => account.verifyRecipient(m[1] as string),
    },
    { method: 'POST', pattern: /^\/transfers$/, auth: 'secret', handle: (_m, p) => account.createTransfer(p) },
    {
      method: 'GET',
      pattern: new RegExp(`^/transfers/${ID}$`),
      auth: 'secret',
      handle: (m) => account.retrieve('transfer', m[1] as string),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/transfers/${ID}$`),
      auth: 'secret',
      handle: (m, p) => account.updateTransfer(m[1] as string, p),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/transfers/${ID}$`),
      auth: 'secret',
      handle: (m) => account.destroyTransfer(m[1] as string),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/transfers/${ID}/mark_as_sent$`),
      auth: 'secret',
      handle: (m) => account.markTransferAsSent(m[1] as string),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/transfers/${ID}/mark_as_paid$`),
      auth: 'secret',
      handle: (m) => account.markTransferAsPaid(m[1] as string),
    },
    { method: 'POST', pattern: /^\/schedules$/, auth: 'secret', handle: (_m, p) => account.createSchedule(p) },
    {
      method: 'GET',
      pattern: new RegExp(`^/schedules/${ID}$`),
      auth: 'secret',
      handle: (m) => account.retrieve('schedule', m[1] as string),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/schedules/${ID}$`),
      auth: 'secret',
      handle: (m) => account.destroySchedule(m[1] as string),
    },
    { method: 'POST', pattern: /^\/links$/, auth: 'secret', handle: (_m, p) => account.createLink(p) },
    {
      method: 'GET',
      pattern: new RegExp(`^/links/${ID}$`),
      auth: 'secret',
      handle: (m) => account.retrieve('link', m[1] as string),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/disputes/${ID}$`),
      auth: 'secret',
      handle: (m) => account.retrieve('dispute', m[1] as string),
    },
  ];
}

/**
 * Refuses a request whose key does not fit the route: secret-key routes take `skey_test_...`
 * (or exactly `secretKey`), vault routes `pkey_test_...` (or exactly `publicKey`).
 *
 * @throws {FakeOmiseError} 401 `authentication_failure`
 */
export function authorizeRoute(
  route: Route,
  key: string | null,
  options: { secretKey?: string | undefined; publicKey?: string | undefined },
): void {
  const secretOk = key !== null && (options.secretKey ? key === options.secretKey : TEST_SECRET_KEY.test(key));
  const publicOk = key !== null && (options.publicKey ? key === options.publicKey : TEST_PUBLIC_KEY.test(key));
  const ok = route.auth === 'secret' ? secretOk : route.auth === 'public' ? publicOk : secretOk || publicOk;
  if (!ok) throw new FakeOmiseError(401, 'authentication_failure', 'authentication failed');
}
