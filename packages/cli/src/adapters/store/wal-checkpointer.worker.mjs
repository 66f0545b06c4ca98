// The SQLite store's checkpointer thread. Plain JavaScript so it starts without a TypeScript loader.
// It opens its own connection to the store's file and, every `intervalMs`, copies what the
// write-ahead log holds into the database file (a PASSIVE checkpoint: it never blocks the
// writer or readers). A checkpoint writes many pages and syncs the database file, which takes
// tens of milliseconds here; on the connection that answers webhooks it would stall every
// webhook behind it. A failed checkpoint is only retried at the next interval.
//
// It also starts the log over when the store asks (the log passed `maxLogBytes` under sustained
// writes, which the interval's checkpoints never catch up with; see SqliteGroupCommit):
//   in  { type: 'restart' }  copy what the log holds while the store keeps writing;
//   out { type: 'hold' }     little is left: the store holds its writes (the event loop goes on);
//   in  { type: 'held' }     copy the rest, then make the write that starts the log over here,
//                            so that this thread, not the store's, syncs the new log's header;
//   out { type: 'restarted', started }  the store commits what it held.
// Messages in: 'stop' too. Messages out: { copied } (pages) after a checkpoint that copied any.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { filename, intervalMs, maxLogBytes } = workerData;
const db = new Database(filename);
// Only the restart's write can wait for a lock (PASSIVE checkpoints never do), and the store's
// writes are held meanwhile: if another process holds the lock, give up soon and let them go.
db.pragma('busy_timeout = 100');
// The checkpoint syncs the log before copying and the database file after.
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
// A log this connection starts over is truncated back to this size, as on the store's connection.
db.pragma(`journal_size_limit = ${maxLogBytes}`);

/** Copies the log into the database file; returns SQLite's result, or null if it failed. */
const checkpoint = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (result && result.checkpointed > 0) parentPort.postMessage({ copied: result.checkpointed });
    return result ?? null;
  } catch {
    return null;
  }
};

// The write that starts the log over: it rewrites the header's user_version with its own value,
// which changes nothing yet always writes a page (page 1). An UPDATE setting a column to its own
// value would write nothing: SQLite skips a cell whose bytes did not change.
const rewriteUserVersion = db.transaction(() => {
  const version = db.pragma('user_version', { simple: true });
  db.pragma(`user_version = ${Number(version)}`);
});

/** While the store keeps writing: a few rounds, until at most 256 frames (1 MiB) are left. */
const copyAhead = () => {
  for (let round = 0; round < 4; round += 1) {
    const result = checkpoint();
    if (result === null || result.log - result.checkpointed <= 256) return;
  }
};

/** With the store's writes held: true when every frame was copied and the log started over. */
const startLogOver = () => {
  const result = checkpoint();
  if (result === null || result.busy !== 0 || result.checkpointed < result.log) return false;
  try {
    // The first write after a complete checkpoint starts the log over (unless another
    // process still reads from it, when it simply appends).
    rewriteUserVersion.immediate();
    return true;
  } catch {
    return false;
  }
};

const timer = setInterval(checkpoint, intervalMs);

parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer);
    checkpoint();
    db.close();
    parentPort.close();
  } else if (message.type === 'restart') {
    copyAhead();
    parentPort.postMessage({ type: 'hold' });
  } else if (message.type === 'held') {
    parentPort.postMessage({ type: 'restarted', started: startLogOver() });
  }
});
