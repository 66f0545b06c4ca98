import { matchesEventKeyPattern } from '@omise-webhook/events';
import type { EventFeedPage, EventStore, StoredEvent } from '../../../core/ports.js';

/** How `/api/feed` starts: after a position, at a time, or at the store's newest event. */
export type FeedStart = { kind: 'after'; cursor: string } | { kind: 'since'; since: string } | { kind: 'now' };

export interface EventFeedStreamOptions {
  store: EventStore;
  /** Where the first read begins (already read: `first` holds its page). */
  position: string | null;
  /** With `position: null`: only events received at or after this time (ISO 8601). */
  since?: string;
  /** The first page, read (limit 1) before the answer was sent, so a bad cursor was a 400. */
  first: EventFeedPage;
  /** Key pattern (`charge.*`, comma list); events that do not match only move the position. */
  events: string | null;
  /** Wakes the stream when an event may have been stored (the notifier, or PostgreSQL's NOTIFY). */
  watchFeed?: (listener: () => void) => () => void;
  /** A comment line this often keeps proxies and tunnels from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
  /** The store is read this often even without a wake-up, so a lost one only delays (default 1 s). */
  pollMs?: number;
  onClose?: () => void;
}

const encoder = new TextEncoder();
/** Left-out events in a row after which a `position` message is sent even before catching up. */
const SKIPPED_PER_POSITION = 64;

/** What one accepted event is on the wire: everything `listen` needs to send it on byte for byte. */
export interface FeedEventData {
  id: string;
  key: string;
  receivedAt: string;
  /** The stored headers of the first copy, in order, as the sender spelled them. */
  headers: Array<[string, string]>;
  /** The exact body bytes, base64. */
  body: string;
}

export function feedEventData(event: StoredEvent): FeedEventData {
  return {
    id: event.eventId,
    key: event.key,
    receivedAt: event.receivedAt,
    headers: event.headers.map(([name, value]) => [name, value]),
    body: Buffer.from(event.body.buffer, event.body.byteOffset, event.body.byteLength).toString('base64'),
  };
}

function message(id: string | null, event: string, data: unknown): Uint8Array {
  return encoder.encode(`${id !== null ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * The `text/event-stream` behind `GET /api/feed`, for `omise-webhook listen`: one `event`
 * message per accepted event after the position, oldest first, each with the store's feed
 * position as its id, so a client that remembers the last id it handled resumes with no gap
 * and no repeat. Events the key pattern leaves out are not sent, but a `position` message
 * moves the client's id past them before the stream waits. The store is read one event at a
 * time and only while the client keeps reading (ReadableStream `pull`), so a slow client
 * holds no queue here; it is read again when woken (`watchFeed`), and every `pollMs` anyway.
 *
 * Messages: `ready` (first; its id is the start position when there is one), `event`,
 * `position`, and `: keep-alive` comments.
 */
export class EventFeedStream {
  readonly body: ReadableStream<Uint8Array>;
  #position: string | null;
  #skipped = 0;
  #closed = false;
  #wake: (() => void) | null = null;
  #pending: EventFeedPage | null;
  readonly #options: EventFeedStreamOptions;
  readonly #unwatch: () => void;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;

  constructor(options: EventFeedStreamOptions) {
    this.#options = options;
    this.#position = options.position;
    this.#pending = options.first;
    this.#unwatch = options.watchFeed?.(() => this.#wakeUp()) ?? (() => {});
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          controller.enqueue(encoder.encode('retry: 1000\n\n'));
          controller.enqueue(message(this.#position, 'ready', { heartbeatMs, serverTime: new Date().toISOString() }));
        },
        pull: (controller) => this.#pull(controller, heartbeatMs),
        cancel: () => this.close(),
      },
      // A few messages ahead of the socket, no more: the store is the queue.
      { highWaterMark: 4 },
    );
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Enqueues at least one message (an event, a position, or a heartbeat), or returns when closed. */
  async #pull(controller: ReadableStreamDefaultController<Uint8Array>, heartbeatMs: number): Promise<void> {
    let waitedMs = 0;
    const pollMs = this.#options.pollMs ?? 1_000;
    while (!this.#closed) {
      const page = this.#pending ?? (await this.#read());
      this.#pending = null;
      if (this.#closed) return;
      const event = page.items[0];
      if (event) {
        this.#position = page.cursor;
        if (this.#options.events !== null && !matchesEventKeyPattern(event.key, this.#options.events)) {
          this.#skipped += 1;
          // A long run of left-out events: tell the position now and then, so the loop yields.
          if (this.#skipped < SKIPPED_PER_POSITION) continue;
        } else {
          this.#skipped = 0;
          controller.enqueue(message(this.#position, 'event', feedEventData(event)));
          return;
        }
      }
      if (this.#skipped > 0) {
        // Caught up after events the pattern left out: move the client past them before waiting.
        controller.enqueue(message(this.#position, 'position', { skipped: this.#skipped }));
        this.#skipped = 0;
        return;
      }
      if (waitedMs >= heartbeatMs) {
        controller.enqueue(encoder.encode(': keep-alive\n\n'));
        return;
      }
      const waitMs = Math.min(pollMs, heartbeatMs - waitedMs);
      const started = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = null;
          resolve();
        }, waitMs);
        // An idle stream must not keep the process alive on its own.
        timer.unref();
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waitedMs += performance.now() - started;
    }
  }

  #read(): Promise<EventFeedPage> {
    const since = this.#position === null ? this.#options.since : undefined;
    return this.#options.store.eventFeed({
      after: this.#position,
      limit: 1,
      ...(since !== undefined ? { receivedSince: since } : {}),
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch();
    this.#wakeUp();
    try {
      this.#controller?.close();
    } catch {
      // Already closed or cancelled by the client.
    }
    this.#options.onClose?.();
  }
}
