/**
 * Team mode in process: two servers on one PostgreSQL database. (The process tests with real
 * `serve` children, SIGKILL and a stopped database live apart.)
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { eventBody } from '../testing/delivery-fixtures.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../testing/postgres.js';
import { SseReader } from '../testing/sse-reader.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

async function post(server: TestServer, body: string): Promise<number> {
  const response = await fetch(server.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

async function openStream(server: TestServer): Promise<SseReader> {
  const response = await fetch(`${server.inspector?.url}api/stream`);
  assert.equal(response.status, 200);
  const stream = new SseReader(response.body as ReadableStream<Uint8Array>);
  await stream.waitFor((m) => m.event === 'ready');
  return stream;
}

describeWithPostgres('serve on PostgreSQL: two instances on one database', () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    database = await createTestDatabase();
    const team = { store: 'postgres' as const, databaseUrl: database.url, files: false, ui: true };
    a = await startTestServer({ ...team, instanceId: 'instance-a' });
    b = await startTestServer({ ...team, instanceId: 'instance-b' });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it("shows an event A stored on B's live stream within 1 s, once, without printing it on B", async () => {
    const streamA = await openStream(a);
    const streamB = await openStream(b);
    const sentAt = Date.now();
    assert.equal(await post(a, eventBody({ eventId: 'evnt_test_team0001' })), 200);
    const onB = await streamB.waitFor((m) => m.event === 'event.stored', 1_000);
    const elapsed = Date.now() - sentAt;
    assert.ok(elapsed < 1_000, `took ${elapsed} ms`);
    assert.deepEqual(JSON.parse(onB.data), {
      type: 'event.stored',
      id: 'evnt_test_team0001',
      key: 'charge.create',
      seq: 1,
      duplicate: false,
    });
    await streamA.waitFor((m) => m.event === 'event.stored');
    // One more event from B: A's stream must show exactly one message for each of the two.
    assert.equal(await post(b, eventBody({ eventId: 'evnt_test_team0002' })), 200);
    await streamA.waitFor((m) => m.event === 'event.stored' && m.data.includes('evnt_test_team0002'), 1_000);
    await streamB.waitFor((m) => m.event === 'event.stored' && m.data.includes('evnt_test_team0002'), 1_000);
    // The feed is followed in order: once a later marker event shows on both streams, anything
    // published twice (or an own event published again as another's) would have shown before it.
    assert.equal(await post(a, eventBody({ eventId: 'evnt_test_team0009' })), 200);
    await streamA.waitFor((m) => m.data.includes('evnt_test_team0009'), 1_000);
    await streamB.waitFor((m) => m.data.includes('evnt_test_team0009'), 1_000);
    const ids = (stream: SseReader) =>
      stream.messages.filter((m) => m.event === 'event.stored').map((m) => JSON.parse(m.data).id as string);
    const all = ['evnt_test_team0001', 'evnt_test_team0002', 'evnt_test_team0009'];
    assert.deepEqual(ids(streamA), all);
    assert.deepEqual(ids(streamB), all);
    assert.match(a.stdout.text, /evnt_test_team0001/);
    assert.doesNotMatch(a.stdout.text, /evnt_test_team0002/, 'A printed an event B received');
    assert.doesNotMatch(b.stdout.text, /evnt_test_team0001/, 'B printed an event A received');
    await streamA.cancel();
    await streamB.cancel();
  });

  it('counts the same id sent to both instances once, with two deliveries, and /api/stats counts the database', async () => {
    const body = eventBody({ eventId: 'evnt_test_team0003' });
    assert.deepEqual(await Promise.all([post(a, body), post(b, body)]), [200, 200]);
    const stored = await a.store.getEvent('evnt_test_team0003');
    assert.equal(stored?.deliveryCount, 2);
    const stats = (await (await fetch(`${b.inspector?.url}api/stats`)).json()) as { total: number };
    assert.equal(stats.total, 4);
  });

  it('names each instance: banner fields and the instance id', () => {
    assert.equal(a.instanceId, 'instance-a');
    assert.equal(b.instanceId, 'instance-b');
  });
});
