import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { StorageHealth, StorageUnavailableError } from '../../core/storage-health.js';
import { temporaryDirectory } from '../../testing/test-server.js';
import { SqliteGroupCommit, type SqliteGroupCommitOptions } from './sqlite-group-commit.js';

type SyncCallback = (error: NodeJS.ErrnoException | null) => void;

/**
 * A group commit on a one-table file, with the log sync held until the test releases it and a
 * second connection that sees only what is committed.
 */
function openGroupCommit(options: Partial<SqliteGroupCommitOptions> & { syncAtOnce?: boolean } = {}) {
  const { syncAtOnce = false, ...overrides } = options;
  const filename = join(temporaryDirectory('omise-webhook-group-commit-'), 'store.sqlite');
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const reader = new Database(filename, { readonly: true });
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const held: SyncCallback[] = [];
  const counts = { syncs: 0, batches: 0 };
  const health = new StorageHealth({ where: 'the test store' });
  const commits = new SqliteGroupCommit({
    db,
    filename,
    health,
    // No checkpointer thread and no probe within a test: both are timers of their own.
    checkpointIntervalMs: 0,
    recoveryProbeMs: 60_000,
    syncFile: (_fd, callback) => {
      counts.syncs += 1;
      if (syncAtOnce) setImmediate(() => callback(null));
      else held.push(callback);
    },
    beforeBatch: () => {
      counts.batches += 1;
    },
    restoreSchema: () => {},
    probeWrite: () => {},
    ...overrides,
  });
  return {
    db,
    filename,
    commits,
    health,
    held,
    counts,
    insert: (v: string) => {
      insert.run(v);
      return v;
    },
    /** What another connection sees: only committed rows. */
    committedRows: () =>
      reader
        .prepare<[], { v: string }>('SELECT v FROM t ORDER BY seq')
        .all()
        .map((row) => row.v),
    close: async () => {
      const closing = commits.close();
      for (const release of held.splice(0)) release(null);
      await closing;
      reader.close();
      db.close();
    },
  };
}

