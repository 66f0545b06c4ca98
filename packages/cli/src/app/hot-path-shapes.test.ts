import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The objects built for every webhook must share one hidden class (V8 "map") per kind. On this
 * Node, `{ ...fields, more }` (an object spread followed by more properties) gives every object
 * built by optimised code (all but the first few dozen) a hidden class of its own: each one a
 * new map in the old generation that points at the request's young objects, so every
 * young-generation collection kept a request's worth of objects alive per webhook (about 650 KB
 * copied and promoted per collection at 2,000/s, pauses of 4 ms instead of 1; see
 * docs/architecture.md, "Hot-path objects"). V8's %HaveSameMap tells, so the check runs in a
 * child with --allow-natives-syntax. The PostgreSQL store's event and the forwarder's attempt
 * records follow the same rule but need a database or a target; they are not built here.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const url = (path: string) => JSON.stringify(new URL(`file://${join(root, path)}`).href);

const PROBE = `
import { ingestWebhook } from ${url('core/ingest.ts')};
import { recordEvent } from ${url('app/record-event.ts')};
import { SqliteEventStore } from ${url('adapters/store/sqlite-event-store.ts')};
import { MemoryEventStore } from ${url('adapters/store/memory-event-store.ts')};
import { eventBody } from ${url('testing/delivery-fixtures.ts')};
import { signForTest, TEST_WEBHOOK_SECRET } from ${url('testing/signing.ts')};
const sameShape = new Function('a', 'b', 'return %HaveSameMap(a, b)');
const ROUNDS = 3000;
const now = Date.parse('2026-12-06T07:00:10.000Z');
const policy = { mode: 'signature', modeSource: 'configured', webhookSecrets: [TEST_WEBHOOK_SECRET], toleranceSec: 300, allowLive: false };
const kinds = [['charge.create', 'chrg_test_5xshape0001'], ['refund.create', 'rfnd_test_5xshape0002'], ['customer.update', 'cust_test_5xshape0003'], ['charge.complete', 'chrg_test_5xshape0004']];
const deliveries = [];
// Thousands: the first objects of a shape are built by unoptimised code, which shares a class.
for (let index = 0; index < ROUNDS; index++) {
  const [key, objectId] = kinds[index % kinds.length];
  const body = eventBody({ eventId: 'evnt_test_5xshape' + index, key, objectId });
  const timestamp = Math.floor(now / 1000);
  const decision = await ingestWebhook({
    body: Buffer.from(body),
    headers: [['Content-Type', 'application/json'], ['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, timestamp, body)], ['Omise-Signature-Timestamp', String(timestamp)]],
    receivedAt: new Date(now),
  }, policy, {});
  if (decision.kind !== 'accept') throw new Error(JSON.stringify(decision));
  deliveries.push(decision.delivery);
}
const stored = [];
const store = { recordDelivery: async (delivery) => { stored.push(delivery); return { event: {}, duplicate: false }; } };
for (const delivery of deliveries) {
  await recordEvent({ store, forwardRoutes: [{ pattern: '*', url: 'http://127.0.0.1:1/hook' }] }, delivery);
}
// The event each embedded store answers with (what the notifier, files and inspector get).
const storedEvents = async (store) => {
  const events = [];
  for (const delivery of deliveries) events.push((await store.recordDelivery(delivery)).event);
  await store.close();
  return events;
};
const sqliteEvents = await storedEvents(new SqliteEventStore({ filename: ':memory:' }));
const memoryEvents = await storedEvents(new MemoryEventStore());
// How many of the last 100 objects have the hidden class of the one before (100: all share one).
const sharing = (objects) => objects.slice(-101).filter((object, i, last) => i > 0 && sameShape(object, last[i - 1])).length;
console.log(JSON.stringify({
  differentShapesShare: sameShape({ a: 1 }, { b: 1 }),
  deliveries: sharing(deliveries),
  forwardedCopies: stored.length === ROUNDS && stored.at(-1) !== deliveries.at(-1) ? sharing(stored) : -1,
  sqliteEvents: sqliteEvents.length === ROUNDS ? sharing(sqliteEvents) : -1,
  memoryEvents: memoryEvents.length === ROUNDS ? sharing(memoryEvents) : -1,
}));
`;

function probe(): Record<string, number | boolean> {
  const run = spawnSync(
    process.execPath,
    ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', PROBE],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) as string);
}

describe('objects built for every webhook', () => {
  it('share one hidden class per kind: the delivery ingest builds, the copy that carries forward jobs, and the event each embedded store returns', () => {
    const result = probe();
    const detail = JSON.stringify(result);
    // The check itself can fail: it tells two different shapes apart.
    assert.equal(result.differentShapesShare, false, detail);
    assert.equal(result.deliveries, 100, `deliveries got hidden classes of their own: ${detail}`);
    assert.equal(result.forwardedCopies, 100, `forwarded copies got hidden classes of their own: ${detail}`);
    assert.equal(result.sqliteEvents, 100, `the SQLite store's events got hidden classes of their own: ${detail}`);
    assert.equal(result.memoryEvents, 100, `the memory store's events got hidden classes of their own: ${detail}`);
  });
});
