/**
 * The event store on PostgreSQL, for several `serve` instances on one database (team mode).
 * Every write is one transaction and resolves after its COMMIT; the database being unreachable
 * is a storage fault (503, not 2xx) that clears by itself when it is back.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type postgres from 'postgres';
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
import { type StorageHealth, StorageUnavailableError } from '../../../core/storage-health.js';
import { explainConnectionError, GuardedPool, keepFetchedTypes, openPool, postgresFaultOf } from './connection.js';
import * as events from './event-records.js';
import { FeedNotifier } from './feed-notify.js';
import * as queue from './forward-queue.js';
import { GroupCommit, type GroupEntry } from './group-commit.js';
import * as rejections from './rejections.js';
import { migrate, NewerSchemaError, UnsupportedServerError } from './schema.js';

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
  /** Deliveries committed together at most (group commit); default 200. */
  maxGroupSize?: number;
  /** ... and at most this many body bytes together; default 4 MiB (a larger body goes alone). */
  maxGroupBytes?: number;
  /** Groups of deliveries committed at once, each on its own connection; default 1. */
  groupsInFlight?: number;
  /** @internal For tests: told the size of each group (of deliveries or of rejections) as it is sent. */
  onGroup?: (size: number, kind: 'deliveries' | 'rejections') => void;
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
  /** New deliveries, committed in groups; deliveries of one id in this process commit in call order. */
  readonly #deliveries: GroupCommit<PendingDelivery, RecordDeliveryResult>;
  /** Refused requests, committed in groups too (a flood of forged requests is one). */
  readonly #rejections: GroupCommit<NewRejection, StoredRejection>;
  readonly #onGroup: PostgresStoreOptions['onGroup'];
  #rejectionKeys = 0;
  #closed = false;
  /**
   * postgres@3.4.9 can reject a promise no caller holds when a connection closes under it
   * (seen as `write CONNECTION_CLOSED` when the database stops; porsager/postgres#1208 and
   * #1186 are of the same kind). Node would crash on it. Such a connection error faults the
   * store instead (503 and a probe, as any failed write); any other reason is thrown on, so
   * it crashes exactly as it would have without this guard. Public for its test only.
   */
  readonly strayRejection = (reason: unknown): void => {
    if (postgresFaultOf(reason)?.code !== 'database_unavailable') throw reason;
    this.#pool.noteLost(reason);
  };

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
    process.on('unhandledRejection', this.strayRejection);
    this.#leaseMs = options.forwardLeaseMs ?? DEFAULT_FORWARD_LEASE_MS;
    this.#onGroup = options.onGroup;
    this.#deliveries = new GroupCommit({
      commit: (group) => this.#commitGroup(group),
      keyOf: (pending) => pending.delivery.eventId,
      bytesOf: (pending) => pending.delivery.body.byteLength,
      maxGroupSize: Math.max(1, options.maxGroupSize ?? 200),
      maxGroupBytes: Math.max(1, options.maxGroupBytes ?? 4 * 1024 * 1024),
      maxGroupsInFlight: Math.max(1, options.groupsInFlight ?? 1),
    });
    this.#rejections = new GroupCommit({
      commit: (group) => this.#commitRejections(group),
      // Each its own key: no order to keep between them beyond the queue's.
      keyOf: () => String(this.#rejectionKeys++),
      bytesOf: (rejection) => rejection.body.byteLength,
      maxGroupSize: Math.max(1, options.maxGroupSize ?? 200),
      maxGroupBytes: Math.max(1, options.maxGroupBytes ?? 4 * 1024 * 1024),
      maxGroupsInFlight: 1,
    });
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
      // The migration's connection has fetched the array types: later connections need not.
      keepFetchedTypes(this.#pool.sql);
    } catch (error) {
      if (error instanceof NewerSchemaError || error instanceof UnsupportedServerError) throw error;
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

  /**
   * Waits for the COMMIT that holds this delivery (its group's), and calls `onCommitted` just
   * before resolving. A delivery that fails alone fails alone: see `#commitGroup`.
   */
  recordDelivery(delivery: NewDelivery, options: RecordDeliveryOptions = {}): Promise<RecordDeliveryResult> {
    const refused = this.health.unavailable();
    if (refused) return Promise.reject(refused);
    return this.#deliveries.submit({ delivery, onCommitted: options.onCommitted });
  }

  /**
   * One group of deliveries: the first delivery of each id in one multi-row insert (one round
   * trip, one commit, one notification), then the deliveries of ids that were already stored
   * or came twice, counted in call order in one transaction. Each caller is settled after the
   * commit that holds its delivery. When the insert fails for a reason other than the
   * database being gone (one delivery the database refuses), each delivery is retried by
   * itself, so only the faulty one fails; when the database is gone, every delivery not yet
   * committed gets the StorageUnavailableError.
   */
  async #commitGroup(group: GroupEntry<PendingDelivery, RecordDeliveryResult>[]): Promise<void> {
    this.#onGroup?.(group.length, 'deliveries');
    const first = new Map<string, GroupEntry<PendingDelivery, RecordDeliveryResult>>();
    for (const entry of group) if (!first.has(entry.key)) first.set(entry.key, entry);
    // Sorted by id: instances inserting the same ids take their locks in one order (no deadlock).
    const fresh = [...first.values()].sort(byKey).map((entry) => entry.item.delivery);
    let inserted: Map<string, events.InsertedEvent>;
    try {
      inserted = await this.#pool.write((sql) => events.insertEvents(sql, fresh));
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw error;
      await this.#eachAlone(group);
      return;
    }
    const counted: GroupEntry<PendingDelivery, RecordDeliveryResult>[] = [];
    for (const entry of group) {
      const stored = first.get(entry.key) === entry ? inserted.get(entry.key) : undefined;
      if (stored) settle(entry, { event: stored.event, duplicate: false });
      else counted.push(entry);
    }
    if (counted.length === 0) return;
    // Stable: one id's deliveries stay in call order; ids in one order across instances.
    counted.sort(byKey);
    let results: Array<{ event: StoredEvent; bodyDiffers: boolean } | null>;
    try {
      results = await this.#pool.write((sql) =>
        sql.begin(async (tx) => {
          const out: Array<{ event: StoredEvent; bodyDiffers: boolean } | null> = [];
          for (const entry of counted) out.push(await events.countDuplicate(tx, entry.item.delivery));
          return out;
        }),
      );
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw error;
      await this.#eachAlone(counted);
      return;
    }
    const gone: GroupEntry<PendingDelivery, RecordDeliveryResult>[] = [];
    counted.forEach((entry, i) => {
      const result = results[i];
      if (result) settle(entry, { event: result.event, duplicate: true, bodyDiffers: result.bodyDiffers });
      // Pruned between the conflict and the count: the single path inserts it again.
      else gone.push(entry);
    });
    if (gone.length > 0) await this.#eachAlone(gone);
  }

  /** Each delivery in its own round trip, in order: one that fails does not fail the others. */
  async #eachAlone(entries: GroupEntry<PendingDelivery, RecordDeliveryResult>[]): Promise<void> {
    for (const entry of entries) {
      try {
        settle(entry, await this.#pool.write((sql) => recordOne(sql, entry.item.delivery)));
      } catch (error) {
        entry.reject(error);
      }
    }
  }

  recordRejection(rejection: NewRejection): Promise<StoredRejection> {
    const refused = this.health.unavailable();
    if (refused) return Promise.reject(refused);
    return this.#rejections.submit(rejection);
  }

  /** One transaction for the group; when it is refused (not the database gone), each alone. */
  async #commitRejections(group: GroupEntry<NewRejection, StoredRejection>[]): Promise<void> {
    this.#onGroup?.(group.length, 'rejections');
    const items = group.map((entry) => entry.item);
    let stored: StoredRejection[];
    try {
      stored = await this.#pool.write((sql) => sql.begin((tx) => rejections.recordRejections(tx, items, this.#bounds)));
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw error;
      for (const entry of group) {
        try {
          entry.resolve(
            await this.#pool.write((sql) =>
              sql.begin((tx) => rejections.recordRejection(tx, entry.item, this.#bounds)),
            ),
          );
        } catch (alone) {
          entry.reject(alone);
        }
      }
      return;
    }
    for (const [i, entry] of group.entries()) entry.resolve(stored[i] as StoredRejection);
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
    await Promise.all([this.#deliveries.idle(), this.#rejections.idle()]);
    await this.#pool.read((sql) => queue.releaseLeases(sql, this.#owner)).catch(() => {});
    await this.#feed.close();
    await this.#pool.close();
    process.off('unhandledRejection', this.strayRejection);
  }
}

interface PendingDelivery {
  delivery: NewDelivery;
  onCommitted: RecordDeliveryOptions['onCommitted'];
}

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Committed: every instance can read it now. `onCommitted` first, then the caller; a throwing
 * `onCommitted` fails its own caller's write, as a single write would, and no other.
 */
function settle(entry: GroupEntry<PendingDelivery, RecordDeliveryResult>, result: RecordDeliveryResult): void {
  try {
    entry.item.onCommitted?.(result);
  } catch (error) {
    entry.reject(error);
    return;
  }
  entry.resolve(result);
}

/** One delivery by itself: inserted, or counted as another delivery of the stored id. */
async function recordOne(sql: postgres.Sql, delivery: NewDelivery): Promise<RecordDeliveryResult> {
  // Twice at most: the stored copy can be pruned between the conflict and the count.
  for (let round = 0; round < 2; round++) {
    const inserted = await events.insertEvent(sql, delivery);
    if (inserted) return { event: inserted.event, duplicate: false };
    const counted = await sql.begin((tx) => events.countDuplicate(tx, delivery));
    if (counted) return { event: counted.event, duplicate: true, bodyDiffers: counted.bodyDiffers };
  }
  throw new Error(`event ${delivery.eventId} was neither inserted nor found twice in a row; try again`);
}
