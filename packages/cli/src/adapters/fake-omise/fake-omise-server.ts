import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  formatOmiseJson,
  OMISE_EVENT_KEYS,
  type OmiseEventDataMap,
  type OmiseEventKey,
  type OmiseWebhookDelivery,
} from '@omise-webhook/events';
import { type Clock, systemClock } from '../../core/ports.js';
import { buildSimulatedEvent, type KnownObjects } from '../../core/simulate/event-builders.js';
import { type IdSource, omiseDeliveryTime, randomIdSource } from '../../core/simulate/ids.js';
import { FakeOmiseAccount, FakeOmiseError, omiseErrorObject } from './fake-omise-account.js';
import { FakeOmiseDeliveries } from './fake-omise-deliveries.js';
import { FAKE_OMISE_INFO_PATH, type FakeOmiseInfo } from './fake-omise-info.js';
import { authorizeRoute, basicAuthKey, fakeOmiseRoutes } from './fake-omise-routes.js';
import { type FakeEventRecord, FakeOmiseState } from './fake-omise-state.js';
import { type Params, paramsFromBody, paramsFromSearch } from './request-params.js';

const MAX_BODY_BYTES = 1024 * 1024;

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

function fakeOmiseInfo(options: FakeOmiseOptions): FakeOmiseInfo {
  return { object: 'fake_omise', webhook_url: options.webhookUrl ?? null, signed: Boolean(options.webhookSecret) };
}

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
  const requests: string[] = [];
  let outage: number | null = null;
  const deliveries = new FakeOmiseDeliveries({
    state,
    ids,
    clock,
    webhookUrl: options.webhookUrl,
    webhookSecret: options.webhookSecret,
    fetch: options.fetch ?? fetch,
    deliveryTimeoutMs: options.deliveryTimeoutMs,
  });

  const account = new FakeOmiseAccount({ state, ids, clock, emit: (key, data) => void deliveries.record(key, data) });
  const routes = fakeOmiseRoutes({ account, state, clock });

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
      authorizeRoute(route, basicAuthKey(req.headers.authorization), options);
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
      return deliveries.record(key, event.data as OmiseEventDataMap[typeof key]).event.id;
    },
    eventIds: () => state.events().map((item) => item.event.id),
    eventText(eventId) {
      const found = state.getEvent(eventId);
      return found ? formatOmiseJson(found.event) : undefined;
    },
    deliveriesSettled: () => deliveries.settled(),
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
