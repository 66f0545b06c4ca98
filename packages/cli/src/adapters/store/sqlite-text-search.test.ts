import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteTextSearch, TEXT_INDEX_SLICE } from './sqlite-text-search.js';

/** Only what the index reads of the store: sequence numbers and bodies. */
function storeWith(bodySizes: number[]): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO events (seq, body) VALUES (?, ?)');
  for (const [index, size] of bodySizes.entries()) {
    insert.run(index + 1, Buffer.from(`{"n":"${'x'.repeat(size - 8)}"}`));
  }
  return db;
}

describe('text indexing in the background: one slice per turn, a few ms at most', () => {
  it('indexes at most TEXT_INDEX_SLICE.bodies bodies per slice', () => {
    const db = storeWith(Array.from({ length: 20 }, () => 3_000));
    const index = new SqliteTextSearch(db, { idleMs: 60_000 });
    assert.deepEqual(TEXT_INDEX_SLICE, { bodies: 8, bytes: 24 * 1024 });
    assert.equal(index.indexSlice(), 8);
    assert.equal(index.indexedThrough, 8);
    assert.equal(index.indexSlice(), 8);
    assert.equal(index.indexSlice(), 4);
    assert.equal(index.indexSlice(), 0);
    assert.equal(index.indexedThrough, 20);
    index.stop();
  });

  it('stops before the body that would take a slice past TEXT_INDEX_SLICE.bytes, but always indexes one', () => {
    // 10 KB bodies: two fit in 24 KiB, a third would not.
    const db = storeWith([10_000, 10_000, 10_000, 100_000, 1_000]);
    const index = new SqliteTextSearch(db, { idleMs: 60_000 });
    assert.equal(index.indexSlice(), 2);
    assert.equal(index.indexSlice(), 1, 'the third 10 KB body, alone: the 100 KB one would pass the budget');
    assert.equal(index.indexSlice(), 1, 'a body larger than the budget is indexed whole, on its own');
    assert.equal(index.indexSlice(), 1);
    assert.equal(index.indexedThrough, 5);
    index.stop();
  });
});
