import type { Scheduler } from '../core/tunnel.js';

interface PendingTimer {
  id: number;
  ms: number;
  callback: () => void;
}

/**
 * Timers that fire only when the test says so, so backoff delays are asserted exactly and
 * cost no time. `pending` lists what is scheduled; `fire(ms)` runs the timer with that delay.
 */
export class FakeScheduler implements Scheduler {
  #next = 1;
  readonly #timers = new Map<number, PendingTimer>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { id, ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Delays of the timers still pending, in the order they were set. */
  get pending(): number[] {
    return [...this.#timers.values()].map((timer) => timer.ms);
  }

  /** Runs the (first) pending timer with exactly this delay; throws when there is none. */
  fire(ms: number): void {
    const timer = [...this.#timers.values()].find((candidate) => candidate.ms === ms);
    if (!timer) throw new Error(`no timer of ${ms} ms is pending (pending: ${this.pending.join(', ') || 'none'})`);
    this.#timers.delete(timer.id);
    timer.callback();
  }
}
