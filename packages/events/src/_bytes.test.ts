import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concatBytes, nestedDeeperThan, nestingLimitPassedAt } from './_bytes.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('concatBytes', () => {
  it('joins parts in order, and returns a single part as it is', () => {
    assert.deepEqual(concatBytes([utf8('ab'), utf8(''), utf8('c')]), utf8('abc'));
    const one = utf8('x');
    assert.equal(concatBytes([one]), one);
  });
});

describe('nestedDeeperThan', () => {
  it('counts arrays and objects together, up to and past the limit', () => {
    assert.equal(nestedDeeperThan(utf8('[{"a":[1]}]'), 3), false);
    assert.equal(nestedDeeperThan(utf8('[{"a":[1]}]'), 2), true);
    assert.equal(nestedDeeperThan(utf8('1'), 0), false);
    assert.equal(nestedDeeperThan(utf8('[]'), 0), true);
  });

  it('counts siblings once, not their sum', () => {
    assert.equal(nestedDeeperThan(utf8(`[${'[1],'.repeat(1000)}[2]]`), 2), false);
  });

  it('ignores brackets inside strings, including after escaped quotes and backslashes', () => {
    assert.equal(nestedDeeperThan(utf8(`["[[[[", "\\"[[[", "\\\\", {"{{": "}}"}]`), 2), false);
    // After "\\" the string has ended, so the brackets that follow count.
    assert.equal(nestedDeeperThan(utf8(`["\\\\", [[1]]]`), 2), true);
  });

  it('stops at the first level past the limit of a 1,000,000-deep body', () => {
    assert.equal(nestedDeeperThan(utf8('['.repeat(1_000_000)), 256), true);
  });
});

describe('nestingLimitPassedAt', () => {
  it('gives the same offset for a string and its UTF-8 bytes when only ASCII comes before it', () => {
    const text = `{"a": "ค", "b": [[[1]]]}`;
    const inText = nestingLimitPassedAt(text, 2);
    assert.equal(text[inText], '[');
    assert.equal(inText, text.indexOf('[[') + 1);
    // "ค" is 3 bytes in UTF-8 and 1 character in the string: the offsets differ by 2, the verdict does not.
    assert.equal(nestingLimitPassedAt(utf8(text), 2), inText + 2);
  });

  it('does not let stray closing brackets lower the count below zero', () => {
    assert.equal(nestingLimitPassedAt(`]]]]${'['.repeat(3)}`, 2), 6);
    assert.equal(nestingLimitPassedAt(utf8(`}}}}${'{'.repeat(3)}`), 2), 6);
  });
});
