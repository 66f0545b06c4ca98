import { randomBytes } from 'node:crypto';
import type { Notifier, ReceiverNotification } from '../../../core/notifier.js';

/**
 * One thin line of the live stream: what happened and to which record. The page fetches the
 * record itself on demand, so a burst of large events never floods the stream.
 */
export interface FeedNotification {
  /** `<run>-<seq>`: the SSE id. `seq` counts up from 1 in this run; `run` changes at every start. */
  id: string;
  seq: number;
  type: ReceiverNotification['type'];
  /** The event id, or the rejection's number for `rejection.stored`. */
  recordId: string;
  /** The event key (null for a rejection or a forward attempt). */
  key: string | null;
  /** For `event.stored`: true when this was another delivery of a stored event. */
  duplicate?: boolean;
}

/** What a reconnecting client missed, or `reset` when that cannot be told (it must reload). */
export type Missed = { kind: 'missed'; notifications: FeedNotification[] } | { kind: 'reset'; reason: string };

export type FeedListener = (notification: FeedNotification) => void;

export interface NotificationFeedOptions {
  /** How many notifications are kept for `Last-Event-ID` resume (default 10,000). */
  capacity?: number;
  /** Fixed run id for tests; by default random, so ids from an earlier run are recognised. */
  runId?: string;
}

/**
 * The inspector's live stream: numbers every notification from the notifier and keeps the
 * latest ones in a bounded ring, so a client that reconnects with `Last-Event-ID` gets what it
 * missed. Ids carry a per-run prefix: after a restart an old id can never be mistaken for a
 * new one, and the client is told to reload instead.
 */
export class NotificationFeed {
  readonly runId: string;
  readonly #capacity: number;
  readonly #ring: FeedNotification[] = [];
  /** Index in `#ring` of the oldest kept notification once the ring is full. */
  #start = 0;
  #seq = 0;
  readonly #listeners = new Set<FeedListener>();
  readonly #unsubscribe: () => void;
  readonly #notifier: Notifier;

  constructor(notifier: Notifier, options: NotificationFeedOptions = {}) {
    this.#capacity = Math.max(1, options.capacity ?? 10_000);
    this.runId = options.runId ?? randomBytes(4).toString('hex');
    this.#notifier = notifier;
    this.#unsubscribe = notifier.subscribe((notification) => this.#publish(notification));
  }

  /**
   * The id of the latest notification (`<run>-0` before the first). Notifications still queued
   * (an event answered this turn, told after the answer: Notifier.publishSoon) are numbered first,
   * so a position given with a list of events covers every event in that list.
   */
  get lastId(): string {
    this.#notifier.flush();
    return `${this.runId}-${this.#seq}`;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  #publish(notification: ReceiverNotification): void {
    this.#seq += 1;
    const thin: FeedNotification =
      notification.type === 'rejection.stored'
        ? {
            id: `${this.runId}-${this.#seq}`,
            seq: this.#seq,
            type: notification.type,
            recordId: String(notification.rejection.seq),
            key: null,
          }
        : notification.type === 'forward.attempted'
          ? {
              // A forward or replay attempt changes what the event's detail shows.
              id: `${this.runId}-${this.#seq}`,
              seq: this.#seq,
              type: notification.type,
              recordId: notification.attempt.eventId,
              key: null,
            }
          : {
              id: `${this.runId}-${this.#seq}`,
              seq: this.#seq,
              type: notification.type,
              recordId: notification.event.eventId,
              key: notification.event.key,
              ...(notification.type === 'event.stored' ? { duplicate: notification.duplicate } : {}),
            };
    if (this.#ring.length < this.#capacity) this.#ring.push(thin);
    else {
      this.#ring[this.#start] = thin;
      this.#start = (this.#start + 1) % this.#capacity;
    }
    for (const listener of this.#listeners) listener(thin);
  }

  /**
   * Everything after `lastEventId`, oldest first. A `reset` when the id is from another run,
   * is not one this feed gave out, or is older than the ring remembers.
   */
  since(lastEventId: string): Missed {
    // As in lastId: what is already answered is numbered before a position is compared.
    this.#notifier.flush();
    const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId);
    if (!match) return { kind: 'reset', reason: `"${lastEventId}" is not a stream id this inspector gave out` };
    if (match[1] !== this.runId) {
      return { kind: 'reset', reason: 'the inspector was restarted since this page last heard from it' };
    }
    const seq = Number(match[2]);
    if (seq > this.#seq) return { kind: 'reset', reason: `stream id ${lastEventId} is ahead of this inspector` };
    const oldest = this.#ring.length === 0 ? this.#seq + 1 : (this.#ring[this.#start] as FeedNotification).seq;
    if (seq < oldest - 1) {
      return {
        kind: 'reset',
        reason: `${oldest - 1 - seq} notification(s) after ${lastEventId} are no longer kept (the last ${this.#capacity} are)`,
      };
    }
    const missed: FeedNotification[] = [];
    for (let i = 0; i < this.#ring.length; i++) {
      const notification = this.#ring[(this.#start + i) % this.#ring.length] as FeedNotification;
      if (notification.seq > seq) missed.push(notification);
    }
    return { kind: 'missed', notifications: missed };
  }

  subscribe(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#unsubscribe();
    this.#listeners.clear();
  }
}
