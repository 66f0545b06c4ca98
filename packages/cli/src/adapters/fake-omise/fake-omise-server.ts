import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  formatOmiseJson,
  OMISE_EVENT_KEYS,
  type OmiseEventDataMap,
  type OmiseEventKey,
  type OmiseWebhookDelivery,
  signOmisePayload,
} from '@omise-webhook/events';
import { type Clock, systemClock } from '../../core/ports.js';
import { buildSimulatedEvent, type KnownObjects, wrapEvent } from '../../core/simulate/event-builders.js';
import { type IdSource, omiseDeliveryTime, omiseTime, randomIdSource } from '../../core/simulate/ids.js';
import { FakeOmiseAccount, FakeOmiseError, omiseErrorObject } from './fake-omise-account.js';
import { FAKE_OMISE_INFO_PATH, type FakeOmiseInfo } from './fake-omise-info.js';
import { type FakeEventRecord, FakeOmiseState, type JsonObject } from './fake-omise-state.js';
import { type Params, paramsFromBody, paramsFromSearch, textParam } from './request-params.js';

const SECRET_KEY = /^skey_test_[0-9a-z]+$/;
const PUBLIC_KEY = /^pkey_test_[0-9a-z]+$/;
const MAX_BODY_BYTES = 1024 * 1024;
const LIST_LIMIT_MAX = 100;
const LIST_LIMIT_DEFAULT = 20;

export interface FakeOmiseOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Accept only this secret key; by default any `skey_test_...` key is accepted. */
  secretKey?: string;
  /** Accept only this public key for `POST /tokens`; by default any `pkey_test_...` key. */
  publicKey?: string;
  /** Deliver every event caused through the API here, as Omise delivers to the dashboard's webhook URL. */
  webhookUrl?: string;
  /** Sign deliveries with this base64 webhook secret (Omise-Signature); unsigned without one. */
  webhookSecret?: string;
  clock?: Clock;
  /** Where object ids come from; random by default, seeded for reproducible tests. */
  ids?: IdSource;
  /** Keep the account (objects and events) in this JSON file, so it survives a restart. */
  stateFile?: string;
  /** How deliveries are sent. Default the global fetch. */
  fetch?: typeof fetch;
  /** Give up on a delivery after this long (recorded as status 0). Default 10 s. */
  deliveryTimeoutMs?: number;
}

/** How the past deliveries of seeded events went, as `webhook_deliveries` will report them. */
export type SeedDeliveries = 'mixed' | 'delivered' | 'none';

