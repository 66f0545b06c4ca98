/**
 * Refused requests, kept as evidence within a bound on their number and their bytes (both
 * counted over the whole database: instances share one budget).
 */
import type { HeaderList, NewRejection, RejectionPage, StoredRejection } from '../../../core/ports.js';
import { keptRejection } from '../kept-body.js';
import { normaliseLimit, parseCursor } from '../query-helpers.js';
import type { Sql } from './connection.js';

/** Serialises the bound check across instances, so two of them never both delete too little. */
const REJECTIONS_LOCK = 0x6f6d697365_0002n;

interface RejectionRow {
  seq: string;
  received_at: string;
  method: string;
  path: string;
  remote_address: string | null;
  headers: string;
  body: Buffer;
  body_size: string;
  body_truncated: boolean;
  body_sha256: string | null;
  status: number;
  code: string;
  reason: string;
  hint: string | null;
  event_id: string | null;
}

function toRejection(row: RejectionRow): StoredRejection {
  return {
    seq: Number(row.seq),
    receivedAt: row.received_at,
    method: row.method,
    path: row.path,
    remoteAddress: row.remote_address,
    headers: JSON.parse(row.headers) as HeaderList,
    body: row.body,
    bodySize: Number(row.body_size),
    bodyTruncated: row.body_truncated,
    bodySha256: row.body_sha256,
    status: row.status,
    code: row.code,
    reason: row.reason,
    hint: row.hint,
    eventId: row.event_id,
  };
}

export async function recordRejection(
  tx: Sql,
  rejection: NewRejection,
  bounds: { maxRejections: number; maxRejectedBytes: number },
): Promise<StoredRejection> {
  const kept = keptRejection(rejection);
  const s = kept.stored;
  await tx`SELECT pg_advisory_xact_lock(${REJECTIONS_LOCK.toString()}::bigint)`;
  const [row] = await tx<{ seq: string }[]>`
    INSERT INTO rejections (received_at, method, path, remote_address, headers, body, body_size, body_truncated,
      body_sha256, status, code, reason, hint, event_id, kept_bytes)
    VALUES (${s.receivedAt}, ${s.method}, ${s.path}, ${s.remoteAddress}, ${kept.headersJson}, ${s.body as Buffer},
      ${s.bodySize}, ${s.bodyTruncated}, ${s.bodySha256}, ${s.status}, ${s.code}, ${s.reason}, ${s.hint},
      ${s.eventId}, ${kept.keptBytes})
    RETURNING seq`;
  await pruneRejections(tx, bounds);
  return { ...s, body: new Uint8Array(s.body), seq: Number(row?.seq) };
}

/**
 * Many refused requests in one transaction (group commit): the lock once, one multi-row
 * insert (one text array per column, so one statement text for any number), the bounds
 * enforced once. Returned in the order given, each with its own seq.
 */
export async function recordRejections(
  tx: Sql,
  rejections: readonly NewRejection[],
  bounds: { maxRejections: number; maxRejectedBytes: number },
): Promise<StoredRejection[]> {
  const kept = rejections.map(keptRejection);
  const column = (pick: (k: (typeof kept)[number]) => string | null) => kept.map(pick);
  const text = (value: string | number | boolean | null | undefined) =>
    value === null || value === undefined ? null : String(value);
  await tx`SELECT pg_advisory_xact_lock(${REJECTIONS_LOCK.toString()}::bigint)`;
  const rows = await tx<{ seq: string }[]>`
    INSERT INTO rejections (received_at, method, path, remote_address, headers, body, body_size, body_truncated,
      body_sha256, status, code, reason, hint, event_id, kept_bytes)
    SELECT received_at, method, path, remote_address, headers, decode(body, 'hex'), body_size::bigint,
      body_truncated::boolean, body_sha256, status::integer, code, reason, hint, event_id, kept_bytes::bigint
    FROM unnest(${column((k) => k.stored.receivedAt)}::text[], ${column((k) => k.stored.method)}::text[],
      ${column((k) => k.stored.path)}::text[], ${column((k) => text(k.stored.remoteAddress))}::text[],
      ${column((k) => k.headersJson)}::text[], ${column((k) => Buffer.from(k.stored.body).toString('hex'))}::text[],
      ${column((k) => String(k.stored.bodySize))}::text[], ${column((k) => String(k.stored.bodyTruncated))}::text[],
      ${column((k) => text(k.stored.bodySha256))}::text[], ${column((k) => String(k.stored.status))}::text[],
      ${column((k) => k.stored.code)}::text[], ${column((k) => k.stored.reason)}::text[],
      ${column((k) => text(k.stored.hint))}::text[], ${column((k) => text(k.stored.eventId))}::text[],
      ${column((k) => String(k.keptBytes))}::text[])
      WITH ORDINALITY AS r(received_at, method, path, remote_address, headers, body, body_size, body_truncated,
        body_sha256, status, code, reason, hint, event_id, kept_bytes, n)
    ORDER BY n
    RETURNING seq`;
  // Under the lock no other insert takes a seq in between: ascending seq is the order given.
  const seqs = rows.map((row) => Number(row.seq)).sort((a, b) => a - b);
  await pruneRejections(tx, bounds);
  return kept.map((k, i) => ({ ...k.stored, body: new Uint8Array(k.stored.body), seq: seqs[i] as number }));
}

/** Oldest first until both bounds hold; the newest always stays. */
async function pruneRejections(tx: Sql, bounds: { maxRejections: number; maxRejectedBytes: number }): Promise<void> {
  await tx`
    DELETE FROM rejections WHERE seq IN (
      SELECT seq FROM (
        SELECT seq, count(*) OVER newest AS n, sum(kept_bytes) OVER newest AS bytes
        FROM rejections WINDOW newest AS (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING)
      ) r WHERE n > 1 AND (n > ${bounds.maxRejections} OR bytes > ${bounds.maxRejectedBytes}))`;
}

export async function listRejections(sql: Sql, options: { limit?: number; cursor?: string }): Promise<RejectionPage> {
  const before = parseCursor(options.cursor);
  const limit = normaliseLimit(options.limit);
  const rows = await sql<RejectionRow[]>`
    SELECT * FROM rejections WHERE seq < ${before ?? Number.MAX_SAFE_INTEGER} ORDER BY seq DESC LIMIT ${limit + 1}`;
  const items = rows.slice(0, limit).map(toRejection);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
}

export async function getRejection(sql: Sql, seq: number): Promise<StoredRejection | undefined> {
  if (!Number.isSafeInteger(seq)) return undefined;
  const [row] = await sql<RejectionRow[]>`SELECT * FROM rejections WHERE seq = ${seq}`;
  return row ? toRejection(row) : undefined;
}
