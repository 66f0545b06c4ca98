import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatOmiseJson } from './omise-json.js';

describe('formatOmiseJson', () => {
  it('indents by two spaces with ": " between key and value, and no trailing newline', () => {
    assert.equal(
      formatOmiseJson({ object: 'event', livemode: false, amount: 100000, data: { object: 'charge', customer: null } }),
      '{\n  "object": "event",\n  "livemode": false,\n  "amount": 100000,\n  "data": {\n    "object": "charge",\n    "customer": null\n  }\n}',
    );
  });

  it('writes an empty array as "[", an empty line, then "]" at the parent indent', () => {
    assert.equal(formatOmiseJson([]), '[\n\n]');
    assert.equal(formatOmiseJson({ data: [] }), '{\n  "data": [\n\n  ]\n}');
    assert.equal(
      formatOmiseJson({ refunds: { total: 0, data: [] } }),
      '{\n  "refunds": {\n    "total": 0,\n    "data": [\n\n    ]\n  }\n}',
    );
  });

  it('writes an empty object as {}', () => {
    assert.equal(formatOmiseJson({}), '{}');
    assert.equal(formatOmiseJson({ metadata: {} }), '{\n  "metadata": {}\n}');
    assert.equal(formatOmiseJson([{}]), '[\n  {}\n]');
  });

  it('puts each array item on its own line', () => {
    assert.equal(
      formatOmiseJson({ next: ['2017-05-15', 3, true, null, [1]] }),
      '{\n  "next": [\n    "2017-05-15",\n    3,\n    true,\n    null,\n    [\n      1\n    ]\n  ]\n}',
    );
  });

  it('escapes "/" as "\\/" by default, in values and keys', () => {
    assert.equal(formatOmiseJson('https://api.omise.co/charges'), '"https:\\/\\/api.omise.co\\/charges"');
    assert.equal(formatOmiseJson({ 'a/b': '/' }), '{\n  "a\\/b": "\\/"\n}');
  });

  it('leaves "/" alone when escapeSlashes is false', () => {
    assert.equal(
      formatOmiseJson({ location: '/events/evnt_test_1' }, { escapeSlashes: false }),
      '{\n  "location": "/events/evnt_test_1"\n}',
    );
  });

  it('leaves non-ASCII text as UTF-8 rather than \\u escapes', () => {
    assert.equal(formatOmiseJson({ description: 'ทดสอบ 注文 🙂' }), '{\n  "description": "ทดสอบ 注文 🙂"\n}');
  });

  it('escapes quotes, backslashes and control characters like JSON.stringify, and a backslash before "/" stays unambiguous', () => {
    assert.equal(formatOmiseJson('say "hi"\\\n\t\u0001'), '"say \\"hi\\"\\\\\\n\\t\\u0001"');
    const tricky = 'a\\/b';
    assert.equal(JSON.parse(formatOmiseJson(tricky)), tricky);
  });

  it('escapes lone surrogates so the output is valid UTF-8', () => {
    assert.equal(formatOmiseJson('\ud800'), '"\\ud800"');
  });

  it('writes numbers as JavaScript does, and non-finite numbers as null', () => {
    assert.equal(
      formatOmiseJson([0, -1, 1.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY]),
      '[\n  0,\n  -1,\n  1.5,\n  1e+21,\n  null,\n  null\n]',
    );
  });

  it('follows JSON.stringify for undefined, functions and toJSON', () => {
    const value = {
      skipped: undefined,
      run: () => 1,
      kept: 1,
      when: new Date('2019-12-31T12:59:59Z'),
      list: [undefined],
    };
    assert.equal(
      formatOmiseJson(value),
      '{\n  "kept": 1,\n  "when": "2019-12-31T12:59:59.000Z",\n  "list": [\n    null\n  ]\n}',
    );
    assert.equal(formatOmiseJson(undefined), 'null');
  });

  it('writes top-level primitives', () => {
    assert.equal(formatOmiseJson(null), 'null');
    assert.equal(formatOmiseJson(true), 'true');
    assert.equal(formatOmiseJson(42), '42');
  });

  it('produces JSON that parses back to the same value', () => {
    const value = { a: [1, { b: [] }, 'x/y'], c: {}, d: 'ทดสอบ' };
    assert.deepEqual(JSON.parse(formatOmiseJson(value)), value);
    assert.deepEqual(JSON.parse(formatOmiseJson(value, { escapeSlashes: false })), value);
  });

  it('refuses circular structures and BigInt with a TypeError that says why', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(() => formatOmiseJson(circular), { name: 'TypeError', message: /circular/ });
    assert.throws(() => formatOmiseJson({ amount: 1n }), { name: 'TypeError', message: /BigInt/ });
  });

  it('allows the same object twice when it is not inside itself', () => {
    const shared = { id: 'card_test_1' };
    assert.equal(
      formatOmiseJson([shared, shared]),
      '[\n  {\n    "id": "card_test_1"\n  },\n  {\n    "id": "card_test_1"\n  }\n]',
    );
  });
});
