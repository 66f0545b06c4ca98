import type Database from 'better-sqlite3';
import { type Clock, systemClock, systemTimers, type Timers } from '../../core/ports.js';

/**
 * A trigram index over event bodies for `q` text search, so finding text in 100,000 stored
 * events takes milliseconds instead of a full scan of every body.
 *
 * The index only narrows the candidates: every match is still confirmed with `instr` on the
 * stored bytes, so results are exactly those of a plain scan (and of the memory store).
 *
 * Indexing a body costs about 0.3 ms, fifteen times the insert itself, so it is kept off
 * the webhook hot path: bodies are indexed in small batches once writes have paused, up to
 * a watermark (`indexed_through`) committed in the same transaction as the index rows. A
 * search covers the indexed events through the index and scans only the newer tail.
 */
export const TEXT_SEARCH_SCHEMA = `
CREATE VIRTUAL TABLE IF NOT EXISTS events_text USING fts5(
  body, content='', detail='none', tokenize='trigram case_sensitive 1'
);
CREATE TABLE IF NOT EXISTS events_text_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_through INTEGER NOT NULL
);
INSERT OR IGNORE INTO events_text_state (id, indexed_through) VALUES (1, 0);
`;

/**
 * One background slice: at most this many bodies and (past the first) this many bytes. Indexing
 * costs about 0.3 ms per 3 KB body here (about 0.1 ms/KB), so a slice is at most about 3 ms of
 * the event loop and a webhook arriving meanwhile waits at most that long (issue 16: event-loop
 * delay under 5 ms). A single larger body is still indexed whole: it cannot be split.
 * Measured on 8,000 bench bodies in slices of 8 on the shared 2-core machine: p50 0.4 ms a
 * slice, p99 11 ms, max 47 ms. Whether that tail is FTS5's segment merges (they run inside a
 * slice's commit) or the thread being preempted was not settled: FTS5's automerge, crisismerge
 * and explicit 'merge' settings tried did not lower it. Indexing runs only once writes have
 * paused, so such a slice falls on the first webhooks after a pause; the index in its own
 * database file, written by a worker thread, is what would take it off the loop entirely.
 */
export const TEXT_INDEX_SLICE = { bodies: 8, bytes: 24 * 1024 } as const;
/** At most this many trigrams are asked of the index; the `instr` check does the rest. */
const MAX_TRIGRAMS = 16;

/**
 * The query for the index: some of the text's trigrams, all required. With `detail='none'`
 * the index cannot check that they are adjacent, so this finds a superset of the matches.
 * Returns null for text shorter than three characters, which the index cannot help with.
 */
export function trigramMatchQuery(text: string): string | null {
  const chars = [...text];
  if (chars.length < 3) return null;
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) grams.add(chars.slice(i, i + 3).join(''));
  let picked = [...grams];
  if (picked.length > MAX_TRIGRAMS) {
    const step = picked.length / MAX_TRIGRAMS;
    picked = Array.from({ length: MAX_TRIGRAMS }, (_, i) => picked[Math.floor(i * step)] as string);
  }
  return picked.map((gram) => `"${gram.replaceAll('"', '""')}"`).join(' AND ');
}

export interface TextSearchOptions {
  /** How long writes must have paused before indexing runs (default 250 ms). */
  idleMs?: number;
  /**
   * Told when a background batch fails (a full disk): indexing runs in a timer, where a throw
   * would end the process. It stops until `schedule()` is called again. Rethrow to crash.
   */
  onError?: (error: unknown) => void;
  /** Background indexing waits while this says no (the store is faulted). */
  canWrite?: () => boolean;
  /** Time and timers; tests pass a FakeClock. */
  clock?: Clock;
  timers?: Timers;
}

export class SqliteTextSearch {
  readonly #db: Database.Database;
  readonly #idleMs: number;
  #indexedThrough: number;
  #lastWriteAt = 0;
  readonly #clock: Clock;
  readonly #timers: Timers;
  #timer: unknown = null;
  #stopped = false;
  readonly #onError: (error: unknown) => void;
  readonly #canWrite: () => boolean;
  readonly #statements;

