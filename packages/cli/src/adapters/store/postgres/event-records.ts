/**
 * Events and their deliveries on PostgreSQL: the first copy's exact bytes in `bytea`, later
 * copies counted (and kept when they differ), lookups, text search, the feed and retention.
 */
import { looksLikeOmiseId } from '../../../core/event-lookup-fields.js';
import {
  type DifferingBody,
  type EventFeedPage,
  type EventFeedRequest,
  type EventOrigin,
  type EventPage,
  type EventQuery,
  type HeaderList,
  InvalidFeedCursorError,
  type NewDelivery,
  type OmiseCopy,
  type PruneRequest,
  type PruneResult,
  type StoredEvent,
  type StoreStats,
  type VerificationOutcome,
} from '../../../core/ports.js';
import { comparableOrigins, keepBody, MAX_DIFFERING_BODIES } from '../kept-body.js';
import { firstDeliveryFields, keyPatternToSql, normaliseLimit, parseCursor } from '../query-helpers.js';
import type { Sql } from './connection.js';
import { FEED_CHANNEL } from './feed-notify.js';

export interface EventRow {
  seq: string;
  xid: string;
  event_id: string;
  key: string;
  livemode: boolean;
  object_type: string;
  object_id: string | null;
  created_at: string | null;
  received_at: string;
  last_received_at: string;
  delivery_count: number;
  body: Buffer;
  headers: string;
  verification: string;
  omise_copy: string | null;
  origin: string;
  differing_deliveries: number;
}

