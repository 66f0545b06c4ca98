import type { ForwardAttempt, StoredEvent, StoredRejection } from './ports.js';

/** What the receiver tells the rest of the application after a commit. */
export type ReceiverNotification =
  /**
   * `bodyDiffers`: a duplicate whose body is not the first copy's bytes. `fromOtherInstance`: stored
   * by another `serve` on the same database (team mode), shown here but not printed, forwarded or
   * counted as this instance's.
   */
  | { type: 'event.stored'; event: StoredEvent; duplicate: boolean; bodyDiffers?: boolean; fromOtherInstance?: boolean }
  | { type: 'event.updated'; event: StoredEvent }
  | { type: 'rejection.stored'; rejection: StoredRejection }
  /** A forward or replay send was made and recorded (the attempt has the target, status, latency, error). */
  | { type: 'forward.attempted'; attempt: ForwardAttempt };

export type NotificationListener = (notification: ReceiverNotification) => void;

/**
 * A minimal fan-out. Listeners run after the store commit; a listener that
 * throws is reported to `onListenerError` and never affects the webhook answer or other listeners.
 * `publishSoon` delivers after the current turn (so after the answer is written); `publish`
 * delivers at once, after anything still queued, so listeners always see notifications in order.
 */
export class Notifier {
  readonly #listeners = new Set<NotificationListener>();
  #queued: ReceiverNotification[] = [];
  #flushScheduled = false;
  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  subscribe(listener: NotificationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(notification: ReceiverNotification): void {
    if (this.#queued.length > 0) this.flush();
    this.#deliver(notification);
  }

  /**
   * Delivers at the next check phase (setImmediate), with everything else queued in this turn:
   * a webhook's answer is written in this turn's microtasks, so it never waits for the listeners.
   */
  publishSoon(notification: ReceiverNotification): void {
    this.#queued.push(notification);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  /** Delivers what `publishSoon` queued, now: before closing what listens (the file mirror). */
  flush(): void {
    const queued = this.#queued;
    this.#queued = [];
    for (const notification of queued) this.#deliver(notification);
  }

  #deliver(notification: ReceiverNotification): void {
    for (const listener of this.#listeners) {
      try {
        listener(notification);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
