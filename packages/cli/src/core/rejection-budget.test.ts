import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import { RejectionBodyBudget } from './rejection-budget.js';

describe('RejectionBodyBudget', () => {
  it('keeps a burst whole, then as many a second as its rate, never more than the burst after a pause', () => {
    const clock = new FakeClock(0);
    const budget = new RejectionBodyBudget({ clock, perSecond: 2, burst: 3 });
    assert.deepEqual([budget.take(), budget.take(), budget.take(), budget.take()], [true, true, true, false]);
    clock.advance(499);
    assert.equal(budget.take(), false, 'not yet a whole token after 499 ms at 2/s');
    clock.advance(1);
    assert.equal(budget.take(), true);
    assert.equal(budget.take(), false);
    clock.advance(60_000);
    assert.deepEqual([budget.take(), budget.take(), budget.take(), budget.take()], [true, true, true, false]);
    assert.equal(budget.note, '(body not kept: more than 2 refused requests a second; size kept)');
  });
});
