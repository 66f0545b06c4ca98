/**
 * The event store on PostgreSQL, for several `serve` instances on one database (team mode).
 * Every write is one transaction and resolves after its COMMIT; the database being unreachable
 * is a storage fault (503, not 2xx) that clears by itself when it is back.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { maskDatabaseUrl } from '../../../core/mask-database-url.js';
import type {
  DifferingBody,
  EventFeedPage,
  EventFeedRequest,
  EventPage,
  EventQuery,
  EventStore,
  ForwardAttempt,
  ForwardClaim,
  ForwardJob,
  NewDelivery,
  NewForwardAttempt,
  NewRejection,
  OmiseCopy,
  PruneRequest,
  PruneResult,
  RecordDeliveryOptions,
  RecordDeliveryResult,
  RejectionPage,
  StoredEvent,
  StoredRejection,
  StoreStats,
  VerificationOutcome,
} from '../../../core/ports.js';
import type { StorageHealth } from '../../../core/storage-health.js';
import { explainConnectionError, GuardedPool, openPool } from './connection.js';
import * as events from './event-records.js';
import { FeedNotifier } from './feed-notify.js';
import * as queue from './forward-queue.js';
import * as rejections from './rejections.js';
import { migrate, NewerSchemaError } from './schema.js';

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// */
  url: string;
  /** Pool bound; default 10. */
  maxConnections?: number;
  /** How long a claimed forward job is this instance's (ms); default 60_000. */
  forwardLeaseMs?: number;
  /** Who holds a lease; default `hostname:pid:random`. */
  instanceId?: string;
  /** Same meaning as the SQLite store's: at most this many refused requests are kept. */
  maxRejections?: number;
  /** ... and at most this many of their bytes. */
  maxRejectedBytes?: number;
  /** Give up connecting after this long; default 5. */
  connectTimeoutSeconds?: number;
  /** A write or read that takes longer counts as the database being unreachable; default 5_000 ms. */
  operationTimeoutMs?: number;
}

export const DEFAULT_FORWARD_LEASE_MS = 60_000;

