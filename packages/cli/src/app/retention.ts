import { type Clock, type EventLog, systemTimers, type Timers } from '../core/ports.js';
import { isStorageUnavailable } from '../core/storage-health.js';

export interface RetentionOptions {
  store: Pick<EventLog, 'pruneEvents'>;
  clock: Clock;
  /** Default: real timers; tests pass a FakeClock. */
  timers?: Timers;
  /** `--retain`: events received longer ago than this go. */
  retainMs?: number | undefined;
  /** `--max-events`: beyond the newest this many, events go. */
  maxEvents?: number | undefined;
  /** Told the ids of each batch removed, after its commit (the file mirror deletes their files). */
  onRemoved?: (eventIds: readonly string[]) => Promise<void> | void;
  /** One line per round that removed something. */
  report?: (text: string) => void;
  /** How often a round runs (default 60 s); the first runs `firstDelayMs` (default 5 s) after start. */
  intervalMs?: number;
  firstDelayMs?: number;
  /**
   * Events per batch (default RETENTION_SLICE, 4: about 2 ms of main-thread time measured with realistic bodies
   * in the text index; 8 was about 4 ms, too close to the 5 ms a background slice may hold the event loop).
   * Each batch is one write, shared with the webhooks of that turn; the loop yields between batches.
   */
  batchSize?: number;
}

/** Events removed per write by default: one background slice (see `batchSize`). */
export const RETENTION_SLICE = 4;

export interface RetentionRound {
  removed: number;
}

/**
 * `serve --retain` / `--max-events`: removes the oldest events (and their files) in the
 * background, so a receiver left running does not grow without end. Work is done in small
 * batches with a turn of the event loop between them, so a webhook arriving meanwhile waits
 * for at most one batch.
 */
export class Retention {
  readonly #options: RetentionOptions;
  #timer: unknown = null;
  #running: Promise<RetentionRound> | null = null;
  #stopped = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
  }

  start(): void {
    this.#schedule(this.#options.firstDelayMs ?? 5_000);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) (this.#options.timers ?? systemTimers).clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = (this.#options.timers ?? systemTimers).setTimeout(() => {
      this.#timer = null;
      // A failed round (the disk is full) is tried again at the next interval.
      void this.runOnce()
        .catch((error: unknown) => {
          if (!isStorageUnavailable(error)) this.#options.report?.(`omise-webhook: retention failed: ${String(error)}`);
        })
        .finally(() => this.#schedule(this.#options.intervalMs ?? 60_000));
    }, delayMs);
  }

  /** One round: batches until nothing more falls outside the retention. */
  runOnce(): Promise<RetentionRound> {
    this.#running ??= this.#round().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #round(): Promise<RetentionRound> {
    const { store, clock, retainMs, maxEvents } = this.#options;
    if (!store.pruneEvents || (retainMs === undefined && maxEvents === undefined)) return { removed: 0 };
    const receivedBefore = retainMs === undefined ? undefined : new Date(clock.now() - retainMs).toISOString();
    let removed = 0;
    let after: number | undefined;
    while (!this.#stopped) {
      const batch = await store.pruneEvents({
        limit: this.#options.batchSize ?? RETENTION_SLICE,
        ...(receivedBefore !== undefined ? { receivedBefore } : {}),
        ...(maxEvents !== undefined ? { keepNewest: maxEvents } : {}),
        ...(after !== undefined ? { after } : {}),
      });
      removed += batch.removed.length;
      if (batch.removed.length > 0) await this.#options.onRemoved?.(batch.removed);
      if (batch.next === null) break;
      after = batch.next;
      // Let webhooks that arrived during the batch go first.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (removed > 0) this.#options.report?.(`omise-webhook: retention removed ${removed} old events (and their files)`);
    return { removed };
  }
}
