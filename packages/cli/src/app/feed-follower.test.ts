import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import type { EventFeedPage, EventFeedRequest, StoredEvent } from '../core/ports.js';
import { makeDelivery } from '../testing/delivery-fixtures.js';
import { FakeClock } from '../testing/fake-clock.js';
import { FeedFollower, LocalWrites } from './feed-follower.js';

/** A store whose feed reads can be made to fail, standing in for a database that went away. */
class FlakyFeed extends MemoryEventStore {
  failing = false;
  reads = 0;
  override eventFeed(request: EventFeedRequest): Promise<EventFeedPage> {
    this.reads += 1;
    if (this.failing) return Promise.reject(new Error('the database cannot be reached'));
    return super.eventFeed(request);
  }
}

function follow(store: FlakyFeed, options: { isOwn?: (id: string) => boolean; pageSize?: number } = {}) {
  const clock = new FakeClock(0);
  const published: string[] = [];
  const errors: string[] = [];
  let wake = () => {};
  const follower = new FeedFollower({
    store,
    watch: (listener) => {
      wake = listener;
      return () => {
        wake = () => {};
      };
    },
    isOwn: options.isOwn ?? (() => false),
    publish: (event: StoredEvent) => published.push(event.eventId),
    timers: clock,
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    onError: (error) => errors.push(String(error)),
  });
  return { follower, clock, published, errors, wake: () => wake() };
}

describe('FeedFollower', () => {
  it('starts at the head: what was stored before is not published again; then everything new, in order', async () => {
    const store = new FlakyFeed();
    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_before1' }));
    const { follower, published } = follow(store, { pageSize: 2 });
    await follower.start();
    for (const id of ['evnt_test_new1', 'evnt_test_new2', 'evnt_test_new3']) {
      await store.recordDelivery(makeDelivery({ eventId: id }));
    }
    await follower.wake();
    assert.deepEqual(published, ['evnt_test_new1', 'evnt_test_new2', 'evnt_test_new3']);
    await follower.wake();
    assert.deepEqual(published.length, 3, 'nothing twice');
    await follower.stop();
  });

  it("skips this instance's own events, and is woken by the watcher and by the poll", async () => {
    const store = new FlakyFeed();
    const own = new Set(['evnt_test_mine']);
    const { follower, clock, published, wake } = follow(store, { isOwn: (id) => own.delete(id) });
    await follower.start();
    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_mine' }));
    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_theirs' }));
    wake();
    await follower.wake();
    assert.deepEqual(published, ['evnt_test_theirs']);
    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_polled' }));
    assert.deepEqual(clock.pending, [1_000]);
    clock.fire(1_000);
    await follower.wake();
    assert.deepEqual(published, ['evnt_test_theirs', 'evnt_test_polled']);
    await follower.stop();
    assert.deepEqual(clock.pending, [], 'the poll stops with the follower');
  });

  it('reports a failed read and catches up from the same place once reads work again', async () => {
    const store = new FlakyFeed();
    const { follower, published, errors } = follow(store);
    await follower.start();
    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_during1' }));
    store.failing = true;
    await follower.wake();
    assert.deepEqual(errors, ['Error: the database cannot be reached']);
    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_during2' }));
    store.failing = false;
    await follower.wake();
    assert.deepEqual(published, ['evnt_test_during1', 'evnt_test_during2']);
    await follower.stop();
  });
});

describe('LocalWrites', () => {
  it('marks an id as own from before the write settles, until the follower meets it once; a duplicate or a failure is not own', async () => {
    const writes = new LocalWrites();
    const inner = new MemoryEventStore();
    const store = writes.track(inner);
    const pending = store.recordDelivery(makeDelivery({ eventId: 'evnt_test_own1' }));
    // The follower may read the committed row before the write's promise settles.
    assert.equal(writes.takeOwn('evnt_test_own1'), true);
    await pending;
    assert.equal(writes.takeOwn('evnt_test_own1'), false, 'once');

    await inner.recordDelivery(makeDelivery({ eventId: 'evnt_test_theirs1' }));
    const again = await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_theirs1' }));
    assert.equal(again.duplicate, true);
    assert.equal(writes.takeOwn('evnt_test_theirs1'), false, 'another instance stored it first');

    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_own2' }));
    assert.equal(writes.takeOwn('evnt_test_own2'), true);
    // Every other method is the store's own, bound to it.
    assert.equal((await store.stats()).total, 3);
  });
});
