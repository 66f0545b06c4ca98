import { Hono } from 'hono';
import { looksLikeOmiseId, MAX_PAGE_SIZE } from '../../../core/event-lookup-fields.js';
import { type EventQuery, InvalidFeedCursorError, type VerificationStatus } from '../../../core/ports.js';
import { type AccessRules, decideAccess, tokenCookieName } from './access-guard.js';
import { EventFeedStream, type FeedStart } from './event-feed-stream.js';
import { EventStream } from './event-stream.js';
import {
  buildTimeline,
  describeEvent,
  describeForwardAttempt,
  describeRejection,
  summariseEvent,
  summariseRejection,
} from './event-views.js';
import type { InspectorContext } from './inspector-context.js';
import { NotificationFeed } from './notification-feed.js';
import { loadStaticAssets, type StaticAssets } from './static-assets.js';

export interface InspectorAppOptions {
  /** Required on every request when set. */
  token: string | null;
  /** The listener is bound to loopback (requests must then be addressed to localhost). */
  loopbackOnly: boolean;
  /** Names the token cookie (cookies ignore ports). */
  port: number;
  /** Notifications kept for `Last-Event-ID` resume (default 10,000). */
  ringSize?: number;
  /** SSE keep-alive interval (default 15 s). */
  heartbeatMs?: number;
  /** How often `/api/feed` reads the store without a wake-up (default 1 s). */
  feedPollMs?: number;
  /** Fixed stream run id (tests). */
  runId?: string;
  assets?: StaticAssets;
}

export interface InspectorApp {
  /** The Fetch-API handler: `app.request(...)` in tests, `getRequestListener(fetch)` in the listener. */
  app: Hono;
  feed: NotificationFeed;
  /** Ends open streams and stops listening to the notifier. */
  close(): void;
}

const VERIFICATION_STATUSES: readonly VerificationStatus[] = ['verified', 'unverified', 'pending', 'failed'];
const KEY_PART = /^(\*|[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?)$/;
const OBJECT_TYPE = /^[a-z][a-z_]*$/;
const MAX_QUERY_LENGTH = 200;

class BadRequest extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function errorBody(code: string, message: string) {
  return { error: code, message };
}

/** Parses and checks `/api/events` parameters; every refusal names the parameter and the value. */
export function parseEventQuery(params: URLSearchParams): EventQuery {
  const query: EventQuery = {};
  const key = params.get('key');
  if (key !== null && key.trim() !== '') {
    checkKeyPattern('key', key);
    query.key = key;
  }
  const object = params.get('object');
  if (object !== null && object !== '') {
    if (!OBJECT_TYPE.test(object)) {
      throw new BadRequest(
        'invalid_object',
        `object ${JSON.stringify(object)} is not an object type; use one like charge, customer, refund or transfer`,
      );
    }
    query.objectType = object;
  }
  const verified = params.get('verified');
  if (verified !== null && verified !== '') {
    if (!(VERIFICATION_STATUSES as readonly string[]).includes(verified)) {
      throw new BadRequest(
        'invalid_verified',
        `verified ${JSON.stringify(verified)} is not a verification outcome; use one of ${VERIFICATION_STATUSES.join(', ')}`,
      );
    }
    query.verification = verified as VerificationStatus;
  }
  const q = params.get('q');
  if (q !== null && q.trim() !== '') {
    if (q.length > MAX_QUERY_LENGTH) {
      throw new BadRequest(
        'invalid_q',
        `q is ${q.length} characters long; search for at most ${MAX_QUERY_LENGTH} (an id, or a few words from the body)`,
      );
    }
    query.q = q;
  }
  const limit = parseLimit(params.get('limit'));
  if (limit !== undefined) query.limit = limit;
  const cursor = parseCursorParam(params.get('cursor'));
  if (cursor !== undefined) query.cursor = cursor;
  return query;
}

function checkKeyPattern(param: string, pattern: string): void {
  for (const part of pattern.split(',').map((p) => p.trim())) {
    if (!KEY_PART.test(part)) {
      throw new BadRequest(
        `invalid_${param}`,
        `${param} ${JSON.stringify(part)} is not an event key pattern; use a key like charge.create, a group like charge.*, or a comma list of them`,
      );
    }
  }
}

/** `/api/feed`'s parameters: where to start (`after` or `Last-Event-ID`, else `since`, else now) and which keys. */
export function parseFeedRequest(
  params: URLSearchParams,
  lastEventId: string | undefined,
): { start: FeedStart; events: string | null } {
  const events = params.get('events');
  if (events !== null && events.trim() !== '') checkKeyPattern('events', events);
  const after = params.get('after') || lastEventId || null;
  const since = params.get('since');
  let start: FeedStart = { kind: 'now' };
  if (after !== null) start = { kind: 'after', cursor: after };
  else if (since !== null && since !== '') {
    const time = /^\d{4}-\d{2}-\d{2}/.test(since) ? Date.parse(since) : Number.NaN;
    if (Number.isNaN(time)) {
      throw new BadRequest(
        'invalid_since',
        `since ${JSON.stringify(since.slice(0, 80))} is not a time; use ISO 8601 like 2026-11-26T07:00:00Z`,
      );
    }
    start = { kind: 'since', since: new Date(time).toISOString() };
  }
  return { start, events: events !== null && events.trim() !== '' ? events.trim() : null };
}

function parseLimit(limit: string | null): number | undefined {
  if (limit === null || limit === '') return undefined;
  if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE_SIZE) {
    throw new BadRequest(
      'invalid_limit',
      `limit ${JSON.stringify(limit)} is not a whole number from 1 to ${MAX_PAGE_SIZE}`,
    );
  }
  return Number(limit);
}

