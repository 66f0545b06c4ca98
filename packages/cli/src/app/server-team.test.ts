/**
 * Team mode in process: two servers on one PostgreSQL database. (The process tests with real
 * `serve` children, SIGKILL and a stopped database live apart.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  findPostgresBinaries,
  type PostgresCluster,
  startPostgresCluster,
} from '../../../../scripts/postgres-cluster.mjs';
import { openPostgresStore } from '../adapters/store/postgres/index.js';
import { eventBody, makeDelivery } from '../testing/delivery-fixtures.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../testing/postgres.js';
import { SseReader } from '../testing/sse-reader.js';
import { startTargetServer, type TargetServer } from '../testing/target-server.js';
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

describeWithPostgres('serve on PostgreSQL: forwarding from two instances', () => {
  let database: TestDatabase;
  let target: TargetServer;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    database = await createTestDatabase();
    target = await startTargetServer();
    const team = {
      store: 'postgres' as const,
      databaseUrl: database.url,
      files: false,
      forwardTo: [target.url],
      retryScheduleMs: [200],
      forwardLeaseMs: 2_000,
      forwardTimeoutMs: 1_000,
    };
    a = await startTestServer({ ...team, instanceId: 'forward-a' });
    b = await startTestServer({ ...team, instanceId: 'forward-b' });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await target?.close();
    await database?.drop();
  });

  it('delivers each event once, whichever instance (or both) received it', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `evnt_test_fwd${String(i).padStart(4, '0')}`);
    const statuses = await Promise.all(
      ids.flatMap((eventId, i) => {
        const body = eventBody({ eventId });
        // Every third id goes to both instances at once; the rest alternate.
        if (i % 3 === 0) return [post(a, body), post(b, body)];
        return [post(i % 2 === 0 ? a : b, body)];
      }),
    );
    assert.ok(
      statuses.every((status) => status === 200),
      JSON.stringify(statuses),
    );
    await target.waitForRequests(ids.length);
    // One more: anything sent twice would have arrived before it is delivered (one queue per target).
    assert.equal(await post(a, eventBody({ eventId: 'evnt_test_fwdlast' })), 200);
    await target.waitForRequests(ids.length + 1);
    const sent = target.requests.map((request) => JSON.parse(request.body.toString('utf8')).id as string);
    assert.deepEqual([...sent].sort(), [...ids, 'evnt_test_fwdlast'].sort());
  });

  it('sends a job another instance claimed and never sent, once its lease runs out', async () => {
    // A target A and B do not forward to, so only the instance started below competes for it.
    const other = await startTargetServer();
    // An instance that queues and claims a job, then goes silent (as if killed).
    const dead = await openPostgresStore({ url: database.url, instanceId: 'forward-dead', forwardLeaseMs: 500 });
    let c: TestServer | undefined;
    try {
      const claimedAt = Date.now();
      await dead.recordDelivery(makeDelivery({ eventId: 'evnt_test_fwdorphan', forwardTargets: [other.url] }));
      const claim = await dead.claimDueForwards({ now: Date.now(), maxInFlightPerTarget: 4, targets: [other.url] });
      assert.deepEqual(
        claim.jobs.map((job) => job.eventId),
        ['evnt_test_fwdorphan'],
      );
      c = await startTestServer({
        store: 'postgres',
        databaseUrl: database.url,
        files: false,
        forwardTo: [other.url],
        instanceId: 'forward-c',
      });
      const [orphan] = await other.waitForRequests(1);
      assert.ok(orphan && orphan.arrivedAt - claimedAt >= 500, 'sent before the lease ran out');
      assert.equal(JSON.parse(orphan?.body.toString('utf8') ?? '{}').id, 'evnt_test_fwdorphan');
      await c.forwarder.idle();
      const jobs = await c.store.listForwardJobs('evnt_test_fwdorphan');
      assert.deepEqual(
        jobs.map((job) => job.state),
        ['delivered'],
      );
    } finally {
      await c?.close();
      await dead.close();
      await other.close();
    }
  });
});

const noBinaries =
  findPostgresBinaries() === null && process.env.CI !== 'true' ? 'no PostgreSQL binaries; install postgresql' : false;
describe('serve on PostgreSQL: the database going away', { skip: noBinaries }, () => {
  let cluster: PostgresCluster;
  let server: TestServer;
  before(async () => {
    cluster = await startPostgresCluster({ fsync: false });
    server = await startTestServer({ store: 'postgres', databaseUrl: cluster.url, files: false });
  });
  after(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it('answers webhooks and /healthz 503 while it is down, 200 once it is back, with every acknowledged event kept', async () => {
    const health = async () => {
      const response = await fetch(new URL('/healthz', server.webhookUrl));
      return { status: response.status, body: (await response.json()) as { ok: boolean; error?: string } };
    };
    assert.equal(await post(server, eventBody({ eventId: 'evnt_test_down0001' })), 200);
    assert.deepEqual((await health()).status, 200);
    const faulted = new Promise<void>((resolve) => {
      const stop = server.store.health?.subscribe((fault) => {
        if (fault) {
          stop?.();
          resolve();
        }
      });
    });
    await cluster.pause();
    assert.equal(await post(server, eventBody({ eventId: 'evnt_test_down0002' })), 503);
    await faulted;
    const down = await health();
    assert.equal(down.status, 503);
    assert.deepEqual([down.body.ok, down.body.error], [false, 'database_unavailable']);
    assert.equal(await post(server, eventBody({ eventId: 'evnt_test_down0003' })), 503);

    const recovered = new Promise<void>((resolve) => {
      const stop = server.store.health?.subscribe((fault) => {
        if (fault === null) {
          stop?.();
          resolve();
        }
      });
    });
    await cluster.resume();
    await recovered;
    assert.equal((await health()).status, 200);
    assert.equal(await post(server, eventBody({ eventId: 'evnt_test_down0002' })), 200);
    for (const id of ['evnt_test_down0001', 'evnt_test_down0002']) assert.ok(await server.store.getEvent(id), id);
    assert.match(server.stderr.text, /webhooks are answered 503/);
  });
});
