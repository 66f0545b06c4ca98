import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { EventStore } from '../../core/ports.js';
import { makeDelivery, makeRejection } from '../../testing/delivery-fixtures.js';
import { realisticDeliveries } from '../../testing/realistic-events.js';
import { temporaryDirectory } from '../../testing/test-server.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { MemoryEventStore } from './memory-event-store.js';
import { SqliteEventStore } from './sqlite-event-store.js';

describeEventStoreContract('memory', {
  open: async (options) => new MemoryEventStore(options),
});

const sqliteDir = temporaryDirectory('omise-webhook-sqlite-');
let fileCount = 0;
const filenames = new WeakMap<EventStore, string>();

describeEventStoreContract('sqlite', {
  open: async (options) => {
    const filename = join(sqliteDir, `store-${++fileCount}.sqlite`);
    const store = new SqliteEventStore({ filename, ...options });
    filenames.set(store, filename);
    return store;
  },
  reopen: async (store) => {
    const filename = filenames.get(store) as string;
    await store.close();
    const reopened = new SqliteEventStore({ filename });
    filenames.set(reopened, filename);
    return reopened;
  },
});

describe('SqliteEventStore text search index', () => {
  const queries = [
    'Bangkok',
    'SOMCHAI',
    'somchai',
    'ลูกค้าคืนสินค้า',
    '"status": "failed"',
    '\\/refunds',
    '4242',
    'zz',
    'no such text anywhere',
    'お誕生日',
  ];

  it('finds exactly what a scan of the bytes finds, before, during and after indexing', async () => {
    const memory = new MemoryEventStore();
    const sqlite = new SqliteEventStore({ filename: ':memory:', textSearchIdleMs: 60_000 });
    const deliveries = [...realisticDeliveries({ count: 240, seed: 7 })];
    const compare = async (stage: string) => {
      for (const q of queries) {
        for (const query of [
          { q },
          { q, key: 'charge.*' },
          { q, limit: 7 },
          { q, verification: 'verified' as const },
        ]) {
          let cursor: string | undefined;
          do {
            const page = { ...query, ...(cursor ? { cursor } : {}) };
            const [expected, actual] = await Promise.all([memory.listEvents(page), sqlite.listEvents(page)]);
            assert.deepEqual(
              actual.items.map((e) => e.eventId),
              expected.items.map((e) => e.eventId),
              `${stage}: ${JSON.stringify(page)}`,
            );
            assert.equal(actual.nextCursor, expected.nextCursor, `${stage}: cursor of ${JSON.stringify(page)}`);
            cursor = expected.nextCursor ?? undefined;
          } while (cursor);
        }
      }
    };
    for (const d of deliveries.slice(0, 160)) await Promise.all([memory.recordDelivery(d), sqlite.recordDelivery(d)]);
    await compare('nothing indexed');
    assert.equal(sqlite.catchUpTextSearch(), 160);
    for (const d of deliveries.slice(160)) await Promise.all([memory.recordDelivery(d), sqlite.recordDelivery(d)]);
    await compare('indexed up to 160 of 240');
    assert.equal(sqlite.catchUpTextSearch(), 80);
    await compare('all indexed');
    assert.equal(sqlite.catchUpTextSearch(), 0);
    await sqlite.close();
  });

  it('indexes in the background once writes pause, and remembers how far it got', async () => {
    const dir = temporaryDirectory('omise-webhook-text-index-');
    const filename = join(dir, 'background-index.sqlite');
    const store = new SqliteEventStore({ filename, textSearchIdleMs: 10 });
    for (const d of realisticDeliveries({ count: 100, seed: 3, idTag: 'bg' })) await store.recordDelivery(d);
    // Watch the committed watermark from a second connection (64 bodies per batch: two batches).
    const watcher = new Database(filename, { readonly: true });
    const indexedThrough = () =>
      (watcher.prepare('SELECT indexed_through AS n FROM events_text_state').get() as { n: number }).n;
    const deadline = Date.now() + 10_000;
    while (indexedThrough() < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(indexedThrough(), 100);
    watcher.close();
    await store.close();
    const reopened = new SqliteEventStore({ filename, textSearchIdleMs: 60_000 });
    assert.equal(reopened.catchUpTextSearch(), 0, 'nothing left to index after a restart');
    assert.equal((await reopened.listEvents({ q: 'Bangkok', limit: 500 })).items.length > 0, true);
    await reopened.close();
  });

  it('never indexes a body twice when two processes share the file', async () => {
    const dir = temporaryDirectory('omise-webhook-text-index-');
    const filename = join(dir, 'shared.sqlite');
    const serve = new SqliteEventStore({ filename, textSearchIdleMs: 60_000 });
    for (const d of realisticDeliveries({ count: 50, seed: 5, idTag: 'two' })) await serve.recordDelivery(d);
    const command = new SqliteEventStore({ filename, textSearchIdleMs: 60_000 });
    assert.equal(command.catchUpTextSearch(), 50);
    await command.close();
    assert.equal(serve.catchUpTextSearch(), 0, 'the other process already indexed them');
    const found = (await serve.listEvents({ q: 'Bangkok', limit: 500 })).items.map((e) => e.eventId);
    assert.ok(found.length > 0);
    assert.equal(new Set(found).size, found.length, 'no event listed twice');
    await serve.close();
  });
});

describe('SqliteEventStore: acknowledged only once on disk', () => {
  it('resolves a write only after a sync that started after its commit, one sync at a time', async () => {
    const dir = temporaryDirectory('omise-webhook-sync-');
    const held: Array<() => void> = [];
    let syncs = 0;
    const store = new SqliteEventStore({
      filename: join(dir, 'store.sqlite'),
      syncFile: (_fd, callback) => {
        syncs += 1;
        held.push(() => callback(null));
      },
    });
    try {
      const settled: string[] = [];
      const toldCommitted: string[] = [];
      const first = store
        .recordDelivery(makeDelivery({ eventId: 'evnt_test_5xsync01' }), {
          onCommitted: (result) => toldCommitted.push(result.event.eventId),
        })
        .then(() => settled.push('first'));
      await waitUntil(() => held.length === 1);
      // Forwarding can start here: committed, while the sync that acknowledges it still runs.
      assert.deepEqual(toldCommitted, ['evnt_test_5xsync01']);
      // Committed while the first sync runs: it must wait for the next sync, and only one runs at a time.
      const second = store
        .recordDelivery(makeDelivery({ eventId: 'evnt_test_5xsync02' }))
        .then(() => settled.push('second'));
      const third = store
        .recordDelivery(makeDelivery({ eventId: 'evnt_test_5xsync03' }))
        .then(() => settled.push('third'));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(settled, [], 'nothing is acknowledged before its sync returns');
      assert.equal(syncs, 1, 'a second sync does not start while one runs');
      // Writes asked for during a sync wait uncommitted, then commit together when it returns.
      const reader = new Database(join(dir, 'store.sqlite'), { readonly: true });
      const committed = () => (reader.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
      assert.equal(committed(), 1, 'only the first write is committed while its sync runs');
      held.shift()?.();
      await first;
      assert.deepEqual(settled, ['first']);
      await waitUntil(() => held.length === 1);
      assert.equal(syncs, 2, 'the second and third writes share the next sync');
      assert.equal(committed(), 3, 'both committed, in one transaction, before that sync started');
      reader.close();
      held.shift()?.();
      await Promise.all([second, third]);
      assert.deepEqual(settled, ['first', 'second', 'third']);
    } finally {
      const closing = store.close();
      for (const release of held.splice(0)) release();
      await closing;
    }
  });
});

describe('SqliteEventStore: answers before the next commit', () => {
  it('resolves a synced write before committing the writes that queued during its sync', async () => {
    const dir = temporaryDirectory('omise-webhook-sync-order-');
    const filename = join(dir, 'store.sqlite');
    const held: Array<() => void> = [];
    const store = new SqliteEventStore({ filename, syncFile: (_fd, callback) => held.push(() => callback(null)) });
    const reader = new Database(filename, { readonly: true });
    try {
      let committedWhenFirstResolved = -1;
      const committed = () => (reader.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
      const first = store.recordDelivery(makeDelivery({ eventId: 'evnt_test_5xorder01' })).then(() => {
        committedWhenFirstResolved = committed();
      });
      await waitUntil(() => held.length === 1);
      const second = store.recordDelivery(makeDelivery({ eventId: 'evnt_test_5xorder02' }));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(committed(), 1, 'the second write waits for the first sync');
      held.shift()?.();
      await first;
      // The first write's answer (its promise's continuations) ran before the second commit.
      assert.equal(committedWhenFirstResolved, 1);
      await waitUntil(() => held.length === 1);
      assert.equal(committed(), 2, 'then the second is committed and its sync started');
      held.shift()?.();
      await second;
    } finally {
      reader.close();
      const closing = store.close();
      for (const release of held.splice(0)) release();
      await closing;
    }
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('SqliteEventStore: forward jobs handed over at commit', () => {
  it('hands a due job with an empty queue ahead straight to the listener, and claims skip the queue', async () => {
    const dir = temporaryDirectory('omise-webhook-fresh-');
    const store = new SqliteEventStore({ filename: join(dir, 'store.sqlite') });
    const target = 'http://127.0.0.1:8081/a';
    try {
      await store.claimDueForwards({ now: Date.now(), maxInFlightPerTarget: 8 });
      const delivery = makeDelivery({ forwardTargets: [target] });
      let handed: string[] = [];
      await store.recordDelivery(delivery, {
        onCommitted: (result) => (handed = (result.claimedForwards ?? []).map((j) => `${j.eventId}>${j.target}`)),
      });
      assert.deepEqual(handed, [`${delivery.eventId}>${target}`]);
      assert.deepEqual((await store.claimDueForwards({ now: Date.now(), maxInFlightPerTarget: 8 })).jobs, []);
      // Without a listener nobody sends it at once: the next claim finds it.
      const unheard = makeDelivery({ forwardTargets: [target] });
      const result = await store.recordDelivery(unheard);
      assert.equal(result.claimedForwards, undefined);
      const claimed = await store.claimDueForwards({ now: Date.now(), maxInFlightPerTarget: 8 });
      assert.deepEqual(
        claimed.jobs.map((j) => j.eventId),
        [unheard.eventId],
      );
    } finally {
      await store.close();
    }
  });
});

describe('SqliteEventStore: checkpoints off the connection that answers webhooks', () => {
  it('checkpoints from its own thread once writes add up, and keeps the log from growing', async () => {
    const dir = temporaryDirectory('omise-webhook-checkpoint-');
    const filename = join(dir, 'store.sqlite');
    const store = new SqliteEventStore({ filename, checkpointIntervalMs: 20 });
    const logSize = () => statSync(`${filename}-wal`).size;
    try {
      const commitRounds = async (rounds: number) => {
        for (let round = 0; round < rounds; round += 1) {
          await Promise.all(Array.from({ length: 10 }, () => store.recordDelivery(makeDelivery())));
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      };
      await commitRounds(60); // the thread starts after 50 commits
      const sizeWhenStarted = logSize();
      await commitRounds(300);
      assert.ok(store.backgroundCheckpoints > 0, 'the checkpointer thread copied the log into the database');
      // Without checkpoints, 3,000 more events would add about 20 MB of log frames; checkpointed,
      // the log is rewritten from its start instead.
      const growth = logSize() - sizeWhenStarted;
      assert.ok(growth < 10 * 1024 * 1024, `the log grew by ${growth} bytes`);
      assert.equal((await store.stats()).total, 3600);
    } finally {
      await store.close();
    }
  });

  it('starts the log over in the checkpointer thread when its interval is far off, so the log stays bounded', async () => {
    const dir = temporaryDirectory('omise-webhook-checkpoint-');
    const filename = join(dir, 'store.sqlite');
    // A thread whose interval never comes in this test: only the size check can keep the log small.
    const store = new SqliteEventStore({ filename, checkpointIntervalMs: 600_000, maxLogBytes: 1024 * 1024 });
    const commitTwo = () => Promise.all([store.recordDelivery(makeDelivery()), store.recordDelivery(makeDelivery())]);
    try {
      // Until the thread has started (after 50 commits; starting it takes a moment) and made its first restart.
      let commits = 0;
      for (; store.logRestarts === 0 && commits < 5_000; commits += 1) await commitTwo();
      assert.equal(store.logRestarts, 1, `after ${commits} commits`);
      let largest = 0;
      for (let commit = 0; commit < 400; commit += 1) {
        await commitTwo();
        largest = Math.max(largest, statSync(`${filename}-wal`).size);
      }
      // Without restarts, 400 commits add about 16 MB of log.
      assert.ok(largest < 4 * 1024 * 1024, `the log reached ${largest} bytes`);
      assert.ok(store.logRestarts > 1);
      assert.equal((await store.stats()).total, 2 * (commits + 400));
    } finally {
      await store.close();
    }
  });

  it('asks for the log to start over once per maxLogBytes of log, not at every check after the first', async () => {
    const dir = temporaryDirectory('omise-webhook-checkpoint-');
    const filename = join(dir, 'store.sqlite');
    const store = new SqliteEventStore({ filename, checkpointIntervalMs: 600_000, maxLogBytes: 4 * 1024 * 1024 });
    try {
      // Until the log first passes 4 MiB and the checkpointer thread has started it over.
      let commits = 0;
      while (store.logRestarts === 0 && commits < 2_000) {
        await store.recordDelivery(makeDelivery());
        commits += 1;
      }
      assert.equal(store.logRestarts, 1, `after ${commits} commits`);
      // 64 more commits (size checks among them) write about 2 MiB of new log, less than 4 MiB:
      // the file is still 4 MiB, but the log in it has started over.
      for (let more = 0; more < 64; more += 1) await store.recordDelivery(makeDelivery());
      assert.ok(statSync(`${filename}-wal`).size >= 4 * 1024 * 1024, 'the file kept its size');
      assert.equal(store.logRestarts, 1, 'no second restart for a log that started over');
    } finally {
      await store.close();
    }
  });
});

describe('SqliteEventStore: a file from an earlier version', () => {
  it('is upgraded once: counts rebuilt, later copies moved out of the old deliveries table', async () => {
    const filename = join(temporaryDirectory('omise-webhook-upgrade-'), 'store.sqlite');
    const first = makeDelivery({ key: 'charge.create' });
    const store = new SqliteEventStore({ filename });
    await store.recordDelivery(first);
    await store.recordDelivery(makeDelivery({ key: 'refund.create' }));
    await store.close();
    // What the first version left: no counts, no user_version, every copy in `deliveries`.
    const raw = new Database(filename);
    const seq = (raw.prepare('SELECT seq FROM events WHERE event_id = ?').get(first.eventId) as { seq: number }).seq;
    raw.exec(`DELETE FROM event_counts; DELETE FROM redeliveries; PRAGMA user_version = 0;
      CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_seq INTEGER NOT NULL,
        received_at TEXT NOT NULL, headers TEXT NOT NULL, same_body INTEGER NOT NULL, origin TEXT NOT NULL);`);
    const insert = raw.prepare(
      'INSERT INTO deliveries (event_seq, received_at, headers, same_body, origin) VALUES (?, ?, ?, ?, ?)',
    );
    insert.run(seq, '2026-01-01T00:00:00.000Z', '[]', 1, 'webhook');
    insert.run(seq, '2026-01-01T00:05:00.000Z', '[["X-Retry","1"]]', 0, 'webhook');
    raw.close();

    const upgraded = new SqliteEventStore({ filename });
    assert.deepEqual((await upgraded.stats()).byKey, { 'charge.create': 1, 'refund.create': 1 });
    await upgraded.close();
    const after = new Database(filename, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), 3);
    assert.equal(
      (
        after.prepare('SELECT differing_deliveries FROM events WHERE seq = ?').get(seq) as {
          differing_deliveries: number;
        }
      ).differing_deliveries,
      1,
      'the copy marked with another body is counted',
    );
    assert.equal(after.prepare("SELECT name FROM sqlite_master WHERE name = 'deliveries'").get(), undefined);
    assert.deepEqual(after.prepare('SELECT event_seq, received_at, headers, same_body FROM redeliveries').all(), [
      { event_seq: seq, received_at: '2026-01-01T00:05:00.000Z', headers: '[["X-Retry","1"]]', same_body: 0 },
    ]);
    after.close();
  });

  it('from version 1 cuts kept rejection bodies to 64 KiB with their hash, and counts them for the byte bound', async () => {
    const filename = join(temporaryDirectory('omise-webhook-upgrade-'), 'store.sqlite');
    const store = new SqliteEventStore({ filename });
    const event = makeDelivery();
    await store.recordDelivery(event);
    for (let i = 0; i < 3; i++) await store.recordRejection(makeRejection({ reason: `old ${i}` }));
    await store.close();
    // What version 1 left: whole bodies of any size, none of the new columns or tables.
    const big = Buffer.alloc(300 * 1024, 0x78);
    const raw = new Database(filename);
    raw.exec(`ALTER TABLE rejections DROP COLUMN body_truncated; ALTER TABLE rejections DROP COLUMN body_sha256;
      ALTER TABLE rejections DROP COLUMN kept_bytes; ALTER TABLE events DROP COLUMN differing_deliveries;
      DROP TABLE rejection_totals; DROP TABLE differing_bodies; PRAGMA user_version = 1;`);
    raw.prepare('UPDATE rejections SET body = ?, body_size = ? WHERE reason = ?').run(big, big.byteLength, 'old 1');
    raw.close();

    const upgraded = new SqliteEventStore({ filename, maxRejectedBytes: 200 * 1024 });
    const old = (await upgraded.listRejections()).items.find((r) => r.reason === 'old 1');
    assert.equal(old?.bodyTruncated, true);
    assert.equal(old?.body.byteLength, 64 * 1024);
    assert.equal(old?.bodySize, 300 * 1024);
    assert.equal(old?.bodySha256, createHash('sha256').update(big).digest('hex'));
    assert.equal((await upgraded.stats()).rejected, 3, 'counted from the upgraded rows');
    assert.equal((await upgraded.getEvent(event.eventId))?.differingDeliveries, 0);
    // The totals are right: three more refusals of 64 KiB push out the oldest two (one of them the
    // upgraded 64 KiB); the small 'old 2' still fits under 200 KiB.
    for (let i = 0; i < 3; i++) {
      await upgraded.recordRejection(makeRejection({ reason: `new ${i}`, body: big, bodySize: big.byteLength }));
    }
    assert.deepEqual(
      (await upgraded.listRejections()).items.map((r) => r.reason),
      ['new 2', 'new 1', 'new 0', 'old 2'],
    );
    await upgraded.close();
    const after = new Database(filename, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), 3);
    after.close();
  });

  it('from version 2 gives unverified events their reason code, read from the sentence they were stored with', async () => {
    const filename = join(temporaryDirectory('omise-webhook-upgrade-'), 'store.sqlite');
    const store = new SqliteEventStore({ filename });
    const off = makeDelivery({
      verification: { mode: 'none', status: 'unverified', reason: 'verification is turned off (--verify none)' },
    });
    const nothing = makeDelivery({
      verification: {
        mode: 'none',
        status: 'unverified',
        reason: 'nothing to verify with: set OMISE_WEBHOOK_SECRET (signature) or OMISE_SECRET_KEY (Omise API)',
      },
    });
    const verified = makeDelivery();
    for (const delivery of [off, nothing, verified]) await store.recordDelivery(delivery);
    await store.close();
    // What version 2 left: no verification_code column.
    const raw = new Database(filename);
    raw.exec('ALTER TABLE events DROP COLUMN verification_code; PRAGMA user_version = 2;');
    raw.close();

    const upgraded = new SqliteEventStore({ filename });
    assert.equal((await upgraded.getEvent(off.eventId))?.verification.reasonCode, 'verification_off');
    assert.equal((await upgraded.getEvent(nothing.eventId))?.verification.reasonCode, 'nothing_to_verify_with');
    assert.equal((await upgraded.getEvent(verified.eventId))?.verification.reasonCode, undefined);
    await upgraded.close();
    const after = new Database(filename, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), 3);
    after.close();
  });

  it('is not rebuilt again at every open (opening beside a running serve takes no long write lock)', async () => {
    const filename = join(temporaryDirectory('omise-webhook-upgrade-'), 'store.sqlite');
    const store = new SqliteEventStore({ filename });
    await store.recordDelivery(makeDelivery({ key: 'charge.create' }));
    await store.close();
    // Counts that no longer match the events: a rebuild at open would correct them.
    const raw = new Database(filename);
    raw.exec("UPDATE event_counts SET n = 7 WHERE key = 'charge.create'");
    raw.close();
    const reopened = new SqliteEventStore({ filename });
    assert.deepEqual((await reopened.stats()).byKey, { 'charge.create': 7 });
    await reopened.close();
  });
});

describe('SqliteEventStore: pruning', () => {
  it('removes pruned bodies from the text index and makes the indexes pruning needs', async () => {
    const filename = join(temporaryDirectory(), 'prune.sqlite');
    const store = new SqliteEventStore({ filename, pruning: true, checkpointIntervalMs: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 40; i += 1) ids.push((await store.recordDelivery(makeDelivery())).event.eventId);
    assert.equal(store.catchUpTextSearch(), 40);
    const pruned = await store.pruneEvents({ keepNewest: 10, limit: 100 });
    assert.deepEqual(pruned.removed, ids.slice(0, 30));
    const reader = new Database(filename, { readonly: true });
    const indexed = reader
      .prepare('SELECT rowid FROM events_text WHERE events_text MATCH \'"ord"\' ORDER BY rowid')
      .all() as Array<{ rowid: number }>;
    const seqs = reader.prepare('SELECT seq FROM events ORDER BY seq').all() as Array<{ seq: number }>;
    assert.deepEqual(
      indexed.map((row) => row.rowid),
      seqs.map((row) => row.seq),
    );
    const indexes = reader
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('event_omise_ids_by_event', 'redeliveries_by_event') ORDER BY name",
      )
      .all() as Array<{ name: string }>;
    assert.deepEqual(
      indexes.map((row) => row.name),
      ['event_omise_ids_by_event', 'redeliveries_by_event'],
    );
    reader.close();
    assert.deepEqual(
      (await store.listEvents({ q: 'order 3947', limit: 100 })).items.map((event) => event.eventId),
      ids.slice(30).reverse(),
    );
    await store.close();
  });
});
