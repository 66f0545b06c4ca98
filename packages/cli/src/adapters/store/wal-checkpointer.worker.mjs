// The SQLite store's checkpointer thread. Plain JavaScript so it starts without a TypeScript loader.
// It opens its own connection to the store's file and, every `intervalMs`, copies what the
// write-ahead log holds into the database file (a PASSIVE checkpoint: it never blocks the
// writer or readers). A checkpoint writes many pages and syncs the database file, which takes
// tens of milliseconds here; on the connection that answers webhooks it would stall every
// webhook behind it. A failed checkpoint is only retried at the next interval.
//
// It also makes the write that starts the log over, so that the store's connection never does:
// that write syncs the new log's header, 0.2-0.5 ms here, on whichever thread makes it. SQLite
// starts the log over at the first write after a checkpoint that copied every frame, which at
// low rates follows most of this thread's checkpoints; under sustained writes it never comes,
// and the store asks for it (the log passed `maxLogBytes`; see SqliteGroupCommit):
//   in  { type: 'restart' }  the store asks: copy what the log holds while it keeps writing;
//   out { type: 'hold' }     little or nothing is left: the store holds its writes (its event
//                            loop goes on), also unasked after a checkpoint that copied all;
//   in  { type: 'held' }     copy the rest, then make the write that starts the log over;
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

/** A 'hold' was sent and its 'held' has not come yet. */
let holdAsked = false;
/**
 * Frames of the log that are this thread's own restart write: a log holding only those needs no
 * restart (else an idle store would start its log over at every interval).
 */
let ownFrames = 0;

const askForHold = () => {
  holdAsked = true;
  parentPort.postMessage({ type: 'hold' });
};

/** With the store's writes held: true when every frame was copied and the log started over. */
const startLogOver = () => {
  const result = checkpoint();
  if (result === null || result.busy !== 0 || result.checkpointed < result.log) return false;
  try {
    // The first write after a complete checkpoint starts the log over (unless another
    // process still reads from it, when it simply appends).
    rewriteUserVersion.immediate();
    ownFrames = 1;
    return true;
  } catch {
    return false;
  }
};

const timer = setInterval(() => {
  if (holdAsked) return;
  const result = checkpoint();
  if (result !== null && result.log > ownFrames && result.checkpointed === result.log) askForHold();
}, intervalMs);

let stopped = false;
parentPort.on('message', (message) => {
  if (stopped) return;
  if (message === 'stop') {
    stopped = true;
    clearInterval(timer);
    checkpoint();
    db.close();
    parentPort.close();
  } else if (message.type === 'restart') {
    // A restart already asked for serves this request too.
    if (holdAsked) return;
    copyAhead();
    askForHold();
  } else if (message.type === 'held') {
    holdAsked = false;
    parentPort.postMessage({ type: 'restarted', started: startLogOver() });
  }
});
