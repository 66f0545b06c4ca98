// The file mirror's writer thread. Plain JavaScript so it starts without a TypeScript loader.
// It receives { dir, jobs: [{ id, path, source }] } (source: the JSON as text or UTF-8 bytes),
// writes each file atomically (a temporary file renamed into place) with synchronous calls,
// and answers { errors: [{ id, error, code? }] } once the whole batch is done. Running here keeps the
// file system work off the thread that answers webhooks.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';

// Files are derived from the store and may lag: let the threads that answer webhooks go first.
// On Linux this lowers only this thread's priority; elsewhere it may not be allowed, which is fine.
try {
  setPriority(19);
} catch {}

const madeDirectories = new Set();
let counter = 0;

function writeOne(dir, { path, source }) {
  const temporary = join(dir, `.${process.pid}.${++counter}.tmp`);
  try {
    const text =
      typeof source === 'string'
        ? source
        : Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
    const content = `${JSON.stringify(JSON.parse(text), null, 2)}\n`;
    if (!madeDirectories.has(dir)) {
      mkdirSync(dir, { recursive: true });
      madeDirectories.add(dir);
    }
    writeFileSync(temporary, content);
    renameSync(temporary, path);
    return null;
  } catch (caught) {
    try {
      rmSync(temporary, { force: true });
    } catch {}
    // The directory may have been removed under us; make it again next time.
    madeDirectories.delete(dir);
    // The code (ENOSPC, EIO, ...) tells the mirror a full disk from a bad event.
    return caught instanceof Error
      ? { error: caught.message, ...(typeof caught.code === 'string' ? { code: caught.code } : {}) }
      : { error: String(caught) };
  }
}

parentPort.on('message', ({ dir, jobs }) => {
  const errors = [];
  for (const job of jobs) {
    const failure = writeOne(dir, job);
    if (failure !== null) errors.push({ id: job.id, ...failure });
  }
  parentPort.postMessage({ errors });
});
