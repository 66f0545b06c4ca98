import type Database from 'better-sqlite3';
import type { HeaderList, NewRejection, RejectionPage, StoredRejection } from '../../core/ports.js';
import { keptRejection } from './kept-body.js';
import { normaliseLimit, parseCursor } from './query-helpers.js';

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

/**
 * The SQLite store's refused requests: kept within a number and a byte bound, the oldest
 * deleted first. `record` runs inside the store's group commit (see SqliteGroupCommit).
 */
export class SqliteRejectionLog {
  readonly #db: Database.Database;
  readonly #maxRejections: number;
  readonly #maxRejectedBytes: number;
  readonly #statements;

  constructor(
    db: Database.Database,
    options: { maxRejections?: number | undefined; maxRejectedBytes?: number | undefined } = {},
  ) {
    this.#db = db;
    this.#maxRejections = options.maxRejections ?? 1000;
    this.#maxRejectedBytes = options.maxRejectedBytes ?? 64 * 1024 * 1024;
    this.#statements = {
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
      countRejections: db.prepare<[], { n: number }>('SELECT n FROM rejection_totals WHERE id = 1'),
    };
  }

  /** Keeps a refused request and deletes the oldest beyond the bounds; call it inside a write. */
  record(rejection: NewRejection): StoredRejection {
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
  }

  /** Newest first. */
  list(options: { limit?: number; cursor?: string } = {}): RejectionPage {
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

  get(seq: number): StoredRejection | undefined {
    const row = this.#statements.rejectionBySeq.get(seq);
    return row ? toStoredRejection(row) : undefined;
  }

  /** How many are kept (from the running totals, not a count of the table). */
  count(): number {
    return (this.#statements.countRejections.get() as { n: number }).n;
  }
}
