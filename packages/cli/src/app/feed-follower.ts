/**
 * Team mode: shows in this instance what the other instances stored. It follows the store's
 * event feed from where it stood at start, woken by the store's change notifications (and a
 * poll, so a lost notification only delays), and hands each event another instance stored to
 * `publish`. This instance's own events are already published by its receiver: `LocalWrites`
 * tells them apart, so none is shown (or forwarded, or printed) twice.
 */
import type { EventFeedPage, EventStore, StoredEvent, Timers } from '../core/ports.js';
import { systemTimers } from '../core/ports.js';

export interface FeedFollowerOptions {
  store: Pick<EventStore, 'eventFeed' | 'eventFeedHead'>;
  /** Calls the listener when another instance may have stored an event; returns the way to stop. */
  watch?: (listener: () => void) => () => void;
  /** True for an event this instance stored itself (asked once per event). */
  isOwn: (eventId: string) => boolean;
  /** Receives each event another instance stored, in feed order. */
  publish: (event: StoredEvent) => void;
  /** The safety net under `watch`; default 1 s. */
  pollMs?: number;
  /** Events per read; default 200. */
  pageSize?: number;
  timers?: Timers;
  /** A read that failed (the database away); the next wake tries again from the same place. */
  onError?: (error: unknown) => void;
}

export class FeedFollower {
  readonly #options: FeedFollowerOptions;
  readonly #timers: Timers;
  /** Where the next read starts; undefined until the head was read. */
  #cursor: string | null | undefined = undefined;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #timer: unknown = null;
  #unwatch: (() => void) | null = null;

  constructor(options: FeedFollowerOptions) {
    this.#options = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Starts from the newest event now in the store: what came before is already in the store's lists. */
  async start(): Promise<void> {
    this.#unwatch = this.#options.watch?.(() => this.wake()) ?? null;
    await this.#readHead().catch((error) => this.#options.onError?.(error));
    this.#schedulePoll();
  }

  /** Reads what is new now (at most one read runs; a wake during it reads again after). */
  wake(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#catchUp();
        } while (this.#again && !this.#stopped);
      } catch (error) {
        this.#options.onError?.(error);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unwatch?.();
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    await this.#running;
  }

  async #readHead(): Promise<void> {
    const head = await this.#options.store.eventFeedHead();
    if (this.#cursor === undefined) this.#cursor = head;
  }

  async #catchUp(): Promise<void> {
    if (this.#cursor === undefined) await this.#readHead();
    const limit = this.#options.pageSize ?? 200;
    for (;;) {
      const page: EventFeedPage = await this.#options.store.eventFeed({ after: this.#cursor ?? null, limit });
      for (const event of page.items) {
        if (!this.#options.isOwn(event.eventId)) this.#options.publish(event);
      }
      this.#cursor = page.cursor;
      if (page.items.length < limit || this.#stopped) return;
    }
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      void this.wake().finally(() => this.#schedulePoll());
    }, this.#options.pollMs ?? 1_000);
  }
}

/**
 * The ids of events this instance is storing or stored as new and the follower has not yet
 * seen: an id is added before the write starts (the feed can show the row before the write's
 * promise settles) and dropped when the write turns out to be another delivery of a stored
 * event, or when the follower meets it.
 */
export class LocalWrites {
  readonly #ids = new Set<string>();

  /** The store, with `recordDelivery` noting its id; every other method is the store's own. */
  track<S extends EventStore>(store: S): S {
    const ids = this.#ids;
    return new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === 'recordDelivery') {
          return async (...args: Parameters<EventStore['recordDelivery']>) => {
            const eventId = args[0].eventId;
            const already = ids.has(eventId);
            ids.add(eventId);
            try {
              const result = await target.recordDelivery(...args);
              if (result.duplicate && !already) ids.delete(eventId);
              return result;
            } catch (error) {
              if (!already) ids.delete(eventId);
              throw error;
            }
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  /** True (once) for an id this instance stored. */
  takeOwn(eventId: string): boolean {
    return this.#ids.delete(eventId);
  }
}
