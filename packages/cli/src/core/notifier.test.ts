import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeDelivery } from '../testing/delivery-fixtures.js';
import { Notifier, type ReceiverNotification } from './notifier.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function updated(eventId: string): ReceiverNotification {
  const delivery = makeDelivery({ eventId });
  return { type: 'event.updated', event: { seq: 1, eventId, body: delivery.body } as never };
}

describe('Notifier.publishSoon: listeners run after the current turn, in order', () => {
  it('delivers at the next check phase, not during the turn that published', async () => {
    const notifier = new Notifier();
    const seen: string[] = [];
    notifier.subscribe((n) => seen.push(n.type === 'event.updated' ? n.event.eventId : n.type));
    notifier.publishSoon(updated('evnt_test_a'));
    notifier.publishSoon(updated('evnt_test_b'));
    await Promise.resolve();
    assert.deepEqual(seen, [], 'not in this turn, not even after its microtasks');
    await nextTurn();
    assert.deepEqual(seen, ['evnt_test_a', 'evnt_test_b']);
  });

  it('publish() delivers what is still queued first, so the order is kept', () => {
    const notifier = new Notifier();
    const seen: string[] = [];
    notifier.subscribe((n) => seen.push(n.type === 'event.updated' ? n.event.eventId : n.type));
    notifier.publishSoon(updated('evnt_test_a'));
    notifier.publish(updated('evnt_test_b'));
    assert.deepEqual(seen, ['evnt_test_a', 'evnt_test_b']);
  });

  it('flush() delivers the queue now, and each notification only once', async () => {
    const notifier = new Notifier();
    const seen: string[] = [];
    notifier.subscribe((n) => seen.push(n.type === 'event.updated' ? n.event.eventId : n.type));
    notifier.publishSoon(updated('evnt_test_a'));
    notifier.flush();
    assert.deepEqual(seen, ['evnt_test_a']);
    await nextTurn();
    assert.deepEqual(seen, ['evnt_test_a']);
  });
});
