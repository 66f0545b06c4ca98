import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventStore, StoredEvent } from '../../core/ports.js';

const SAFE_EVENT_ID = /^evnt_(test_)?[0-9a-z]+$/;

/** The path of an event's file, or null when the id is not safe to use in a path. */
export function eventFilePath(logDir: string, eventId: string): string | null {
  return SAFE_EVENT_ID.test(eventId) ? join(logDir, 'api', 'event', `${eventId}.json`) : null;
}

/**
 * What the file of a stored event holds: Omise's own copy when the API was asked (as the
 * original app saved), otherwise the received event; pretty-printed with 2 spaces and a
 * trailing newline.
 */
export function eventFileContent(event: StoredEvent): string {
  const source = event.omiseCopy?.body ?? Buffer.from(event.body).toString('utf8');
  return `${JSON.stringify(JSON.parse(source), null, 2)}\n`;
}

/**
 * Keeps the original app's `log/api/event/<id>.json` files, derived from the store.
 *
 * Files are written after the webhook has been acknowledged (they are not the source of
 * truth) by a worker thread, so a burst of webhooks never waits on the file system; each
 * file is written atomically (a temporary file renamed into place) so a reader never sees
 * half a file. Under heavy load the files lag behind the store and catch up after.
 */
export class EventFileMirror {
  readonly #logDir: string;
  readonly #onError: (error: unknown, eventId: string) => void;
  #worker: Worker | null = null;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(options: { logDir: string; onError?: (error: unknown, eventId: string) => void }) {
    this.#logDir = options.logDir;
    this.#onError = options.onError ?? (() => {});
  }

  get directory(): string {
    return join(this.#logDir, 'api', 'event');
  }

  #writer(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./event-file-writer.worker.mjs', import.meta.url));
    worker.unref();
    worker.on('message', (message: { id: string; error: string | null }) => {
      if (message.error !== null) this.#onError(new Error(message.error), message.id);
      this.#inFlight -= 1;
      if (this.#inFlight === 0) {
        worker.unref();
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
    worker.on('error', (error) => this.#onError(error, '(file writer)'));
    this.#worker = worker;
    return worker;
  }

  /** Queues the event's file to be (re)written. */
  enqueue(event: StoredEvent): void {
    const path = eventFilePath(this.#logDir, event.eventId);
    if (path === null) return;
    // The bytes go as they are: decoding them is the writer thread's work, not the receiver's.
    const source = event.omiseCopy?.body ?? event.body;
    const worker = this.#writer();
    // Keep the process alive while files are being written; let it go when idle.
    if (this.#inFlight === 0) worker.ref();
    this.#inFlight += 1;
    worker.postMessage({ id: event.eventId, path, dir: this.directory, source });
  }

  /** Resolves once every queued file has been written. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Waits for queued files, then stops the writer thread. */
  async close(): Promise<void> {
    await this.idle();
    await this.#worker?.terminate();
    this.#worker = null;
  }

  /** Writes one event's file atomically, on this thread. */
  async writeNow(event: StoredEvent): Promise<void> {
    const path = eventFilePath(this.#logDir, event.eventId);
    if (path === null) throw new Error(`refusing to write a file for unsafe event id ${JSON.stringify(event.eventId)}`);
    await mkdir(this.directory, { recursive: true });
    const temporary = join(this.directory, `.${event.eventId}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temporary, eventFileContent(event));
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  /**
   * Rewrites every file that is missing or differs from the store, e.g. after a crash
   * between the commit and the file write. Returns how many files were written.
   */
  async reconcile(store: EventStore): Promise<number> {
    let written = 0;
    let cursor: string | undefined;
    do {
      const page = await store.listEvents({ limit: 500, ...(cursor ? { cursor } : {}) });
      for (const event of page.items) {
        const path = eventFilePath(this.#logDir, event.eventId);
        if (path === null) continue;
        const expected = eventFileContent(event);
        const actual = await readFile(path, 'utf8').catch(() => null);
        if (actual !== expected) {
          await this.writeNow(event);
          written += 1;
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return written;
  }
}
