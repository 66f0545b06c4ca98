import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import type { PostgresCluster } from '../../../../../../scripts/postgres-cluster.mjs';
import { findPostgresBinaries, startPostgresCluster } from '../../../../../../scripts/postgres-cluster.mjs';
import type { EventStore, ForwardJob } from '../../../core/ports.js';
import { StorageUnavailableError } from '../../../core/storage-health.js';
import { makeDelivery, makeForwardAttempt, makeRejection } from '../../../testing/delivery-fixtures.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../../../testing/postgres.js';
import { describeEventStoreContract } from '../event-store.contract.js';
import { keepFetchedTypes } from './connection.js';
import { inspectPostgres, openPostgresStore, POSTGRES_SCHEMA_VERSION, type PostgresEventStore } from './index.js';

const TABLES = 'events, event_ids, differing_bodies, rejections, forward_jobs, forward_attempts';

describeWithPostgres('PostgresEventStore', () => {
  let contractDb: TestDatabase;
  let admin: postgres.Sql;
  before(async () => {
    contractDb = await createTestDatabase();
    admin = postgres(contractDb.url, { max: 1, onnotice: () => {} });
  });
  after(async () => {
    await admin.end();
    await contractDb.drop();
  });

  // One database for the whole contract run: each `open` empties it, as a new store would be.
  describeEventStoreContract('postgres', {
    open: async (options) => {
      const store = await openPostgresStore({ url: contractDb.url, ...options });
      await admin.unsafe(`TRUNCATE ${TABLES} RESTART IDENTITY`);
      return store;
    },
    reopen: async (store) => {
      await store.close();
      return openPostgresStore({ url: contractDb.url });
    },
  });

  describe('several instances on one database', () => {
    let db: TestDatabase;
    let stores: PostgresEventStore[] = [];
    const open = async (options: Parameters<typeof openPostgresStore>[0] extends infer O ? Partial<O> : never = {}) => {
      const store = await openPostgresStore({ url: db.url, ...options });
      stores.push(store);
      return store;
    };
    before(async () => {
      db = await createTestDatabase();
    });
    after(async () => {
      await Promise.all(stores.map((store) => store.close()));
      stores = [];
      await db.drop();
    });

    it('turns a connection error no caller holds into a 503 fault and recovers, and leaves other rejections fatal', async () => {
      const store = await open();
      assert.ok(process.listeners('unhandledRejection').includes(store.strayRejection));
      // What postgres@3.4.9 can leave behind when a connection closes under it.
      const stray = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' });
      store.strayRejection(stray);
      assert.equal(store.health.fault?.code, 'database_unavailable');
      await assert.rejects(store.recordDelivery(makeDelivery()), { name: 'StorageUnavailableError' });
      // The database is fine, so the probe clears the fault within about a second.
      await new Promise<void>((resolve) => {
        const stop = store.health.subscribe((fault) => {
          if (fault === null) {
            stop();
            resolve();
          }
        });
      });
      const bug = new TypeError('not a database problem');
      assert.throws(() => store.strayRejection(bug), bug);
      await store.close();
      assert.ok(!process.listeners('unhandledRejection').includes(store.strayRejection));
    });

    it('fetches the array types on the first connection only, and arrays still work after every connection is cut', async () => {
      // postgres@3.4.9 fetches them again at each connect from a promise nothing handles (see
      // keepFetchedTypes): a database that went away during that fetch left an unhandled rejection.
      const applicationName = 'omise-webhook types-test';
      const typeFetches: string[] = [];
      const sql = postgres(db.url, {
        max: 2,
        onnotice: () => {},
        connection: { application_name: applicationName },
        debug: (_connection, query) => {
          if (query.includes('pg_catalog.pg_type')) typeFetches.push(query);
        },
      });
      try {
        // Before any connection has fetched them, turning the fetch off would break arrays.
        assert.equal(keepFetchedTypes(sql), false);
        assert.equal(sql.options.fetch_types, true);
        await sql`SELECT 1`;
        assert.equal(typeFetches.length, 1);
        assert.equal(keepFetchedTypes(sql), true);
        assert.equal(sql.options.fetch_types, false);
        const [cut] = await admin<Array<{ n: number }>>`
          SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = ${applicationName}`;
        assert.equal(cut?.n, 1);
        // The first query after the cut may meet the dead connection; the pool then opens a new one.
        const arrays = async () => {
          const texts = ['chrg_test_1', 'a,b "c" {d}', null, 'ค่าสินค้า\\/'];
          const [row] = await sql<Array<{ texts: string; ints: string }>>`
            SELECT array_to_json(${texts}::text[])::text AS texts,
              array_to_json(${[1, '9007199254740993']}::bigint[])::text AS ints`;
          return { texts: row?.texts, ints: row?.ints, sent: JSON.stringify(texts) };
        };
        const after = await arrays().catch(arrays);
        // Serialised as arrays by what the first fetch registered, element for element (null included).
        assert.equal(after.texts, after.sent);
        assert.equal(after.ints, '[1,9007199254740993]');
        assert.equal(typeFetches.length, 1);
      } finally {
        await sql.end({ timeout: 2 });
      }
    });

    it('with the type fetch off after opening, still records events with lookup ids (arrays) once its connections are cut', async () => {
      // Its own database: the tests around it count the events of theirs.
      const own = await createTestDatabase();
      const store = await openPostgresStore({ url: own.url, instanceId: 'types-store' });
      try {
        await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${'omise-webhook types-store'}`;
        const delivery = makeDelivery({ relatedIds: ['cust_test_types1', 'card_test_types1'] });
        // The first write after the cut may find a dead connection (a 503 and a probe); one after recovery stores.
        let stored: Awaited<ReturnType<typeof store.recordDelivery>> | undefined;
        for (let attempt = 0; attempt < 50 && stored === undefined; attempt += 1) {
          stored = await store.recordDelivery(delivery).catch(async () => {
            await new Promise((resolve) => setTimeout(resolve, 100));
            return undefined;
          });
        }
        assert.equal(stored?.duplicate, false);
        const found = await store.eventsForObject('card_test_types1');
        assert.deepEqual(
          found.map((event) => event.eventId),
          [delivery.eventId],
        );
      } finally {
        await store.close();
        await own.drop();
      }
    });

    it('migrates once when four instances start together, and refuses a newer schema', async () => {
      const fresh = await createTestDatabase();
      try {
        const four = await Promise.all([1, 2, 3, 4].map(() => openPostgresStore({ url: fresh.url })));
        await Promise.all(four.map((store) => store.close()));
        const sql = postgres(fresh.url, { max: 1, onnotice: () => {} });
        try {
          const rows = await sql`SELECT version FROM omise_webhook_schema ORDER BY version`;
          assert.deepEqual(
            rows.map((row) => row.version),
            Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
          );
          await sql`INSERT INTO omise_webhook_schema (version) VALUES (${POSTGRES_SCHEMA_VERSION + 1})`;
        } finally {
          await sql.end();
        }
        await assert.rejects(openPostgresStore({ url: fresh.url }), {
          name: 'NewerSchemaError',
          message: new RegExp(
            `has schema version ${POSTGRES_SCHEMA_VERSION + 1}, which is newer than this omise-webhook knows \\(${POSTGRES_SCHEMA_VERSION}\\); upgrade omise-webhook`,
          ),
        });
      } finally {
        await fresh.drop();
      }
    });

    it('stores an id sent to two instances at once once, with two deliveries, never an error', async () => {
      const [a, b] = [await open(), await open()];
      const deliveries = Array.from({ length: 100 }, () => makeDelivery());
      const results = await Promise.all(deliveries.flatMap((d) => [a.recordDelivery(d), b.recordDelivery(d)]));
      assert.equal(results.filter((r) => !r.duplicate).length, 100);
      assert.equal(results.filter((r) => r.duplicate).length, 100);
      for (const d of deliveries) {
        assert.equal((await a.getEvent(d.eventId))?.deliveryCount, 2, d.eventId);
      }
      assert.equal((await b.stats()).total, 100);
    });

    it('feeds every event exactly once to a reader following the position while two instances write', async () => {
      const [a, b] = [await open(), await open()];
      const start = await a.eventFeedHead();
      const deliveries = Array.from({ length: 300 }, () => makeDelivery());
      let writing = true;
      const writes = Promise.all(deliveries.map((d, i) => (i % 2 === 0 ? a : b).recordDelivery(d))).finally(() => {
        writing = false;
      });
      const seen: string[] = [];
      let cursor = start;
      const wanted = new Set(deliveries.map((d) => d.eventId));
      const fedSoFar = () => seen.filter((id) => wanted.has(id)).length;
      // Read while the writes go on, then until the last one is fed: an event is fed once every
      // transaction older than it has ended, anywhere on the server (another test's too).
      const deadline = Date.now() + 10_000;
      for (let more = true; more; ) {
        more = writing || (fedSoFar() < wanted.size && Date.now() < deadline);
        const page = await a.eventFeed({ after: cursor, limit: 7 });
        seen.push(...page.items.map((e) => e.eventId));
        cursor = page.cursor;
        if (page.items.length === 7) more = true;
        else if (more && !writing) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await writes;
      const fed = seen.filter((id) => wanted.has(id));
      assert.equal(new Set(fed).size, fed.length, 'no event fed twice');
      assert.deepEqual([...fed].sort(), [...wanted].sort(), 'every event fed');
    });

    it('feeds an event that committed late in its place, never skipping it for a later one', async () => {
      // Another instance's transaction took its place first and commits last: a feed in plain
      // `seq` order would hand out the later event and then never the slow one.
      const b = await open();
      const start = await b.eventFeedHead();
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        const slow = await sql.reserve();
        const slowDelivery = makeDelivery();
        await slow`BEGIN`;
        await slow`
          INSERT INTO events (event_id, key, livemode, object_type, received_at, last_received_at, body, headers,
            verification, verification_status, origin)
          VALUES (${slowDelivery.eventId}, 'charge.create', false, 'charge', ${slowDelivery.receivedAt},
            ${slowDelivery.receivedAt}, ${Buffer.from(slowDelivery.body)}, '[]',
            ${JSON.stringify(slowDelivery.verification)}, 'verified', 'webhook')`;
        const fast = makeDelivery();
        await b.recordDelivery(fast);
        const whileOpen = await b.eventFeed({ after: start, limit: 10 });
        assert.deepEqual(whileOpen.items, [], 'nothing is fed while an earlier writer is still open');
        assert.equal(await b.eventFeedHead(), start);
        await slow`COMMIT`;
        slow.release();
        const page = await b.eventFeed({ after: whileOpen.cursor, limit: 10 });
        assert.deepEqual(
          page.items.map((e) => e.eventId),
          [slowDelivery.eventId, fast.eventId],
        );
      } finally {
        // At once: a failed assertion leaves the slow transaction open.
        await sql.end({ timeout: 0 });
      }
    });

    it('wakes every instance’s watchers when any instance commits an event', async () => {
      const [a, b] = [await open(), await open()];
      const heard = new Promise<void>((resolve) => {
        let calls = 0;
        // The first call is the catch-up when listening starts; the next one is the commit.
        const stop = b.watchFeed(() => {
          calls += 1;
          if (calls === 2) {
            stop();
            resolve();
          }
        });
      });
      // Listening has begun once the catch-up call came; commit only then.
      await new Promise<void>((resolve) => {
        const stop = b.watchFeed(() => {
          stop();
          resolve();
        });
      });
      await a.recordDelivery(makeDelivery());
      await heard;
    });

    it('sends each forward job from one instance at a time, in order per target, and takes over an expired lease', async () => {
      const T0 = Date.UTC(2026, 10, 26, 7, 0, 0);
      const target = 'http://127.0.0.1:8081/a';
      const a = await open({ forwardLeaseMs: 10_000, instanceId: 'a' });
      const b = await open({ forwardLeaseMs: 10_000, instanceId: 'b' });
      const deliveries = Array.from({ length: 6 }, () =>
        makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [target] }),
      );
      for (const d of deliveries) await a.recordDelivery(d);
      const claim = (store: EventStore, now: number, window: number) =>
        store.claimDueForwards({ now, maxInFlightPerTarget: window, targets: [target] });
      const ids = (jobs: ForwardJob[]) => jobs.map((job) => job.eventId);
      // Both claim at once with a window of 4: four jobs go, each to one instance, oldest first.
      const [fromA, fromB] = await Promise.all([claim(a, T0, 4), claim(b, T0, 4)]);
      const claimed = [...fromA.jobs, ...fromB.jobs];
      assert.equal(claimed.length, 4);
      assert.equal(new Set(claimed.map((job) => job.id)).size, 4, 'no job claimed twice');
      assert.deepEqual(
        [...ids(claimed)].sort(),
        deliveries
          .slice(0, 4)
          .map((d) => d.eventId)
          .sort(),
      );
      // The other instance's leased jobs count as in flight: the window is full everywhere.
      assert.deepEqual((await claim(b, T0 + 9_999, 4)).jobs, []);
      assert.deepEqual((await claim(a, T0 + 9_999, 4)).jobs, []);
      // a finishes its jobs; b "dies" holding its own.
      for (const job of fromA.jobs) await a.recordForwardAttempt(makeForwardAttempt(job));
      const bHeld = fromB.jobs.map((job) => job.id).sort();
      const fifth = await claim(a, T0 + 5_000, 4);
      assert.ok(
        fifth.jobs.every((job) => !bHeld.includes(job.id)),
        'a leased job is not claimable before its lease ends',
      );
      // After b's lease expires, a takes b's jobs over, still oldest first.
      for (const job of fifth.jobs) await a.recordForwardAttempt(makeForwardAttempt(job));
      const takeover = await claim(a, T0 + 10_001, 10);
      assert.deepEqual(
        takeover.jobs
          .filter((job) => bHeld.includes(job.id))
          .map((job) => job.id)
          .sort(),
        bHeld,
      );
      for (const job of takeover.jobs) await a.recordForwardAttempt(makeForwardAttempt(job));
      for (const d of deliveries) {
        assert.deepEqual(
          (await a.listForwardJobs(d.eventId)).map((job) => job.state),
          ['delivered'],
        );
      }
    });

    it('keeps order per target across instances: nothing overtakes a retry another instance recorded', async () => {
      const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
      const target = 'http://127.0.0.1:8082/order';
      const a = await open({ instanceId: 'order-a' });
      const b = await open({ instanceId: 'order-b' });
      const deliveries = Array.from({ length: 3 }, () =>
        makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [target] }),
      );
      for (const d of deliveries) await b.recordDelivery(d);
      const claim = (store: EventStore, now: number) =>
        store.claimDueForwards({ now, maxInFlightPerTarget: 1, targets: [target] });
      const [head] = (await claim(a, T0)).jobs;
      assert.equal(head?.eventId, deliveries[0]?.eventId);
      assert.deepEqual((await claim(b, T0)).jobs, [], 'the head is in flight at a');
      await a.recordForwardAttempt(
        makeForwardAttempt(head as ForwardJob, {
          status: 503,
          outcome: 'retry',
          reason: '503',
          nextAttemptAt: T0 + 5_000,
        }),
      );
      assert.deepEqual(await claim(b, T0 + 1_000), { jobs: [], nextDueAt: T0 + 5_000 });
      assert.deepEqual(
        (await claim(b, T0 + 5_000)).jobs.map((job) => job.eventId),
        [deliveries[0]?.eventId],
      );
    });

    it('never holds more connections than maxConnections, however many writes wait', async () => {
      const store = await open({ maxConnections: 2, instanceId: 'pool-bound' });
      const busiest = { n: 0 };
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        let writing = true;
        const writes = Promise.all(Array.from({ length: 60 }, () => store.recordDelivery(makeDelivery()))).finally(
          () => {
            writing = false;
          },
        );
        while (writing) {
          const [row] = await sql`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'omise-webhook pool-bound'`;
          busiest.n = Math.max(busiest.n, row?.n ?? 0);
        }
        await writes;
      } finally {
        await sql.end();
      }
      assert.ok(busiest.n >= 1 && busiest.n <= 2, `saw ${busiest.n} connections`);
    });

    describe('group commit', () => {
      it('commits deliveries that arrive together in one group, within the bound, each caller answered with its own event', async () => {
        const groups: number[] = [];
        const store = await open({ maxGroupSize: 20, onGroup: (size) => groups.push(size) });
        const deliveries = Array.from({ length: 50 }, () =>
          makeDelivery({ forwardTargets: ['http://127.0.0.1:8083/g'] }),
        );
        const results = await Promise.all(deliveries.map((d) => store.recordDelivery(d)));
        // One group per round trip: all 50 arrived in one turn, so 20, 20, 10 (not 50 statements).
        assert.deepEqual(groups, [20, 20, 10]);
        assert.deepEqual(
          results.map((r) => [r.event.eventId, r.duplicate, r.event.deliveryCount]),
          deliveries.map((d) => [d.eventId, false, 1]),
        );
        for (const [i, d] of deliveries.entries()) {
          const stored = await store.getEvent(d.eventId);
          assert.equal(stored?.seq, results[i]?.event.seq, d.eventId);
          assert.deepEqual(Buffer.from(stored?.body ?? []), Buffer.from(d.body));
          assert.deepEqual(stored?.headers, d.headers);
          assert.deepEqual(
            (await store.listForwardJobs(d.eventId)).map((job) => [job.target, job.state]),
            [['http://127.0.0.1:8083/g', 'pending']],
          );
          assert.deepEqual(
            (await store.eventsForObject(d.objectId as string)).map((e) => e.eventId),
            [d.eventId],
          );
        }
      });

      it('counts the same id twice in one group as one event with two deliveries, in call order', async () => {
        const groups: number[] = [];
        const store = await open({ onGroup: (size) => groups.push(size) });
        const d = makeDelivery();
        const other = makeDelivery();
        const order: string[] = [];
        const onCommitted = (r: { duplicate: boolean; event: { eventId: string; deliveryCount: number } }) =>
          order.push(`${r.event.eventId} duplicate=${r.duplicate} n=${r.event.deliveryCount}`);
        const results = await Promise.all([
          store.recordDelivery(d, { onCommitted }),
          store.recordDelivery(other, { onCommitted }),
          store.recordDelivery({ ...d, receivedAt: '2026-11-26T08:00:00.000Z' }, { onCommitted }),
          store.recordDelivery({ ...d, receivedAt: '2026-11-26T09:00:00.000Z' }, { onCommitted }),
        ]);
        assert.deepEqual(groups, [4]);
        assert.deepEqual(
          results.map((r) => [r.event.eventId, r.duplicate, r.event.deliveryCount]),
          [
            [d.eventId, false, 1],
            [other.eventId, false, 1],
            [d.eventId, true, 2],
            [d.eventId, true, 3],
          ],
        );
        assert.deepEqual(
          order.filter((line) => line.startsWith(d.eventId)),
          [`${d.eventId} duplicate=false n=1`, `${d.eventId} duplicate=true n=2`, `${d.eventId} duplicate=true n=3`],
        );
        const stored = await store.getEvent(d.eventId);
        assert.equal(stored?.deliveryCount, 3);
        assert.equal(stored?.lastReceivedAt, '2026-11-26T09:00:00.000Z');
        assert.equal((await store.getEvent(other.eventId))?.deliveryCount, 1);
      });

      it('fails only the delivery the database refuses; the rest of its group is stored', async () => {
        const groups: number[] = [];
        const store = await open({ onGroup: (size) => groups.push(size) });
        const good = Array.from({ length: 5 }, () => makeDelivery());
        // PostgreSQL text cannot hold U+0000: this one delivery is refused (22021).
        const bad = makeDelivery({ key: 'charge.\u0000create' });
        const settled = await Promise.allSettled(
          [...good.slice(0, 2), bad, ...good.slice(2)].map((d) => store.recordDelivery(d)),
        );
        assert.deepEqual(groups, [6]);
        assert.deepEqual(
          settled.map((s) => s.status),
          ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
        );
        assert.equal(((settled[2] as PromiseRejectedResult).reason as { code?: string }).code, '22021');
        for (const d of good) assert.equal((await store.getEvent(d.eventId))?.deliveryCount, 1, d.eventId);
        assert.equal(await store.getEvent(bad.eventId), undefined);
        assert.equal(store.health.fault, null, 'a refused value is not a storage fault');
      });

      it('keeps refused requests that arrive together in one group, each with its own seq, within the bounds', async () => {
        const groups: string[] = [];
        const store = await open({ maxRejections: 5, onGroup: (size, kind) => groups.push(`${kind} ${size}`) });
        const sent = Array.from({ length: 12 }, (_, i) =>
          makeRejection({ reason: `forged ${i}`, body: Buffer.from(`{"n": ${i}, "ข้อความ": "\\/"}`) }),
        );
        const stored = await Promise.all(sent.map((r) => store.recordRejection(r)));
        assert.deepEqual(groups, ['rejections 12']);
        assert.deepEqual(
          stored.map((r) => r.reason),
          sent.map((r) => r.reason),
        );
        const seqs = stored.map((r) => r.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
        assert.equal(new Set(seqs).size, 12);
        const page = await store.listRejections();
        assert.deepEqual(
          page.items.map((r) => [r.seq, r.reason, Buffer.from(r.body).toString()]),
          stored
            .slice(-5)
            .reverse()
            .map((r, i) => [r.seq, r.reason, `{"n": ${11 - i}, "ข้อความ": "\\/"}`]),
        );
      });

      it('answers every delivery of a group with StorageUnavailableError when the connection is lost mid-group, storing none', async () => {
        const store = await open({ instanceId: 'lost-mid-group', operationTimeoutMs: 20_000 });
        // Two: one is reserved for the blocking transaction.
        const sql = postgres(db.url, { max: 2, onnotice: () => {} });
        try {
          const blocker = await sql.reserve();
          const blocked = makeDelivery();
          // An open transaction holding this id: the group's insert waits on it, mid-statement.
          await blocker`BEGIN`;
          await blocker`
            INSERT INTO events (event_id, key, livemode, object_type, received_at, last_received_at, body, headers,
              verification, verification_status, origin)
            VALUES (${blocked.eventId}, 'charge.create', false, 'charge', ${blocked.receivedAt}, ${blocked.receivedAt},
              ${Buffer.from(blocked.body)}, '[]', ${JSON.stringify(blocked.verification)}, 'verified', 'webhook')`;
          const group = [makeDelivery(), blocked, makeDelivery(), makeDelivery()];
          const writes = group.map((d) => store.recordDelivery(d));
          const outcomes = Promise.allSettled(writes);
          // Wait (on the database, not a timer) until the group's statement is stuck on the lock.
          let pid: number | undefined;
          while (pid === undefined) {
            const [row] = await sql<{ pid: number }[]>`
              SELECT pid FROM pg_stat_activity
              WHERE application_name = 'omise-webhook lost-mid-group' AND wait_event_type = 'Lock'`;
            pid = row?.pid;
          }
          await sql`SELECT pg_terminate_backend(${pid})`;
          const settled = await outcomes;
          for (const outcome of settled) {
            assert.equal(outcome.status, 'rejected');
            assert.ok((outcome as PromiseRejectedResult).reason instanceof StorageUnavailableError);
            assert.equal(
              ((outcome as PromiseRejectedResult).reason as StorageUnavailableError).code,
              'database_unavailable',
            );
          }
          await blocker`ROLLBACK`;
          blocker.release();
          const ids = group.map((d) => d.eventId);
          const [row] = await sql<
            { n: number }[]
          >`SELECT count(*)::int AS n FROM events WHERE event_id = ANY(${ids}::text[])`;
          assert.equal(row?.n, 0, 'nothing of the lost group was committed');
        } finally {
          await sql.end({ timeout: 0 });
        }
      });
    });

    it('says what doctor needs: reachable, versions, privileges; and never shows a password', async () => {
      await open();
      const report = await inspectPostgres(db.url);
      assert.equal(report.reachable, true);
      assert.match(report.serverVersion ?? '', /^\d+\.\d+/);
      assert.equal(report.schemaVersion, POSTGRES_SCHEMA_VERSION);
      assert.equal(report.codeSchemaVersion, POSTGRES_SCHEMA_VERSION);
      assert.equal(report.canCreate, true);
      assert.equal(report.canWrite, true);
      assert.equal(report.error, undefined);
      const down = await inspectPostgres('postgres://app:hunter2secret@127.0.0.1:1/webhooks', { timeoutMs: 2_000 });
      assert.equal(down.reachable, false);
      assert.equal(
        down.error,
        'nothing answers at postgres://app:****@127.0.0.1:1/webhooks (connection refused): start PostgreSQL there, or fix the host and port in --store',
      );
      await assert.rejects(openPostgresStore({ url: 'postgres://app:hunter2secret@127.0.0.1:1/webhooks' }), {
        message:
          'could not open the PostgreSQL store: nothing answers at postgres://app:****@127.0.0.1:1/webhooks (connection refused): start PostgreSQL there, or fix the host and port in --store',
      });
      const wrong = await inspectPostgres('mysql://app:hunter2secret@db/x');
      assert.equal(
        wrong.error,
        '"mysql://app:****@db/x" is not a PostgreSQL URL; expected postgres://user:password@host:5432/database (--store)',
      );
    });
  });
});

/**
 * Its own cluster: these tests stop and start the server, which no other suite may share. It
 * needs the binaries on this machine (a URL alone is not enough); under CI=true they must be there.
 */
const noBinaries =
  findPostgresBinaries() === null && process.env.CI !== 'true' ? 'no PostgreSQL binaries; install postgresql' : false;
describe('PostgresEventStore when the database goes away', { skip: noBinaries }, () => {
  let cluster: PostgresCluster;
  let store: PostgresEventStore;
  before(async () => {
    cluster = await startPostgresCluster({ fsync: false });
    store = await openPostgresStore({ url: cluster.url, operationTimeoutMs: 3_000 });
  });
  after(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('answers writes with StorageUnavailableError at once, says why, and recovers by itself with nothing lost', async () => {
    const kept = Array.from({ length: 20 }, () => makeDelivery());
    await Promise.all(kept.map((d) => store.recordDelivery(d)));
    let onWatch = () => {};
    store.watchFeed(() => onWatch());
    const faults: Array<string | null> = [];
    store.health.subscribe((fault) => faults.push(fault?.code ?? null));

    await cluster.pause();
    const started = Date.now();
    await assert.rejects(store.recordDelivery(makeDelivery()), (error: unknown) => {
      assert.ok(error instanceof StorageUnavailableError);
      assert.equal(error.code, 'database_unavailable');
      assert.match(
        error.message,
        /^the database postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres cannot be reached \(\w+\): webhooks are answered 503/,
      );
      return true;
    });
    assert.ok(Date.now() - started < 4_000, `refused within the bound, took ${Date.now() - started} ms`);
    // Faulted: the next write is refused without waiting for the network.
    const again = Date.now();
    await assert.rejects(store.recordDelivery(makeDelivery()), StorageUnavailableError);
    assert.ok(Date.now() - again < 100);
    assert.equal(store.health.fault?.code, 'database_unavailable');

    const caughtUp = new Promise<void>((resolve) => {
      onWatch = resolve;
    });
    const recovered = new Promise<void>((resolve) => {
      const stop = store.health.subscribe((fault) => {
        if (fault === null) {
          stop();
          resolve();
        }
      });
    });
    await cluster.resume();
    await recovered;
    assert.deepEqual(faults, ['database_unavailable', null]);
    const after = makeDelivery();
    assert.equal((await store.recordDelivery(after)).duplicate, false);
    for (const d of [...kept, after]) assert.ok(await store.getEvent(d.eventId), `${d.eventId} kept`);
    // The feed watcher gets its catch-up call once listening resumes.
    await caughtUp;
  });
});