function parseCursorParam(cursor: string | null): string | undefined {
  if (cursor === null || cursor === '') return undefined;
  if (!/^\d{1,15}$/.test(cursor)) {
    throw new BadRequest(
      'invalid_cursor',
      `cursor ${JSON.stringify(cursor)} is not one this API gave out; pass the nextCursor of the previous page`,
    );
  }
  return cursor;
}

/** A method/path table for answering 405 rather than 404 to a known route with the wrong method. */
const API_ROUTES: ReadonlyArray<{ pattern: RegExp; methods: string }> = [
  { pattern: /^\/api\/status$/, methods: 'GET' },
  { pattern: /^\/api\/events$/, methods: 'GET' },
  { pattern: /^\/api\/events\/[^/]+$/, methods: 'GET' },
  { pattern: /^\/api\/events\/[^/]+\/replay$/, methods: 'POST' },
  { pattern: /^\/api\/objects\/[^/]+\/events$/, methods: 'GET' },
  { pattern: /^\/api\/rejected$/, methods: 'GET' },
  { pattern: /^\/api\/rejected\/[^/]+$/, methods: 'GET' },
  { pattern: /^\/api\/stream$/, methods: 'GET' },
  { pattern: /^\/api\/feed$/, methods: 'GET' },
  { pattern: /^\/api\/stats$/, methods: 'GET' },
];

const API_SUMMARY =
  'GET /api/events, /api/events/{id}, /api/objects/{objectId}/events, /api/rejected, /api/rejected/{id}, /api/stream, /api/feed, /api/stats, /api/status; POST /api/events/{id}/replay';

/** What both streams (`/api/stream`, `/api/feed`) are answered with. */
const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-store',
  Connection: 'keep-alive',
  // Tells reverse proxies (nginx) not to buffer the stream.
  'X-Accel-Buffering': 'no',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * The inspector's HTTP API and page as one Hono app. The page uses only this API; other
 * capabilities add what they offer (forward attempts, replay, a public URL) through the context.
 *
 * @example
 * const { app } = createInspectorApp(context, { token: null, loopbackOnly: true, port: 3001 });
 * const response = await app.request('http://localhost:3001/api/events?key=charge.*');
 */
