import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { temporaryDirectory } from '../../testing/test-server.js';
import { rewriteUserVersion } from './sqlite-schema.js';

describe('rewriteUserVersion', () => {
  it('changes nothing, yet puts one page in the log, where setting a column to its own value puts none', () => {
    const filename = join(temporaryDirectory('omise-webhook-schema-'), 'store.sqlite');
    const db = new Database(filename);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE state (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO state VALUES (1, 7)');
      db.pragma('user_version = 3');
      db.pragma('wal_checkpoint(TRUNCATE)');
      const logSize = () => statSync(`${filename}-wal`).size;
      assert.equal(logSize(), 0);

      db.prepare('UPDATE state SET n = n WHERE id = 1').run();
      assert.equal(logSize(), 0, 'SQLite skipped the unchanged cell');

      db.transaction(() => rewriteUserVersion(db))();
      // The log's 32-byte header, then one frame: a 24-byte frame header and the 4,096-byte page.
      assert.equal(logSize(), 32 + 24 + 4096);
      assert.equal(db.pragma('user_version', { simple: true }), 3);
      assert.deepEqual(db.prepare('SELECT id, n FROM state').all(), [{ id: 1, n: 7 }]);
    } finally {
      db.close();
    }
  });
});
