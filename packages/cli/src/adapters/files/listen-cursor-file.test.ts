import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporaryDirectory } from '../../testing/test-server.js';
import { ListenCursorFile, listenCursorPath } from './listen-cursor-file.js';

const FROM = 'https://hooks.example.com/';

describe('ListenCursorFile', () => {
  it('saves a position that the next load reads back, leaving no temporary file', async () => {
    const logDir = temporaryDirectory();
    const file = listenCursorPath(logDir, 'ana');
    assert.equal(file, join(logDir, 'listen', 'ana.json'));
    mkdirSync(join(logDir, 'listen'));
    const cursor = new ListenCursorFile({ file, from: FROM });
    assert.equal(await cursor.load(), null);
    assert.equal(cursor.ignoredReason, null);
    await cursor.save('41');
    await cursor.save('42');
    assert.equal(await new ListenCursorFile({ file, from: FROM }).load(), '42');
    assert.deepEqual(readdirSync(join(logDir, 'listen')), ['ana.json']);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(saved), ['version', 'from', 'cursor', 'savedAt']);
  });

  it('does not resume from a position on another server or from a file that is not one, and says why', async () => {
    const logDir = temporaryDirectory();
    mkdirSync(join(logDir, 'listen'));
    const file = listenCursorPath(logDir, 'bo');
    await new ListenCursorFile({ file, from: 'http://127.0.0.1:3001/' }).save('7');
    const other = new ListenCursorFile({ file, from: FROM });
    assert.equal(await other.load(), null);
    assert.equal(other.ignoredReason, `${file} holds a position on http://127.0.0.1:3001/, not ${FROM}`);
    writeFileSync(file, 'garbage');
    const broken = new ListenCursorFile({ file, from: FROM });
    assert.equal(await broken.load(), null);
    assert.equal(broken.ignoredReason, `${file} is not JSON`);
  });
});
