import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
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
} from '../../core/ports.js';
import { StorageHealth } from '../../core/storage-health.js';
import { SqliteEventLog } from './sqlite-event-log.js';
import { type FreshJob, SqliteForwardQueue } from './sqlite-forward-queue.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';
import { SqliteRejectionLog } from './sqlite-rejection-log.js';
import { applySchema, openDatabase, PRUNING_INDEXES, rewriteUserVersion } from './sqlite-schema.js';
import { SqliteTextSearch } from './sqlite-text-search.js';

export interface SqliteEventStoreOptions {
  /** A file path, or `:memory:` for tests. */
  filename: string;
  /** How many rejected requests to keep; older ones are deleted so a flood cannot fill the disk. */
  maxRejections?: number;
  /**
   * How many bytes kept rejections may hold together (default 64 MiB; see `rejectionKeptBytes`);
   * the oldest rejections are deleted to stay within it. Accepted events never count against it.
   */
  maxRejectedBytes?: number;
  /** How long writes must pause before bodies are added to the text-search index (default 250 ms). */
  textSearchIdleMs?: number;
  /**
   * Checkpoint from a worker thread every this many ms (default 200) instead of on the
   * connection that answers webhooks; 0 leaves checkpoints to SQLite on that connection.
   */
  checkpointIntervalMs?: number;
  /**
   * Past this size (default 64 MiB) the checkpointer thread starts the write-ahead log over,
   * which under sustained load it cannot do on its own (see SqliteGroupCommit); a larger log is
   * truncated back to it.
   */
  maxLogBytes?: number;
  /** Syncs the write-ahead log to disk; `fs.fdatasync` unless a test needs to hold it. */
  syncFile?: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;
  /**
   * Where a full disk or an I/O error is recorded (a new one by default). While it holds a
   * fault, writes are refused at once and the store probes every `recoveryProbeMs`.
   */
  health?: StorageHealth;
  /** While faulted, how often to try whether the store can be written again (default 1 s). */
  recoveryProbeMs?: number;
  /** Free space needed before a probe counts as recovered (default 1 MiB), so it does not flap. */
  recoveryFreeBytes?: number;
  /**
   * Events will be pruned (`--retain`, `--max-events`): makes the two indexes that find an
   * event's lookup ids and redeliveries (CREATE INDEX IF NOT EXISTS, kept from then on).
   */
  pruning?: boolean;
}

/**
 * The embedded default store: one SQLite file in WAL mode, put together from its parts: the
 * layout (`sqlite-schema.ts`), the write path that makes every write durable before it resolves
 * and group-commits them (`SqliteGroupCommit`), and the queries of each port: events
 * (`SqliteEventLog`), rejections (`SqliteRejectionLog`), forwards (`SqliteForwardQueue`), with the
 * text index (`SqliteTextSearch`). One connection and one transaction serve all of them, so a new
 * event and its forward jobs are committed together.
 */
