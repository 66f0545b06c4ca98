import { closeSync, fsync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
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
  RecordDeliveryResult,
  RejectionPage,
  StoredEvent,
  StoredRejection,
  StoreStats,
  VerificationMode,
  VerificationOutcome,
  VerificationStatus,
} from '../../core/ports.js';
import { keyPatternToSql, looksLikeOmiseId, normaliseLimit, parseCursor } from './query-helpers.js';
import { SqliteForwardQueue } from './sqlite-forward-queue.js';

export interface SqliteEventStoreOptions {
  /** A file path, or `:memory:` for tests. */
  filename: string;
  /** How many rejected requests to keep; older ones are deleted so a flood cannot fill the disk. */
  maxRejections?: number;
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
  api_attempts INTEGER,
  omise_copy TEXT,
  origin TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_key ON events (key, seq);
CREATE INDEX IF NOT EXISTS events_by_object_type ON events (object_type, seq);
CREATE INDEX IF NOT EXISTS events_by_verification ON events (verification_status, seq);
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
  event_id TEXT
);
`;

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
  api_attempts: number | null;
  omise_copy: string | null;
  origin: string;
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
}

function toStoredEvent(row: EventRow): StoredEvent {
  const verification: VerificationOutcome = {
    mode: row.verification_mode as VerificationMode,
    status: row.verification_status as VerificationStatus,
    reason: row.verification_reason,
  };
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
  };
}

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The embedded default store: one SQLite file in WAL mode. A write's promise resolves only
 * once the write-ahead log holding it has been fsynced, so an acknowledged event survives a
 * crash of the process or of the machine.
 *
 * Writes are group-committed: every write requested during one turn of the event loop
 * shares one transaction. The commit itself does not wait for the disk
 * (`synchronous=NORMAL`); instead the log file is fsynced on libuv's thread pool and the
 * batch's promises resolve when that returns. So the event loop never blocks on the disk,
 * the next batch commits while the previous one is being synced, and under load many
 * webhooks share one fsync. If one write in a batch fails, each is redone in its own
 * transaction so only the failing one is refused.
 */
export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  readonly #maxRejections: number;
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;
  #closed = false;
  readonly #walPath: string | null;
  #walFd: number | null = null;
  #syncsInFlight = new Set<Promise<void>>();
  readonly #statements;
  readonly #forwards: SqliteForwardQueue;

  constructor(options: SqliteEventStoreOptions) {
    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
    this.#db = new Database(options.filename);
    this.#db.pragma('journal_mode = WAL');
    // NORMAL: commits do not fsync; #flush fsyncs the log itself, off the event loop.
    // SQLite still syncs around checkpoints, so the database file stays consistent.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    this.#maxRejections = options.maxRejections ?? 1000;
    this.#walPath = options.filename === ':memory:' ? null : `${options.filename}-wal`;
    this.#forwards = new SqliteForwardQueue(this.#db);
    const db = this.#db;
    this.#statements = {
      eventById: db.prepare<[string], EventRow>('SELECT * FROM events WHERE event_id = ?'),
      insertEvent: db.prepare(
        `INSERT INTO events (event_id, key, livemode, object_type, object_id, created_at, received_at, last_received_at,
           delivery_count, body, headers, verification_mode, verification_status, verification_reason, api_attempts, omise_copy, origin)
         VALUES (@eventId, @key, @livemode, @objectType, @objectId, @createdAt, @receivedAt, @receivedAt,
           1, @body, @headers, @verificationMode, @verificationStatus, @verificationReason, @apiAttempts, @omiseCopy, @origin)
         ON CONFLICT (event_id) DO NOTHING`,
      ),
      countDelivery: db.prepare(
        'UPDATE events SET delivery_count = delivery_count + 1, last_received_at = ? WHERE seq = ?',
      ),
      insertRedelivery: db.prepare(
        'INSERT INTO redeliveries (event_seq, received_at, headers, same_body, origin) VALUES (?, ?, ?, ?, ?)',
      ),
      insertOmiseId: db.prepare('INSERT OR IGNORE INTO event_omise_ids (omise_id, event_seq) VALUES (?, ?)'),
      insertRejection: db.prepare(
        `INSERT INTO rejections (received_at, method, path, remote_address, headers, body, body_size, status, code, reason, hint, event_id)
         VALUES (@receivedAt, @method, @path, @remoteAddress, @headers, @body, @bodySize, @status, @code, @reason, @hint, @eventId)`,
      ),
      pruneRejections: db.prepare('DELETE FROM rejections WHERE seq <= ?'),
      rejectionBySeq: db.prepare<[number], RejectionRow>('SELECT * FROM rejections WHERE seq = ?'),
      updateVerification: db.prepare(
        `UPDATE events SET verification_mode = ?, verification_status = ?, verification_reason = ?, api_attempts = ?,
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

  #write<T>(run: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the event store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
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
    let values: unknown[];
    try {
      // The fast path: the whole batch in one transaction, one commit, one fsync.
      values = this.#db.transaction(() => batch.map((write) => write.run()))();
    } catch {
      // One write failed and the transaction was rolled back: redo each write in its own
      // transaction, so only the failing one is refused.
      for (const write of batch) {
        try {
          const value = this.#db.transaction(write.run)();
          this.#afterDurable((error) => (error ? write.reject(error) : write.resolve(value)));
        } catch (error) {
          write.reject(error);
        }
      }
      return;
    }
    this.#afterDurable((error) => {
      batch.forEach((write, index) => {
        if (error) write.reject(error);
        else write.resolve(values[index]);
      });
    });
  }

  /** Calls back once everything committed so far is on disk (at once for `:memory:`). */
  #afterDurable(callback: (error: Error | null) => void): void {
    if (this.#walPath === null) {
      callback(null);
      return;
    }
    // The fd is opened lazily: the log file exists once the first transaction has committed.
    this.#walFd ??= openSync(this.#walPath, 'r');
    let done!: () => void;
    const sync = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.#syncsInFlight.add(sync);
    fsync(this.#walFd, (error) => {
      this.#syncsInFlight.delete(sync);
      done();
      callback(error);
    });
  }

  recordDelivery(delivery: NewDelivery): Promise<RecordDeliveryResult> {
    return this.#write(() => {
      const s = this.#statements;
      const headers = JSON.stringify(delivery.headers);
      const info = s.insertEvent.run({
        eventId: delivery.eventId,
        key: delivery.key,
        livemode: delivery.livemode ? 1 : 0,
        objectType: delivery.objectType,
        objectId: delivery.objectId,
        createdAt: delivery.createdAt,
        receivedAt: delivery.receivedAt,
        body: Buffer.from(delivery.body.buffer, delivery.body.byteOffset, delivery.body.byteLength),
        headers,
        verificationMode: delivery.verification.mode,
        verificationStatus: delivery.verification.status,
        verificationReason: delivery.verification.reason,
        apiAttempts: delivery.verification.apiAttempts ?? null,
        omiseCopy: delivery.omiseCopy ? JSON.stringify(delivery.omiseCopy) : null,
        origin: delivery.origin,
      });
      if (info.changes === 0) {
        // The id is already stored: count this request as another delivery of it.
        const existing = s.eventById.get(delivery.eventId) as EventRow;
        s.countDelivery.run(delivery.receivedAt, existing.seq);
        const sameBody = Buffer.from(delivery.body).equals(existing.body) ? 1 : 0;
        s.insertRedelivery.run(existing.seq, delivery.receivedAt, headers, sameBody, delivery.origin);
        existing.delivery_count += 1;
        existing.last_received_at = delivery.receivedAt;
        return { event: toStoredEvent(existing), duplicate: true };
      }
      const seq = Number(info.lastInsertRowid);
      const ids = new Set(delivery.relatedIds);
      if (delivery.objectId) ids.add(delivery.objectId);
      for (const id of ids) s.insertOmiseId.run(id, seq);
      if (delivery.forwardTargets?.length) {
        this.#forwards.insertJobs({
          eventId: delivery.eventId,
          targets: delivery.forwardTargets,
          verification: delivery.verification.status,
          dueAt: Date.parse(delivery.receivedAt),
          createdAt: delivery.receivedAt,
        });
      }
      // Built from what was written rather than read back: this is the hot path.
      const event: StoredEvent = {
        seq,
        eventId: delivery.eventId,
        key: delivery.key,
        livemode: delivery.livemode,
        objectType: delivery.objectType,
        objectId: delivery.objectId,
        createdAt: delivery.createdAt,
        receivedAt: delivery.receivedAt,
        lastReceivedAt: delivery.receivedAt,
        deliveryCount: 1,
        body: delivery.body,
        headers: delivery.headers,
        verification: delivery.verification,
        omiseCopy: delivery.omiseCopy ?? null,
        origin: delivery.origin,
      };
      return { event, duplicate: false };
    });
  }

  recordRejection(rejection: NewRejection): Promise<StoredRejection> {
    return this.#write(() => {
      const s = this.#statements;
      const info = s.insertRejection.run({
        ...rejection,
        headers: JSON.stringify(rejection.headers),
        body: Buffer.from(rejection.body.buffer, rejection.body.byteOffset, rejection.body.byteLength),
      });
      const seq = Number(info.lastInsertRowid);
      if (seq > this.#maxRejections) s.pruneRejections.run(seq - this.#maxRejections);
      return toStoredRejection(s.rejectionBySeq.get(seq) as RejectionRow);
    });
  }

  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    const row = this.#statements.eventById.get(eventId);
    return row ? toStoredEvent(row) : undefined;
  }

  async listEvents(query: EventQuery = {}): Promise<EventPage> {
    const where: string[] = [];
    const params: unknown[] = [];
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
      }
    }
    if (query.objectType) {
      where.push('object_type = ?');
      params.push(query.objectType);
    }
    if (query.verification) {
      where.push('verification_status = ?');
      params.push(query.verification);
    }
    if (query.q) {
      const q = query.q.trim();
      if (looksLikeOmiseId(q)) {
        where.push('(event_id = ? OR seq IN (SELECT event_seq FROM event_omise_ids WHERE omise_id = ?))');
        params.push(q, q);
      } else {
        where.push('instr(body, ?) > 0');
        params.push(Buffer.from(q, 'utf8'));
      }
    }
    const limit = normaliseLimit(query.limit);
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.#db.prepare<unknown[], EventRow>(sql).all(...params, limit + 1);
    const items = rows.slice(0, limit).map(toStoredEvent);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  async eventsForObject(objectId: string): Promise<StoredEvent[]> {
    return this.#statements.eventsForObject.all(objectId, objectId).map(toStoredEvent);
  }

  updateVerification(eventId: string, verification: VerificationOutcome, omiseCopy?: OmiseCopy): Promise<void> {
    return this.#write(() => {
      this.#statements.updateVerification.run(
        verification.mode,
        verification.status,
        verification.reason,
        verification.apiAttempts ?? null,
        omiseCopy ? JSON.stringify(omiseCopy) : null,
        eventId,
      );
      this.#forwards.verificationChanged(eventId, verification.status);
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
    const byKey: Record<string, number> = {};
    for (const row of this.#db
      .prepare<[], { key: string; n: number }>('SELECT key, COUNT(*) AS n FROM events GROUP BY key ORDER BY key')
      .all())
      byKey[row.key] = row.n;
    const byVerification: Record<string, number> = {};
    for (const row of this.#db
      .prepare<[], { status: string; n: number }>(
        'SELECT verification_status AS status, COUNT(*) AS n FROM events GROUP BY verification_status ORDER BY status',
      )
      .all())
      byVerification[row.status] = row.n;
    const total = Object.values(byKey).reduce((sum, n) => sum + n, 0);
    const rejected = (this.#db.prepare('SELECT COUNT(*) AS n FROM rejections').get() as { n: number }).n;
    return { total, byKey, byVerification, rejected };
  }

  enqueueForwards(eventId: string, targets: readonly string[], now: number): Promise<ForwardJob[]> {
    return this.#write(() => {
      const event = this.#statements.eventById.get(eventId);
      if (!event) throw new Error(`no stored event has id ${eventId}`);
      const createdAt = new Date(now).toISOString();
      return this.#forwards.insertJobs({ eventId, targets, verification: 'verified', dueAt: now, createdAt });
    });
  }

  async claimDueForwards(options: {
    now: number;
    maxInFlightPerTarget: number;
    targets?: readonly string[];
  }): Promise<ForwardClaim> {
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
    while (this.#syncsInFlight.size > 0) await Promise.all(this.#syncsInFlight);
    if (this.#walFd !== null) closeSync(this.#walFd);
    this.#db.close();
  }
}
