import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDifferences, diffJsonValues, nestedDeeperThan, TOO_DEEP_TO_SHOW } from './compare-events.js';

/** `levels` nested arrays around `leaf`, built without recursion. */
function nested(levels: number, leaf: unknown): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

describe('diffJsonValues', () => {
  it('lists changed, added and removed leaves in document order', () => {
    assert.deepEqual(
      diffJsonValues({ a: 1, b: [1], c: { d: 'x' }, e: 0 }, { a: 2, b: [1, 2], c: { d: 'y' }, f: true }),
      [
        { path: 'a', before: 1, after: 2 },
        { path: 'b[1]', before: undefined, after: 2 },
        { path: 'c.d', before: 'x', after: 'y' },
        { path: 'e', before: 0, after: undefined },
        { path: 'f', before: undefined, after: true },
      ],
    );
    assert.deepEqual(diffJsonValues(1, '1'), [{ path: '(root)', before: 1, after: '1' }]);
    assert.deepEqual(diffJsonValues({ a: [1, { b: null }] }, { a: [1, { b: null }] }), []);
  });

  it('walks 100,000 levels without recursion: equal is no change, a difference is one change at level 256', () => {
    assert.deepEqual(diffJsonValues(nested(100_000, 1), nested(100_000, 1)), []);
    const changes = diffJsonValues({ deep: nested(100_000, 1) }, { deep: nested(100_000, 2) });
    assert.deepEqual(changes, [
      { path: `deep${'[0]'.repeat(255)}`, before: TOO_DEEP_TO_SHOW, after: TOO_DEEP_TO_SHOW },
    ]);
    // What a change holds can be turned into JSON (the inspector does), however deep the input.
    assert.doesNotThrow(() => JSON.stringify(changes));
  });

  it('shows a deep added value as a placeholder, and a shallow one as it is', () => {
    assert.deepEqual(diffJsonValues({}, { a: nested(300, 1) }), [
      { path: 'a', before: undefined, after: TOO_DEEP_TO_SHOW },
    ]);
    assert.deepEqual(diffJsonValues({}, { a: nested(3, 1) }), [{ path: 'a', before: undefined, after: [[[1]]] }]);
  });

  it('compares Omise’s copy without its delivery log, and copes with a deep received event', () => {
    assert.deepEqual(describeDifferences({ a: 1, webhook_deliveries: [] }, '{"a": 2, "webhook_deliveries": [1]}'), [
      'a',
    ]);
    assert.deepEqual(
      describeDifferences({ a: nested(50_000, 1) }, `{"a": ${'['.repeat(50_000)}2${']'.repeat(50_000)}}`),
      [`a${'[0]'.repeat(255)}`],
    );
    assert.deepEqual(describeDifferences({}, 'not json'), ['(the Omise API answered with a body that is not JSON)']);
  });
});

describe('nestedDeeperThan', () => {
  it('counts arrays and objects as levels, scalars as none', () => {
    assert.equal(nestedDeeperThan(1, 0), false);
    assert.equal(nestedDeeperThan([], 0), true);
    assert.equal(nestedDeeperThan({ a: [{}] }, 3), false);
    assert.equal(nestedDeeperThan({ a: [{}] }, 2), true);
    assert.equal(nestedDeeperThan(nested(1_000_000, 'x'), 256), true);
  });
});
