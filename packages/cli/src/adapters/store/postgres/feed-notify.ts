/**
 * Tells this process when any instance commits a new event: LISTEN on one dedicated
 * connection (NOTIFY is sent in the inserting transaction, so it arrives only after COMMIT).
 * A notification can be lost while the connection is down, so each time listening starts
 * again the watchers are called once, to catch up through `eventFeed`; a watcher must treat a
 * call as "look again", never as "exactly one new event".
 */
import postgres from 'postgres';

export const FEED_CHANNEL = 'omise_webhook_events';

export class FeedNotifier {
  readonly #url: string;
  readonly #connectTimeoutSeconds: number;
  readonly #retryEveryMs: number;
  readonly #listeners = new Set<() => void>();
  #sql: postgres.Sql | null = null;
  #retry: NodeJS.Timeout | null = null;
  #scheduled = false;
  #closed = false;

  constructor(options: { url: string; connectTimeoutSeconds: number; retryEveryMs?: number }) {
    this.#url = options.url;
    this.#connectTimeoutSeconds = options.connectTimeoutSeconds;
    this.#retryEveryMs = options.retryEveryMs ?? 1_000;
  }

  watch(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (this.#sql === null && !this.#closed) this.#start();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #start(): void {
    // `onnotify` is how postgres' own listen() hears notifications; its types leave it out.
    const options: postgres.Options<Record<string, postgres.PostgresType>> & { onnotify: (channel: string) => void } = {
      max: 1,
      max_lifetime: null,
      connect_timeout: this.#connectTimeoutSeconds,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: 'omise-webhook feed' },
      onnotify: (channel) => {
        if (channel === FEED_CHANNEL) this.#notify();
      },
      // The listening connection dropped: LISTEN again as soon as the database answers.
      onclose: () => {
        if (!this.#closed) this.#listenSoon(0);
      },
    };
    this.#sql = postgres(this.#url, options);
    this.#listenSoon(0);
  }

  #listenSoon(delayMs: number): void {
    if (this.#retry !== null || this.#closed) return;
    this.#retry = setTimeout(async () => {
      this.#retry = null;
      try {
        await this.#sql?.unsafe(`LISTEN ${FEED_CHANNEL}`);
        // Whatever was committed while nobody listened is found by the catch-up read.
        this.#notify();
      } catch {
        this.#listenSoon(this.#retryEveryMs);
      }
    }, delayMs);
    this.#retry.unref();
  }

  /** Many commits in a burst make one call (the watcher reads the feed once for all of them). */
  #notify(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      for (const listener of this.#listeners) {
        try {
          listener();
        } catch {
          // One watcher's mistake must not stop the others from hearing.
        }
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    const sql = this.#sql;
    this.#sql = null;
    await sql?.end({ timeout: 2 });
  }
}
