import { describeDifferences } from '../core/compare-events.js';
import type { Notifier } from '../core/notifier.js';
import {
  type Clock,
  type EventLog,
  type OmiseEventsLookup,
  systemClock,
  systemTimers,
  type Timers,
  type VerificationOutcome,
} from '../core/ports.js';

export interface PendingVerifierOptions {
  /** The events waiting for their API check, and where the outcome goes. */
  store: Pick<EventLog, 'getEvent' | 'pendingVerifications' | 'updateVerification'>;
  omiseApi: OmiseEventsLookup;
  notifier: Notifier;
  /** Wait between rounds while events are pending, in ms. */
  intervalMs?: number;
  /** Time (when Omise's copy was fetched) and the interval's timer; tests pass a FakeClock. */
  clock?: Clock;
  timers?: Timers;
}

/**
 * Retries the Omise API check for events accepted as `pending` because the API could not
 * be reached. Each round asks about every pending event once; a round is also run when
 * `kick()` is called (e.g. right after a pending event is stored).
 */
export class PendingVerifier {
  readonly #options: PendingVerifierOptions;
  readonly #clock: Clock;
  readonly #timers: Timers;
  #timer: unknown = null;
  #running: Promise<number> | null = null;
  #stopped = false;

  constructor(options: PendingVerifierOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
  }

  start(): void {
    this.#schedule();
  }

  stop(): Promise<unknown> {
    this.#stopped = true;
    if (this.#timer) this.#timers.clearTimeout(this.#timer);
    return this.#running ?? Promise.resolve();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#timers.setTimeout(
      // A failed round (the store cannot be written) is retried at the next interval; a
      // rejection here would otherwise end the process.
      () =>
        void this.runOnce()
          .catch(() => {})
          .finally(() => this.#schedule()),
      this.#options.intervalMs ?? 30_000,
    );
  }

  /** One round; resolves with how many events left the pending state. */
  runOnce(): Promise<number> {
    this.#running ??= this.#round().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #round(): Promise<number> {
    const { store, omiseApi, notifier } = this.#options;
    let settled = 0;
    for (const event of await store.pendingVerifications(100)) {
      const lookup = await omiseApi.lookupEvent(event.eventId);
      const attempts = (event.verification.apiAttempts ?? 1) + 1;
      const signaturePart = event.verification.mode === 'both' ? 'signature matched the webhook secret; ' : '';
      let verification: VerificationOutcome;
      let copy: { body: string; fetchedAt: string; differences: string[] } | undefined;
      if (lookup.kind === 'found') {
        const received = JSON.parse(Buffer.from(event.body).toString('utf8')) as unknown;
        copy = {
          body: lookup.body,
          fetchedAt: new Date(this.#clock.now()).toISOString(),
          differences: describeDifferences(received, lookup.body),
        };
        verification = {
          mode: event.verification.mode,
          status: 'verified',
          reason: `${signaturePart}Omise API has this event (checked on attempt ${attempts})`,
          apiAttempts: attempts,
        };
      } else if (lookup.kind === 'not_found') {
        verification = {
          mode: event.verification.mode,
          status: 'failed',
          reason: `${signaturePart}the Omise API does not know this event (${lookup.message}): it was not sent by Omise for this account`,
          apiAttempts: attempts,
        };
      } else {
        verification = {
          ...event.verification,
          reason: `could not check with the Omise API yet (attempt ${attempts}): ${lookup.message}; retrying in the background`,
          apiAttempts: attempts,
        };
      }
      await store.updateVerification(event.eventId, verification, copy);
      if (verification.status !== 'pending') {
        settled += 1;
        const updated = await store.getEvent(event.eventId);
        if (updated) notifier.publish({ type: 'event.updated', event: updated });
      }
    }
    return settled;
  }
}
