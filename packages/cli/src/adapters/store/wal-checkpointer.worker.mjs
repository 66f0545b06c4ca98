// The SQLite store's checkpointer thread. Plain JavaScript so it starts without a TypeScript loader.
// It opens its own connection to the store's file and, every `intervalMs`, copies what the
// write-ahead log holds into the database file (a PASSIVE checkpoint: it never blocks the
// writer or readers). A checkpoint writes many pages and syncs the database file, which takes
// tens of milliseconds here; on the connection that answers webhooks it would stall every
// webhook behind it. Messages in: 'stop'. Messages out: { copied } (pages) after a checkpoint
// that copied any. A failed checkpoint is only retried at the next interval: the store's own
// size check (maxLogBytes) keeps the log bounded whatever happens here.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { filename, intervalMs } = workerData;
const db = new Database(filename);
db.pragma('busy_timeout = 5000');
// The checkpoint syncs the log before copying and the database file after.
db.pragma('synchronous = NORMAL');
// Only checkpoint here; this connection never writes rows.
db.pragma('wal_autocheckpoint = 0');

const checkpoint = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (result && result.checkpointed > 0) parentPort.postMessage({ copied: result.checkpointed });
  } catch {
    // Busy or failed this time: the next interval tries again (see above).
  }
};
const timer = setInterval(checkpoint, intervalMs);

parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