export function toEvent(row: EventRow): StoredEvent {
  return {
    seq: Number(row.seq),
    eventId: row.event_id,
    key: row.key,
    livemode: row.livemode,
    objectType: row.object_type,
    objectId: row.object_id,
    createdAt: row.created_at,
    receivedAt: row.received_at,
    lastReceivedAt: row.last_received_at,
    deliveryCount: row.delivery_count,
    body: row.body,
    headers: JSON.parse(row.headers) as HeaderList,
    verification: JSON.parse(row.verification) as VerificationOutcome,
    omiseCopy: row.omise_copy === null ? null : (JSON.parse(row.omise_copy) as OmiseCopy),
    origin: row.origin as EventOrigin,
    differingDeliveries: row.differing_deliveries,
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Rewrites the `?` placeholders of `keyPatternToSql` as `$n`, numbered from `params.length + 1`. */
function numbered(sql: string, params: unknown[], values: readonly unknown[]): string {
  let text = '';
  let i = 0;
  for (const part of sql.split('?')) {
    text += part;
    if (i < values.length) {
      params.push(values[i]);
      text += `$${params.length}`;
    }
    i++;
  }
  return text;
}

export type InsertedEvent = { event: StoredEvent; seq: number };

/**
 * Inserts one new event with its lookup ids, its forward jobs and its notification in one
 * statement (one round trip, committed on its own), or returns null when the id is already
 * stored (then the caller counts a delivery). The hot path is `insertEvents`, for a group;
 * this is the path of one delivery alone, when a group failed and each is tried by itself. A
 * concurrent insert of the same id by another instance waits for that one to commit, then
 * conflicts: stored once, never an error.
 */
export async function insertEvent(sql: Sql, delivery: NewDelivery): Promise<InsertedEvent | null> {
  const ids = lookupIds(delivery);
  const targets = [...(delivery.forwardTargets ?? [])];
  const [row] = await sql<{ seq: string }[]>`
    WITH ins AS (
      INSERT INTO events (event_id, key, livemode, object_type, object_id, created_at, received_at, last_received_at,
        body, headers, verification, verification_status, omise_copy, origin)
      VALUES (${delivery.eventId}, ${delivery.key}, ${delivery.livemode}, ${delivery.objectType}, ${delivery.objectId},
        ${delivery.createdAt}, ${delivery.receivedAt}, ${delivery.receivedAt}, ${asBuffer(delivery.body)},
        ${JSON.stringify(delivery.headers)}, ${JSON.stringify(delivery.verification)}, ${delivery.verification.status},
        ${delivery.omiseCopy ? JSON.stringify(delivery.omiseCopy) : null}, ${delivery.origin})
      ON CONFLICT (event_id) DO NOTHING
      RETURNING seq
    ), ids AS (
      INSERT INTO event_ids (omise_id, seq)
      SELECT DISTINCT u.id, ins.seq FROM ins, unnest(${ids}::text[]) AS u(id)
    ), jobs AS (
      INSERT INTO forward_jobs (event_id, target, state, queue_seq, due_at, created_at)
      SELECT ${delivery.eventId}, t.target, ${jobState(delivery)}, nextval('forward_queue_seq'), ${Date.parse(delivery.receivedAt)},
        ${delivery.receivedAt}
      FROM ins, unnest(${targets}::text[]) WITH ORDINALITY AS t(target, n) ORDER BY t.n
    ), notified AS (
      -- Delivered with the commit, to every instance's feed watchers.
      SELECT pg_notify(${FEED_CHANNEL}, '') FROM ins
    )
    SELECT seq, (SELECT count(*) FROM notified) AS notified FROM ins`;
  if (!row) return null;
  const seq = Number(row.seq);
  return { event: newStoredEvent(delivery, seq), seq };
}

function lookupIds(delivery: NewDelivery): string[] {
  return [...new Set([...(delivery.objectId ? [delivery.objectId] : []), ...delivery.relatedIds])];
}

/** Jobs of an event still being verified wait (held) until updateVerification decides. */
function jobState(delivery: NewDelivery): 'held' | 'pending' {
  return delivery.verification.status === 'pending' ? 'held' : 'pending';
}

/** What a delivery just inserted as `seq` reads back as (without reading it back). */
function newStoredEvent(delivery: NewDelivery, seq: number): StoredEvent {
  // `seq` first, not after the spread:
  // a spread followed by more properties gives every object its own hidden class
  // (docs/architecture.md, "Hot-path objects").
  return {
    seq,
    ...firstDeliveryFields(delivery),
    body: new Uint8Array(delivery.body),
    headers: delivery.headers.map(([name, value]) => [name, value] as const),
    verification: { ...delivery.verification },
    omiseCopy: delivery.omiseCopy ? structuredClone(delivery.omiseCopy) : null,
  };
}

/**
 * Inserts many new events (distinct ids) in one statement: one round trip and one commit for
 * the whole group, their lookup ids, forward jobs and one notification with them. Returns the
 * ones inserted, by id; an id already stored (or being stored by another instance, whose
 * commit this waits for) is left out, for the caller to count as a delivery. Every column goes
 * as one text array (`unnest`), so the statement text is the same for any number of events
 * and is prepared once per connection.
 *
 * Rows are inserted in the order given; callers give them sorted by id, so two instances
 * inserting overlapping ids take the rows' locks in the same order and never deadlock.
 */
export async function insertEvents(sql: Sql, deliveries: readonly NewDelivery[]): Promise<Map<string, InsertedEvent>> {
  const column = (pick: (d: NewDelivery) => string | null) => deliveries.map(pick);
  const idPairs: [string[], string[]] = [[], []];
  const targetPairs: [string[], string[]] = [[], []];
  for (const d of deliveries) {
    for (const id of lookupIds(d)) {
      idPairs[0].push(d.eventId);
      idPairs[1].push(id);
    }
    for (const target of d.forwardTargets ?? []) {
      targetPairs[0].push(d.eventId);
      targetPairs[1].push(target);
    }
  }
  const rows = await sql<{ seq: string; event_id: string }[]>`
    WITH input AS (
      SELECT * FROM unnest(${column((d) => d.eventId)}::text[], ${column((d) => d.key)}::text[],
        ${column((d) => String(d.livemode))}::text[], ${column((d) => d.objectType)}::text[],
        ${column((d) => d.objectId)}::text[], ${column((d) => d.createdAt)}::text[], ${column((d) => d.receivedAt)}::text[],
        ${column((d) => asBuffer(d.body).toString('hex'))}::text[], ${column((d) => JSON.stringify(d.headers))}::text[],
        ${column((d) => JSON.stringify(d.verification))}::text[], ${column((d) => d.verification.status)}::text[],
        ${column((d) => (d.omiseCopy ? JSON.stringify(d.omiseCopy) : null))}::text[], ${column((d) => d.origin)}::text[],
        ${column(jobState)}::text[], ${column((d) => String(Date.parse(d.receivedAt)))}::text[])
        WITH ORDINALITY AS i(event_id, key, livemode, object_type, object_id, created_at, received_at, body, headers,
          verification, verification_status, omise_copy, origin, job_state, due_at, n)
    ), ins AS (
      INSERT INTO events (event_id, key, livemode, object_type, object_id, created_at, received_at, last_received_at,
        body, headers, verification, verification_status, omise_copy, origin)
      SELECT event_id, key, livemode::boolean, object_type, object_id, created_at, received_at, received_at,
        decode(body, 'hex'), headers, verification, verification_status, omise_copy, origin
      FROM input ORDER BY n
      ON CONFLICT (event_id) DO NOTHING
      RETURNING seq, event_id
    ), ids AS (
      INSERT INTO event_ids (omise_id, seq)
      SELECT DISTINCT l.omise_id, ins.seq
      FROM ins JOIN unnest(${idPairs[0]}::text[], ${idPairs[1]}::text[]) AS l(event_id, omise_id) USING (event_id)
    ), jobs AS (
      INSERT INTO forward_jobs (event_id, target, state, queue_seq, due_at, created_at)
      SELECT t.event_id, t.target, i.job_state, nextval('forward_queue_seq'), i.due_at::bigint, i.received_at
      FROM ins JOIN input i USING (event_id)
        JOIN unnest(${targetPairs[0]}::text[], ${targetPairs[1]}::text[]) WITH ORDINALITY AS t(event_id, target, m)
        USING (event_id)
      ORDER BY i.n, t.m
    ), notified AS (
      -- One notification for the group, delivered with the commit to every instance's feed watchers.
      SELECT pg_notify(${FEED_CHANNEL}, '') FROM (SELECT 1 FROM ins LIMIT 1) AS any_inserted
    )
    SELECT seq, event_id, (SELECT count(*) FROM notified) AS notified FROM ins`;
  const byId = new Map(deliveries.map((d) => [d.eventId, d]));
  const inserted = new Map<string, InsertedEvent>();
  for (const row of rows) {
    const seq = Number(row.seq);
    inserted.set(row.event_id, { event: newStoredEvent(byId.get(row.event_id) as NewDelivery, seq), seq });
  }
  return inserted;
}

/**
 * Counts another delivery of a stored id inside `tx`, keeping its body when it differs from
 * the first copy. Null when the event is gone (pruned in between): the caller inserts again.
 */
export async function countDuplicate(
  tx: Sql,
  delivery: NewDelivery,
): Promise<{ event: StoredEvent; bodyDiffers: boolean } | null> {
  const [row] = await tx<EventRow[]>`
    UPDATE events SET delivery_count = delivery_count + 1, last_received_at = ${delivery.receivedAt}
    WHERE event_id = ${delivery.eventId} RETURNING *`;
  if (!row) return null;
  const bodyDiffers =
    !row.body.equals(asBuffer(delivery.body)) && comparableOrigins(row.origin as EventOrigin, delivery.origin);
  if (bodyDiffers) {
    row.differing_deliveries += 1;
    await tx`UPDATE events SET differing_deliveries = differing_deliveries + 1 WHERE seq = ${row.seq}`;
    const kept = keepBody(delivery.body);
    const known = await tx`
      UPDATE differing_bodies SET deliveries = deliveries + 1, last_received_at = ${delivery.receivedAt}
      WHERE event_seq = ${row.seq} AND sha256 = ${kept.sha256} RETURNING id`;
    if (known.length === 0) {
      await tx`
        INSERT INTO differing_bodies (event_seq, sha256, size, excerpt, truncated, headers, origin, first_received_at, last_received_at)
        SELECT ${row.seq}, ${kept.sha256}, ${delivery.body.byteLength}, ${kept.excerpt}, ${kept.truncated},
          ${JSON.stringify(delivery.headers)}, ${delivery.origin}, ${delivery.receivedAt}, ${delivery.receivedAt}
        WHERE (SELECT count(*) FROM differing_bodies WHERE event_seq = ${row.seq}) < ${MAX_DIFFERING_BODIES}`;
    }
  }
  return { event: toEvent(row), bodyDiffers };
}

export async function getEvent(sql: Sql, eventId: string): Promise<StoredEvent | undefined> {
  const [row] = await sql<EventRow[]>`SELECT * FROM events WHERE event_id = ${eventId}`;
  return row ? toEvent(row) : undefined;
}

const ID_MATCH = (p: string) => `(event_id = ${p} OR seq IN (SELECT seq FROM event_ids WHERE omise_id = ${p}))`;

export async function listEvents(sql: Sql, query: EventQuery): Promise<EventPage> {
  const before = parseCursor(query.cursor);
  const limit = normaliseLimit(query.limit);
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (before !== null) where.push(`seq < ${param(before)}`);
  if (query.key) {
    const pattern = keyPatternToSql(query.key);
    if (pattern) where.push(numbered(pattern.sql, params, pattern.params));
  }
  if (query.objectType) where.push(`object_type = ${param(query.objectType)}`);
  if (query.verification) where.push(`verification_status = ${param(query.verification)}`);
  const q = query.q?.trim();
  if (q) {
    if (looksLikeOmiseId(q)) where.push(ID_MATCH(param(q)));
    // Case-sensitive, in the bytes as they were sent (escapes included).
    else where.push(`position(${param(Buffer.from(q, 'utf8'))}::bytea in body) > 0`);
  }
  const text = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${param(limit + 1)}`;
  const rows = await sql.unsafe<EventRow[]>(text, params as never[]);
  const items = rows.slice(0, limit).map(toEvent);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
}

export async function eventsForObject(sql: Sql, objectId: string): Promise<StoredEvent[]> {
  const rows = await sql.unsafe<EventRow[]>(`SELECT * FROM events WHERE ${ID_MATCH('$1')} ORDER BY seq`, [objectId]);
  return rows.map(toEvent);
}

/** A feed position: the inserting transaction's id and the event's seq, `"<xid>.<seq>"`. */
function parseFeedPosition(cursor: string): { xid: string; seq: string } {
  const match = /^(\d{1,20})\.(\d{1,19})$/.exec(cursor);
  if (!match) throw new InvalidFeedCursorError(cursor);
  return { xid: match[1] as string, seq: match[2] as string };
}

function feedPosition(row: { xid: string; seq: string }): string {
  return `${row.xid}.${row.seq}`;
}

/**
 * Only events whose transaction is older than every transaction still running are fed: an
 * event that commits later can then never sort before one already fed, whichever instance
 * wrote it, so a reader that follows the position misses none and sees none twice.
 */
const SETTLED = 'xid < pg_snapshot_xmin(pg_current_snapshot())';

export async function eventFeed(sql: Sql, request: EventFeedRequest): Promise<EventFeedPage> {
  const limit = Math.max(1, Math.trunc(request.limit));
  let rows: EventRow[];
  if (request.after !== null) {
    const { xid, seq } = parseFeedPosition(request.after);
    rows = await sql.unsafe<EventRow[]>(
      `SELECT * FROM events WHERE (xid, seq) > ($1::xid8, $2::bigint) AND ${SETTLED} ORDER BY xid, seq LIMIT $3`,
      [xid, seq, limit],
    );
  } else if (request.receivedSince !== undefined) {
    rows = await sql.unsafe<EventRow[]>(
      `SELECT * FROM events WHERE received_at >= $1 AND ${SETTLED} ORDER BY xid, seq LIMIT $2`,
      [request.receivedSince, limit],
    );
  } else {
    rows = await sql.unsafe<EventRow[]>(`SELECT * FROM events WHERE ${SETTLED} ORDER BY xid, seq LIMIT $1`, [limit]);
  }
  const last = rows.at(-1);
  return { items: rows.map(toEvent), cursor: last ? feedPosition(last) : request.after };
}

export async function eventFeedHead(sql: Sql): Promise<string | null> {
  const [row] = await sql.unsafe<{ xid: string; seq: string }[]>(
    `SELECT xid, seq FROM events WHERE ${SETTLED} ORDER BY xid DESC, seq DESC LIMIT 1`,
  );
  return row ? feedPosition(row) : null;
}

export async function updateVerification(
  tx: Sql,
  eventId: string,
  verification: VerificationOutcome,
  omiseCopy: OmiseCopy | undefined,
): Promise<boolean> {
  const rows = await tx`
    UPDATE events SET verification = ${JSON.stringify(verification)}, verification_status = ${verification.status},
      omise_copy = COALESCE(${omiseCopy ? JSON.stringify(omiseCopy) : null}, omise_copy)
    WHERE event_id = ${eventId} RETURNING seq`;
  return rows.length > 0;
}

export async function pendingVerifications(sql: Sql, limit: number): Promise<StoredEvent[]> {
  const rows = await sql<EventRow[]>`
    SELECT * FROM events WHERE verification_status = 'pending' ORDER BY seq LIMIT ${limit}`;
  return rows.map(toEvent);
}

interface DifferingRow {
  sha256: string;
  size: number;
  excerpt: Buffer;
  truncated: boolean;
  headers: string;
  origin: string;
  first_received_at: string;
  last_received_at: string;
  deliveries: number;
}

export async function listDifferingBodies(sql: Sql, eventId: string): Promise<DifferingBody[]> {
  const rows = await sql<DifferingRow[]>`
    SELECT d.* FROM differing_bodies d JOIN events e ON e.seq = d.event_seq
    WHERE e.event_id = ${eventId} ORDER BY d.id`;
  return rows.map((row) => ({
    sha256: row.sha256,
    size: row.size,
    excerpt: row.excerpt,
    truncated: row.truncated,
    headers: JSON.parse(row.headers) as HeaderList,
    origin: row.origin as EventOrigin,
    firstReceivedAt: row.first_received_at,
    lastReceivedAt: row.last_received_at,
    deliveries: row.deliveries,
  }));
}

/** Binary order, as the other stores sort the names. */
function byName([a]: [string, number], [b]: [string, number]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every instance's events and rejections: the counts are the database's. */
export async function stats(sql: Sql): Promise<StoreStats> {
  const [keys, verifications, [rejected]] = await Promise.all([
    sql<{ name: string; n: string }[]>`SELECT key AS name, count(*) AS n FROM events GROUP BY key`,
    sql<
      { name: string; n: string }[]
    >`SELECT verification_status AS name, count(*) AS n FROM events GROUP BY verification_status`,
    sql<{ n: string }[]>`SELECT count(*) AS n FROM rejections`,
  ]);
  const counts = (rows: { name: string; n: string }[]) =>
    Object.fromEntries(rows.map((row) => [row.name, Number(row.n)] as [string, number]).sort(byName));
  const byKey = counts(keys);
  return {
    total: Object.values(byKey).reduce((sum, n) => sum + n, 0),
    byKey,
    byVerification: counts(verifications),
    rejected: Number(rejected?.n ?? 0),
  };
}

/** Retention, as the contract says: oldest first, at most `limit`, keeping events whose forward waits. */
export async function pruneEvents(tx: Sql, request: PruneRequest): Promise<PruneResult> {
  const limit = Math.max(1, Math.floor(request.limit));
  let beyondSeq = 0;
  if (request.keepNewest !== undefined) {
    const [row] = await tx<{ seq: string }[]>`
      SELECT seq FROM events ORDER BY seq DESC OFFSET ${Math.max(0, Math.floor(request.keepNewest))} LIMIT 1`;
    beyondSeq = row ? Number(row.seq) : 0;
  }
  const removed: string[] = [];
  let next: number | null = null;
  let after = request.after ?? 0;
  scan: for (;;) {
    const rows = await tx<{ seq: string; event_id: string; received_at: string; waiting: boolean }[]>`
      SELECT seq, event_id, received_at, EXISTS (
        SELECT 1 FROM forward_jobs j WHERE j.event_id = e.event_id AND j.state IN ('held', 'pending')) AS waiting
      FROM events e WHERE seq > ${after} ORDER BY seq LIMIT 500`;
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = Number(row.seq);
      after = seq;
      const outside =
        seq <= beyondSeq || (request.receivedBefore !== undefined && row.received_at < request.receivedBefore);
      if (!outside) break scan;
      if (row.waiting) continue;
      removed.push(row.event_id);
      if (removed.length >= limit) {
        next = seq;
        break scan;
      }
    }
  }
  if (removed.length === 0) return { removed: [], next };
  await tx`DELETE FROM forward_attempts WHERE event_id = ANY(${removed}::text[])`;
  await tx`DELETE FROM forward_jobs WHERE event_id = ANY(${removed}::text[])`;
  await tx`DELETE FROM events WHERE event_id = ANY(${removed}::text[])`;
  return { removed, next };
}
