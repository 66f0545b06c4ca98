import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
 * truth), a few at a time so a burst cannot starve the receiver, and atomically (a
 * temporary file renamed into place) so a reader never sees half a file.
 */
export class EventFileMirror {
  readonly #logDir: string;
  readonly #concurrency: number;
  readonly #pending = new Map<string, StoredEvent>();
  #running = 0;
  #idleWaiters: Array<() => void> = [];
  #onError: (error: unknown, eventId: string) => void;

  constructor(options: { logDir: string; concurrency?: number; onError?: (error: unknown, eventId: string) => void }) {
    this.#logDir = options.logDir;
    this.#concurrency = options.concurrency ?? 4;
    this.#onError = options.onError ?? (() => {});
  }

  get directory(): string {
    return join(this.#logDir, 'api', 'event');
  }

  /** Queues the event's file to be (re)written. A newer state of the same event replaces a queued one. */
  enqueue(event: StoredEvent): void {
    if (eventFilePath(this.#logDir, event.eventId) === null) return;
    this.#pending.set(event.eventId, event);
    this.#pump();
  }

  /** Resolves once every queued file has been written. */
  idle(): Promise<void> {
    if (this.#pending.size === 0 && this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#pending.size > 0) {
      const [eventId, event] = this.#pending.entries().next().value as [string, StoredEvent];
      this.#pending.delete(eventId);
      this.#running += 1;
      this.writeNow(event)
        .catch((error) => this.#onError(error, eventId))
        .finally(() => {
          this.#running -= 1;
          this.#pump();
          if (this.#running === 0 && this.#pending.size === 0) {
            const waiters = this.#idleWaiters;
            this.#idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }

  /** Writes one event's file atomically. */
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