/**
 * Opens the store and brings its schema up to date (safe when several instances start at once).
 *
 * @example
 * const store = await openPostgresStore({ url: 'postgres://app:pw@db:5432/webhooks' });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresEventStore> {
  const store = new PostgresEventStore(options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}

export class PostgresEventStore implements EventStore {
  readonly #pool: GuardedPool;
  readonly #feed: FeedNotifier;
  readonly #where: string;
  readonly #owner: string;
  readonly #leaseMs: number;
  readonly #bounds: { maxRejections: number; maxRejectedBytes: number };
  /** The latest write per event id: deliveries of one id in this process commit in call order. */
  readonly #byEventId = new Map<string, Promise<unknown>>();
  #closed = false;

  /** Use `openPostgresStore`, which also migrates. */
  constructor(options: PostgresStoreOptions) {
    this.#where = maskDatabaseUrl(options.url);
    const connectTimeoutSeconds = options.connectTimeoutSeconds ?? 5;
    this.#owner = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.#pool = new GuardedPool({
      sql: openPool({
        url: options.url,
        maxConnections: options.maxConnections ?? 10,
        connectTimeoutSeconds,
        applicationName: `omise-webhook ${this.#owner}`,
      }),
      where: this.#where,
      operationTimeoutMs: options.operationTimeoutMs ?? 5_000,
    });
    this.#feed = new FeedNotifier({ url: options.url, connectTimeoutSeconds });
    this.#leaseMs = options.forwardLeaseMs ?? DEFAULT_FORWARD_LEASE_MS;
    this.#bounds = {
      maxRejections: options.maxRejections ?? 1000,
      maxRejectedBytes: options.maxRejectedBytes ?? 64 * 1024 * 1024,
    };
  }

  /** Database lost => faulted (writes answered 503 at once), probed each second, recovered by itself. */
  get health(): StorageHealth {
    return this.#pool.health;
  }

  /** Who this instance is in `forward_jobs.lease_owner`. */
  get instanceId(): string {
    return this.#owner;
  }

  /** @internal openPostgresStore calls it. */
  async migrate(): Promise<void> {
    try {
      // Not bounded by operationTimeoutMs: a migration of a large table may take its time.
      await migrate(this.#pool.sql, this.#where);
    } catch (error) {
      if (error instanceof NewerSchemaError) throw error;
      throw new Error(`could not open the PostgreSQL store: ${explainConnectionError(error, this.#where, 5_000)}`, {
        cause: error,
      });
    }
  }

  /**
   * Calls `listener` when any instance commits a new event (many commits close together may
   * make one call), and once each time listening (re)starts, so the caller catches up with
   * `eventFeed` after the connection was lost. Returns the way to stop.
   */
  watchFeed(listener: () => void): () => void {
    return this.#feed.watch(listener);
  }

  #serial<T>(eventId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#byEventId.get(eventId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => {});
    this.#byEventId.set(eventId, settled);
    void settled.then(() => {
      if (this.#byEventId.get(eventId) === settled) this.#byEventId.delete(eventId);
    });
    return run;
  }

  async recordDelivery(delivery: NewDelivery, options: RecordDeliveryOptions = {}): Promise<RecordDeliveryResult> {
    const result = await this.#serial(delivery.eventId, () =>
      this.#pool.write(async (sql): Promise<RecordDeliveryResult> => {
        // Twice at most: the stored copy can be pruned between the conflict and the count.
        for (let round = 0; round < 2; round++) {
          const inserted = await events.insertEvent(sql, delivery);
          if (inserted) return { event: inserted.event, duplicate: false };
          const counted = await sql.begin((tx) => events.countDuplicate(tx, delivery));
          if (counted) return { event: counted.event, duplicate: true, bodyDiffers: counted.bodyDiffers };
        }
        throw new Error(`event ${delivery.eventId} was neither inserted nor found twice in a row; try again`);
      }),
    );
    // Committed: every instance can read it now.
    options.onCommitted?.(result);
    return result;
  }

  async recordRejection(rejection: NewRejection): Promise<StoredRejection> {
    return this.#pool.write((sql) => sql.begin((tx) => rejections.recordRejection(tx, rejection, this.#bounds)));
  }

  getEvent(eventId: string): Promise<StoredEvent | undefined> {
    return this.#pool.read((sql) => events.getEvent(sql, eventId));
  }

  listEvents(query: EventQuery = {}): Promise<EventPage> {
    return this.#pool.read((sql) => events.listEvents(sql, query));
  }

  eventsForObject(objectId: string): Promise<StoredEvent[]> {
    return this.#pool.read((sql) => events.eventsForObject(sql, objectId));
  }

  eventFeed(request: EventFeedRequest): Promise<EventFeedPage> {
    return this.#pool.read((sql) => events.eventFeed(sql, request));
  }

  eventFeedHead(): Promise<string | null> {
    return this.#pool.read((sql) => events.eventFeedHead(sql));
  }

  async updateVerification(eventId: string, verification: VerificationOutcome, omiseCopy?: OmiseCopy): Promise<void> {
    await this.#pool.write((sql) =>
      sql.begin(async (tx) => {
        if (await events.updateVerification(tx, eventId, verification, omiseCopy)) {
          await queue.verificationChanged(tx, eventId, verification.status);
        }
      }),
    );
  }

  pendingVerifications(limit = 100): Promise<StoredEvent[]> {
    return this.#pool.read((sql) => events.pendingVerifications(sql, limit));
  }

  listDifferingBodies(eventId: string): Promise<DifferingBody[]> {
    return this.#pool.read((sql) => events.listDifferingBodies(sql, eventId));
  }

  listRejections(options: { limit?: number; cursor?: string } = {}): Promise<RejectionPage> {
    return this.#pool.read((sql) => rejections.listRejections(sql, options));
  }

  getRejection(seq: number): Promise<StoredRejection | undefined> {
    return this.#pool.read((sql) => rejections.getRejection(sql, seq));
  }

  stats(): Promise<StoreStats> {
    return this.#pool.read((sql) => events.stats(sql));
  }

  pruneEvents(request: PruneRequest): Promise<PruneResult> {
    return this.#pool.write((sql) => sql.begin((tx) => events.pruneEvents(tx, request)));
  }

  enqueueForwards(eventId: string, targets: readonly string[], now: number): Promise<ForwardJob[]> {
    return this.#pool.write((sql) => sql.begin((tx) => queue.enqueueForwards(tx, eventId, targets, now)));
  }

  claimDueForwards(options: {
    now: number;
    maxInFlightPerTarget: number;
    targets?: readonly string[];
  }): Promise<ForwardClaim> {
    return this.#pool.write((sql) =>
      sql.begin((tx) => queue.claimDueForwards(tx, { ...options, owner: this.#owner, leaseMs: this.#leaseMs })),
    );
  }

  recordForwardAttempt(attempt: NewForwardAttempt): Promise<ForwardAttempt> {
    return this.#pool.write((sql) => sql.begin((tx) => queue.recordForwardAttempt(tx, attempt)));
  }

  listForwardAttempts(eventId: string): Promise<ForwardAttempt[]> {
    return this.#pool.read((sql) => queue.listForwardAttempts(sql, eventId));
  }

  listForwardJobs(eventId: string): Promise<ForwardJob[]> {
    return this.#pool.read((sql) => queue.listForwardJobs(sql, eventId));
  }

  listFailedForwards(options: { limit?: number } = {}): Promise<ForwardJob[]> {
    return this.#pool.read((sql) => queue.listFailedForwards(sql, options.limit));
  }

  retryFailedForward(jobId: number, now: number): Promise<ForwardJob | undefined> {
    return this.#pool.write((sql) => sql.begin((tx) => queue.retryFailedForward(tx, jobId, now)));
  }

  /** Hands this instance's claimed jobs back (no lease to wait out), then closes the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#byEventId.values()]);
    await this.#pool.read((sql) => queue.releaseLeases(sql, this.#owner)).catch(() => {});
    await this.#feed.close();
    await this.#pool.close();
  }
}
