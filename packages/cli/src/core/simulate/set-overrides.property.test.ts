// Property-based tests for `--set path=value` (issue 12): any assignment text either parses or
// is refused with a SimulationError; applying any parsed assignment either sets exactly that
// value as the event's own field, or is refused with a SimulationError, and never touches
// anything but the copy (no prototype is ever changed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applySetAssignments, parseSetAssignment, type SetAssignment } from './set-overrides.js';
import { SimulationError } from './simulation-error.js';

const event = () => ({
  object: 'event',
  key: 'charge.create',
  data: {
    object: 'charge',
    amount: 129000,
    metadata: { order_id: '3947' } as Record<string, unknown>,
    card: null as null | Record<string, unknown>,
    refunds: { data: [{ id: 'rfnd_test_5a', amount: 100 }] },
  },
});

/** Path parts from the event's own names to prototype tricks and noise. */
const part = fc.oneof(
  fc.constantFrom('data', 'metadata', 'amount', 'refunds', 'card', 'object', 'key', '0', '1', '-1'),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'length'),
  fc.string({ maxLength: 8 }).filter((text) => !text.includes('.') && !text.includes('=')),
);
const assignmentText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .tuple(
      fc.array(part, { minLength: 1, maxLength: 5 }),
      fc.oneof(fc.string({ maxLength: 20 }), fc.json({ maxDepth: 3 })),
    )
    .map(([path, value]) => `${path.join('.')}=${value}`),
  fc
    .tuple(fc.array(part, { maxLength: 3 }), fc.json({ maxDepth: 2 }))
    .map(([path, value]) => `data.metadata.${path.join('.')}${path.length > 0 ? '.' : ''}x=${value}`),
);

function parsedOrRefused(raw: string): SetAssignment | null {
  try {
    return parseSetAssignment(raw);
  } catch (error) {
    assert.ok(error instanceof SimulationError, String(error));
    return null;
  }
}

/** The value at `path` through own properties only, or a miss. */
function ownValueAt(root: unknown, path: readonly string[]): { found: boolean; value?: unknown } {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return { found: false };
    node = (node as Record<string, unknown>)[segment];
  }
  return { found: true, value: node };
}

describe('--set: any assignment', () => {
  it('parses or is refused with a SimulationError', () => {
    fc.assert(
      fc.property(assignmentText, (raw) => void parsedOrRefused(raw)),
      { numRuns: 500 },
    );
  });

  it('sets exactly that own field, or is refused; the original and every prototype are untouched', () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).join(',');
    fc.assert(
      fc.property(assignmentText, (raw) => {
        const assignment = parsedOrRefused(raw);
        if (assignment === null) return;
        const original = event();
        let result: ReturnType<typeof event>;
        try {
          result = applySetAssignments(original, [assignment], 'a charge.create event');
        } catch (error) {
          assert.ok(error instanceof SimulationError, String(error));
          return;
        } finally {
          assert.deepEqual(original, event(), 'the original is not changed');
          assert.equal(Object.getOwnPropertyNames(Object.prototype).join(','), prototypeKeys);
          assert.equal(({} as Record<string, unknown>).x, undefined);
        }
        const at = ownValueAt(result, assignment.path);
        assert.ok(at.found, `${raw}: the field is an own field of the result`);
        assert.deepEqual(at.value, assignment.value);
      }),
      { numRuns: 500 },
    );
  });
});
