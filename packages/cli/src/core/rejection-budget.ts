import type { Clock } from './ports.js';

/** Refused requests a second whose bodies are kept, once the burst is spent. */
export const KEPT_REJECTIONS_PER_SECOND = 20;
/** Refused requests kept whole in a row before the rate applies (a test run, a misconfigured sender). */
export const KEPT_REJECTIONS_BURST = 100;

/**
 * A token bucket deciding whether a refused request keeps its body (the first 64 KiB and a
 * SHA-256 of all of it). Keeping one costs a hash of the whole body and a row of up to 64 KiB;
 * a flood of forged requests would spend that on every one, and slow the genuine webhooks
 * sharing the thread. Past the budget a refusal is still kept, without its body, so the list
 * still shows every refusal and its reason.
 *
 * @example
 * const budget = new RejectionBodyBudget({ clock: systemClock });
 * const keepBody = budget.take();
 */
export class RejectionBodyBudget {
  readonly #clock: Clock;
  readonly #perSecond: number;
  readonly #burst: number;
  #tokens: number;
  #refilledAt: number;

  constructor(options: { clock: Clock; perSecond?: number; burst?: number }) {
    this.#clock = options.clock;
    this.#perSecond = options.perSecond ?? KEPT_REJECTIONS_PER_SECOND;
    this.#burst = options.burst ?? KEPT_REJECTIONS_BURST;
    this.#tokens = this.#burst;
    this.#refilledAt = this.#clock.now();
  }

  /** True when this refusal may keep its body; it then uses one of the budget. */
  take(): boolean {
    const now = this.#clock.now();
    const elapsedSec = Math.max(0, now - this.#refilledAt) / 1000;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsedSec * this.#perSecond);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Said in the kept refusal's reason when its body was not kept. */
  get note(): string {
    return `(body not kept: more than ${this.#perSecond} refused requests a second; size kept)`;
  }
}
