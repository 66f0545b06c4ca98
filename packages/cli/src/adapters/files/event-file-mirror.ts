import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  type Clock,
  type EventFiles,
  type EventLog,
  type StoredEvent,
  systemClock,
  systemTimers,
  type Timers,
} from '../../core/ports.js';
import { storageFaultCodeOf } from '../../core/storage-health.js';

/**
 * Ids that may name a file: Omise's shape, and short enough that the file name and its
 * temporary sibling (`.<id>.<12 hex>.tmp`) stay far below the 255-byte limit of file systems.
 */
const SAFE_EVENT_ID = /^evnt_(test_)?[0-9a-z]{1,128}$/;

/**
 * The path of an event's file, or null when the id is not safe to use in a path. Whatever the
 * id, a path it returns is a direct child of `<logDir>/api/event`.
 */
export function eventFilePath(logDir: string, eventId: string): string | null {
  if (!SAFE_EVENT_ID.test(eventId)) return null;
  const directory = resolve(logDir, 'api', 'event');
  const path = join(directory, `${eventId}.json`);
  // Belt and braces: the pattern already allows no separator or dot-dot.
  const inside = relative(directory, path);
  return inside.length > 0 && !inside.includes(sep) && !inside.startsWith('..') ? path : null;
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

export interface EventFileMirrorOptions {
  logDir: string;
  onError?: (error: unknown, eventId: string) => void;
  /**
   * Where events are read back when more are waiting than are kept in memory; without it every
   * waiting event stays in memory.
   */
  store?: Pick<EventLog, 'listEvents'>;
  /** Files are written once no event has arrived for this long (default 100 ms)... */
  quietMs?: number;
  /** ...or once the oldest waiting event has waited this long (default 30 s). */
  maxLagMs?: number;
  /** Events kept in memory while they wait (default 2,000); beyond that they are read back from the store. */
  maxWaitingInMemory?: number;
  /**
   * While this says yes (the store's disk is full), no file is written: the store needs the
   * space more, and files can be written later. Checked again every `retryMs`.
   */
  paused?: () => boolean;
  /** After a full disk (or `paused`), how long until files are tried again (default 2 s). */
  retryMs?: number;
  /**
   * Told once when files cannot be written because the disk is full or failing (`fault` is
   * the error), and once when they can again (`fault` null); not once per file.
   */
  onStorageFault?: (fault: Error | null) => void;
  /**
   * Files are written only while at least this much space stays free (default 0), so that on a
   * shared disk the copies never take the space the store needs for the next webhooks.
   */
  reserveBytes?: number;
  /** Time and timers; tests pass a FakeClock. */
  clock?: Clock;
  timers?: Timers;
}

interface FileJob {
  id: string;
  path: string;
  source: string | Uint8Array;
}

interface WriteError {
  id: string;
  error: string;
  code?: string;
}

/**
 * Files per message to the writer thread, and events per page read back from the store. The
 * main thread's share of a batch (reading a page back, building the jobs, copying them into the
 * message) is about 30-40 µs an event here, so 64 keep a slice near 2 ms: a webhook arriving
 * meanwhile waits at most that long (issue 16; it was 500, about 20 ms). Slices are separated by
 * the writer thread's round trip, so webhooks get the turns between them.
 */
export const FILE_MIRROR_SLICE = 64;
const BATCH = FILE_MIRROR_SLICE;

/**
 * Keeps the original app's `log/api/event/<id>.json` files, derived from the store.
 *
 * The files are not the source of truth, so they wait until the receiver is quiet: during a
 * burst of webhooks the receiver only notes which events need a file (no work per webhook
 * beyond that), and once no event has arrived for `quietMs` (or the oldest has waited
 * `maxLagMs`), a worker thread writes them, `BATCH` files per message. Each file is written
 * atomically (a temporary file renamed into place) so a reader never sees half a file.
 * Creating a file costs more than receiving a webhook on some file systems (about 100-700 µs
 * of kernel time on this machine's ext4), which is why it must not compete with a burst.
 * Past `maxWaitingInMemory` waiting events, only the oldest sequence number is remembered and
 * the events are read back from the store, so a long burst costs no memory.
 */
export class EventFileMirror implements EventFiles {
  readonly #logDir: string;
  readonly #eventDirectory: string;
  readonly #onError: (error: unknown, eventId: string) => void;
  readonly #store: Pick<EventLog, 'listEvents'> | undefined;
  readonly #quietMs: number;
  readonly #maxLagMs: number;
  readonly #maxWaitingInMemory: number;
  #worker: Worker | null = null;
  /** Waiting events by id (a later version replaces an earlier one). */
  #waiting = new Map<string, StoredEvent>();
  /** Events from this sequence number up were not kept in memory: read them back from the store. */
  #backlogFromSeq: number | null = null;
  /** The walk down the store in progress: the oldest sequence number it goes to, and where it stopped. */
  #walk: { floor: number; cursor?: string } | null = null;
  #oldestWaitingSince: number | null = null;
  #lastArrivalAt = 0;
  #newestSeq = 0;
  readonly #clock: Clock;
  readonly #timers: Timers;
  #timer: unknown = null;
  #writing = false;
  #idleWaiters: Array<() => void> = [];
  #batchDone: ((errors: WriteError[]) => void) | null = null;
  readonly #paused: () => boolean;
  readonly #retryMs: number;
  readonly #onStorageFault: (fault: Error | null) => void;
  readonly #reserveBytes: number;
  /** Files failed for a full disk: nothing is written before this time. */
  #retryAt = 0;
  #faulted = false;
  /** The start-up rebuild stopped at a full disk: it runs again once files can be written. */
  #reconcilePending: Pick<EventLog, 'listEvents'> | null = null;

  constructor(options: EventFileMirrorOptions) {
    this.#logDir = options.logDir;
    this.#eventDirectory = resolve(options.logDir, 'api', 'event');
    this.#onError = options.onError ?? (() => {});
    this.#store = options.store;
    this.#quietMs = options.quietMs ?? 100;
    this.#maxLagMs = options.maxLagMs ?? 30_000;
    this.#maxWaitingInMemory = options.maxWaitingInMemory ?? 2_000;
    this.#paused = options.paused ?? (() => false);
    this.#retryMs = options.retryMs ?? 2_000;
    this.#onStorageFault = options.onStorageFault ?? (() => {});
    this.#reserveBytes = options.reserveBytes ?? 0;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
  }

  /** An ENOSPC-like error when less than `reserveBytes` is free, else null (also when it cannot tell). */
  #shortOfSpace(): Error | null {
    if (this.#reserveBytes <= 0) return null;
    let free: number;
    try {
      const fs = statfsSync(this.#logDir);
      free = fs.bavail * fs.bsize;
    } catch {
      return null;
    }
    if (free >= this.#reserveBytes) return null;
    const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
    return Object.assign(
      new Error(
        `only ${mib(free)} free in ${this.#logDir}; files wait until ${mib(this.#reserveBytes)} is free, so the store keeps room`,
      ),
      { code: 'ENOSPC' },
    );
  }

  get directory(): string {
    return join(this.#logDir, 'api', 'event');
  }

  /**
   * About how many files are still to be written (events read back from the store are counted
   * by their sequence numbers), for telling the user at shutdown.
   */
  get waitingFiles(): number {
    let count = this.#waiting.size;
    if (this.#backlogFromSeq !== null) count += this.#newestSeq - this.#backlogFromSeq + 1;
    if (this.#walk !== null) count += Number(this.#walk.cursor ?? this.#newestSeq + 1) - this.#walk.floor;
    return count;
  }

  /** How many events wait for their file (those read back from the store count as one). */
  get waiting(): number {
    return (
      this.#waiting.size +
      (this.#backlogFromSeq === null && this.#walk === null ? 0 : 1) +
      (this.#reconcilePending === null ? 0 : 1)
    );
  }

  #writer(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./event-file-writer.worker.mjs', import.meta.url));
    worker.unref();
    worker.on('message', (message: { errors: WriteError[] }) => {
      const done = this.#batchDone;
      this.#batchDone = null;
      done?.(message.errors);
    });
    worker.on('error', (error) => {
      this.#onError(error, '(file writer)');
      this.#worker = null;
      const done = this.#batchDone;
      this.#batchDone = null;
      done?.([]);
    });
    this.#worker = worker;
    return worker;
  }

  /** Notes that the event's file must be (re)written. Cheap: the writing happens later. */
  enqueue(event: StoredEvent): void {
    // Only the id check here; the path is built when the file is written.
    if (!SAFE_EVENT_ID.test(event.eventId)) return;
    this.#note(event);
    this.#schedule(this.#mayWrite());
  }

  #note(event: StoredEvent): void {
    const now = this.#clock.now();
    this.#lastArrivalAt = now;
    this.#oldestWaitingSince ??= now;
    this.#newestSeq = Math.max(this.#newestSeq, event.seq);
    if (this.#waiting.has(event.eventId) || this.#waiting.size < this.#maxWaitingInMemory || !this.#store) {
      this.#waiting.set(event.eventId, event);
    } else {
      this.#backlogFromSeq = Math.min(this.#backlogFromSeq ?? event.seq, event.seq);
    }
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== null || this.#writing) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      void this.#writeWaiting(false);
    }, delayMs);
  }

  /**
   * How long until files may be written: 0 once it has been quiet for `quietMs`, the oldest
   * has waited `maxLagMs`, or someone waits for the files.
   */
  #mayWrite(): number {
    const now = this.#clock.now();
    // A full disk: wait for the retry time (even for idle(): there is nothing it can do sooner).
    if (this.#retryAt > now) return this.#retryAt - now;
    if (this.#paused()) {
      this.#retryAt = now + this.#retryMs;
      return this.#retryMs;
    }
    if (this.#idleWaiters.length > 0) return 0;
    const untilQuiet = this.#lastArrivalAt + this.#quietMs - now;
    const untilTooLate = (this.#oldestWaitingSince ?? now) + this.#maxLagMs - now;
    return Math.max(0, Math.min(untilQuiet, untilTooLate));
  }

  async #writeWaiting(urgent: boolean): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.waiting > 0) {
        const wait = this.#mayWrite();
        if (wait > 0 && (!urgent || this.#retryAt > this.#clock.now())) break;
        const short = this.#shortOfSpace();
        if (short) {
          this.#noteOutcome(short);
          break;
        }
        const rebuild = this.#reconcilePending;
        if (this.waiting > 1 || rebuild === null) await this.#writeBatch();
        else {
          // Only the start-up rebuild is left (it stopped at a full disk): run it again.
          this.#reconcilePending = null;
          await this.#rebuild(rebuild);
        }
      }
    } catch (error) {
      this.#onError(error, '(file mirror)');
    } finally {
      this.#writing = false;
      if (this.waiting === 0) {
        this.#oldestWaitingSince = null;
        this.#worker?.unref();
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const resolve of waiters) resolve();
      } else if (this.#idleWaiters.length > 0 && this.#retryAt <= this.#clock.now()) void this.#writeWaiting(true);
      else this.#schedule(Math.max(1, this.#mayWrite()));
    }
  }

  /** Writes up to BATCH waiting files: those in memory first, then a page read back from the store. */
  async #writeBatch(): Promise<void> {
    const batch: StoredEvent[] = [];
    for (const [id, event] of this.#waiting) {
      if (batch.length >= BATCH) break;
      this.#waiting.delete(id);
      batch.push(event);
    }
    if (batch.length === 0 && this.#store && (this.#walk !== null || this.#backlogFromSeq !== null)) {
      // listEvents pages newest first: walk down from the newest to the oldest waiting event, a
      // page per batch, so the walk can pause when webhooks arrive again. Events that overflow
      // meanwhile are newer than where the walk began: the next walk covers them.
      if (this.#walk === null) {
        this.#walk = { floor: this.#backlogFromSeq as number };
        this.#backlogFromSeq = null;
      }
      const walk = this.#walk;
      const page = await this.#store.listEvents({ limit: BATCH, ...(walk.cursor ? { cursor: walk.cursor } : {}) });
      for (const event of page.items) {
        if (event.seq >= walk.floor && SAFE_EVENT_ID.test(event.eventId)) batch.push(event);
      }
      const last = page.items.at(-1);
      if (page.nextCursor === null || last === undefined || last.seq <= walk.floor) this.#walk = null;
      else walk.cursor = page.nextCursor;
    }
    if (batch.length === 0) return;
    const errors = await this.#send(batch.map((event) => this.#jobFor(event)));
    const byId = new Map(batch.map((event) => [event.eventId, event]));
    let full: Error | null = null;
    for (const failure of errors) {
      const error = Object.assign(new Error(failure.error), failure.code ? { code: failure.code } : {});
      const event = byId.get(failure.id);
      if (event && storageFaultCodeOf(error) !== null) {
        // Not this event's fault: it waits for space like the rest.
        full ??= error;
        this.#note(event);
      } else this.#onError(error, failure.id);
    }
    this.#noteOutcome(full);
  }

  /** A full disk pauses the files (said once); the first batch written after says so once too. */
  #noteOutcome(fault: Error | null): void {
    if (fault) {
      this.#retryAt = this.#clock.now() + this.#retryMs;
      if (!this.#faulted) {
        this.#faulted = true;
        this.#onStorageFault(fault);
      }
    } else if (this.#faulted) {
      this.#faulted = false;
      this.#onStorageFault(null);
    }
  }

  #jobFor(event: StoredEvent): FileJob {
    // The bytes go as they are: decoding and pretty-printing are the writer thread's work.
    // The id was checked against SAFE_EVENT_ID when noted or read back (no separator, no dot):
    // joining it to the directory resolved once is the same path as eventFilePath's, without its
    // per-file path.resolve (a tenth of the main thread's share of a file in a CPU profile).
    return {
      id: event.eventId,
      path: `${this.#eventDirectory}${sep}${event.eventId}.json`,
      source: event.omiseCopy?.body ?? event.body,
    };
  }

  #send(jobs: FileJob[]): Promise<WriteError[]> {
    const worker = this.#writer();
    // Keep the process alive while files are being written.
    worker.ref();
    return new Promise((resolve) => {
      this.#batchDone = resolve;
      worker.postMessage({ dir: this.directory, jobs });
    });
  }

  /** Writes every waiting file now, whatever the load; resolves once they are written. */
  idle(): Promise<void> {
    if (this.waiting === 0 && !this.#writing) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if (this.#timer !== null) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
    void this.#writeWaiting(true);
    return done;
  }

  /** Writes what waits, then stops the writer thread. */
  async close(): Promise<void> {
    // On a full disk there is nothing to wait for: the start-up rebuild writes them next time.
    if (!this.#faulted && !this.#paused()) await this.idle();
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#worker?.terminate();
    this.#worker = null;
  }

  /** Deletes the files of events removed from the store (retention); a missing file is fine. */
  async removeFiles(eventIds: readonly string[]): Promise<void> {
    for (const eventId of eventIds) {
      this.#waiting.delete(eventId);
      const path = eventFilePath(this.#logDir, eventId);
      if (path === null) continue;
      try {
        await rm(path, { force: true });
      } catch (error) {
        this.#onError(error, eventId);
      }
    }
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
   * between the commit and the file write. Returns how many files were written. An event whose
   * file cannot be written (an id no file may be named after, a body too deep to print) is
   * reported once and skipped; a full disk stops the rebuild, which runs again with the next
   * files written once space is freed.
   */
  async reconcile(store: Pick<EventLog, 'listEvents'>): Promise<number> {
    if (this.#paused() || this.#retryAt > this.#clock.now()) {
      this.#reconcilePending = store;
      this.#schedule(this.#mayWrite());
      return 0;
    }
    return this.#rebuild(store);
  }

  async #rebuild(store: Pick<EventLog, 'listEvents'>): Promise<number> {
    let written = 0;
    let cursor: string | undefined;
    do {
      const page = await store.listEvents({ limit: BATCH, ...(cursor ? { cursor } : {}) });
      for (const event of page.items) {
        const path = eventFilePath(this.#logDir, event.eventId);
        if (path === null) {
          this.#onError(
            new Error('the id is not one a file may be named after (evnt_..., at most 128 characters)'),
            event.eventId,
          );
          continue;
        }
        try {
          const expected = eventFileContent(event);
          const actual = await readFile(path, 'utf8').catch(() => null);
          if (actual === expected) continue;
          const short = this.#shortOfSpace();
          if (short) throw short;
          await this.writeNow(event);
          written += 1;
        } catch (error) {
          if (storageFaultCodeOf(error) === null) {
            this.#onError(error, event.eventId);
            continue;
          }
          this.#noteOutcome(error as Error);
          this.#reconcilePending = store;
          this.#schedule(this.#mayWrite());
          return written;
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return written;
  }
}
