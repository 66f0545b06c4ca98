import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Notifier } from '../../../core/notifier.js';
import type { EventStore, NewDelivery } from '../../../core/ports.js';
import { makeDelivery } from '../../../testing/delivery-fixtures.js';
import { loopbackServeStatus } from '../../../testing/inspector.js';
import { SseReader } from '../../../testing/sse-reader.js';
import { MemoryEventStore } from '../../store/memory-event-store.js';
import { createInspectorApp, type InspectorApp } from './inspector-app.js';

const TOKEN = 'team-token-0123456789abcdef';

interface Feed {
  store: EventStore;
  inspector: InspectorApp;
  /** Stores a delivery and wakes the feed, as serve's notifier does. */
  record(delivery: NewDelivery): Promise<void>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  open(path: string, headers?: Record<string, string>): Promise<SseReader>;
}

function feed(
  options: { token?: string | null; wake?: boolean; heartbeatMs?: number; feedPollMs?: number } = {},
): Feed {
  const store = new MemoryEventStore();
  const listeners = new Set<() => void>();
  const inspector = createInspectorApp(
    {
      store,
      notifier: new Notifier(),
      status: loopbackServeStatus,
      ...(options.wake === false
        ? {}
        : {
            watchFeed: (listener: () => void) => {
              listeners.add(listener);
              return () => listeners.delete(listener);
            },
          }),
    },
    {
      token: options.token === undefined ? TOKEN : options.token,
      loopbackOnly: false,
      port: 3001,
      runId: 'run1',
      // Without a wake-up only the poll finds events: an hour here means "never" within a test.
      feedPollMs: options.feedPollMs ?? 3_600_000,
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    },
  );
  const auth: Record<string, string> = options.token === null ? {} : { Authorization: `Bearer ${TOKEN}` };
  const get = (path: string, headers: Record<string, string> = auth) =>
    Promise.resolve(inspector.app.request(`http://hooks.example.com${path}`, { headers }));
  return {
    store,
    inspector,
    get,
    async record(delivery) {
      await store.recordDelivery(delivery);
      for (const listener of listeners) listener();
    },
    async open(path, headers = auth) {
      const response = await get(path, headers);
      if (response.status !== 200) assert.fail(`${path}: ${response.status} ${await response.text()}`);
      assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      return new SseReader(response.body as ReadableStream<Uint8Array>);
    },
  };
}

function decode(data: string): { id: string; key: string; receivedAt: string; headers: string[][]; body: Buffer } {
  const parsed = JSON.parse(data) as { id: string; key: string; receivedAt: string; headers: string[][]; body: string };
  return { ...parsed, body: Buffer.from(parsed.body, 'base64') };
}

