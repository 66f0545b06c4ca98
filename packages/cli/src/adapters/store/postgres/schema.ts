/**
 * The schema, as numbered steps applied once each. Several instances may start together on one
 * database: each takes the same advisory lock first, so one applies the steps and the others
 * find them done. A database migrated by a newer omise-webhook is refused, never half-used.
 */
import type postgres from 'postgres';
import type { Sql } from './connection.js';

/** Any constant both sides agree on; "omise-webhook schema" in a 64-bit key. */
const MIGRATION_LOCK = 0x6f6d697365_0001n;

const STEPS: readonly string[] = [
  // 1: events, their lookup ids and differing copies, rejections, the forward queue.
  `
  CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The inserting transaction: the feed follows (xid, seq), which is commit-safe across writers.
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id text NOT NULL UNIQUE,
    key text NOT NULL,
    livemode boolean NOT NULL,
    object_type text NOT NULL,
    object_id text,
    created_at text,
    received_at text NOT NULL,
    last_received_at text NOT NULL,
    delivery_count integer NOT NULL DEFAULT 1,
    body bytea NOT NULL,
    headers text NOT NULL,
    verification text NOT NULL,
    verification_status text NOT NULL,
    omise_copy text,
    origin text NOT NULL,
    differing_deliveries integer NOT NULL DEFAULT 0
  );
  CREATE INDEX events_feed ON events (xid, seq);
  CREATE INDEX events_by_key ON events (key, seq);
  CREATE INDEX events_by_object_type ON events (object_type, seq);
  CREATE INDEX events_by_verification ON events (verification_status, seq);
  CREATE INDEX events_by_received_at ON events (received_at);
  CREATE TABLE event_ids (
    omise_id text NOT NULL,
    seq bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    PRIMARY KEY (omise_id, seq)
  );
  CREATE INDEX event_ids_by_seq ON event_ids (seq);
  CREATE TABLE differing_bodies (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_seq bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    sha256 text NOT NULL,
    size integer NOT NULL,
    excerpt bytea NOT NULL,
    truncated boolean NOT NULL,
    headers text NOT NULL,
    origin text NOT NULL,
    first_received_at text NOT NULL,
    last_received_at text NOT NULL,
    deliveries integer NOT NULL DEFAULT 1,
    UNIQUE (event_seq, sha256)
  );
  CREATE TABLE rejections (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at text NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    remote_address text,
    headers text NOT NULL,
    body bytea NOT NULL,
    body_size bigint NOT NULL,
    body_truncated boolean NOT NULL,
    body_sha256 text,
    status integer NOT NULL,
    code text NOT NULL,
    reason text NOT NULL,
    hint text,
    event_id text,
    kept_bytes bigint NOT NULL
  );
  CREATE SEQUENCE forward_queue_seq;
  CREATE TABLE forward_jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id text NOT NULL,
    target text NOT NULL,
    state text NOT NULL,
    queue_seq bigint NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    attempts_in_plan integer NOT NULL DEFAULT 0,
    due_at bigint NOT NULL,
    created_at text NOT NULL,
    last_error text,
    finished_at text,
    -- Who is sending it, until when (ms since the epoch): a lease, so a dead instance's jobs go on.
    lease_owner text,
    lease_until bigint
  );
  CREATE INDEX forward_jobs_queue ON forward_jobs (state, target, queue_seq);
  CREATE INDEX forward_jobs_by_event ON forward_jobs (event_id);
  CREATE INDEX forward_jobs_by_owner ON forward_jobs (lease_owner) WHERE lease_owner IS NOT NULL;
  CREATE TABLE forward_attempts (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id bigint,
    event_id text NOT NULL,
    target text NOT NULL,
    kind text NOT NULL,
    replay_mode text,
    attempt integer NOT NULL,
    started_at text NOT NULL,
    latency_ms double precision NOT NULL,
    status integer,
    response_excerpt bytea,
    response_truncated boolean NOT NULL DEFAULT false,
    error text,
    outcome text NOT NULL,
    reason text,
    next_attempt_at text
  );
  CREATE INDEX forward_attempts_by_event ON forward_attempts (event_id, seq);
  `,
];

/** The schema version this code writes and reads. */
export const POSTGRES_SCHEMA_VERSION: number = STEPS.length;

/** Thrown when the database was migrated by a newer omise-webhook. */
export class NewerSchemaError extends Error {
  override readonly name = 'NewerSchemaError';
  constructor(
    readonly where: string,
    readonly found: number,
  ) {
    super(
      `the database ${where} has schema version ${found}, which is newer than this omise-webhook knows (${POSTGRES_SCHEMA_VERSION}); upgrade omise-webhook (every instance on one database must run the same or a newer version)`,
    );
  }
}

/** The oldest server the schema runs on: the feed needs `xid8` and `pg_current_xact_id()` (13). */
export const MINIMUM_SERVER_VERSION_NUM = 130000;

/** Thrown when the server is older than `MINIMUM_SERVER_VERSION_NUM`. */
export class UnsupportedServerError extends Error {
  override readonly name = 'UnsupportedServerError';
  constructor(where: string, version: string) {
    super(
      `the PostgreSQL server of ${where} is version ${version}, and omise-webhook needs 13 or newer (its event feed uses pg_current_xact_id()); upgrade the server or use another one`,
    );
  }
}

/** Refuses a server too old for the schema, before anything is created on it. */
export function checkServerVersion(where: string, versionNum: number, version: string): void {
  if (versionNum < MINIMUM_SERVER_VERSION_NUM) throw new UnsupportedServerError(where, version);
}

/** The schema version of a database, or null when omise-webhook never migrated it. */
export async function readSchemaVersion(sql: Sql): Promise<number | null> {
  const [table] = await sql`SELECT to_regclass('omise_webhook_schema') IS NOT NULL AS present`;
  if (!table?.present) return null;
  const [row] = await sql`SELECT max(version) AS version FROM omise_webhook_schema`;
  return row?.version === null || row?.version === undefined ? null : Number(row.version);
}

/**
 * Brings the database to `POSTGRES_SCHEMA_VERSION`: the missing steps in one transaction,
 * taken under the advisory lock. Returns the steps applied here (0 when another instance did them).
 */
export async function migrate(sql: postgres.Sql, where: string): Promise<number> {
  const [server] = await sql<{ num: string; version: string }[]>`
    SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version`;
  checkServerVersion(where, Number(server?.num), String(server?.version));
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await tx`CREATE TABLE IF NOT EXISTS omise_webhook_schema (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const current = (await readSchemaVersion(tx)) ?? 0;
    if (current > POSTGRES_SCHEMA_VERSION) throw new NewerSchemaError(where, current);
    for (let version = current + 1; version <= POSTGRES_SCHEMA_VERSION; version++) {
      await tx.unsafe(STEPS[version - 1] as string);
      await tx`INSERT INTO omise_webhook_schema (version) VALUES (${version})`;
    }
    return POSTGRES_SCHEMA_VERSION - current;
  });
}