export function createInspectorApp(context: InspectorContext, options: InspectorAppOptions): InspectorApp {
  const feed = new NotificationFeed(context.notifier, {
    ...(options.ringSize !== undefined ? { capacity: options.ringSize } : {}),
    ...(options.runId !== undefined ? { runId: options.runId } : {}),
  });
  const assets = options.assets ?? loadStaticAssets();
  const streams = new Set<EventStream | EventFeedStream>();
  const rules: AccessRules = {
    token: options.token,
    loopbackOnly: options.loopbackOnly,
    cookieName: tokenCookieName(options.port),
  };
  const app = new Hono();

  app.use('*', async (c, next) => {
    c.header('X-Content-Type-Options', 'nosniff');
    // The page's URL may carry ?token= on first load: never send it on as a referrer.
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    c.header('Cache-Control', 'no-store');
    const url = new URL(c.req.url);
    const isApi = url.pathname.startsWith('/api/');
    const isPage = !isApi && !url.pathname.startsWith('/ui/') && !url.pathname.startsWith('/vendor/');
    const decision = decideAccess(
      { method: c.req.method, url, headers: { get: (name) => c.req.header(name) ?? null }, isPage },
      rules,
    );
    if (decision.kind === 'allow') return next();
    if (decision.kind === 'set_cookie_and_redirect') {
      c.header(
        'Set-Cookie',
        `${rules.cookieName}=${encodeURIComponent(options.token ?? '')}; HttpOnly; SameSite=Strict; Path=/`,
      );
      return c.redirect(decision.location, 303);
    }
    if (decision.status === 401) c.header('WWW-Authenticate', 'Bearer realm="omise-webhook inspector"');
    if (isPage) return c.html(deniedPage(decision.message), decision.status);
    return c.json(errorBody(decision.code, decision.message), decision.status);
  });

  app.get('/api/status', (c) => c.json({ ...context.status(), lastEventId: feed.lastId }));

  app.get('/api/events', async (c) => {
    const query = parseEventQuery(new URL(c.req.url).searchParams);
    // Read the stream position before the list: a notification after it is for an event the
    // list may lack, so the page that resumes from here misses nothing (it may see one twice).
    const lastEventId = feed.lastId;
    const page = await context.store.listEvents(query);
    return c.json({
      items: page.items.map((event) => summariseEvent(event)),
      nextCursor: page.nextCursor,
      lastEventId,
    });
  });

  app.get('/api/events/:id', async (c) => {
    const id = c.req.param('id');
    const event = await context.store.getEvent(id);
    if (!event) return c.json(errorBody('not_found', unknownEventMessage(id)), 404);
    const attempts = context.forwardAttemptsFor ? await context.forwardAttemptsFor(event.eventId) : [];
    const differing = event.differingDeliveries > 0 ? await context.store.listDifferingBodies(event.eventId) : [];
    return c.json(describeEvent(event, attempts, differing));
  });

  app.post('/api/events/:id/replay', async (c) => {
    const id = c.req.param('id');
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      return c.json(
        errorBody(
          'unsupported_media_type',
          'send the replay options as JSON (Content-Type: application/json), e.g. {"resign": false}',
        ),
        415,
      );
    }
    let body: unknown;
    try {
      const text = await c.req.text();
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch (error) {
      return c.json(
        errorBody('invalid_json', `the replay options are not JSON: ${error instanceof Error ? error.message : ''}`),
        400,
      );
    }
    const options = parseReplayOptions(body);
    const event = await context.store.getEvent(id);
    if (!event) return c.json(errorBody('not_found', unknownEventMessage(id)), 404);
    if (!context.replay) {
      return c.json(
        errorBody(
          'replay_unavailable',
          'replay is not available in this inspector: it was started without the forwarder that replays events',
        ),
        501,
      );
    }
    try {
      const attempts = await context.replay(event.eventId, options);
      return c.json({
        replayed: true,
        eventId: event.eventId,
        resign: options.resign,
        attempts: attempts.map(describeForwardAttempt),
      });
    } catch (error) {
      // A replay that cannot start (nowhere to send, no secret to re-sign with) is the
      // user's setup, not a failure of the target: say what to do, with a 409 or 400.
      const code = (error as { code?: unknown }).code;
      const message = error instanceof Error ? error.message : String(error);
      if (code === 'no_target' || code === 'no_secret' || code === 'bad_secret') {
        return c.json(errorBody(code, message), 409);
      }
      if (code === 'bad_target') return c.json(errorBody(code, message), 400);
      return c.json(errorBody('replay_failed', `replaying ${event.eventId} failed: ${message}`), 502);
    }
  });

  app.get('/api/objects/:objectId/events', async (c) => {
    const objectId = c.req.param('objectId');
    if (!looksLikeOmiseId(objectId)) {
      return c.json(
        errorBody(
          'invalid_object_id',
          `${JSON.stringify(objectId)} is not an Omise id; use one like chrg_test_5xyz, cust_test_5xyz or rfnd_test_5xyz`,
        ),
        400,
      );
    }
    const events = await context.store.eventsForObject(objectId);
    if (events.length === 0) {
      return c.json(errorBody('not_found', `no stored event mentions ${objectId}`), 404);
    }
    return c.json({ objectId, items: buildTimeline(objectId, events) });
  });

  app.get('/api/rejected', async (c) => {
    const params = new URL(c.req.url).searchParams;
    const limit = parseLimit(params.get('limit'));
    const cursor = parseCursorParam(params.get('cursor'));
    const page = await context.store.listRejections({
      ...(limit !== undefined ? { limit } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    return c.json({ items: page.items.map(summariseRejection), nextCursor: page.nextCursor, lastEventId: feed.lastId });
  });

  app.get('/api/rejected/:id', async (c) => {
    const id = c.req.param('id');
    if (!/^\d{1,15}$/.test(id)) {
      return c.json(
        errorBody('invalid_id', `rejection id ${JSON.stringify(id)} is not a number; ids come from GET /api/rejected`),
        400,
      );
    }
    const rejection = await context.store.getRejection(Number(id));
    if (!rejection) {
      return c.json(
        errorBody(
          'not_found',
          `no kept rejection has id ${id}; only the latest ones are kept (--max-rejected), see GET /api/rejected`,
        ),
        404,
      );
    }
    return c.json(describeRejection(rejection));
  });

  app.get('/api/stats', async (c) => {
    const stats = await context.store.stats();
    const byObjectType: Record<string, number> = {};
    for (const [key, count] of Object.entries(stats.byKey)) {
      const group = key.split('.')[0] as string;
      byObjectType[group] = (byObjectType[group] ?? 0) + count;
    }
    return c.json({ ...stats, byObjectType, lastEventId: feed.lastId });
  });

  app.get('/api/stream', (c) => {
    const lastEventId = c.req.header('last-event-id') ?? new URL(c.req.url).searchParams.get('lastEventId');
    const stream = new EventStream(feed, {
      lastEventId: lastEventId === '' ? null : lastEventId,
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      onClose: () => streams.delete(stream),
    });
    streams.add(stream);
    return new Response(stream.body, { headers: SSE_HEADERS });
  });

  app.get('/api/feed', async (c) => {
    const { start, events } = parseFeedRequest(new URL(c.req.url).searchParams, c.req.header('last-event-id'));
    const position =
      start.kind === 'after' ? start.cursor : start.kind === 'now' ? await context.store.eventFeedHead() : null;
    const since = start.kind === 'since' ? start.since : undefined;
    // The first read happens before the answer, so a position this store did not write is a 400, not a broken stream.
    let first: Awaited<ReturnType<typeof context.store.eventFeed>>;
    try {
      first = await context.store.eventFeed({
        after: position,
        limit: 1,
        ...(since !== undefined ? { receivedSince: since } : {}),
      });
    } catch (error) {
      if (error instanceof InvalidFeedCursorError) {
        return c.json(
          errorBody(
            'invalid_cursor',
            `${error.message}; to start again, pass since=<time> or no position (from now). listen: run it with --since`,
          ),
          400,
        );
      }
      throw error;
    }
    const stream = new EventFeedStream({
      store: context.store,
      position,
      ...(since !== undefined ? { since } : {}),
      first,
      events,
      ...(context.watchFeed ? { watchFeed: context.watchFeed } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.feedPollMs !== undefined ? { pollMs: options.feedPollMs } : {}),
      onClose: () => streams.delete(stream),
    });
    streams.add(stream);
    return new Response(stream.body, { headers: SSE_HEADERS });
  });

  app.all('/api/*', (c) => {
    const path = new URL(c.req.url).pathname;
    const route = API_ROUTES.find((r) => r.pattern.test(path));
    if (route) {
      c.header('Allow', route.methods);
      return c.json(
        errorBody('method_not_allowed', `${c.req.method} ${path} is not supported; use ${route.methods}`),
        405,
      );
    }
    return c.json(errorBody('not_found', `no API route ${c.req.method} ${path}; the routes are ${API_SUMMARY}`), 404);
  });

  app.get('/', (c) => {
    c.header('Content-Security-Policy', assets.page.contentSecurityPolicy);
    return c.html(assets.page.html);
  });

  app.get('*', (c) => {
    const path = new URL(c.req.url).pathname;
    const asset = assets.asset(path);
    if (!asset) return c.text(`nothing at ${path}; the inspector page is at /`, 404);
    return c.body(new Uint8Array(asset.body), 200, { 'Content-Type': asset.contentType, 'Cache-Control': 'no-cache' });
  });

  app.onError((error, c) => {
    if (error instanceof BadRequest) return c.json(errorBody(error.code, error.message), 400);
    return c.json(
      errorBody('internal_error', `the inspector could not answer: ${error instanceof Error ? error.message : error}`),
      500,
    );
  });

  return {
    app,
    feed,
    close: () => {
      for (const stream of streams) stream.close();
      streams.clear();
      feed.close();
    },
  };
}

function parseReplayOptions(body: unknown): { resign: boolean; to?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_replay_options', 'the replay options must be a JSON object like {"resign": false}');
  }
  const { resign, to, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new BadRequest(
      'invalid_replay_options',
      `unknown replay option ${JSON.stringify(unknown[0])}; the options are resign (true/false) and to (a URL)`,
    );
  }
  if (resign !== undefined && typeof resign !== 'boolean') {
    throw new BadRequest('invalid_replay_options', `resign must be true or false; got ${JSON.stringify(resign)}`);
  }
  const options: { resign: boolean; to?: string } = { resign: resign === true };
  if (to !== undefined) {
    let url: URL | null = null;
    try {
      url = typeof to === 'string' ? new URL(to) : null;
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new BadRequest('invalid_replay_options', `to must be an http(s) URL; got ${JSON.stringify(to)}`);
    }
    options.to = to as string;
  }
  return options;
}

function unknownEventMessage(id: string): string {
  if (looksLikeOmiseId(id) && !id.startsWith('evnt_')) {
    return `no stored event has id ${id}; it looks like an object id: its events are at GET /api/objects/${id}/events`;
  }
  return `no stored event has id ${id}; GET /api/events lists the stored ones`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string,
  );
}

function deniedPage(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>omise-webhook inspector</title></head><body><h1>omise-webhook inspector</h1><p>${escapeHtml(message)}</p></body></html>`;
}
