// Property-based test for the inspector's query parameters (issue 12): whatever the query
// string or path parameter, every read route answers 200, 400 or 404, never 500. Run in process
// through the Hono app, against both stores (SQLite's text search takes `q`).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { EventStore } from '../../../core/ports.js';
import { makeDelivery, makeRejection } from '../../../testing/delivery-fixtures.js';
import { loopbackInspectorFor } from '../../../testing/inspector.js';
import { temporaryDirectory } from '../../../testing/test-server.js';
import { MemoryEventStore } from '../../store/memory-event-store.js';
import { SqliteEventStore } from '../../store/sqlite-event-store.js';

const PARAMETERS = ['key', 'object', 'verified', 'q', 'limit', 'cursor', 'lastEventId', 'token', 'x'] as const;

/** A parameter value: noise, near-misses and the values the API gives out. */
const value = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('charge.*', 'charge.create,refund.create', '*', 'charge', 'verified', '1', '0', '200', '-1', '1e3'),
  fc.constantFrom('"', "'", '*', 'NEAR(a b)', 'a OR', 'AND', '(', ')', '^', 'col:x', '"unterminated', '-x', '%', '\\'),
  fc.stringMatching(/^[0-9]{1,20}$/),
  fc.string({ maxLength: 600 }),
);

const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMETERS), fc.string({ maxLength: 10 })), value), { maxLength: 5 })
  .map((pairs) => new URLSearchParams(pairs).toString());

const routes = fc.oneof(
  fc.constantFrom('/api/events', '/api/rejected', '/api/stats', '/api/status'),
  fc
    .tuple(
      fc.constantFrom('/api/events/', '/api/objects/', '/api/rejected/'),
      fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('evnt_test_5xfixture0001', '1', '99')),
    )
    .map(([prefix, id]) => `${prefix}${encodeURIComponent(id)}${prefix === '/api/objects/' ? '/events' : ''}`),
);

async function seeded(store: EventStore): Promise<EventStore> {
  for (let i = 0; i < 3; i++) await store.recordDelivery(makeDelivery());
  await store.recordRejection(makeRejection());
  return store;
}

for (const kind of ['memory', 'sqlite'] as const) {
  describe(`inspector API (${kind} store): any query`, () => {
    let store: EventStore;
    before(async () => {
      store = await seeded(
        kind === 'memory'
          ? new MemoryEventStore({ maxRejections: 10 })
          : new SqliteEventStore({ filename: join(temporaryDirectory(), 'store.sqlite'), maxRejections: 10 }),
      );
    });
    after(() => store.close());

    it('answers 200, 400 or 404 with a JSON error, never 500', async () => {
      const inspector = loopbackInspectorFor(store);
      await fc.assert(
        fc.asyncProperty(routes, query, async (route, search) => {
          const url = `http://127.0.0.1:3001${route}${search === '' ? '' : `?${search}`}`;
          const response = await inspector.app.request(url, { headers: { Host: '127.0.0.1:3001' } });
          const text = await response.text();
          assert.ok([200, 400, 404].includes(response.status), `${url}: ${response.status} ${text}`);
          if (response.status !== 200) {
            const body = JSON.parse(text) as { error?: unknown; message?: unknown };
            assert.equal(typeof body.error, 'string');
            assert.equal(typeof body.message, 'string');
          }
        }),
        { numRuns: 300 },
      );
    });
  });
}
