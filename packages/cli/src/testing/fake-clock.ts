import type { Clock, Timers } from '../core/ports.js';

interface FakeTimer {
  id: number;
  /** The delay it was set with. */
  ms: number;
  at: number;
  callback: () => void;
}

/**
 * A clock and timers that move only when the test says so: `advance(ms)` sets the time and
 * runs every timer that fell due, in order; `fire(ms)` runs one timer by its delay (for
 * backoff schedules asserted delay by delay). Nothing waits for real time. The one fake for
 * the `Clock` and `Timers` ports.
 */
export class FakeClock implements Clock, Timers {
  #now: number;
  #timers: FakeTimer[] = [];
  #nextId = 1;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, ms, at: this.#now + Math.max(0, ms), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** When the earliest timer is due, or null when none is set. */
  get nextTimerAt(): number | null {
    return this.#timers.reduce<number | null>((min, t) => (min === null || t.at < min ? t.at : min), null);
  }

  /** Delays of the timers still pending, in the order they were set. */
  get pending(): number[] {
    return this.#timers.map((timer) => timer.ms);
  }

  /**
   * Runs the (first) pending timer set with exactly this delay, moving the time to when it was
   * due (never back); other timers stay pending. Throws when there is none.
   */
  fire(ms: number): void {
    const timer = this.#timers.find((candidate) => candidate.ms === ms);
    if (!timer) throw new Error(`no timer of ${ms} ms is pending (pending: ${this.pending.join(', ') || 'none'})`);
    this.#timers = this.#timers.filter((candidate) => candidate !== timer);
    this.#now = Math.max(this.#now, timer.at);
    timer.callback();
  }

  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  set(time: number): void {
    this.#now = time;
    for (;;) {
      const due = this.#timers.filter((timer) => timer.at <= time).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) return;
      this.#timers = this.#timers.filter((timer) => timer !== due);
      due.callback();
    }
  }
}
