import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import { makeDelivery } from '../testing/delivery-fixtures.js';
import { recordEvent } from './record-event.js';

describe('recordEvent', () => {
  it("queues the matching forward targets with the event without changing the caller's delivery", async () => {
    const store = new MemoryEventStore({ maxRejections: 10 });
    const delivery = makeDelivery({ key: 'charge.create' });
    const before = { ...delivery };
    const routes = [
      { pattern: 'charge.*', url: 'http://127.0.0.1:1/charges' },
      { pattern: 'refund.*', url: 'http://127.0.0.1:1/refunds' },
    ];
    await recordEvent({ store, forwardRoutes: routes }, delivery);
    assert.deepEqual(delivery, before);
    assert.equal('forwardTargets' in delivery, false);
    const jobs = await store.listForwardJobs(delivery.eventId);
    assert.deepEqual(
      jobs.map((job) => [job.target, job.state]),
      [['http://127.0.0.1:1/charges', 'pending']],
    );
    await store.close();
  });
});
