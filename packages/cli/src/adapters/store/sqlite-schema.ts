/**
 * The SQLite store's layout: the tables, the steps that bring a file of an earlier version up to
 * date (`user_version`), and how the file is opened. The forward queue's and the text index's
 * tables are made by their own units (`sqlite-forward-queue.ts`, `sqlite-text-search.ts`).
 */

import Database from 'better-sqlite3';
import { storageFaultCodeOf } from '../../core/storage-health.js';
import { keepBody, rejectionKeptBytes } from './kept-body.js';

export const SCHEMA = `
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
export const PRUNING_INDEXES = `
CREATE INDEX IF NOT EXISTS event_omise_ids_by_event ON event_omise_ids (event_seq);
CREATE INDEX IF NOT EXISTS redeliveries_by_event ON redeliveries (event_seq);
`;

/** The layout this code writes; see upgradeSchema for what each version changed. */
export const STORE_VERSION = 3;

/** Makes the tables a new file lacks and upgrades an older one (both idempotent). */
export function applySchema(db: Database.Database): void {
  db.exec(SCHEMA);
  upgradeSchema(db);
}

/** The columns of a kept rejection that upgrading to version 2 rewrites. */
interface RejectionBodyRow {
  body: Buffer;
  body_size: number;
  headers: string;
  path: string;
  reason: string;
  hint: string | null;
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
export function upgradeSchema(db: Database.Database): void {
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
    if (version < 2) upgradeToVersion2(db);
    if (version < 3) upgradeToVersion3(db);
    db.pragma(`user_version = ${STORE_VERSION}`);
  })();
}

function upgradeToVersion3(db: Database.Database): void {
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

function upgradeToVersion2(db: Database.Database): void {
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
  const read = db.prepare<[number], RejectionBodyRow>('SELECT * FROM rejections WHERE seq = ?');
  const update = db.prepare(
    'UPDATE rejections SET body = ?, body_truncated = ?, body_sha256 = ?, kept_bytes = ? WHERE seq = ?',
  );
  for (const { seq } of seqs) {
    const row = read.get(seq) as RejectionBodyRow;
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
 * Opens the file in WAL mode. WAL needs a small shared-memory file beside the database
 * (`-shm`), which SQLite removes at a clean close; on a full disk it cannot be made again and
 * every read fails (SQLITE_IOERR_SHMSIZE). Then the connection is opened in exclusive locking
 * mode, which keeps that index in memory: the store starts degraded (reads work, writes wait
 * for space) and other processes (`events` commands) cannot open the file until `serve` restarts.
 */
export function openDatabase(filename: string): { db: Database.Database; openFault: unknown } {
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

/**
 * A write that changes nothing yet always puts a page in the log: it rewrites the header's
 * `user_version` with its own value (page 1). The recovery probe needs a write that really
 * reaches the disk; an UPDATE setting a column to its own value writes nothing, because SQLite
 * skips a cell whose bytes did not change. (The checkpointer thread, plain JavaScript, does the
 * same to start the log over.)
 */
export function rewriteUserVersion(db: Database.Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  db.pragma(`user_version = ${version}`);
}
