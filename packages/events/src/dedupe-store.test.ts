import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryDedupeStore } from './dedupe-store.js';
import { OmiseWebhookError } from './errors.js';

describe('createMemoryDedupeStore', () => {
  it('claims an id once within its window, and again once the window has passed', () => {
    let now = 1_000_000;
    const store = createMemoryDedupeStore({ now: () => now });
    assert.equal(store.claim('evnt_test_1', 60), true);
    assert.equal(store.claim('evnt_test_1', 60), false);
    assert.equal(store.claim('evnt_test_2', 60), true, 'other ids are independent');
    now += 59_999;
    assert.equal(store.claim('evnt_test_1', 60), false, 'still inside the window');
    now += 1;
    assert.equal(store.claim('evnt_test_1', 60), true, 'the window is over');
  });

  it('forgets a released id at once', () => {
    const store = createMemoryDedupeStore({ now: () => 0 });
    assert.equal(store.claim('evnt_test_1', 60), true);
    store.release('evnt_test_1');
    assert.equal(store.claim('evnt_test_1', 60), true);
  });

  it('drops the oldest ids first when full', () => {
    const store = createMemoryDedupeStore({ now: () => 0, maxEntries: 2 });
    store.claim('evnt_test_1', 60);
    store.claim('evnt_test_2', 60);
    store.claim('evnt_test_3', 60);
    assert.equal(store.claim('evnt_test_2', 60), false, 'kept');
    assert.equal(store.claim('evnt_test_3', 60), false, 'kept');
    assert.equal(store.claim('evnt_test_1', 60), true, 'the oldest was dropped');
  });

  // The sweep of expired ids only saves memory: claim and release behave the same without it, so
  // this pins what a full store must do, not the sweep itself.
  it('lets expired ids go before live ones when full', () => {
    let now = 0;
    const store = createMemoryDedupeStore({ now: () => now, maxEntries: 3 });
    store.claim('evnt_test_1', 10);
    store.claim('evnt_test_2', 10);
    now = 10_000;
    // Both have expired: filling the store with new ids must not push out any of them.
    store.claim('evnt_test_3', 10);
    store.claim('evnt_test_4', 10);
    store.claim('evnt_test_5', 10);
    assert.equal(store.claim('evnt_test_3', 10), false, 'kept');
    assert.equal(store.claim('evnt_test_4', 10), false, 'kept');
    assert.equal(store.claim('evnt_test_5', 10), false, 'kept');
  });

  it('refuses a maxEntries that is not a whole number of at least 1', () => {
    for (const maxEntries of [0, 1.5, Number.NaN]) {
      assert.throws(
        () => createMemoryDedupeStore({ maxEntries }),
        (error: unknown) =>
          error instanceof OmiseWebhookError &&
          error.code === 'invalid_options' &&
          error.message.includes(`maxEntries is ${maxEntries}`),
      );
    }
  });
});