/** Polls every millisecond: what a thread does takes more than a few turns (starting it alone). */
async function waitUntil(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.ok(condition(), `the condition did not hold within ${ms} ms`);
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A checkpointer thread that asks for a hold as soon as it starts, then does `onHeld` (JavaScript
 * run in the thread) when the store has held its writes.
 */
function misbehavingCheckpointer(onHeld: string): URL {
  const file = join(temporaryDirectory('omise-webhook-checkpointer-'), 'checkpointer.mjs');
  writeFileSync(
    file,
    `import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ type: 'hold' });
parentPort.on('message', (message) => {
  if (message === 'stop') parentPort.close();
  else if (message.type === 'held') { ${onHeld} }
});
`,
  );
  return pathToFileURL(file);
}

/** The pragmas starting with `prefix` run on this connection from now on, as given. */
function pragmasOn(db: Database.Database, prefix: string): string[] {
  const seen: string[] = [];
  const pragma = db.pragma.bind(db);
  db.pragma = ((source: string, options?: Parameters<typeof pragma>[1]) => {
    if (source.startsWith(prefix)) seen.push(source);
    return pragma(source, options);
  }) as typeof db.pragma;
  return seen;
}

/**
 * A group commit whose checkpointer thread (`misbehavingCheckpointer(onHeld)`) holds its writes:
 * resolves once they are held, after the 50 commits that start the thread. `autocheckpoints`
 * records the connection's automatic-checkpoint settings from the start.
 */
async function heldByMisbehavingThread(onHeld: string, longestHoldMs: number) {
  const store = openGroupCommit({
    syncAtOnce: true,
    checkpointIntervalMs: 600_000,
    checkpointerScript: misbehavingCheckpointer(onHeld),
    longestHoldMs,
  });
  const autocheckpoints = pragmasOn(store.db, 'wal_autocheckpoint');
  for (let commit = 0; commit < 50; commit += 1) await store.commits.write(() => store.insert(`${commit}`));
  await waitUntil(() => store.commits.holdingWrites);
  return { store, autocheckpoints };
}

describe('SqliteGroupCommit', () => {
  it('commits the writes of one turn in one transaction, syncs once, and resolves them only after that sync', async () => {
    const store = openGroupCommit();
    try {
      const seenByOthers: string[][] = [];
      const writes = ['a', 'b', 'c'].map((v) =>
        store.commits.write(() => {
          const value = store.insert(v);
          seenByOthers.push(store.committedRows());
          return value;
        }),
      );
      let resolved = false;
      const all = Promise.all(writes).then((values) => {
        resolved = true;
        return values;
      });
      await waitUntil(() => store.held.length === 1);
      // Had each write been its own transaction, the later ones would have seen the earlier ones.
      assert.deepEqual(seenByOthers, [[], [], []], 'nothing was committed until all three had run');
      assert.deepEqual(store.committedRows(), ['a', 'b', 'c']);
      assert.deepEqual(store.counts, { syncs: 1, batches: 1 });
      await nextTurn();
      assert.equal(resolved, false, 'committed, but not acknowledged before the sync returns');
      store.held.shift()?.(null);
      assert.deepEqual(await all, ['a', 'b', 'c']);
    } finally {
      await store.close();
    }
  });

  it('refuses only the write that failed: the others are redone alone and resolve', async () => {
    const store = openGroupCommit({ syncAtOnce: true });
    try {
      const refused = new Error('this write is refused');
      const runs = { a: 0, b: 0, c: 0 };
      const settled = await Promise.allSettled([
        store.commits.write(() => {
          runs.a += 1;
          return store.insert('a');
        }),
        store.commits.write(() => {
          runs.b += 1;
          store.insert('b');
          throw refused;
        }),
        store.commits.write(() => {
          runs.c += 1;
          return store.insert('c');
        }),
      ]);
      assert.deepEqual(settled, [
        { status: 'fulfilled', value: 'a' },
        { status: 'rejected', reason: refused },
        { status: 'fulfilled', value: 'c' },
      ]);
      // The batch stopped at b and was rolled back; then each write ran again in a transaction of
      // its own. So a write's run may happen twice, and must do the same thing both times.
      assert.deepEqual(runs, { a: 2, b: 2, c: 1 });
      assert.equal(store.counts.batches, 1);
      assert.equal(store.counts.syncs, 2, 'one sync for a, one for c (started while the first ran)');
      assert.deepEqual(store.committedRows(), ['a', 'c'], 'the failed write left nothing behind');
      assert.equal(store.health.fault, null, 'an ordinary error is not a storage fault');
    } finally {
      await store.close();
    }
  });

  it('tells `committed` once the write is visible, before the promise resolves on the sync; its own error is ignored', async () => {
    const store = openGroupCommit();
    try {
      const told: string[] = [];
      const first = store.commits.write(() => store.insert('a'), {
        committed: (value) => told.push(`committed ${value}, others see ${store.committedRows().join(',')}`),
      });
      const second = store.commits.write(() => store.insert('b'), {
        committed: () => {
          throw new Error('the hook failed');
        },
      });
      void first.then((value) => told.push(`resolved ${value}`));
      await waitUntil(() => store.held.length === 1);
      await nextTurn();
      assert.deepEqual(told, ['committed a, others see a,b']);
      store.held.shift()?.(null);
      assert.equal(await first, 'a');
      assert.equal(await second, 'b', 'a throwing hook does not fail its write');
      assert.deepEqual(told, ['committed a, others see a,b', 'resolved a']);
    } finally {
      await store.close();
    }
  });

  it('turns a full disk into StorageUnavailableError for the whole batch, then refuses writes without running them', async () => {
    const store = openGroupCommit();
    try {
      const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      const ran: string[] = [];
      const settled = await Promise.allSettled([
        store.commits.write(() => {
          ran.push('a');
          return store.insert('a');
        }),
        store.commits.write(() => {
          ran.push('b');
          throw full;
        }),
      ]);
      const message =
        'the disk holding the test store is full (SQLITE_FULL): webhooks are answered 503 and not acknowledged (Omise retries them) until space is freed; free some space and it recovers by itself';
      for (const result of settled) {
        assert.equal(result.status, 'rejected');
        assert.ok(result.reason instanceof StorageUnavailableError);
        assert.equal(result.reason.code, 'disk_full');
        assert.equal(result.reason.message, message);
      }
      assert.deepEqual(ran, ['a', 'b'], 'not redone one by one: every write would fail alike');
      assert.deepEqual(store.committedRows(), []);
      assert.equal(store.health.fault?.cause, 'SQLITE_FULL');
      await assert.rejects(
        store.commits.write(() => ran.push('later')),
        (error) => error instanceof StorageUnavailableError && error.message === message,
      );
      assert.deepEqual(ran, ['a', 'b'], 'refused at once, never run');
      assert.equal(store.counts.syncs, 0);
    } finally {
      await store.close();
    }
  });

  it('does not acknowledge a write whose log sync failed: StorageUnavailableError, though it was committed', async () => {
    const store = openGroupCommit();
    try {
      const write = store.commits.write(() => store.insert('a'));
      await waitUntil(() => store.held.length === 1);
      store.held.shift()?.(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      await assert.rejects(
        write,
        (error) =>
          error instanceof StorageUnavailableError && error.code === 'disk_full' && /\(ENOSPC\)/.test(error.message),
      );
      assert.deepEqual(store.committedRows(), ['a'], 'committed, but the disk may not hold it');
      assert.equal(store.health.fault?.cause, 'ENOSPC');
    } finally {
      await store.close();
    }
  });

  it('lets writes already asked for reach the disk when closed, and refuses writes after', async () => {
    const store = openGroupCommit({ syncAtOnce: true });
    const write = store.commits.write(() => store.insert('a'));
    await store.commits.close();
    assert.equal(await write, 'a');
    assert.equal(store.counts.syncs, 1);
    assert.deepEqual(store.committedRows(), ['a']);
    await assert.rejects(
      store.commits.write(() => store.insert('b')),
      /^Error: the event store is closed$/,
    );
    await store.close();
  });

  it('starts the log over in the checkpointer thread past maxLogBytes: writes wait meanwhile, and this connection never checkpoints', async () => {
    let holds = 0;
    const writtenWhileHeld: string[] = [];
    let committedWhileHeld = -1;
    // The interval is far off: only the size check can ask for the log to start over.
    const store = openGroupCommit({
      syncAtOnce: true,
      checkpointIntervalMs: 600_000,
      maxLogBytes: 256 * 1024,
      afterHold: () => {
        holds += 1;
        const committed = new Set(store.committedRows());
        committedWhileHeld = writtenWhileHeld.filter((v) => committed.has(v)).length;
      },
    });
    const checkpointsHere = pragmasOn(store.db, 'wal_checkpoint');
    const logSize = () => statSync(`${store.filename}-wal`).size;
    try {
      const pad = 'x'.repeat(3000);
      const writes: Promise<string>[] = [];
      const write = (v: string) => writes.push(store.commits.write(() => store.insert(v)));
      // A commit a millisecond until the size check asks the thread (it starts after the 50th
      // commit); then, watching every turn, a few writes while they are held.
      const deadline = Date.now() + 20_000;
      for (let turn = 0; store.commits.logRestarts === 0 && Date.now() < deadline; turn += 1) {
        if (store.commits.holdingWrites && writtenWhileHeld.length < 5) {
          writtenWhileHeld.push(`held ${turn}`);
          write(`held ${turn}`);
        }
        if (store.commits.restartingLog) {
          await nextTurn();
          continue;
        }
        write(`${turn} ${pad}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      assert.equal(store.commits.logRestarts, 1);
      assert.equal(holds, 1);
      assert.ok(writtenWhileHeld.length > 0, 'writes were asked for while held');
      assert.equal(committedWhileHeld, 0, 'none of them was committed until the hold ended');
      await Promise.all(writes);
      assert.equal(store.committedRows().length, writes.length, 'then every one was');
      // About 8 MiB more: the log keeps starting over, so the file grows only by what is
      // committed while the thread copies (here a commit a turn, far more than real syncs allow).
      const sizeBefore = logSize();
      let largest = 0;
      for (let more = 0; more < 1_000; more += 1) {
        await store.commits.write(() => store.insert(`more ${more} ${pad}`));
        largest = Math.max(largest, logSize());
      }
      assert.ok(store.commits.logRestarts > 1);
      assert.ok(largest < sizeBefore + 3 * 1024 * 1024, `the log file grew from ${sizeBefore} to ${largest} bytes`);
      assert.deepEqual(checkpointsHere, []);
    } finally {
      await store.close();
    }
  });

  it('starts the log over in the checkpointer thread after a checkpoint that copied it all, and not again while idle', async () => {
    const store = openGroupCommit({ syncAtOnce: true, checkpointIntervalMs: 10 });
    const checkpointsHere = pragmasOn(store.db, 'wal_checkpoint');
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      // The thread starts after the 50th commit; then a write now and then, as at a low rate.
      for (let commit = 0; commit < 50; commit += 1) await store.commits.write(() => store.insert(`${commit}`));
      const deadline = Date.now() + 20_000;
      let written = 50;
      for (; store.commits.logRestarts < 3 && Date.now() < deadline; written += 1) {
        await store.commits.write(() => store.insert(`more ${written}`));
        await sleep(15);
      }
      assert.ok(store.commits.logRestarts >= 3, `${store.commits.logRestarts} restarts`);
      // Idle: the log holds only the thread's own restart write, which needs no restart.
      await sleep(100);
      const whenIdle = store.commits.logRestarts;
      await sleep(200);
      assert.equal(store.commits.logRestarts, whenIdle);
      assert.deepEqual(checkpointsHere, []);
      assert.equal(store.committedRows().length, written);
    } finally {
      await store.close();
    }
  });

  it('lets held writes go after longestHoldMs when the thread never finishes the restart', async () => {
    const { store } = await heldByMisbehavingThread('/* never answers */', 300);
    try {
      const heldAt = performance.now();
      let committedAt = 0;
      const held = store.commits.write(() => store.insert('held'), {
        now: true,
        committed: () => (committedAt = performance.now()),
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(committedAt, 0, 'not committed while held');
      assert.equal(await held, 'held');
      assert.ok(committedAt - heldAt >= 250, `committed ${committedAt - heldAt} ms after the hold began`);
      assert.equal(store.commits.holdingWrites, false);
      assert.equal(store.commits.logRestarts, 0);
    } finally {
      await store.close();
    }
  });

  it('lets held writes go at once when the thread exits, and SQLite checkpoints on this connection again', async () => {
    const { store, autocheckpoints } = await heldByMisbehavingThread('process.exit(1);', 60_000);
    try {
      const heldAt = performance.now();
      assert.equal(await store.commits.write(() => store.insert('held')), 'held');
      // Far sooner than the 60 s after which a hold is let go anyway.
      assert.ok(performance.now() - heldAt < 10_000);
      assert.equal(store.commits.holdingWrites, false);
      assert.deepEqual(autocheckpoints, ['wal_autocheckpoint = 0', 'wal_autocheckpoint = 1000']);
      assert.equal(store.committedRows().length, 51);
    } finally {
      await store.close();
    }
  });
});
