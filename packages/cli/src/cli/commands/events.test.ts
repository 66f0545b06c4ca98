import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../adapters/store/sqlite-event-store.js';
import { storeFile } from '../../app/server.js';
import { eventBody, makeDelivery } from '../../testing/delivery-fixtures.js';
import { runCli } from '../../testing/run-cli.js';
import { temporaryDirectory } from '../../testing/test-server.js';

describe('events show: the same id delivered with another body', () => {
  it('says the body differed, how, and keeps the first copy as the body', async () => {
    const logDir = join(temporaryDirectory(), 'log');
    const store = new SqliteEventStore({ filename: storeFile(logDir) });
    const eventId = 'evnt_test_5xshowdiff1';
    const first = makeDelivery({ eventId, body: Buffer.from(eventBody({ eventId })) });
    const changed = eventBody({ eventId }).replace('"amount": 100000', '"amount": 5');
    await store.recordDelivery(first);
    await store.recordDelivery({ ...first, body: Buffer.from(changed), receivedAt: '2026-11-26T09:00:00.000Z' });
    const plainId = 'evnt_test_5xshowplain1';
    const plain = makeDelivery({ eventId: plainId });
    await store.recordDelivery(plain);
    await store.recordDelivery(plain);
    await store.close();

    const shown = await runCli(['events', 'show', eventId, '--log-dir', logDir]);
    assert.equal(shown.code, 0, shown.stderr);
    const lines = shown.stdout.split('\n');
    const at = lines.findIndex((line) => line.startsWith('BODY DIFFERS'));
    assert.deepEqual(lines.slice(at, at + 9), [
      'BODY DIFFERS: 1 later delivery of this id carried a different body than the first copy (shown under body:)',
      `  #1: ${Buffer.byteLength(changed)} bytes, sha256 ${createHash('sha256').update(changed).digest('hex')}, 1 delivery, first 2026-11-26T09:00:00.000Z`,
      '     differs at data.amount',
      '     …',
      '           "id": "chrg_test_5xfixture0001",',
      '           "livemode": false,',
      '           "description": "ค่าสินค้า order 3947 — テスト",',
      '     -     "amount": 100000,',
      '     +     "amount": 5,',
    ]);
    assert.ok(shown.stdout.endsWith(`body:\n${eventBody({ eventId })}\n`), 'the body shown is the first copy');

    const json = JSON.parse((await runCli(['events', 'show', eventId, '--json', '--log-dir', logDir])).stdout);
    assert.equal(json.bodyDiffers, true);
    assert.equal(json.differingDeliveries, 1);
    assert.deepEqual(json.differingBodies[0].differences, ['data.amount']);

    const other = await runCli(['events', 'show', plainId, '--log-dir', logDir]);
    assert.doesNotMatch(other.stdout, /BODY DIFFERS/);
    assert.match(other.stdout, /delivered 2 times/);
    const listed = await runCli(['events', 'list', '--log-dir', logDir]);
    assert.match(listed.stdout, new RegExp(`${eventId} .* ×2 body differs\\n`));
    assert.doesNotMatch(listed.stdout, new RegExp(`${plainId} .*body differs`));
  });
});
