import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findJsonSyntaxError } from './_json-syntax-error.js';

/** V8's position for the same error, when its message gives one. */
function enginePosition(text: string): number | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const match = /at position (\d+)/.exec((error as Error).message);
    return match ? Number(match[1]) : undefined;
  }
}

describe('findJsonSyntaxError', () => {
  it('finds nothing wrong with valid JSON', () => {
    for (const text of [
      '{}',
      '[]',
      ' {"a": [1, -0.5, 2e10, 3E-2, true, false, null, "\\u00e9\\n\\/"]} ',
      '"x"',
      '0',
      '[[[[]]]]',
      '{"":{}}',
    ]) {
      assert.equal(findJsonSyntaxError(text), undefined, text);
    }
  });

  const cases: [text: string, offset: number, description: RegExp][] = [
    ['{"a":}', 5, /^Unexpected token '}'$/],
    ['{"a":tru}', 8, /^Unexpected token '}'$/],
    ['[1,]', 3, /^Unexpected token ']'$/],
    ['{"a":1,}', 7, /property name/],
    ['{a:1}', 1, /property name/],
    ['{"a" 1}', 5, /Expected ':'/],
    ['{"a":1', 6, /Unexpected end of input/],
    ['[1,2', 4, /Unexpected end of input/],
    ['', 0, /Unexpected end of input/],
    ['{"a":1} x', 8, /after the end/],
    ['{"a":"b\nc"}', 7, /Bad control character U\+000A/],
    ['"\\x"', 2, /Bad escaped character 'x'/],
    ['"\\u12x4"', 5, /Bad Unicode escape/],
    ['"abc', 4, /Unterminated string/],
    ['{"a":01}', 6, /leading zeros/],
    ['{"a":-}', 6, /No number after minus sign/],
    ['{"a":1.}', 7, /Unterminated fractional number/],
    ['{"a":1e}', 7, /Exponent part/],
    ['{"a":[1,2}', 9, /Expected ',' or ']'/],
    ['{"x":"ทดสอบ"  "y"}', 14, /Expected ',' or '}'/],
    ['\uFEFF{}', 0, /Unexpected token U\+FEFF/],
  ];
  for (const [text, offset, description] of cases) {
    it(`reports ${JSON.stringify(text)} at offset ${offset}`, () => {
      const error = findJsonSyntaxError(text);
      assert.ok(error, 'expected an error');
      assert.equal(error.offset, offset);
      assert.match(error.description, description);
    });
  }

  it('agrees with V8 wherever V8 gives a position', () => {
    let compared = 0;
    for (const [text] of cases) {
      const position = enginePosition(text);
      if (position === undefined) continue;
      assert.equal(findJsonSyntaxError(text)?.offset, position, text);
      compared++;
    }
    assert.ok(compared >= 10, `only ${compared} cases had a V8 position`);
  });

  it('handles a million levels of nesting without overflowing the stack', () => {
    const deep = '['.repeat(1_000_000);
    assert.deepEqual(findJsonSyntaxError(deep), { offset: 1_000_000, description: 'Unexpected end of input' });
  });
});
