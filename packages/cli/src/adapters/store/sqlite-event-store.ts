import { closeSync, fdatasync, fstatSync, mkdirSync, openSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { looksLikeOmiseId } from '../../core/event-lookup-fields.js';
import type {
  DifferingBody,
  EventFeedPage,
  EventFeedRequest,
  EventOrigin,
  EventPage,
  EventQuery,
  EventStore,
  ForwardAttempt,
  ForwardClaim,
  ForwardJob,
  HeaderList,
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
  VerificationMode,
  VerificationOutcome,
  VerificationReasonCode,
  VerificationStatus,
} from '../../core/ports.js';
import { StorageHealth, type StorageUnavailableError, storageFaultCodeOf } from '../../core/storage-health.js';
import { comparableOrigins, keepBody, keptRejection, MAX_DIFFERING_BODIES, rejectionKeptBytes } from './kept-body.js';
import { firstDeliveryFields, keyPatternToSql, normaliseLimit, parseCursor, parseFeedSeq } from './query-helpers.js';
import { type FreshJob, SqliteForwardQueue } from './sqlite-forward-queue.js';
import { SqliteTextSearch, trigramMatchQuery } from './sqlite-text-search.js';

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
   * Past this size (default 64 MiB) the write-ahead log is checkpointed on the main connection
   * too, so that it can start over under sustained load (see #checkLogSize); a larger log is
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  key TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT,
  created_at TEXT,
  received_at TEXT NOT NULL,
  last_received_at TEXT NOT NULL,
  delivery_count INTEGER NOT NULL DEFAULT 1,
  body BLOB NOT NULL,
  headers TEXT NOT NULL,
  verification_mode TEXT NOT NULL,
  verification_status TEXT NOT NULL,
  verification_reason TEXT NOT NULL,
  verification_code TEXT,
  api_attempts INTEGER,
  omise_copy TEXT,
  origin TEXT NOT NULL,
  differing_deliveries INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_by_key ON events (key, seq);
CREATE INDEX IF NOT EXISTS events_by_object_type ON events (object_type, seq);
CREATE INDEX IF NOT EXISTS events_by_verification ON events (verification_status, seq);
-- Newest-first listing with several filters (or a key range) scans this narrow index instead
-- of the rows, whose bodies make a full scan of 100,000 events take half a second.
CREATE INDEX IF NOT EXISTS events_for_listing ON events (seq, key, object_type, verification_status);
-- Counts per key and verification outcome, kept with every write, so stats() reads a few rows
-- instead of counting 100,000 events (rebuilt from the events on every open).
CREATE TABLE IF NOT EXISTS event_counts (
  key TEXT NOT NULL,
  verification_status TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (key, verification_status)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_omise_ids (
  omise_id TEXT NOT NULL,
  event_seq INTEGER NOT NULL,
  PRIMARY KEY (omise_id, event_seq)
) WITHOUT ROWID;
-- Every copy after the first (the first copy's headers and time are in events).
CREATE TABLE IF NOT EXISTS redeliveries (
  seq INTEGER PRIMARY KEY,
  event_seq INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  headers TEXT NOT NULL,
  same_body INTEGER NOT NULL,
  origin TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
  seq INTEGER PRIMARY KEY,
  received_at TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  remote_address TEXT,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  body_size INTEGER NOT NULL,
  status INTEGER NOT NULL,
  code TEXT NOT NULL,
  reason TEXT NOT NULL,
  hint TEXT,
  event_id TEXT,
  body_truncated INTEGER NOT NULL DEFAULT 0,
  body_sha256 TEXT,
  -- What the row counts against --max-rejected-bytes (see rejectionKeptBytes).
  kept_bytes INTEGER NOT NULL DEFAULT 0
);
-- The number and bytes of kept rejections, kept with every write so that pruning to the
-- bounds costs a few rows per refused request, never a SUM over the table.
CREATE TABLE IF NOT EXISTS rejection_totals (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  n INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
-- Bodies of later copies that differed from the first copy's (at most a few per event).
CREATE TABLE IF NOT EXISTS differing_bodies (
  seq INTEGER PRIMARY KEY,
  event_seq INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  truncated INTEGER NOT NULL,
  headers TEXT NOT NULL,
  origin TEXT NOT NULL,
  first_received_at TEXT NOT NULL,
  last_received_at TEXT NOT NULL,
  deliveries INTEGER NOT NULL,
  excerpt BLOB NOT NULL,
  UNIQUE (event_seq, sha256)
);
`;

/**
 * Only for stores that prune: without them removing an event's lookup ids and redeliveries
 * scans those tables. Not in SCHEMA, so a store that never prunes pays nothing per insert.
 */
const PRUNING_INDEXES = `
CREATE INDEX IF NOT EXISTS event_omise_ids_by_event ON event_omise_ids (event_seq);
CREATE INDEX IF NOT EXISTS redeliveries_by_event ON redeliveries (event_seq);
`;

/** The layout this code writes; see #upgrade for what each version changed. */
const STORE_VERSION = 3;

interface EventRow {
  seq: number;
  event_id: string;
  key: string;
  livemode: number;
  object_type: string;
  object_id: string | null;
  created_at: string | null;
  received_at: string;
  last_received_at: string;
  delivery_count: number;
  body: Buffer;
  headers: string;
  verification_mode: string;
  verification_status: string;
  verification_reason: string;
  verification_code: string | null;
  api_attempts: number | null;
  omise_copy: string | null;
  origin: string;
  differing_deliveries: number;
}

interface DifferingBodyRow {
  sha256: string;
  size: number;
  truncated: number;
  headers: string;
  origin: string;
  first_received_at: string;
  last_received_at: string;
  deliveries: number;
  excerpt: Buffer;
}

interface RejectionRow {
  seq: number;
  received_at: string;
  method: string;
  path: string;
  remote_address: string | null;
  headers: string;
  body: Buffer;
  body_size: number;
  status: number;
  code: string;
  reason: string;
  hint: string | null;
  event_id: string | null;
  body_truncated: number;
  body_sha256: string | null;
}

function toStoredEvent(row: EventRow): StoredEvent {
  const verification: VerificationOutcome = {
    mode: row.verification_mode as VerificationMode,
    status: row.verification_status as VerificationStatus,
    reason: row.verification_reason,
  };
  if (row.verification_code !== null) verification.reasonCode = row.verification_code as VerificationReasonCode;
  if (row.api_attempts !== null) verification.apiAttempts = row.api_attempts;
  return {
    seq: row.seq,
    eventId: row.event_id,
    key: row.key,
    livemode: row.livemode === 1,
    objectType: row.object_type,
    objectId: row.object_id,
    createdAt: row.created_at,
    receivedAt: row.received_at,
    lastReceivedAt: row.last_received_at,
    deliveryCount: row.delivery_count,
    body: row.body,
    headers: JSON.parse(row.headers) as HeaderList,
    verification,
    omiseCopy: row.omise_copy === null ? null : (JSON.parse(row.omise_copy) as OmiseCopy),
    origin: row.origin as EventOrigin,
    differingDeliveries: row.differing_deliveries,
  };
}

function toDifferingBody(row: DifferingBodyRow): DifferingBody {
  return {
    sha256: row.sha256,
    size: row.size,
    excerpt: row.excerpt,
    truncated: row.truncated === 1,
    headers: JSON.parse(row.headers) as HeaderList,
    origin: row.origin as EventOrigin,
    firstReceivedAt: row.first_received_at,
    lastReceivedAt: row.last_received_at,
    deliveries: row.deliveries,
  };
}

function toStoredRejection(row: RejectionRow): StoredRejection {
  return {
    seq: row.seq,
    receivedAt: row.received_at,
    method: row.method,
    path: row.path,
    remoteAddress: row.remote_address,
    headers: JSON.parse(row.headers) as HeaderList,
    body: row.body,
    bodySize: row.body_size,
    status: row.status,
    code: row.code,
    reason: row.reason,
    hint: row.hint,
    eventId: row.event_id,
    bodyTruncated: row.body_truncated === 1,
    bodySha256: row.body_sha256,
  };
}

interface ListingFilter {
  where: string[];
  params: unknown[];
  /** An `INDEXED BY` clause, or empty to let SQLite choose. */
  indexedBy: string;
}

function whereClause(conditions: string[]): string {
  return conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
}

/**
 * The conditions of a listing query and the index that answers them newest first without a
 * sort: a single equality uses its own (column, seq) index; a key range or several filters
 * scan the narrow `events_for_listing` index (a sort over 70,000 matching rows took 200 ms).
 */
function listingFilter(query: EventQuery): ListingFilter {
  const where: string[] = [];
  const params: unknown[] = [];
  const equalities: string[] = [];
  let ranges = 0;
  const before = parseCursor(query.cursor);
  if (before !== null) {
    where.push('seq < ?');
    params.push(before);
  }
  if (query.key) {
    const keyFilter = keyPatternToSql(query.key);
    if (keyFilter) {
      where.push(keyFilter.sql);
      params.push(...keyFilter.params);
      if (keyFilter.exactKey) equalities.push('events_by_key');
      else ranges += 1;
    }
  }
  if (query.objectType) {
    where.push('object_type = ?');
    params.push(query.objectType);
    equalities.push('events_by_object_type');
  }
  if (query.verification) {
    where.push('verification_status = ?');
    params.push(query.verification);
    equalities.push('events_by_verification');
  }
  const q = query.q?.trim();
  if (q && looksLikeOmiseId(q)) {
    where.push('(event_id = ? OR seq IN (SELECT event_seq FROM event_omise_ids WHERE omise_id = ?))');
    params.push(q, q);
    // The id lookup is the most selective condition: SQLite picks its indexes itself.
    return { where, params, indexedBy: '' };
  }
  let indexedBy = '';
  if (equalities.length === 1 && ranges === 0) indexedBy = `INDEXED BY ${equalities[0]}`;
  else if (equalities.length + ranges > 0) indexedBy = 'INDEXED BY events_for_listing';
  return { where, params, indexedBy };
}

/**
 * Opens the file in WAL mode. WAL needs a small shared-memory file beside the database
 * (`-shm`), which SQLite removes at a clean close; on a full disk it cannot be made again and
 * every read fails (SQLITE_IOERR_SHMSIZE). Then the connection is opened in exclusive locking
 * mode, which keeps that index in memory: the store starts degraded (reads work, writes wait
 * for space) and other processes (`events` commands) cannot open the file until `serve` restarts.
 */
function openDatabase(filename: string): { db: Database.Database; openFault: unknown } {
  const db = new Database(filename);
  try {
    db.pragma('journal_mode = WAL');
    return { db, openFault: null };
  } catch (error) {
    const fault = storageFaultCodeOf(error);
    if (fault === null || filename === ':memory:') throw error;
    db.close();
    const exclusive = new Database(filename);
    exclusive.pragma('locking_mode = EXCLUSIVE');
    exclusive.pragma('journal_mode = WAL');
    return { db: exclusive, openFault: error };
  }
}

/** A commit hook's own failure is its caller's to handle: it never affects the write. */
function announceCommitted(write: QueuedWrite, value: unknown): void {
  try {
    write.committed?.(value);
  } catch {}
}

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Called with the value once the write is committed, before it is on disk. */
  committed?: ((value: unknown) => void) | undefined;
}

/**
 * The embedded default store: one SQLite file in WAL mode. A write's promise resolves only
 * once the write-ahead log holding it has been synced to disk, so an acknowledged event survives a
 * crash of the process or of the machine.
 *
 * Writes are group-committed: every write requested during one turn of the event loop
 * shares one transaction, and while a sync runs, writes wait and share one transaction when it
 * returns (so under load there is one commit per sync). The commit itself does not wait for the disk
 * (`synchronous=NORMAL`); instead the log file is synced with fdatasync (what SQLite itself uses
 * on Linux: the data and the size, not the timestamps) on libuv's thread pool and the
 * batch's promises resolve when that returns. So the event loop never blocks on the disk,
 * and the next batch commits while the previous one is being synced. One sync runs at a time
 * and covers every write committed before it started (see #afterDurable), so under load many
 * webhooks share one sync. If one write in a batch fails, each is redone in its own
 * transaction so only the failing one is refused.
 */
export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  readonly #maxRejections: number;
  readonly #maxRejectedBytes: number;
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;
  #closed = false;
  readonly #walPath: string | null;
  #walFd: number | null = null;
  readonly #syncFile: NonNullable<SqliteEventStoreOptions['syncFile']>;
  #syncing = false;
  #waitingForSync: Array<(error: Error | null) => void> = [];
  #syncIdleWaiters: Array<() => void> = [];
  /** A log sync failed: a probe must checkpoint the log into the database file before writes resume. */
  #syncFailed = false;
  readonly #statements;
  readonly #forwards: SqliteForwardQueue;
  readonly #textSearch: SqliteTextSearch;
  #checkpointer: Worker | null = null;
  #commits = 0;
  readonly #maxLogBytes: number;
  #backgroundCheckpoints = 0;
  #fallbackCheckpoints = 0;
  /** The log file's size at the last fallback checkpoint (see #checkLogSize). */
  #logSizeAtFallback = 0;
  /** The checkpointer thread starts after this many commits: a store written a few times never needs it. */
  #checkpointerPlan: { filename: string; intervalMs: number; afterCommits: number } | null = null;
  /** Whether the store can be written; shared with whoever must tell (healthz, the console). */
  readonly health: StorageHealth;
  readonly #directory: string | null;
  readonly #recoveryProbeMs: number;
  readonly #recoveryFreeBytes: number;
  #probeTimer: NodeJS.Timeout | null = null;

  constructor(options: SqliteEventStoreOptions) {
    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
    this.health = options.health ?? new StorageHealth({ where: `the event store (${options.filename})` });
    this.#directory = options.filename === ':memory:' ? null : dirname(options.filename);
    this.#recoveryProbeMs = options.recoveryProbeMs ?? 1_000;
    this.#recoveryFreeBytes = options.recoveryFreeBytes ?? 1024 * 1024;
    const opened = openDatabase(options.filename);
    this.#db = opened.db;
    // NORMAL: commits do not sync; #flush syncs the log itself (fdatasync), off the event loop.
    // fdatasync rather than fsync: once the log has reached its size it is rewritten in place, so
    // syncing its data needs no journal commit, and the event files written meanwhile (many new
    // inodes) do not make every acknowledgement wait for their metadata.
    // SQLite still syncs around checkpoints, so the database file stays consistent.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#maxLogBytes = options.maxLogBytes ?? 64 * 1024 * 1024;
    // After a checkpoint lets the log start over, a log grown past this is truncated back to it.
    this.#db.pragma(`journal_size_limit = ${this.#maxLogBytes}`);
    try {
      this.#db.exec(SCHEMA);
      this.#upgrade();
    } catch (error) {
      // A store that exists already opens on a full disk (its tables are there): it starts
      // degraded, answering reads and refusing writes until space is freed.
      if (!this.#noteFault(error)) throw error;
    }
    this.#maxRejections = options.maxRejections ?? 1000;
    this.#maxRejectedBytes = options.maxRejectedBytes ?? 64 * 1024 * 1024;
    this.#syncFile = options.syncFile ?? fdatasync;
    this.#walPath = options.filename === ':memory:' ? null : `${options.filename}-wal`;
    const checkpointIntervalMs = options.checkpointIntervalMs ?? 200;
    if (opened.openFault) this.#noteFault(opened.openFault);
    if (options.pruning && this.health.fault === null) {
      try {
        this.#db.exec(PRUNING_INDEXES);
      } catch (error) {
        if (!this.#noteFault(error)) throw error;
      }
    }
    // An exclusive connection is the only one: no checkpointer thread beside it.
    if (options.filename !== ':memory:' && checkpointIntervalMs > 0 && !opened.openFault) {
      this.#checkpointerPlan = { filename: options.filename, intervalMs: checkpointIntervalMs, afterCommits: 50 };
    }
    this.#forwards = new SqliteForwardQueue(this.#db);
    this.#textSearch = new SqliteTextSearch(this.#db, {
      idleMs: options.textSearchIdleMs ?? 250,
      // Indexing is background work: a full disk pauses it until the store recovers.
      onError: (error) => {
        // Anything else is retried later rather than ending the process from a timer.
        if (!this.#noteFault(error)) this.#textSearch.schedule(5_000);
      },
      canWrite: () => this.health.fault === null,
    });
    this.health.subscribe((fault) => {
      if (fault === null) this.#textSearch.schedule();
    });
    // Opened on a full disk: say so now, not at the first refused webhook.
    if (this.#directory !== null && this.health.fault === null && !this.#hasFreeSpace()) {
      this.#noteFault(Object.assign(new Error('no free space left on the device'), { code: 'ENOSPC' }));
    }
    const db = this.#db;
    this.#statements = {
      eventById: db.prepare<[string], EventRow>('SELECT * FROM events WHERE event_id = ?'),
      countEvents: db.prepare<[], { n: number | null }>('SELECT SUM(n) AS n FROM event_counts'),
      nthOldestSeq: db.prepare<[number], { seq: number }>(
        'SELECT seq FROM events INDEXED BY events_for_listing ORDER BY seq ASC LIMIT 1 OFFSET ?',
      ),
      oldestEvents: db.prepare<
        [number, number],
        { seq: number; event_id: string; key: string; verification_status: string; received_at: string }
      >(
        'SELECT seq, event_id, key, verification_status, received_at FROM events WHERE seq > ? ORDER BY seq ASC LIMIT ?',
      ),
      unfinishedForward: db.prepare(
        "SELECT 1 FROM forward_jobs WHERE event_id = ? AND state IN ('held', 'pending') LIMIT 1",
      ),
      bodyOf: db.prepare<[number], { body: Buffer }>('SELECT body FROM events WHERE seq = ?'),
      // A contentless index forgets a row only when told the text it indexed.
      unindexText: db.prepare("INSERT INTO events_text (events_text, rowid, body) VALUES ('delete', ?, ?)"),
      deleteOmiseIds: db.prepare('DELETE FROM event_omise_ids WHERE event_seq = ?'),
      deleteRedeliveries: db.prepare('DELETE FROM redeliveries WHERE event_seq = ?'),
      deleteDifferingBodies: db.prepare('DELETE FROM differing_bodies WHERE event_seq = ?'),
      deleteForwardAttempts: db.prepare('DELETE FROM forward_attempts WHERE event_id = ?'),
      deleteForwardJobs: db.prepare('DELETE FROM forward_jobs WHERE event_id = ?'),
      deleteEvent: db.prepare('DELETE FROM events WHERE seq = ?'),
      // The recovery probe's write: changes nothing, but needs a page of the log.
      touch: db.prepare('UPDATE events_text_state SET indexed_through = indexed_through WHERE id = 1'),
      // Positional parameters: binding an object of 15 named values cost about 3 µs more per webhook.
      insertEvent: db.prepare<
        [
          eventId: string,
          key: string,
          livemode: number,
          objectType: string,
          objectId: string | null,
          createdAt: string | null,
          receivedAt: string,
          lastReceivedAt: string,
          body: Buffer,
          headers: string,
          verificationMode: string,
          verificationStatus: string,
          verificationReason: string,
          verificationCode: string | null,
          apiAttempts: number | null,
          omiseCopy: string | null,
          origin: string,
        ]
      >(
        `INSERT INTO events (event_id, key, livemode, object_type, object_id, created_at, received_at, last_received_at,
           delivery_count, body, headers, verification_mode, verification_status, verification_reason, verification_code, api_attempts, omise_copy, origin)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (event_id) DO NOTHING`,
      ),
      countDelivery: db.prepare(
        'UPDATE events SET delivery_count = delivery_count + 1, last_received_at = ? WHERE seq = ?',
      ),
      insertRedelivery: db.prepare(
        'INSERT INTO redeliveries (event_seq, received_at, headers, same_body, origin) VALUES (?, ?, ?, ?, ?)',
      ),
      countDifferingDelivery: db.prepare(
        'UPDATE events SET differing_deliveries = differing_deliveries + 1 WHERE seq = ?',
      ),
      bumpDifferingBody: db.prepare(
        `UPDATE differing_bodies SET deliveries = deliveries + 1, last_received_at = ?
           WHERE event_seq = ? AND sha256 = ?`,
      ),
      differingBodyCount: db.prepare<[number], { n: number }>(
        'SELECT COUNT(*) AS n FROM differing_bodies WHERE event_seq = ?',
      ),
      insertDifferingBody: db.prepare(
        `INSERT INTO differing_bodies (event_seq, sha256, size, truncated, headers, origin, first_received_at,
           last_received_at, deliveries, excerpt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
      ),
      differingBodies: db.prepare<[string], DifferingBodyRow>(
        `SELECT d.* FROM differing_bodies d JOIN events e ON e.seq = d.event_seq
           WHERE e.event_id = ? ORDER BY d.seq`,
      ),
      insertOmiseId: db.prepare('INSERT OR IGNORE INTO event_omise_ids (omise_id, event_seq) VALUES (?, ?)'),
      insertRejection: db.prepare(
        `INSERT INTO rejections (received_at, method, path, remote_address, headers, body, body_size, status, code,
           reason, hint, event_id, body_truncated, body_sha256, kept_bytes)
         VALUES (@receivedAt, @method, @path, @remoteAddress, @headers, @body, @bodySize, @status, @code, @reason,
           @hint, @eventId, @bodyTruncated, @bodySha256, @keptBytes)`,
      ),
      addToRejectionTotals: db.prepare<[number, number], { n: number; bytes: number }>(
        'UPDATE rejection_totals SET n = n + ?, bytes = bytes + ? WHERE id = 1 RETURNING n, bytes',
      ),
      deleteOldestRejection: db.prepare<[], { kept_bytes: number }>(
        'DELETE FROM rejections WHERE seq = (SELECT MIN(seq) FROM rejections) RETURNING kept_bytes',
      ),
      rejectionBySeq: db.prepare<[number], RejectionRow>('SELECT * FROM rejections WHERE seq = ?'),
      countEvent: db.prepare(
        `INSERT INTO event_counts (key, verification_status, n) VALUES (?, ?, ?)
           ON CONFLICT (key, verification_status) DO UPDATE SET n = n + excluded.n`,
      ),
      verificationOf: db.prepare<[string], { key: string; verification_status: string }>(
        'SELECT key, verification_status FROM events WHERE event_id = ?',
      ),
      counts: db.prepare<[], { key: string; verification_status: string; n: number }>(
        'SELECT key, verification_status, n FROM event_counts WHERE n > 0 ORDER BY key, verification_status',
      ),
      countRejections: db.prepare<[], { n: number }>('SELECT n FROM rejection_totals WHERE id = 1'),
      updateVerification: db.prepare(
        `UPDATE events SET verification_mode = ?, verification_status = ?, verification_reason = ?, verification_code = ?, api_attempts = ?,
           omise_copy = COALESCE(?, omise_copy) WHERE event_id = ?`,
      ),
      pending: db.prepare<[number], EventRow>(
        "SELECT * FROM events WHERE verification_status = 'pending' ORDER BY seq ASC LIMIT ?",
      ),
      eventsForObject: db.prepare<[string, string], EventRow>(
        `SELECT * FROM events WHERE seq IN (SELECT event_seq FROM event_omise_ids WHERE omise_id = ?)
           OR event_id = ? ORDER BY seq ASC`,
      ),
    };
  }

  /**
   * Brings a file written by an earlier version up to date, once: `user_version` records that it
   * was done, so opening a store (as `events list` does beside a running `serve`) does not rebuild
   * anything under the write lock, which at 100,000 events held it for about 350 ms.
   * Version 1: the counts behind stats(), kept with every write from then on; and every copy after
   * the first moved from the old `deliveries` table (which also had the first) to `redeliveries`.
   * Version 2: rejections keep only the first 64 KiB of their body with its size and hash, and
   * their number and bytes are kept in `rejection_totals`; events count their later copies whose
   * body differed (`differing_deliveries`; those copies' bodies were not kept before).
   * Version 3: an unverified event says why as a code (`verification_code`), read before from its
   * sentence, which is how the stored rows are given theirs.
   */
  #upgrade(): void {
    const db = this.#db;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version >= STORE_VERSION) return;
    db.transaction(() => {
      if (version < 1) {
        if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'").get()) {
          db.exec(`INSERT INTO redeliveries (event_seq, received_at, headers, same_body, origin)
              SELECT event_seq, received_at, headers, same_body, origin FROM deliveries
              WHERE seq NOT IN (SELECT MIN(seq) FROM deliveries GROUP BY event_seq) ORDER BY seq;
            DROP TABLE deliveries;`);
        }
        db.exec(`DELETE FROM event_counts;
          INSERT INTO event_counts (key, verification_status, n)
            SELECT key, verification_status, COUNT(*) FROM events GROUP BY key, verification_status;`);
      }
      if (version < 2) this.#upgradeToVersion2();
      if (version < 3) this.#upgradeToVersion3();
      db.pragma(`user_version = ${STORE_VERSION}`);
    })();
  }

  #upgradeToVersion3(): void {
    const db = this.#db;
    const eventColumns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('events')").all();
    // A new file already has the column (SCHEMA); an older file gets it here.
    if (!eventColumns.some((column) => column.name === 'verification_code')) {
      db.exec('ALTER TABLE events ADD COLUMN verification_code TEXT');
    }
    // Until version 3 the only way to tell the two apart was the sentence ingest wrote.
    db.exec(`UPDATE events SET verification_code = CASE
        WHEN instr(verification_reason, '--verify none') > 0 THEN 'verification_off' ELSE 'nothing_to_verify_with' END
      WHERE verification_status = 'unverified' AND verification_code IS NULL`);
  }

  #upgradeToVersion2(): void {
    const db = this.#db;
    const columns = (table: string) =>
      new Set(
        db
          .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
          .all()
          .map((c) => c.name),
      );
    // A new file already has the columns (SCHEMA); a file of version 1 gets them here.
    const eventColumns = columns('events');
    if (!eventColumns.has('differing_deliveries')) {
      db.exec('ALTER TABLE events ADD COLUMN differing_deliveries INTEGER NOT NULL DEFAULT 0');
    }
    const rejectionColumns = columns('rejections');
    for (const [name, type] of [
      ['body_truncated', 'INTEGER NOT NULL DEFAULT 0'],
      ['body_sha256', 'TEXT'],
      ['kept_bytes', 'INTEGER NOT NULL DEFAULT 0'],
    ] as const) {
      if (!rejectionColumns.has(name)) db.exec(`ALTER TABLE rejections ADD COLUMN ${name} ${type}`);
    }
    // Copies whose body differed were only marked in redeliveries; count them so the event says so.
    db.exec(`UPDATE events SET differing_deliveries = (
        SELECT COUNT(*) FROM redeliveries r WHERE r.event_seq = events.seq AND r.same_body = 0 AND r.origin <> 'sync')
      WHERE origin <> 'sync'
        AND EXISTS (SELECT 1 FROM redeliveries r WHERE r.event_seq = events.seq AND r.same_body = 0 AND r.origin <> 'sync')`);
    // Kept rejections shrink to the new cut, one at a time (a file of 1,000 of them can hold 1 GB).
    const seqs = db.prepare<[], { seq: number }>('SELECT seq FROM rejections ORDER BY seq').all();
    const read = db.prepare<[number], RejectionRow>('SELECT * FROM rejections WHERE seq = ?');
    const update = db.prepare(
      'UPDATE rejections SET body = ?, body_truncated = ?, body_sha256 = ?, kept_bytes = ? WHERE seq = ?',
    );
    for (const { seq } of seqs) {
      const row = read.get(seq) as RejectionRow;
      const kept = keepBody(row.body);
      update.run(
        kept.excerpt,
        kept.truncated ? 1 : 0,
        row.body.byteLength === 0 && row.body_size > 0 ? null : kept.sha256,
        rejectionKeptBytes({
          excerptBytes: kept.excerpt.byteLength,
          headersJson: row.headers,
          path: row.path,
          reason: row.reason,
          hint: row.hint,
        }),
        seq,
      );
    }
    db.exec(`INSERT OR REPLACE INTO rejection_totals (id, n, bytes)
      SELECT 1, COUNT(*), COALESCE(SUM(kept_bytes), 0) FROM rejections`);
  }

  /**
   * Moves checkpoints (copying the log into the database file, then syncing it: tens of ms
   * here) off this connection, whose event loop answers webhooks: SQLite would otherwise run
   * one inside every thousandth page's commit and stall everything behind it. If the thread
   * cannot run, this connection checkpoints again as usual.
   */
  #startCheckpointer(filename: string, intervalMs: number): void {
    const worker = new Worker(new URL('./wal-checkpointer.worker.mjs', import.meta.url), {
      workerData: { filename, intervalMs },
    });
    worker.unref();
    this.#db.pragma('wal_autocheckpoint = 0');
    const fallBack = () => {
      if (this.#checkpointer !== worker) return;
      this.#checkpointer = null;
      if (!this.#closed) this.#db.pragma('wal_autocheckpoint = 1000');
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
    worker.on('message', (message: { copied?: number }) => {
      if (message.copied) this.#backgroundCheckpoints += 1;
    });
    this.#checkpointer = worker;
  }

  /** Checkpoints this connection made because the log passed `maxLogBytes` (for tests and diagnostics). */
  get fallbackCheckpoints(): number {
    return this.#fallbackCheckpoints;
  }

  /** Checkpoints that copied pages, made by the checkpointer thread (for tests and diagnostics). */
  get backgroundCheckpoints(): number {
    return this.#backgroundCheckpoints;
  }

  /**
   * Records a storage fault (full disk, I/O error, read-only file) and starts probing for
   * recovery; returns the error to refuse writes with, or null when `error` is not one.
   */
  #noteFault(error: unknown): StorageUnavailableError | null {
    const refused = this.health.fail(error);
    if (refused) this.#scheduleProbe();
    return refused;
  }

  /** Whether the store's file system has `recoveryFreeBytes` free (true where it cannot tell). */
  #hasFreeSpace(): boolean {
    if (this.#directory === null || this.#recoveryFreeBytes <= 0) return true;
    try {
      const fs = statfsSync(this.#directory);
      return fs.bavail * fs.bsize >= this.#recoveryFreeBytes;
    } catch {
      return true;
    }
  }

  #scheduleProbe(): void {
    if (this.#probeTimer !== null || this.#closed) return;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      if (this.#closed) return;
      void this.#probe().then((recovered) => {
        if (this.#closed) return;
        if (recovered) this.health.recover();
        else this.#scheduleProbe();
      });
    }, this.#recoveryProbeMs);
    this.#probeTimer.unref();
  }

  /**
   * Whether the store can be written again: enough free space, the schema in place, the log
   * copied into the database file when a sync failed (the kernel may have dropped what it
   * held), and a small write synced to disk.
   */
  async #probe(): Promise<boolean> {
    try {
      if (!this.#hasFreeSpace()) return false;
      this.#db.exec(SCHEMA);
      this.#upgrade();
      if (this.#syncFailed && this.#walPath !== null) {
        const [result] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
        if (result && result.busy !== 0) return false;
      }
      this.#db.transaction(() => this.#statements.touch.run())();
      if (this.#walPath !== null) {
        this.#walFd ??= openSync(this.#walPath, 'r');
        const fd = this.#walFd;
        await new Promise<void>((resolve, reject) =>
          this.#syncFile(fd, (error) => (error ? reject(error) : resolve())),
        );
      }
      this.#syncFailed = false;
      return true;
    } catch {
      return false;
    }
  }

  #countCommit(): void {
    this.#commits += 1;
    // An fstat (a few µs) every 8th commit: the log cannot grow far past the limit in between.
    if (this.#checkpointer !== null && this.#commits % 8 === 0) this.#checkLogSize();
    const plan = this.#checkpointerPlan;
    if (plan === null) return;
    plan.afterCommits -= 1;
    if (plan.afterCommits > 0) return;
    this.#checkpointerPlan = null;
    this.#startCheckpointer(plan.filename, plan.intervalMs);
  }

  /**
   * SQLite starts the log over only at a write that finds every frame already copied, which the
   * checkpointer thread never achieves while writes keep arriving (each checkpoint leaves the
   * frames committed meanwhile). So under sustained load the log grows; past `maxLogBytes` this
   * connection copies the few remaining frames itself (a pause), and the next write starts the
   * log over. A pause of 2-20 ms here (it syncs the database file), so it must happen once per
   * `maxLogBytes` of log, not more. Once the log has started over, the file keeps the size
   * journal_size_limit truncates it to (`maxLogBytes`) while new frames overwrite it from the
   * start, so a file at the limit says nothing: only a file grown past the size it had when the
   * log last started over (or at the last fallback, until then) means the log filled it again.
   * (Checking the size alone ran this at every 64th commit for good after the first time: at
   * 1,000 webhooks/s, a 2-20 ms stall every 0.4 s.)
   */
  #checkLogSize(): void {
    if (this.#walFd === null) return;
    const size = fstatSync(this.#walFd).size;
    // Smaller than at the last fallback: the log started over and the file was truncated.
    if (size < this.#logSizeAtFallback) this.#logSizeAtFallback = size;
    if (size < this.#maxLogBytes || size <= this.#logSizeAtFallback) return;
    this.#logSizeAtFallback = size;
    this.#fallbackCheckpoints += 1;
    this.#db.pragma('wal_checkpoint(PASSIVE)');
  }

  /**
   * Queues a write for the next group commit. `committed` is called once it is committed (before
   * it is on disk); with `now`, the write is committed at the next turn even while a sync runs,
   * because its caller is waiting for that commit.
   */
  #write<T>(run: () => T, options: { committed?: (value: T) => void; now?: boolean } = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the event store is closed'));
    // While the disk is full (or failing), refuse at once: the probe finds out when it is back.
    const refused = this.health.unavailable();
    if (refused) return Promise.reject(refused);
    const { committed, now = false } = options;
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        run,
        resolve: resolve as (value: unknown) => void,
        reject,
        committed: committed as QueuedWrite['committed'],
      });
      // While a sync runs, writes wait in the queue: they could not be acknowledged before the
      // next sync anyway, and committing them together when it starts costs one commit instead
      // of one per turn of the event loop (a commit has a fixed cost of about 100 µs here).
      // A write whose caller waits for its commit (forwarding starts there) is committed now.
      if (!this.#flushScheduled && (!this.#syncing || now)) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const refused = this.health.unavailable();
    if (refused) {
      for (const write of batch) write.reject(refused);
      return;
    }
    this.#textSearch.noteWrite();
    let values: unknown[];
    try {
      // The fast path: the whole batch in one transaction, one commit, one sync.
      values = this.#db.transaction(() => batch.map((write) => write.run()))();
    } catch (batchError) {
      // A full disk or an I/O error fails every write alike: refuse them all at once.
      const fault = this.#noteFault(batchError);
      if (fault) {
        for (const write of batch) write.reject(fault);
        return;
      }
      // One write failed and the transaction was rolled back: redo each write in its own
      // transaction, so only the failing one is refused.
      for (const write of batch) {
        try {
          const value = this.#db.transaction(write.run)();
          this.#afterDurable((error) => (error ? write.reject(error) : write.resolve(value)));
          announceCommitted(write, value);
        } catch (error) {
          write.reject(this.#noteFault(error) ?? error);
        }
      }
      return;
    }
    try {
      this.#countCommit();
    } catch (error) {
      // Housekeeping after the commit (a checkpoint, starting the checkpointer thread) must
      // never fail the writes it follows; a storage fault is recorded, anything else ignored.
      this.#noteFault(error);
    }
    this.#afterDurable((error) => {
      batch.forEach((write, index) => {
        if (error) write.reject(error);
        else write.resolve(values[index]);
      });
    });
    // After the sync has started, so what the callbacks do (forwarding) does not delay it.
    for (let index = 0; index < batch.length; index += 1) announceCommitted(batch[index] as QueuedWrite, values[index]);
  }

  /**
   * Calls back once everything committed so far is on disk (at once for `:memory:`).
   *
   * One sync at a time: a commit made while a sync is running may not be covered by it, so it
   * waits for the next one, which starts as soon as the running one returns and covers every
   * commit made meanwhile. Under load that is one sync per round for any number of writes,
   * instead of a queue of syncs each waiting for the one before.
   */
  #afterDurable(callback: (error: Error | null) => void): void {
    if (this.#walPath === null) {
      callback(null);
      return;
    }
    this.#waitingForSync.push(callback);
    if (!this.#syncing) this.#startSync();
  }

  #startSync(): void {
    const callbacks = this.#waitingForSync;
    this.#waitingForSync = [];
    this.#syncing = true;
    try {
      // The fd is opened lazily: the log file exists once the first transaction has committed.
      this.#walFd ??= openSync(this.#walPath as string, 'r');
    } catch (error) {
      this.#syncing = false;
      const refused = this.#noteFault(error) ?? (error as Error);
      for (const callback of callbacks) callback(refused);
      return;
    }
    this.#syncFile(this.#walFd, (syncError) => {
      this.#syncing = false;
      // A failed sync may have lost what it covered: nothing it covered is acknowledged, and
      // the store stays faulted until a probe has checkpointed the log (see #probe).
      let error: Error | null = null;
      if (syncError) {
        error = this.#noteFault(syncError) ?? syncError;
        this.#syncFailed = true;
      }
      for (const callback of callbacks) callback(error);
      // Commit what queued up during the sync (its callbacks join #waitingForSync), but at the
      // next check phase: the writes just resolved are answered in this callback's microtasks,
      // and committing first (about 0.1 ms a write) made every one of those answers wait for it.
      if (!this.#flushScheduled && this.#queue.length > 0) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
      if (this.#waitingForSync.length > 0) this.#startSync();
      else {
        const idle = this.#syncIdleWaiters;
        this.#syncIdleWaiters = [];
        for (const resolve of idle) resolve();
      }
    });
  }

  /** Resolves when no sync is running or waiting. */
  #syncsSettled(): Promise<void> {
    if (!this.#syncing && this.#waitingForSync.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#syncIdleWaiters.push(resolve));
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
    return this.#write(
      () => {
        const s = this.#statements;
        const headers = JSON.stringify(delivery.headers);
        const info = s.insertEvent.run(
          delivery.eventId,
          delivery.key,
          delivery.livemode ? 1 : 0,
          delivery.objectType,
          delivery.objectId,
          delivery.createdAt,
          delivery.receivedAt,
          delivery.receivedAt,
          Buffer.from(delivery.body.buffer, delivery.body.byteOffset, delivery.body.byteLength),
          headers,
          delivery.verification.mode,
          delivery.verification.status,
          delivery.verification.reason,
          delivery.verification.reasonCode ?? null,
          delivery.verification.apiAttempts ?? null,
          delivery.omiseCopy ? JSON.stringify(delivery.omiseCopy) : null,
          delivery.origin,
        );
        if (info.changes === 0) {
          // The id is already stored: count this request as another delivery of it.
          const existing = s.eventById.get(delivery.eventId) as EventRow;
          s.countDelivery.run(delivery.receivedAt, existing.seq);
          const incoming = Buffer.from(delivery.body.buffer, delivery.body.byteOffset, delivery.body.byteLength);
          const sameBody = incoming.equals(existing.body);
          s.insertRedelivery.run(existing.seq, delivery.receivedAt, headers, sameBody ? 1 : 0, delivery.origin);
          existing.delivery_count += 1;
          existing.last_received_at = delivery.receivedAt;
          const bodyDiffers = !sameBody && comparableOrigins(existing.origin as EventOrigin, delivery.origin);
          if (bodyDiffers) {
            s.countDifferingDelivery.run(existing.seq);
            existing.differing_deliveries += 1;
            const kept = keepBody(incoming);
            const bumped = s.bumpDifferingBody.run(delivery.receivedAt, existing.seq, kept.sha256);
            if (
              bumped.changes === 0 &&
              (s.differingBodyCount.get(existing.seq) as { n: number }).n < MAX_DIFFERING_BODIES
            ) {
              s.insertDifferingBody.run(
                existing.seq,
                kept.sha256,
                incoming.byteLength,
                kept.truncated ? 1 : 0,
                headers,
                delivery.origin,
                delivery.receivedAt,
                delivery.receivedAt,
                kept.excerpt,
              );
            }
          }
          return { event: toStoredEvent(existing), duplicate: true, bodyDiffers };
        }
        const seq = Number(info.lastInsertRowid);
        const ids = new Set(delivery.relatedIds);
        if (delivery.objectId) ids.add(delivery.objectId);
        for (const id of ids) s.insertOmiseId.run(id, seq);
        if (delivery.forwardTargets?.length) {
          fresh = this.#forwards.insertJobs({
            eventId: delivery.eventId,
            targets: delivery.forwardTargets,
            verification: delivery.verification.status,
            dueAt: Date.parse(delivery.receivedAt),
            createdAt: delivery.receivedAt,
          });
        }
        s.countEvent.run(delivery.key, delivery.verification.status, 1);
        // Built from what was written rather than read back: this is the hot path.
        const event: StoredEvent = {
          seq,
          ...firstDeliveryFields(delivery),
          body: delivery.body,
          headers: delivery.headers,
          verification: delivery.verification,
          omiseCopy: delivery.omiseCopy ?? null,
        };
        return { event, duplicate: false };
      },
      { committed, now: onCommitted !== undefined },
    );
  }

  recordRejection(rejection: NewRejection): Promise<StoredRejection> {
    return this.#write(() => {
      const s = this.#statements;
      const kept = keptRejection(rejection);
      const info = s.insertRejection.run({
        ...rejection,
        headers: kept.headersJson,
        body: kept.stored.body,
        bodyTruncated: kept.stored.bodyTruncated ? 1 : 0,
        bodySha256: kept.stored.bodySha256,
        keptBytes: kept.keptBytes,
      });
      // The oldest rejections go until both bounds hold again (the newest always stays):
      // usually one row, found through the primary key, with the totals kept alongside.
      const totals = s.addToRejectionTotals.get(1, kept.keptBytes) as { n: number; bytes: number };
      let { n, bytes } = totals;
      while (n > 1 && (n > this.#maxRejections || bytes > this.#maxRejectedBytes)) {
        const deleted = s.deleteOldestRejection.get();
        if (!deleted) break;
        n -= 1;
        bytes -= deleted.kept_bytes;
      }
      if (n !== totals.n) s.addToRejectionTotals.get(n - totals.n, bytes - totals.bytes);
      return { ...kept.stored, seq: Number(info.lastInsertRowid) };
    });
  }

  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    const row = this.#statements.eventById.get(eventId);
    return row ? toStoredEvent(row) : undefined;
  }

  async listDifferingBodies(eventId: string): Promise<DifferingBody[]> {
    return this.#statements.differingBodies.all(eventId).map(toDifferingBody);
  }

  async listEvents(query: EventQuery = {}): Promise<EventPage> {
    const limit = normaliseLimit(query.limit);
    const filter = listingFilter(query);
    const q = query.q?.trim();
    const seqs =
      q && !looksLikeOmiseId(q) ? this.#searchText(q, filter, limit + 1) : this.#filterSeqs(filter, limit + 1);
    const rows =
      seqs.length === 0
        ? []
        : this.#db
            .prepare<number[], EventRow>(
              `SELECT * FROM events WHERE seq IN (${seqs.map(() => '?').join(',')}) ORDER BY seq DESC`,
            )
            .all(...seqs);
    const items = rows.slice(0, limit).map(toStoredEvent);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  async eventFeed(request: EventFeedRequest): Promise<EventFeedPage> {
    const after = parseFeedSeq(request.after);
    // One writer commits in seq order, so the seq is the order events became visible.
    const since = request.after === null ? request.receivedSince : undefined;
    const rows = this.#db
      .prepare<unknown[], EventRow>(
        `SELECT * FROM events WHERE seq > ?${since !== undefined ? ' AND received_at >= ?' : ''} ORDER BY seq LIMIT ?`,
      )
      .all(after ?? 0, ...(since !== undefined ? [since] : []), Math.max(0, Math.floor(request.limit)));
    const items = rows.map(toStoredEvent);
    const last = items.at(-1);
    return { items, cursor: last ? String(last.seq) : request.after };
  }

  async eventFeedHead(): Promise<string | null> {
    const row = this.#db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events').get();
    return row?.seq != null ? String(row.seq) : null;
  }

  /** Newest-first seqs matching the filters, read from an index rather than the rows. */
  #filterSeqs(filter: ListingFilter, count: number): number[] {
    return this.#db
      .prepare<unknown[], { seq: number }>(
        `SELECT seq FROM events ${filter.indexedBy} ${whereClause(filter.where)} ORDER BY seq DESC LIMIT ?`,
      )
      .all(...filter.params, count)
      .map((row) => row.seq);
  }

  /**
   * Text search: the events newer than the index are scanned, the rest are found through the
   * trigram index; both confirm the match with `instr` on the exact bytes.
   */
  #searchText(text: string, filter: ListingFilter, count: number): number[] {
    const needle = Buffer.from(text, 'utf8');
    const indexedThrough = this.#textSearch.indexedThrough;
    const scan = (extra: string, extraParams: unknown[], limit: number) =>
      this.#db
        .prepare<unknown[], { seq: number }>(
          // NOT INDEXED: walk the rows newest first (by rowid) instead of sorting an index's matches.
          `SELECT seq FROM events NOT INDEXED ${whereClause([...filter.where, extra, 'instr(body, ?) > 0'])} ORDER BY seq DESC LIMIT ?`,
        )
        .all(...filter.params, ...extraParams, needle, limit)
        .map((row) => row.seq);
    const found = scan('seq > ?', [indexedThrough], count);
    if (found.length >= count) return found;
    const match = trigramMatchQuery(text);
    if (match === null) return [...found, ...scan('seq <= ?', [indexedThrough], count - found.length)];
    const indexed = this.#db
      .prepare<unknown[], { seq: number }>(
        `SELECT seq FROM (SELECT rowid AS text_seq FROM events_text WHERE events_text MATCH ? ORDER BY rowid DESC)
           JOIN events ON seq = text_seq
           ${whereClause([...filter.where, 'text_seq <= ?', 'instr(body, ?) > 0'])}
           ORDER BY text_seq DESC LIMIT ?`,
      )
      .all(match, ...filter.params, indexedThrough, needle, count - found.length)
      .map((row) => row.seq);
    return [...found, ...indexed];
  }

  pruneEvents(request: PruneRequest): Promise<PruneResult> {
    return this.#write(() => {
      const s = this.#statements;
      const limit = Math.max(1, Math.floor(request.limit));
      // The newest seq that is beyond the newest `keepNewest` (events are counted in event_counts).
      let beyondSeq = 0;
      if (request.keepNewest !== undefined) {
        const total = (s.countEvents.get() as { n: number | null }).n ?? 0;
        const excess = total - request.keepNewest;
        if (excess > 0) beyondSeq = (s.nthOldestSeq.get(excess - 1) as { seq: number } | undefined)?.seq ?? 0;
      }
      const before = request.receivedBefore;
      const removed: string[] = [];
      let after = request.after ?? 0;
      const indexedThrough = this.#textSearch.indexedThrough;
      // A few more rows than `limit`, so events kept for their forwards do not end a call early.
      const rows = s.oldestEvents.all(after, limit * 4);
      for (const row of rows) {
        const outside = row.seq <= beyondSeq || (before !== undefined && row.received_at < before);
        if (!outside) return { removed, next: null };
        after = row.seq;
        if (s.unfinishedForward.get(row.event_id)) continue;
        if (row.seq <= indexedThrough) {
          const body = (s.bodyOf.get(row.seq) as { body: Buffer }).body.toString('utf8');
          s.unindexText.run(row.seq, body);
        }
        s.deleteOmiseIds.run(row.seq);
        s.deleteRedeliveries.run(row.seq);
        s.deleteDifferingBodies.run(row.seq);
        s.deleteForwardAttempts.run(row.event_id);
        s.deleteForwardJobs.run(row.event_id);
        s.countEvent.run(row.key, row.verification_status, -1);
        s.deleteEvent.run(row.seq);
        removed.push(row.event_id);
        if (removed.length >= limit) return { removed, next: after };
      }
      // Every row read was skipped or removed: there may be more past them.
      return { removed, next: rows.length === limit * 4 ? after : null };
    });
  }

  /** Adds every stored body to the text-search index now, instead of in the background. */
  catchUpTextSearch(): number {
    return this.#textSearch.catchUp();
  }

  async eventsForObject(objectId: string): Promise<StoredEvent[]> {
    return this.#statements.eventsForObject.all(objectId, objectId).map(toStoredEvent);
  }

  updateVerification(eventId: string, verification: VerificationOutcome, omiseCopy?: OmiseCopy): Promise<void> {
    return this.#write(() => {
      const s = this.#statements;
      const before = s.verificationOf.get(eventId);
      if (!before) return;
      s.updateVerification.run(
        verification.mode,
        verification.status,
        verification.reason,
        verification.reasonCode ?? null,
        verification.apiAttempts ?? null,
        omiseCopy ? JSON.stringify(omiseCopy) : null,
        eventId,
      );
      this.#forwards.verificationChanged(eventId, verification.status);
      if (before.verification_status !== verification.status) {
        s.countEvent.run(before.key, before.verification_status, -1);
        s.countEvent.run(before.key, verification.status, 1);
      }
    });
  }

  async pendingVerifications(limit = 100): Promise<StoredEvent[]> {
    return this.#statements.pending.all(limit).map(toStoredEvent);
  }

  async listRejections(options: { limit?: number; cursor?: string } = {}): Promise<RejectionPage> {
    const limit = normaliseLimit(options.limit);
    const before = parseCursor(options.cursor);
    const rows = this.#db
      .prepare<unknown[], RejectionRow>(
        `SELECT * FROM rejections ${before !== null ? 'WHERE seq < ?' : ''} ORDER BY seq DESC LIMIT ?`,
      )
      .all(...(before !== null ? [before] : []), limit + 1);
    const items = rows.slice(0, limit).map(toStoredRejection);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  async getRejection(seq: number): Promise<StoredRejection | undefined> {
    const row = this.#statements.rejectionBySeq.get(seq);
    return row ? toStoredRejection(row) : undefined;
  }

  async stats(): Promise<StoreStats> {
    const s = this.#statements;
    const byKey: Record<string, number> = {};
    const byVerification: Record<string, number> = {};
    let total = 0;
    for (const row of s.counts.all()) {
      byKey[row.key] = (byKey[row.key] ?? 0) + row.n;
      byVerification[row.verification_status] = (byVerification[row.verification_status] ?? 0) + row.n;
      total += row.n;
    }
    const sortedVerification = Object.fromEntries(
      Object.entries(byVerification).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    return { total, byKey, byVerification: sortedVerification, rejected: (s.countRejections.get() as { n: number }).n };
  }

  enqueueForwards(eventId: string, targets: readonly string[], now: number): Promise<ForwardJob[]> {
    return this.#write(() => {
      const event = this.#statements.eventById.get(eventId);
      if (!event) throw new Error(`no stored event has id ${eventId}`);
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
    const written = this.#write(() => this.#forwards.recordAttempt(attempt));
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
    return this.#write(() => this.#forwards.requeue(jobId, now));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let writes already asked for reach the disk before closing.
    if (this.#queue.length > 0) this.#flush();
    this.#closed = true;
    await this.#syncsSettled();
    const checkpointer = this.#checkpointer;
    if (checkpointer) {
      this.#checkpointer = null;
      const exited = new Promise((resolve) => checkpointer.once('exit', resolve));
      // Kept alive while it finishes: a last checkpoint, then its connection closes before ours.
      checkpointer.ref();
      checkpointer.postMessage('stop');
      await exited;
    }
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#probeTimer = null;
    if (this.#walFd !== null) closeSync(this.#walFd);
    this.#textSearch.stop();
    this.#db.close();
  }
}