export interface RunningFakeOmise {
  /** The API base URL, e.g. `http://127.0.0.1:4010`: use it as OMISE_API_URL. */
  url: string;
  /** The vault base URL for `POST /tokens` (the same server): use it as OMISE_VAULT_URL. */
  vaultUrl: string;
  /**
   * Records `count` past events (all 35 keys in turn, one minute apart, ending a minute ago) without
   * delivering them. With `deliveries: 'mixed'` (default) their `webhook_deliveries` say, in turn,
   * delivered 200, failed 500, never delivered. Returns their ids, oldest first.
   */
  seedEvents(count: number, options?: { deliveries?: SeedDeliveries }): string[];
  /** Records (and delivers) one event of any key, e.g. a dispute no API call can cause. Returns its id. */
  simulateEvent(key: OmiseEventKey, options?: { objectId?: string }): string;
  /** Every event id, oldest first. */
  eventIds(): string[];
  /** The exact text `GET /events/:id` answers with now, or undefined. */
  eventText(eventId: string): string | undefined;
  /** Resolves once every queued webhook delivery has been attempted and recorded. */
  deliveriesSettled(): Promise<void>;
  /** Answer every request with this status and an error object (e.g. 503), or `null` to recover. */
  setOutage(status: number | null): void;
  /** `METHOD /path?query` of every request, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = formatOmiseJson(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new FakeOmiseError(413, 'bad_request', 'request body is larger than 1 MiB'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The Basic-auth user (the key); Omise takes the key as the user name with an empty password. */
function basicAuthKey(header: string | undefined): string | null {
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

function fakeOmiseInfo(options: FakeOmiseOptions): FakeOmiseInfo {
  return { object: 'fake_omise', webhook_url: options.webhookUrl ?? null, signed: Boolean(options.webhookSecret) };
}

type Handler = (match: RegExpExecArray, params: Params) => unknown;

interface Route {
  method: string;
  pattern: RegExp;
  /** `public` routes are the vault's: they take the public key. */
  auth: 'secret' | 'public' | 'either';
  handle: Handler;
}

const ID = '([a-z]+_test_[0-9a-z]+)';

/**
 * Starts a local stand-in for the parts of the Omise API this tool uses: the Events API with
 * Omise's pagination and errors, and the test-mode calls that cause events, each of which records
 * its event and (with `webhookUrl`) delivers it signed, as Omise would.
 *
 * @example
 * const fake = await startFakeOmise({ webhookUrl: server.webhookUrl, webhookSecret: TEST_WEBHOOK_SECRET });
 * fake.seedEvents(260);
 * // OMISE_API_URL=fake.url OMISE_SECRET_KEY=skey_test_... omise-webhook sync
 * await fake.close();
 */
export async function startFakeOmise(options: FakeOmiseOptions = {}): Promise<RunningFakeOmise> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIdSource();
  const state = new FakeOmiseState(options.stateFile ? { file: options.stateFile } : {});
  const doFetch = options.fetch ?? fetch;
  const requests: string[] = [];
  let outage: number | null = null;
  let deliveryChain: Promise<void> = Promise.resolve();

  async function deliver(record: FakeEventRecord, payload: string, webhookUrl: string): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (options.webhookSecret) {
      const signed = await signOmisePayload({
        payload,
        secret: options.webhookSecret,
        timestamp: Math.floor(clock.now() / 1000),
      });
      Object.assign(headers, signed.headers);
    }
    let status = 0;
    let error: string | null = null;
    try {
      const response = await doFetch(webhookUrl, {
        method: 'POST',
        headers,
        body: payload,
        signal: AbortSignal.timeout(options.deliveryTimeoutMs ?? 10_000),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch (cause) {
      const reason =
        cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
      error = `could not deliver: ${reason}`;
    }
    state.addDelivery(record.event.id, {
      object: 'webhook_delivery',
      id: ids.next('whdl'),
      uri: webhookUrl,
      status,
      key: record.event.key,
      error,
      payload,
      created_at: omiseDeliveryTime(clock.now()),
    });
  }

  /** Records an event; delivers it when a webhook URL is configured, one at a time, in order. */
  function record<K extends OmiseEventKey>(key: K, data: OmiseEventDataMap[K]): FakeEventRecord {
    const event = wrapEvent(key, structuredClone(data), { id: ids.next('evnt'), now: clock.now() });
    const stored = state.addEvent(event as unknown as FakeEventRecord['event']);
    const webhookUrl = options.webhookUrl;
    if (webhookUrl) {
      // The body Omise sends is the event as it is at that moment: no deliveries recorded yet.
      const payload = formatOmiseJson(event);
      deliveryChain = deliveryChain.then(() => deliver(stored, payload, webhookUrl));
    }
    return stored;
  }

  const account = new FakeOmiseAccount({ state, ids, clock, emit: (key, data) => void record(key, data) });

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

  const routes: Route[] = [
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

  function authorize(route: Route, key: string | null): void {
    const secretOk = key !== null && (options.secretKey ? key === options.secretKey : SECRET_KEY.test(key));
    const publicOk = key !== null && (options.publicKey ? key === options.publicKey : PUBLIC_KEY.test(key));
    const ok = route.auth === 'secret' ? secretOk : route.auth === 'public' ? publicOk : secretOk || publicOk;
    if (!ok) throw new FakeOmiseError(401, 'authentication_failure', 'authentication failed');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-omise.local');
    const method = (req.method ?? 'GET').toUpperCase();
    requests.push(`${method} ${url.pathname}${url.search}`);
    try {
      if (method === 'GET' && url.pathname === FAKE_OMISE_INFO_PATH) {
        // Not an Omise route: how a client (trigger --via-api) learns it talks to this fake and
        // where the fake delivers, so it can say so instead of pointing at Omise's dashboard.
        send(res, 200, fakeOmiseInfo(options));
        return;
      }
      if (outage !== null)
        throw new FakeOmiseError(outage, 'service_unavailable', 'the fake Omise API is in a simulated outage');
      const candidates = routes.filter((route) => route.pattern.test(url.pathname));
      const route = candidates.find((candidate) => candidate.method === method);
      if (!route) {
        if (candidates.length > 0)
          throw new FakeOmiseError(405, 'bad_request', `${method} is not allowed on ${url.pathname}`);
        throw new FakeOmiseError(404, 'not_found', `the requested resource ${url.pathname} was not found`);
      }
      authorize(route, basicAuthKey(req.headers.authorization));
      let params: Params;
      try {
        params = {
          ...paramsFromSearch(url.searchParams),
          ...paramsFromBody(await readBody(req), req.headers['content-type']),
        };
      } catch (error) {
        if (error instanceof FakeOmiseError) throw error;
        throw new FakeOmiseError(400, 'bad_request', 'the request body is not valid JSON');
      }
      const match = route.pattern.exec(url.pathname) as RegExpExecArray;
      send(res, 200, route.handle(match, params));
    } catch (error) {
      if (error instanceof FakeOmiseError) send(res, error.status, omiseErrorObject(error.code, error.message));
      else send(res, 500, omiseErrorObject('internal_error', error instanceof Error ? error.message : String(error)));
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  const known: KnownObjects = { get: (id) => state.getObject(id) };

  function keepObject(data: { id?: unknown; deleted?: unknown; object?: unknown }): void {
    if (typeof data.id !== 'string') return;
    if (data.deleted === true && data.object !== 'schedule') state.deleteObject(data.id);
    else state.putObject(data as { id: string });
  }

  return {
    url,
    vaultUrl: url,
    requests,
    seedEvents(count, seedOptions = {}) {
      const deliveries = seedOptions.deliveries ?? 'mixed';
      const uri = options.webhookUrl ?? 'https://hooks.example.com/omise/webhook';
      const end = clock.now();
      return state.batch(() => {
        const created: string[] = [];
        for (let index = 0; index < count; index++) {
          const key = OMISE_EVENT_KEYS[index % OMISE_EVENT_KEYS.length] as OmiseEventKey;
          const now = end - (count - index) * 60_000;
          const event = buildSimulatedEvent({ key, ids, now });
          const payload = formatOmiseJson(event);
          const outcome =
            deliveries === 'none'
              ? 'none'
              : deliveries === 'delivered'
                ? 'delivered'
                : (['delivered', 'failed', 'none'] as const)[index % 3];
          const webhookDeliveries: OmiseWebhookDelivery[] =
            outcome === 'none'
              ? []
              : [
                  {
                    object: 'webhook_delivery',
                    id: ids.next('whdl'),
                    uri,
                    status: outcome === 'delivered' ? 200 : 500,
                    key,
                    error: null,
                    payload,
                    created_at: omiseDeliveryTime(now + 1000),
                  },
                ];
          keepObject(event.data as { id?: unknown });
          state.addEvent({ ...(event as unknown as FakeEventRecord['event']), webhook_deliveries: webhookDeliveries });
          created.push(event.id);
        }
        return created;
      });
    },
    simulateEvent(key, simulateOptions = {}) {
      const event = buildSimulatedEvent({
        key,
        ids,
        now: clock.now(),
        known,
        ...(simulateOptions.objectId ? { objectId: simulateOptions.objectId } : {}),
      });
      keepObject(event.data as { id?: unknown });
      return record(key, event.data as OmiseEventDataMap[typeof key]).event.id;
    },
    eventIds: () => state.events().map((item) => item.event.id),
    eventText(eventId) {
      const found = state.getEvent(eventId);
      return found ? formatOmiseJson(found.event) : undefined;
    },
    async deliveriesSettled() {
      // New deliveries may be queued while earlier ones run; wait until the chain stops growing.
      let current: Promise<void>;
      do {
        current = deliveryChain;
        await current;
      } while (current !== deliveryChain);
    },
    setOutage(status) {
      outage = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
