import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineDiff } from './line-diff.js';

describe('lineDiff', () => {
  it('marks a changed line with a few lines of context and elides the rest', () => {
    const before = ['{', '  "a": 1,', '  "b": 2,', '  "c": 3,', '  "d": 4,', '  "e": 5,', '  "f": 6', '}'].join('\n');
    const after = before.replace('"d": 4', '"d": 40');
    assert.equal(
      lineDiff(before, after, { context: 1 }),
      ['…', '    "c": 3,', '-   "d": 4,', '+   "d": 40,', '    "e": 5,', '…'].join('\n'),
    );
  });

  it('shows added and removed lines, and nothing for equal texts', () => {
    assert.equal(lineDiff('a\nb\nc', 'a\nc\nd'), '  a\n- b\n  c\n+ d');
    assert.equal(lineDiff('same\ntext', 'same\ntext'), '');
  });

  it('gives up (null) rather than align two texts too large to compare', () => {
    const before = Array.from({ length: 300 }, (_, i) => `x${i}`).join('\n');
    const after = Array.from({ length: 300 }, (_, i) => `y${i}`).join('\n');
    assert.equal(lineDiff(before, after, { maxCells: 1000 }), null);
    assert.notEqual(lineDiff(before, after), null);
  });
});
