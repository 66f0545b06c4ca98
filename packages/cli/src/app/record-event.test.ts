import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import { Notifier } from '../core/notifier.js';
import { makeDelivery } from '../testing/delivery-fixtures.js';
import { recordEvent } from './record-event.js';

describe('recordEvent: the answer does not wait for the listeners', () => {
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
  });
});
