import type { FeedNotification, NotificationFeed } from './notification-feed.js';

export interface EventStreamOptions {
  /** From the `Last-Event-ID` header (a reconnect) or `?lastEventId=` (a page that just loaded its list). */
  lastEventId: string | null;
  /** A comment line this often keeps idle connections open through proxies (default 15 s). */
  heartbeatMs?: number;
  /** A client this many messages behind is disconnected; it reconnects and resumes (default 5,000). */
  maxQueued?: number;
  onClose?: () => void;
}

const encoder = new TextEncoder();

function message(id: string, event: string, data: unknown): Uint8Array {
  return encoder.encode(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Each notification's message, encoded once however many pages are open (never mutated). */
const encodedNotifications = new WeakMap<FeedNotification, Uint8Array>();

function notificationMessage(notification: FeedNotification): Uint8Array {
  let bytes = encodedNotifications.get(notification);
  if (bytes === undefined) {
    bytes = message(notification.id, notification.type, notificationData(notification));
    encodedNotifications.set(notification, bytes);
  }
  return bytes;
}

/** The thin payload of a notification: the page fetches the record itself. */
export function notificationData(notification: FeedNotification): Record<string, unknown> {
  return {
    type: notification.type,
    id: notification.recordId,
    key: notification.key,
    seq: notification.seq,
    ...(notification.duplicate !== undefined ? { duplicate: notification.duplicate } : {}),
  };
}

/**
 * A `text/event-stream` body. It starts with `ready` (whose id the browser then remembers, so
 * even a reconnect before the first event resumes from the right place), or with what the
 * client missed since its id, or with `reset` when that is no longer known; then one message
 * per notification, named by its type (`event.stored`, `event.updated`, `rejection.stored`).
 */
export class EventStream {
  readonly body: ReadableStream<Uint8Array>;
  #cleanup: () => void = () => {};
  #closed = false;
  readonly #onClose: (() => void) | undefined;

  constructor(feed: NotificationFeed, options: EventStreamOptions) {
    const maxQueued = options.maxQueued ?? 5_000;
    this.#onClose = options.onClose;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const send = (chunk: Uint8Array) => {
            if (this.#closed) return;
            // A client that stopped reading is dropped rather than buffered without bound.
            if ((controller.desiredSize ?? 0) < -maxQueued) {
              this.close();
              return;
            }
            controller.enqueue(chunk);
          };
          send(encoder.encode('retry: 1000\n\n'));
          // Reading what was missed and subscribing happen in one synchronous step, so no
          // notification can fall between them.
          if (options.lastEventId === null) {
            send(message(feed.lastId, 'ready', { lastEventId: feed.lastId }));
          } else {
            const missed = feed.since(options.lastEventId);
            if (missed.kind === 'reset') send(message(feed.lastId, 'reset', { reason: missed.reason }));
            else {
              for (const notification of missed.notifications) send(notificationMessage(notification));
              send(message(feed.lastId, 'ready', { lastEventId: feed.lastId, resumed: missed.notifications.length }));
            }
          }
          const unsubscribe = feed.subscribe((notification) => send(notificationMessage(notification)));
          const heartbeat = setInterval(() => send(encoder.encode(': keep-alive\n\n')), options.heartbeatMs ?? 15_000);
          heartbeat.unref();
          this.#cleanup = () => {
            unsubscribe();
            clearInterval(heartbeat);
            try {
              controller.close();
            } catch {
              // Already closed or cancelled by the client.
            }
          };
        },
        cancel: () => this.close(),
      },
      { highWaterMark: 1 },
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cleanup();
    this.#onClose?.();
  }
}
