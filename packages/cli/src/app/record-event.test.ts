import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import { Notifier } from '../core/notifier.js';
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

  it('resolves before event.stored is told; the listeners hear it at the next turn', async () => {
    const store = new MemoryEventStore();
    const notifier = new Notifier();
    const heard: string[] = [];
    notifier.subscribe((n) => {
      if (n.type === 'event.stored') heard.push(n.event.eventId);
    });
    const delivery = makeDelivery({ eventId: 'evnt_test_5xrecordsoon' });
    const result = await recordEvent({ store, notifier }, delivery);
    assert.equal(result.event.eventId, 'evnt_test_5xrecordsoon');
    assert.deepEqual(heard, [], 'nothing was told before the caller could answer');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(heard, ['evnt_test_5xrecordsoon']);
    await store.close();
  });
});
