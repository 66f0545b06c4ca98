import type Database from 'better-sqlite3';
import { looksLikeOmiseId } from '../../core/event-lookup-fields.js';
import type {
  DifferingBody,
  EventFeedPage,
  EventFeedRequest,
  EventOrigin,
  EventPage,
  EventQuery,
  HeaderList,
  NewDelivery,
  OmiseCopy,
  PruneRequest,
  PruneResult,
  RecordDeliveryResult,
  StoredEvent,
  VerificationMode,
  VerificationOutcome,
  VerificationReasonCode,
  VerificationStatus,
} from '../../core/ports.js';
import { comparableOrigins, keepBody, MAX_DIFFERING_BODIES } from './kept-body.js';
import { firstDeliveryFields, keyPatternToSql, normaliseLimit, parseCursor, parseFeedSeq } from './query-helpers.js';
import type { FreshJob, SqliteForwardQueue } from './sqlite-forward-queue.js';
import { type SqliteTextSearch, trigramMatchQuery } from './sqlite-text-search.js';

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
 * The SQLite store's accepted events: their deliveries and differing bodies, the lookup ids,
 * listing and text search, the feed, verification updates, the counts behind `stats()` and
 * retention. The methods that write run inside the store's group commit (see SqliteGroupCommit)
 * and are synchronous, so a caller can put several in one transaction.
 */
export class SqliteEventLog {
  readonly #db: Database.Database;
  readonly #forwards: SqliteForwardQueue;
  readonly #textSearch: SqliteTextSearch;
  readonly #statements;

  constructor(db: Database.Database, parts: { forwards: SqliteForwardQueue; textSearch: SqliteTextSearch }) {
    this.#db = db;
    this.#forwards = parts.forwards;
    this.#textSearch = parts.textSearch;
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
   * Stores a new event (with its forward jobs, returned as `fresh`) or counts another delivery of
   * a stored one. Call it inside a write.
   */
  record(delivery: NewDelivery): { result: RecordDeliveryResult; fresh: FreshJob[] } {
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
      return { result: { event: toStoredEvent(existing), duplicate: true, bodyDiffers }, fresh: [] };
    }
    const seq = Number(info.lastInsertRowid);
    const ids = new Set(delivery.relatedIds);
    if (delivery.objectId) ids.add(delivery.objectId);
    for (const id of ids) s.insertOmiseId.run(id, seq);
    let fresh: FreshJob[] = [];
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
    return { result: { event, duplicate: false }, fresh };
  }

  /** Whether an event with this id is stored. */
  has(eventId: string): boolean {
    return this.#statements.eventById.get(eventId) !== undefined;
  }

  get(eventId: string): StoredEvent | undefined {
    const row = this.#statements.eventById.get(eventId);
    return row ? toStoredEvent(row) : undefined;
  }

  differingBodies(eventId: string): DifferingBody[] {
    return this.#statements.differingBodies.all(eventId).map(toDifferingBody);
  }

  /** Newest first. */
  list(query: EventQuery = {}): EventPage {
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

  feed(request: EventFeedRequest): EventFeedPage {
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

  feedHead(): string | null {
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

  /** See `EventLog.pruneEvents`; call it inside a write. */
  prune(request: PruneRequest): PruneResult {
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
  }

  /** Every event that carried this object id anywhere, oldest first. */
  forObject(objectId: string): StoredEvent[] {
    return this.#statements.eventsForObject.all(objectId, objectId).map(toStoredEvent);
  }

  /** Call it inside a write: the event's held forward jobs are released or cancelled with it. */
  updateVerification(eventId: string, verification: VerificationOutcome, omiseCopy?: OmiseCopy): void {
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
  }

  /** Events whose API check is still to be done, oldest first. */
  pending(limit: number): StoredEvent[] {
    return this.#statements.pending.all(limit).map(toStoredEvent);
  }

  /** The kept counts per key and verification outcome, for `stats()`. */
  counts(): Array<{ key: string; verification_status: string; n: number }> {
    return this.#statements.counts.all();
  }
}
