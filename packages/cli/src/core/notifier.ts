import type { ForwardAttempt, StoredEvent, StoredRejection } from './ports.js';

/** What the receiver tells the rest of the application after a commit. */
export type ReceiverNotification =
  /** `bodyDiffers`: a duplicate whose body is not the first copy's bytes. */
  | { type: 'event.stored'; event: StoredEvent; duplicate: boolean; bodyDiffers?: boolean }
  | { type: 'event.updated'; event: StoredEvent }
  | { type: 'rejection.stored'; rejection: StoredRejection }
  /** A forward or replay send was made and recorded (the attempt has the target, status, latency, error). */
  | { type: 'forward.attempted'; attempt: ForwardAttempt };

export type NotificationListener = (notification: ReceiverNotification) => void;

/**
 * A minimal synchronous fan-out. Listeners run after the store commit; a listener that
 * throws is reported to `onListenerError` and never affects the webhook answer or other listeners.
 */
export class Notifier {
  readonly #listeners = new Set<NotificationListener>();
  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  subscribe(listener: NotificationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(notification: ReceiverNotification): void {
    for (const listener of this.#listeners) {
      try {
        listener(notification);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
