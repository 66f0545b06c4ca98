import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { eventFilePath } from '../adapters/files/event-file-mirror.js';
import { SqliteEventStore } from '../adapters/store/sqlite-event-store.js';
import { eventBody, makeDelivery } from '../testing/delivery-fixtures.js';
import { rawRequest } from '../testing/http.js';
import { realisticDeliveries } from '../testing/realistic-events.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { startTestServer, temporaryDirectory } from '../testing/test-server.js';
import { RETENTION_SLICE, Retention } from './retention.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('Retention', () => {
  it('removes what is older than --retain in small batches, yielding between them, and reports once', async () => {
    const store = new SqliteEventStore({
      filename: join(temporaryDirectory(), 'retain.sqlite'),
      pruning: true,
      checkpointIntervalMs: 0,
    });
    const old = [...realisticDeliveries({ count: 300, idTag: 'retain' })].map((delivery, index) => ({
      ...delivery,
      receivedAt: new Date(NOW - 2 * HOUR + index).toISOString(),
    }));
    for (const delivery of old) await store.recordDelivery(delivery);
    const recent = makeDelivery({ receivedAt: new Date(NOW - HOUR / 2).toISOString() });
    await store.recordDelivery(recent);
    store.catchUpTextSearch();

    const batches: number[] = [];
    // How long the event loop is held at a time: what a webhook arriving meanwhile would wait.
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let turns = 0;
    const ticker = setInterval(() => {
      turns += 1;
    }, 0);
    const reports: string[] = [];
    const retention = new Retention({
      store,
      clock: { now: () => NOW },
      retainMs: HOUR,
      onRemoved: (ids) => {
        batches.push(ids.length);
      },
      report: (text) => reports.push(text),
    });
    delay.enable();
    const round = await retention.runOnce();
    delay.disable();
    clearInterval(ticker);
    assert.equal(round.removed, 300);
    assert.equal(RETENTION_SLICE, 4);
    assert.ok(
      batches.every((size) => size <= RETENTION_SLICE),
      `batches of at most ${RETENTION_SLICE}: ${batches.join(',')}`,
    );
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      300,
    );
    assert.ok(turns >= 5, `timers ran between batches (${turns} turns)`);
    assert.deepEqual(reports, ['omise-webhook: retention removed 300 old events (and their files)']);
    assert.deepEqual(
      (await store.listEvents()).items.map((event) => event.eventId),
      [recent.eventId],
    );
    const p50 = delay.percentile(50) / 1e6;
    const p99 = delay.percentile(99) / 1e6;
    // Loose, on a shared machine: the loop is held a few ms at a time, never for the whole round.
    assert.ok(p50 < 20, `event-loop delay p50 ${p50.toFixed(1)} ms`);
    if (process.env.RETENTION_TIMES) {
      console.log(
        `event-loop delay during the round: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${(delay.max / 1e6).toFixed(2)} ms`,
      );
    }
    assert.deepEqual(await retention.runOnce(), { removed: 0 });
    await store.close();
  });

  it('serve --max-events: the oldest events and their files go, the newest stay', async () => {
    const server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET], maxEvents: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const eventId = `evnt_test_5xretain${Date.now().toString(36)}${i}`;
      const body = eventBody({ eventId });
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await rawRequest({
        url: server.webhookUrl,
        headers: [
          ['Omise-Signature-Timestamp', String(timestamp)],
          ['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, timestamp, body)],
        ],
        body,
      });
      assert.equal(response.status, 200);
      ids.push(eventId);
    }
    await server.mirror?.idle();
    for (const id of ids) assert.ok(existsSync(eventFilePath(server.config.logDir, id) as string));
    assert.deepEqual(await server.retention?.runOnce(), { removed: 2 });
    for (const id of ids.slice(0, 2)) {
      assert.equal(await server.store.getEvent(id), undefined);
      assert.equal(existsSync(eventFilePath(server.config.logDir, id) as string), false, `${id}.json removed`);
    }
    for (const id of ids.slice(2)) {
      assert.ok(await server.store.getEvent(id));
      assert.ok(existsSync(eventFilePath(server.config.logDir, id) as string));
    }
    assert.match(server.stderr.text, /retention removed 2 old events/);
    await server.close();
  });
});