  constructor(db: Database.Database, options: TextSearchOptions = {}) {
    this.#db = db;
    this.#idleMs = options.idleMs ?? 250;
    this.#onError = options.onError ?? (() => {});
    this.#canWrite = options.canWrite ?? (() => true);
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    db.exec(TEXT_SEARCH_SCHEMA);
    this.#statements = {
      state: db.prepare<[], { indexed_through: number }>('SELECT indexed_through FROM events_text_state WHERE id = 1'),
      setState: db.prepare('UPDATE events_text_state SET indexed_through = ? WHERE id = 1'),
      unindexed: db.prepare<[number, number], { seq: number; body: Buffer }>(
        'SELECT seq, body FROM events WHERE seq > ? ORDER BY seq ASC LIMIT ?',
      ),
      insert: db.prepare('INSERT INTO events_text (rowid, body) VALUES (?, ?)'),
    };
    this.#indexedThrough = (this.#statements.state.get() as { indexed_through: number }).indexed_through;
    this.schedule();
  }

  /** Every event with a seq up to this one is in the index. */
  get indexedThrough(): number {
    return this.#indexedThrough;
  }

  /** Called after writes: indexing waits until they pause. */
  noteWrite(): void {
    this.#lastWriteAt = this.#clock.now();
    this.schedule();
  }

  schedule(delayMs = this.#idleMs): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      this.#runWhenIdle();
    }, delayMs);
  }

  #runWhenIdle(): void {
    if (this.#stopped) return;
    const quietFor = this.#clock.now() - this.#lastWriteAt;
    if (quietFor < this.#idleMs) {
      this.schedule(this.#idleMs - quietFor);
      return;
    }
    // Faulted: the store calls schedule() again once it recovers.
    if (!this.#canWrite()) return;
    let more: boolean;
    try {
      more = this.indexSlice() > 0;
    } catch (error) {
      // Nothing was committed (the watermark moves with the rows), so the next batch redoes it.
      this.#onError(error);
      return;
    }
    // The next slice in a later turn (re-checking that writes still pause), never in this one.
    if (more) this.schedule(0);
  }

  /** One background slice (TEXT_INDEX_SLICE); returns how many bodies it indexed. */
  indexSlice(): number {
    return this.indexBatch(TEXT_INDEX_SLICE.bodies, TEXT_INDEX_SLICE.bytes);
  }

  /**
   * Indexes up to `limit` not yet indexed bodies, stopping before the one that would take the
   * total past `maxBytes` (the first is always indexed); returns how many it indexed.
   */
  indexBatch(limit: number, maxBytes = Number.POSITIVE_INFINITY): number {
    const s = this.#statements;
    const indexed = this.#db.transaction(() => {
      // The watermark is read inside the transaction: another process on the same file (an
      // `events` command) may have indexed some already, and a body must never be indexed twice.
      const from = (s.state.get() as { indexed_through: number }).indexed_through;
      const rows = s.unindexed.all(from, limit);
      if (rows.length === 0) return { count: 0, through: from };
      let count = 0;
      let bytes = 0;
      let through = from;
      for (const row of rows) {
        if (count > 0 && bytes + row.body.byteLength > maxBytes) break;
        // Bodies of accepted events are valid UTF-8 (they parsed as JSON), so the text is exact.
        s.insert.run(row.seq, row.body.toString('utf8'));
        count += 1;
        bytes += row.body.byteLength;
        through = row.seq;
      }
      s.setState.run(through);
      return { count, through };
    })();
    // Only once committed: searches trust the index up to here.
    this.#indexedThrough = indexed.through;
    return indexed.count;
  }

  /** Indexes everything now (benchmarks and tests; `serve` lets it happen in the background). */
  catchUp(): number {
    let total = 0;
    for (let n = this.indexBatch(1000); n > 0; n = this.indexBatch(1000)) total += n;
    return total;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