export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  readonly #commits: SqliteGroupCommit;
  readonly #events: SqliteEventLog;
  readonly #rejections: SqliteRejectionLog;
  readonly #forwards: SqliteForwardQueue;
  readonly #textSearch: SqliteTextSearch;
  #closed = false;
  /** Whether the store can be written; shared with whoever must tell (healthz, the console). */
  readonly health: StorageHealth;

  constructor(options: SqliteEventStoreOptions) {
    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
    this.health = options.health ?? new StorageHealth({ where: `the event store (${options.filename})` });
    const opened = openDatabase(options.filename);
    const db = opened.db;
    this.#db = db;
    // NORMAL: commits do not sync; SqliteGroupCommit syncs the log itself (fdatasync), off the event loop.
    // fdatasync rather than fsync: once the log has reached its size it is rewritten in place, so
    // syncing its data needs no journal commit, and the event files written meanwhile (many new
    // inodes) do not make every acknowledgement wait for their metadata.
    // SQLite still syncs around checkpoints, so the database file stays consistent.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const maxLogBytes = options.maxLogBytes ?? 64 * 1024 * 1024;
    // After a checkpoint lets the log start over, a log grown past this is truncated back to it.
    db.pragma(`journal_size_limit = ${maxLogBytes}`);
    this.#commits = new SqliteGroupCommit({
      db,
      filename: options.filename,
      health: this.health,
      syncFile: options.syncFile,
      checkpointIntervalMs: options.checkpointIntervalMs,
      maxLogBytes,
      recoveryProbeMs: options.recoveryProbeMs,
      recoveryFreeBytes: options.recoveryFreeBytes,
      exclusive: Boolean(opened.openFault),
      beforeBatch: () => this.#textSearch.noteWrite(),
      afterHold: () => this.#textSearch.schedule(),
      restoreSchema: () => applySchema(db),
      probeWrite: () => rewriteUserVersion(db),
    });
    try {
      applySchema(db);
    } catch (error) {
      // A store that exists already opens on a full disk (its tables are there): it starts
      // degraded, answering reads and refusing writes until space is freed.
      if (!this.#commits.noteFault(error)) throw error;
    }
    this.#rejections = new SqliteRejectionLog(db, options);
    if (opened.openFault) this.#commits.noteFault(opened.openFault);
    if (options.pruning && this.health.fault === null) {
      try {
        db.exec(PRUNING_INDEXES);
      } catch (error) {
        if (!this.#commits.noteFault(error)) throw error;
      }
    }
    this.#forwards = new SqliteForwardQueue(db);
    this.#textSearch = new SqliteTextSearch(db, {
      idleMs: options.textSearchIdleMs ?? 250,
      // Indexing is background work: a full disk pauses it until the store recovers.
      onError: (error) => {
        // Anything else is retried later rather than ending the process from a timer.
        if (!this.#commits.noteFault(error)) this.#textSearch.schedule(5_000);
      },
      // Faulted, or writes held while the checkpointer thread starts the log over (afterHold).
      canWrite: () => this.health.fault === null && !this.#commits.holdingWrites,
    });
    this.health.subscribe((fault) => {
      if (fault === null) this.#textSearch.schedule();
    });
    // Opened on a full disk: say so now, not at the first refused webhook.
    if (options.filename !== ':memory:' && this.health.fault === null && !this.#commits.hasFreeSpace()) {
      this.#commits.noteFault(Object.assign(new Error('no free space left on the device'), { code: 'ENOSPC' }));
    }
    this.#events = new SqliteEventLog(db, { forwards: this.#forwards, textSearch: this.#textSearch });
  }

  /** Restarts of the log the checkpointer thread made (for tests and diagnostics). */
  get logRestarts(): number {
    return this.#commits.logRestarts;
  }

  /** Checkpoints that copied pages, made by the checkpointer thread (for tests and diagnostics). */
  get backgroundCheckpoints(): number {
    return this.#commits.backgroundCheckpoints;
  }

  recordDelivery(delivery: NewDelivery, options: RecordDeliveryOptions = {}): Promise<RecordDeliveryResult> {
    let fresh: FreshJob[] = [];
    const onCommitted = options.onCommitted;
    const committed = (result: RecordDeliveryResult) => {
      if (fresh.length > 0) {
        // Whoever is told at commit sends these at once; otherwise the next claim finds them.
        if (onCommitted) result.claimedForwards = this.#forwards.claimFresh(fresh);
        else this.#forwards.noteUnclaimed();
      }
      onCommitted?.(result);
    };
    return this.#commits.write(
      () => {
        const recorded = this.#events.record(delivery);
        fresh = recorded.fresh;
        return recorded.result;
      },
      { committed, now: onCommitted !== undefined },
    );
  }

  recordRejection(rejection: NewRejection): Promise<StoredRejection> {
    return this.#commits.write(() => this.#rejections.record(rejection));
  }

  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    return this.#events.get(eventId);
  }

  async listDifferingBodies(eventId: string): Promise<DifferingBody[]> {
    return this.#events.differingBodies(eventId);
  }

  async listEvents(query: EventQuery = {}): Promise<EventPage> {
    return this.#events.list(query);
  }

  async eventFeed(request: EventFeedRequest): Promise<EventFeedPage> {
    return this.#events.feed(request);
  }

  async eventFeedHead(): Promise<string | null> {
    return this.#events.feedHead();
  }

  pruneEvents(request: PruneRequest): Promise<PruneResult> {
    return this.#commits.write(() => this.#events.prune(request));
  }

  /** Adds every stored body to the text-search index now, instead of in the background. */
  catchUpTextSearch(): number {
    return this.#textSearch.catchUp();
  }

  async eventsForObject(objectId: string): Promise<StoredEvent[]> {
    return this.#events.forObject(objectId);
  }

  updateVerification(eventId: string, verification: VerificationOutcome, omiseCopy?: OmiseCopy): Promise<void> {
    return this.#commits.write(() => this.#events.updateVerification(eventId, verification, omiseCopy));
  }

  async pendingVerifications(limit = 100): Promise<StoredEvent[]> {
    return this.#events.pending(limit);
  }

  async listRejections(options: { limit?: number; cursor?: string } = {}): Promise<RejectionPage> {
    return this.#rejections.list(options);
  }

  async getRejection(seq: number): Promise<StoredRejection | undefined> {
    return this.#rejections.get(seq);
  }

  async stats(): Promise<StoreStats> {
    const byKey: Record<string, number> = {};
    const byVerification: Record<string, number> = {};
    let total = 0;
    for (const row of this.#events.counts()) {
      byKey[row.key] = (byKey[row.key] ?? 0) + row.n;
      byVerification[row.verification_status] = (byVerification[row.verification_status] ?? 0) + row.n;
      total += row.n;
    }
    const sortedVerification = Object.fromEntries(
      Object.entries(byVerification).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    return { total, byKey, byVerification: sortedVerification, rejected: this.#rejections.count() };
  }

  enqueueForwards(eventId: string, targets: readonly string[], now: number): Promise<ForwardJob[]> {
    return this.#commits.write(() => {
      if (!this.#events.has(eventId)) throw new Error(`no stored event has id ${eventId}`);
      const createdAt = new Date(now).toISOString();
      const jobs = this.#forwards.insertJobs({ eventId, targets, verification: 'verified', dueAt: now, createdAt });
      this.#forwards.noteUnclaimed();
      return jobs.map(({ queueSeq: _, ...job }) => job);
    });
  }

  async claimDueForwards(options: {
    now: number;
    maxInFlightPerTarget: number;
    targets?: readonly string[];
  }): Promise<ForwardClaim> {
    // Nothing is sent while attempts cannot be recorded: it would be sent again and again.
    if (this.health.fault !== null) return { jobs: [], nextDueAt: null };
    return this.#forwards.claim(options);
  }

  recordForwardAttempt(attempt: NewForwardAttempt): Promise<ForwardAttempt> {
    const written = this.#commits.write(() => this.#forwards.recordAttempt(attempt));
    // If the write fails the job must not stay claimed forever: it is sent again.
    if (attempt.jobId !== null) {
      const jobId = attempt.jobId;
      written.catch(() => this.#forwards.releaseClaim(jobId));
    }
    return written;
  }

  async listForwardAttempts(eventId: string): Promise<ForwardAttempt[]> {
    return this.#forwards.listAttempts(eventId);
  }

  async listForwardJobs(eventId: string): Promise<ForwardJob[]> {
    return this.#forwards.listJobs(eventId);
  }

  async listFailedForwards(options: { limit?: number } = {}): Promise<ForwardJob[]> {
    return this.#forwards.listFailed(options.limit);
  }

  retryFailedForward(jobId: number, now: number): Promise<ForwardJob | undefined> {
    return this.#commits.write(() => this.#forwards.requeue(jobId, now));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Writes already asked for reach the disk, and the checkpointer thread stops, before closing.
    await this.#commits.close();
    this.#textSearch.stop();
    this.#db.close();
  }
}
