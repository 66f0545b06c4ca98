import { explainOmiseApiError } from '../adapters/omise-api/explain-api-error.js';
import { formatDuration } from '../core/format-duration.js';
import { systemTimers, type Timers } from '../core/ports.js';
import { type EventSyncer, SyncFailed, type SyncResult } from './event-syncer.js';

export interface BackgroundSyncOptions {
  syncer: EventSyncer;
  intervalMs: number;
  /** One line per run that found something, or failed. */
  report: (line: string) => void;
  /** The interval's timer; tests pass a FakeClock. */
  timers?: Timers;
}

/** The line `serve --sync` prints after a run that stored events. */
export function describeSyncRun(result: SyncResult): string {
  const totals = result.deliveryTotals;
  const log = [
    totals.delivered ? `${totals.delivered} delivered` : '',
    totals.failed ? `${totals.failed} failed` : '',
    totals.never ? `${totals.never} never delivered` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `omise-webhook: sync stored ${result.newEvents.length} event(s) from the Omise API that were not here (Omise's delivery log: ${log})`;
}

/**
 * Runs `sync` at start and then every `intervalMs` while `serve` runs, so an event Omise failed to
 * deliver (or delivered while the receiver was down) is fetched and stored within one interval.
 */
export class BackgroundSync {
  readonly #options: BackgroundSyncOptions;
  readonly #abort = new AbortController();
  readonly #timers: Timers;
  #timer: unknown = null;
  #current: Promise<unknown> | null = null;
  #stopped = false;

  constructor(options: BackgroundSyncOptions) {
    this.#options = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Starts the first run now and schedules the next ones. */
  start(): void {
    void this.runOnce().finally(() => this.#schedule(this.#options.intervalMs));
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    await this.#current;
  }

  /** Stops the timer and interrupts a running sync at the next event (it resumes next time). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#timers.clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#current;
  }

  /** One run, reported; resolves with the result, or null when it failed. */
  async runOnce(): Promise<SyncResult | null> {
    const run = this.#options.syncer.sync({ signal: this.#abort.signal });
    // `#current` settles after the report below, so idle() means "finished and reported".
    let settle: () => void = () => {};
    this.#current = new Promise<void>((resolve) => {
      settle = resolve;
    });
    try {
      const result = await run;
      if (result.newEvents.length > 0) this.#options.report(describeSyncRun(result));
      return result;
    } catch (error) {
      const reason =
        error instanceof SyncFailed
          ? explainOmiseApiError(error.reason, { apiUrl: error.partial.apiUrl })
          : String(error);
      const kept =
        error instanceof SyncFailed && error.partial.newEvents.length > 0
          ? ` (${error.partial.newEvents.length} stored before it)`
          : '';
      this.#options.report(
        `omise-webhook: sync failed: ${reason}${kept}; trying again in ${formatDuration(this.#options.intervalMs)}`,
      );
      return null;
    } finally {
      settle();
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.#timers.setTimeout(() => {
      void this.runOnce().finally(() => this.#schedule(this.#options.intervalMs));
    }, delayMs);
  }
}
