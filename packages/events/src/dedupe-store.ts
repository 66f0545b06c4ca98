import { OmiseWebhookError } from './errors.js';

/**
 * Where {@link createOmiseWebhooks} remembers which event ids it has handled, so a redelivered event
 * is not handled twice. Omise publishes no duplicate rules, so a receiver must dedupe on `event.id`.
 *
 * The in-memory default ({@link createMemoryDedupeStore}) is per process; with several processes or
 * servers, implement this over a shared store (Redis `SET id 1 NX EX windowSec`, a unique row in
 * your database).
 *
 * @example
 * ```ts
 * // Redis (node-redis v4): SET NX is atomic, so two servers cannot both claim the same id.
 * const redisDedupeStore: DedupeStore = {
 *   claim: async (id, windowSec) =>
 *     (await redis.set(`omise:event:${id}`, '1', { NX: true, EX: windowSec })) === 'OK',
 *   release: async (id) => {
 *     await redis.del(`omise:event:${id}`);
 *   },
 * };
 * const webhooks = createOmiseWebhooks({ secret, dedupe: { store: redisDedupeStore } });
 * ```
 */
export interface DedupeStore {
  /**
   * Remember `id` for `windowSec` seconds. Return `true` if it was not remembered yet (handle the
   * event now), `false` if it was (a duplicate). Two concurrent claims of one id must not both
   * return `true`.
   */
  claim(id: string, windowSec: number): boolean | Promise<boolean>;
  /** Forget `id`: handling it failed, so a redelivery must be handled again rather than skipped. */
  release(id: string): void | Promise<void>;
}

/**
 * Options for {@link createMemoryDedupeStore}.
 *
 * @example
 * ```ts
 * const options: MemoryDedupeStoreOptions = { maxEntries: 10_000 };
 * ```
 */
export interface MemoryDedupeStoreOptions {
  /** The most ids kept; when full, the oldest is forgotten first. Default 100,000 (a few MB). */
  maxEntries?: number | undefined;
  /** The clock, in milliseconds since the epoch; default `Date.now`. Inject one in tests. */
  now?: (() => number) | undefined;
}

/** The default `maxEntries` of {@link createMemoryDedupeStore}. */
const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * A {@link DedupeStore} in this process's memory: each id is kept for its window, and the oldest
 * ids are dropped first when `maxEntries` is reached. It is the default of
 * {@link createOmiseWebhooks}; pass your own store when several processes receive webhooks.
 *
 * @example
 * ```ts
 * const store = createMemoryDedupeStore({ maxEntries: 10_000 });
 * await store.claim('evnt_test_5xyz', 3600); // true: first time
 * await store.claim('evnt_test_5xyz', 3600); // false: a duplicate within the hour
 * ```
 */
export function createMemoryDedupeStore(options: MemoryDedupeStoreOptions = {}): DedupeStore {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new OmiseWebhookError(
      'invalid_options',
      `createMemoryDedupeStore: maxEntries is ${String(options.maxEntries)}; expected a whole number of at least 1.`,
    );
  }
  const now = options.now ?? Date.now;
  // id -> expiry time (ms). A Map keeps insertion order, so the first entries are the oldest.
  const expiries = new Map<string, number>();

  const sweep = (time: number): void => {
    // Entries are mostly in expiry order (one window per receiver), so stopping at the first live
    // one keeps each claim cheap; a longer-lived entry in front only delays cleanup, not correctness.
    for (const [id, expiry] of expiries) {
      if (expiry > time) break;
      expiries.delete(id);
    }
  };

  return {
    claim(id, windowSec) {
      const time = now();
      sweep(time);
      const expiry = expiries.get(id);
      if (expiry !== undefined && expiry > time) return false;
      expiries.delete(id);
      while (expiries.size >= maxEntries) {
        const oldest = expiries.keys().next().value as string;
        expiries.delete(oldest);
      }
      expiries.set(id, time + windowSec * 1000);
      return true;
    },
    release(id) {
      expiries.delete(id);
    },
  };
}