describe('GET /api/feed (the stream listen follows)', () => {
  it('starts at the newest event, then sends each new one with its position, exact bytes and ordered headers', async () => {
    const f = feed();
    const old = makeDelivery();
    await f.record(old);
    const head = await f.store.eventFeedHead();
    const reader = await f.open('/api/feed');
    const ready = await reader.waitFor((m) => m.event === 'ready');
    assert.equal(ready.id, head);
    assert.equal(JSON.parse(ready.data).heartbeatMs, 15_000);
    const fresh = makeDelivery({ key: 'refund.create' });
    await f.record(fresh);
    const message = await reader.waitFor((m) => m.event === 'event');
    const data = decode(message.data);
    assert.equal(data.id, fresh.eventId);
    assert.equal(data.key, 'refund.create');
    assert.equal(data.receivedAt, fresh.receivedAt);
    assert.deepEqual(data.headers, fresh.headers);
    assert.ok(data.body.equals(Buffer.from(fresh.body)));
    assert.equal(message.id, await f.store.eventFeedHead());
    // The old event came before the stream's start: never sent.
    assert.equal(reader.messages.filter((m) => m.event === 'event').length, 1);
    await reader.cancel();
    f.inspector.close();
  });

  it('resumes after a position from ?after= or Last-Event-ID, and starts at a time with ?since=', async () => {
    const f = feed();
    const deliveries = [0, 1, 2, 3].map((i) => makeDelivery({ receivedAt: `2026-11-26T07:00:0${i}.000Z` }));
    for (const delivery of deliveries.slice(0, 2)) await f.record(delivery);
    const after = await f.store.eventFeedHead();
    for (const delivery of deliveries.slice(2)) await f.record(delivery);
    const ids = async (reader: SseReader, count: number) => {
      await reader.waitFor(() => reader.messages.filter((m) => m.event === 'event').length === count);
      await reader.cancel();
      return reader.messages.filter((m) => m.event === 'event').map((m) => decode(m.data).id);
    };
    const expected = deliveries.slice(2).map((d) => d.eventId);
    assert.deepEqual(await ids(await f.open(`/api/feed?after=${after}`), 2), expected);
    assert.deepEqual(
      await ids(await f.open('/api/feed', { Authorization: `Bearer ${TOKEN}`, 'Last-Event-ID': String(after) }), 2),
      expected,
    );
    assert.deepEqual(
      await ids(await f.open('/api/feed?since=2026-11-26T07:00:01Z'), 3),
      deliveries.slice(1).map((d) => d.eventId),
    );
    f.inspector.close();
  });

  it('leaves out events the pattern does not match, and moves the position past them', async () => {
    const f = feed();
    const reader = await f.open('/api/feed?events=refund.*,charge.complete');
    await reader.waitFor((m) => m.event === 'ready');
    await f.record(makeDelivery({ key: 'charge.create' }));
    await f.record(makeDelivery({ key: 'customer.create' }));
    const skippedTo = await f.store.eventFeedHead();
    const position = await reader.waitFor((m) => m.event === 'position');
    assert.equal(position.id, skippedTo);
    assert.deepEqual(JSON.parse(position.data), { skipped: 2 });
    const refund = makeDelivery({ key: 'refund.create' });
    await f.record(refund);
    const message = await reader.waitFor((m) => m.event === 'event');
    assert.equal(decode(message.data).id, refund.eventId);
    assert.deepEqual(
      reader.messages.map((m) => m.event),
      ['ready', 'position', 'event'],
    );
    await reader.cancel();
    f.inspector.close();
  });

  it('finds an event by polling when no wake-up comes', async () => {
    const f = feed({ wake: false, feedPollMs: 20 });
    const reader = await f.open('/api/feed');
    await reader.waitFor((m) => m.event === 'ready');
    const delivery = makeDelivery();
    await f.store.recordDelivery(delivery);
    const message = await reader.waitFor((m) => m.event === 'event', 2_000);
    assert.equal(decode(message.data).id, delivery.eventId);
    await reader.cancel();
    f.inspector.close();
  });

  it('sends a keep-alive comment every heartbeat interval while idle', async () => {
    const f = feed({ heartbeatMs: 30 });
    const response = await f.get('/api/feed');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    // The stream's own timers never hold a process open (a socket does, in serve); this test has no socket.
    const hold = setInterval(() => {}, 1_000);
    while ((text.match(/^: keep-alive$/gm) ?? []).length < 2) {
      const { value, done } = await reader.read();
      assert.equal(done, false);
      text += Buffer.from(value as Uint8Array).toString();
    }
    clearInterval(hold);
    assert.match(
      text,
      /^retry: 1000\n\nevent: ready\ndata: \{"heartbeatMs":30,"serverTime":"[^"]+"\}\n\n: keep-alive\n\n: keep-alive\n\n/,
    );
    await reader.cancel();
    f.inspector.close();
  });

  it('refuses a bad position, time or pattern with 400 and what to do', async () => {
    const f = feed();
    const cases: Array<[string, string, string]> = [
      [
        '/api/feed?after=pg-7-x',
        'invalid_cursor',
        'the feed position "pg-7-x" is not one this store wrote; start again without it (a listener\'s cursor belongs to one store); to start again, pass since=<time> or no position (from now). listen: run it with --since',
      ],
      [
        '/api/feed?since=yesterday',
        'invalid_since',
        'since "yesterday" is not a time; use ISO 8601 like 2026-11-26T07:00:00Z',
      ],
      [
        '/api/feed?events=charge.*,Refund',
        'invalid_events',
        'events "Refund" is not an event key pattern; use a key like charge.create, a group like charge.*, or a comma list of them',
      ],
    ];
    for (const [path, error, message] of cases) {
      const response = await f.get(path);
      assert.equal(response.status, 400, path);
      assert.deepEqual(await response.json(), { error, message });
    }
    f.inspector.close();
  });

  it('requires the token as the other API routes do, and is listed among the routes', async () => {
    const f = feed();
    const missing = await f.get('/api/feed', {});
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).error, 'unauthorized');
    const wrong = await f.get('/api/feed', { Authorization: 'Bearer not-the-team-token-at-all' });
    assert.equal(wrong.status, 401);
    assert.equal(
      (await wrong.json()).message,
      "the Authorization header does not carry this inspector's token; open the inspector URL printed by `omise-webhook serve` (it ends in ?token=...), or send the token as Authorization: Bearer <token> (--ui-token / OMISE_WEBHOOK_UI_TOKEN)",
    );
    const post = await f.inspector.app.request('http://hooks.example.com/api/feed', {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
    const unknown = await f.get('/api/feeds');
    assert.match((await unknown.json()).message, /\/api\/stream, \/api\/feed, \/api\/stats/);
    f.inspector.close();
  });

  it('ends open feeds when the inspector closes', async () => {
    const f = feed();
    const reader = await f.open('/api/feed');
    await reader.waitFor((m) => m.event === 'ready');
    f.inspector.close();
    await reader.untilClosed();
  });
});
