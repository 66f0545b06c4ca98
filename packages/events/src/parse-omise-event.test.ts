import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OmiseWebhookError } from './errors.js';
import { isKnownOmiseEvent } from './event-catalogue.js';
import { collectOmiseIds, eventCreatedAt, parseOmiseEvent, safeParseOmiseEvent } from './parse-omise-event.js';

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    object: 'event',
    id: 'evnt_test_5xyz1',
    livemode: false,
    location: '/events/evnt_test_5xyz1',
    key: 'charge.create',
    created_at: '2019-12-31T12:59:59Z',
    data: { object: 'charge', id: 'chrg_test_5abc1', livemode: false, amount: 100000 },
    ...overrides,
  };
}

function without(field: string): Record<string, unknown> {
  const result = event();
  delete result[field];
  return result;
}

/** Run `parse` and return the OmiseWebhookError it throws, failing if it does not throw one. */
function parseError(raw: unknown): OmiseWebhookError {
  try {
    parseOmiseEvent(raw as string);
  } catch (error) {
    assert.ok(error instanceof OmiseWebhookError, `expected OmiseWebhookError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected parseOmiseEvent to throw');
}

describe('parseOmiseEvent: valid events', () => {
  it('returns the parsed event', () => {
    const parsed = parseOmiseEvent(JSON.stringify(event()));
    assert.deepEqual(parsed, event());
  });

  it('narrows by key at run time as the types promise', () => {
    const parsed = parseOmiseEvent(JSON.stringify(event()));
    assert.ok(parsed.key === 'charge.create');
    assert.equal(parsed.data.amount, 100000);
  });

  it('accepts bytes, decoded as UTF-8', () => {
    const body = JSON.stringify(event({ data: { object: 'charge', description: 'ทดสอบ 注文' } }));
    const parsed = parseOmiseEvent(new TextEncoder().encode(body));
    assert.equal((parsed.data as { description: string }).description, 'ทดสอบ 注文');
  });

  it('accepts a Node Buffer, which is a Uint8Array', () => {
    const parsed = parseOmiseEvent(Buffer.from(JSON.stringify(event()), 'utf8'));
    assert.equal(parsed.id, 'evnt_test_5xyz1');
  });

  it('parses an unknown key and keeps it as is', () => {
    const parsed = parseOmiseEvent(
      JSON.stringify(event({ key: 'payment_link.archive', data: { object: 'payment_link', id: 'plnk_test_1' } })),
    );
    assert.equal(parsed.key, 'payment_link.archive');
    assert.equal(isKnownOmiseEvent(parsed), false);
  });

  it('accepts live events, the older "created" field, and no time at all', () => {
    assert.equal(parseOmiseEvent(JSON.stringify(event({ id: 'evnt_5xyz1', livemode: true }))).livemode, true);
    const older = parseOmiseEvent(JSON.stringify({ ...without('created_at'), created: '2017-02-03T13:52:54+07:00' }));
    assert.equal(eventCreatedAt(older), '2017-02-03T13:52:54+07:00');
    assert.equal(eventCreatedAt(parseOmiseEvent(JSON.stringify(without('created_at')))), undefined);
  });

  it('accepts keys with underscores and more than two words', () => {
    assert.equal(parseOmiseEvent(JSON.stringify(event({ key: 'customer.update.card' }))).key, 'customer.update.card');
    assert.equal(
      parseOmiseEvent(JSON.stringify(event({ key: 'some_object.some_action' }))).key,
      'some_object.some_action',
    );
  });
});

describe('parseOmiseEvent: input that is not a raw body', () => {
  for (const [name, value] of [
    ['an already-parsed object', event()],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['an array', [1]],
  ] as const) {
    it(`refuses ${name} with payload_not_raw`, () => {
      const error = parseError(value);
      assert.equal(error.code, 'payload_not_raw');
      assert.match(error.message, /raw request body/);
      assert.match(error.message, /JSON body parser/);
    });
  }

  it('tells how to wrap an ArrayBuffer', () => {
    const error = parseError(new ArrayBuffer(2));
    assert.equal(error.code, 'payload_not_raw');
    assert.match(error.message, /new Uint8Array\(buffer\)/);
  });

  it('explains the text "[object Object]"', () => {
    const error = parseError('[object Object]');
    assert.equal(error.code, 'invalid_json');
    assert.match(error.message, /already-parsed object was turned into a string/);
  });
});

describe('parseOmiseEvent: bodies that are not JSON', () => {
  it('says an empty body is empty', () => {
    const error = parseError('');
    assert.equal(error.code, 'invalid_json');
    assert.match(error.message, /^body is empty/);
    assert.deepEqual(error.position, { offset: 0, line: 1, column: 1 });
    assert.match(parseError(new Uint8Array()).message, /^body is empty/);
    assert.match(parseError(' \n ').message, /^body is empty apart from whitespace/);
  });

  it('gives the line and column of an unexpected token', () => {
    const body = '{\n  "object": "event",\n    "id": }';
    const error = parseError(body);
    assert.equal(error.code, 'invalid_json');
    assert.deepEqual(error.position, { offset: body.indexOf('}'), line: 3, column: 11 });
    assert.match(error.message, /^body is not valid JSON: Unexpected token '}' at line 3, column 11\./);
    assert.ok(error.cause instanceof SyntaxError);
  });

  it('points at the end of a truncated body', () => {
    const body = '{\n  "object": "event",\n  "data": {';
    const error = parseError(body);
    assert.deepEqual(error.position, { offset: body.length, line: 3, column: 12 });
    assert.match(error.message, /Unexpected end of input at line 3, column 12/);
  });

  it('counts columns in characters of the decoded text, not bytes', () => {
    const error = parseError(new TextEncoder().encode('{"d": "ทดสอบ" x}'));
    assert.deepEqual(error.position, { offset: 14, line: 1, column: 15 });
  });

  it('refuses a byte order mark, in text or bytes, and says so', () => {
    for (const body of ['\uFEFF{}', new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])]) {
      const error = parseError(body);
      assert.equal(error.code, 'invalid_json');
      assert.match(error.message, /byte order mark/);
      assert.deepEqual(error.position, { offset: 0, line: 1, column: 1 });
    }
  });

  it('refuses bytes that are not UTF-8 and says where', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"a":"ท'), 0xff, 0x22, 0x7d]);
    const error = parseError(bytes);
    assert.equal(error.code, 'invalid_json');
    assert.match(error.message, /not valid UTF-8 \(first bad byte at offset 9, 0xff\)/);
  });

  it('points at the start of a character cut short', () => {
    // "ท" is e0 b8 97; drop its last byte and follow it with '"'.
    const error = parseError(new Uint8Array([0x22, 0xe0, 0xb8, 0x22]));
    assert.match(error.message, /first bad byte at offset 1, 0xe0/);
    const atEnd = parseError(new Uint8Array([0x22, 0xe0, 0xb8]));
    assert.match(atEnd.message, /first bad byte at offset 1, 0xe0/);
  });
});

describe('parseOmiseEvent: JSON that is not an event', () => {
  it('refuses a top level that is not an object, without naming a field', () => {
    for (const body of ['[]', 'null', '"event"', '42', 'true']) {
      const error = parseError(body);
      assert.equal(error.code, 'invalid_event', body);
      assert.equal(error.field, undefined);
      assert.equal('field' in error, false);
      assert.match(error.message, /^body is JSON but not an Omise event/);
    }
  });

  const cases: [description: string, body: Record<string, unknown>, field: string, message: RegExp][] = [
    ['object missing', without('object'), 'object', /"object" is missing; expected "event"/],
    ['object is another kind', event({ object: 'charge' }), 'object', /looks like a charge object, not an event/],
    ['id missing', without('id'), 'id', /"id" is missing/],
    [
      'id of another kind',
      event({ id: 'chrg_test_5abc1' }),
      'id',
      /"id" is "chrg_test_5abc1" \(a string\); expected an event id/,
    ],
    ['id in capitals', event({ id: 'evnt_TEST_5xyz' }), 'id', /expected an event id/],
    ['id with no body', event({ id: 'evnt_' }), 'id', /expected an event id/],
    ['id not a string', event({ id: 5 }), 'id', /"id" is 5 \(a number\)/],
    [
      'id longer than 64 characters',
      event({ id: `evnt_test_${'a'.repeat(55)}` }),
      'id',
      /^"id" is 65 characters long \("evnt_test_a+\.\.\." \(a string\)\); Omise event ids are about 30 characters, and at most 64 are accepted\.$/,
    ],
    ['id of 100,000 characters', event({ id: `evnt_${'a'.repeat(100_000)}` }), 'id', /"id" is 100005 characters long/],
    ['key missing', without('key'), 'key', /"key" is missing; expected the event key/],
    ['key empty', event({ key: '' }), 'key', /"key" is an empty string/],
    ['key one word', event({ key: 'charge' }), 'key', /lowercase dotted words/],
    ['key with capitals', event({ key: 'Charge.Create' }), 'key', /lowercase dotted words/],
    ['key ending in a dot', event({ key: 'charge.' }), 'key', /lowercase dotted words/],
    ['key not a string', event({ key: ['charge.create'] }), 'key', /"key" is an array/],
    [
      'key longer than 64 characters',
      event({ key: `charge.${'a'.repeat(58)}` }),
      'key',
      /"key" is 65 characters long .*at most 64 characters are accepted\.$/,
    ],
    ['livemode missing', without('livemode'), 'livemode', /"livemode" is missing; expected true or false/],
    ['livemode a string', event({ livemode: 'false' }), 'livemode', /"livemode" is "false" \(a string\)/],
    ['livemode a number', event({ livemode: 0 }), 'livemode', /"livemode" is 0 \(a number\)/],
    ['data missing', without('data'), 'data', /"data" is missing; expected the object the event is about/],
    ['data null', event({ data: null }), 'data', /"data" is null/],
    ['data an array', event({ data: [] }), 'data', /"data" is an array/],
    ['data without object', event({ data: { id: 'chrg_test_1' } }), 'data.object', /"data.object" is missing/],
    ['data.object not a string', event({ data: { object: 1 } }), 'data.object', /"data.object" is 1 \(a number\)/],
    [
      'created_at a number',
      event({ created_at: 1577797199 }),
      'created_at',
      /"created_at" is 1577797199 \(a number\); expected an ISO 8601/,
    ],
    ['created null', event({ created: null }), 'created', /"created" is null/],
    [
      'test id with livemode true',
      event({ livemode: true }),
      'livemode',
      /"livemode" is true but the id evnt_test_5xyz1 is a test-mode id/,
    ],
    [
      'live id with livemode false',
      event({ id: 'evnt_5xyz1' }),
      'livemode',
      /"livemode" is false but the id evnt_5xyz1 is a live-mode id/,
    ],
  ];
  for (const [description, body, field, message] of cases) {
    it(`names "${field}" when ${description}`, () => {
      const error = parseError(JSON.stringify(body));
      assert.equal(error.code, 'invalid_event');
      assert.equal(error.field, field);
      assert.match(error.message, message);
    });
  }

  it('reports the first bad field in the documented order', () => {
    const everythingWrong = { object: 'x', id: 'x', key: 'X', livemode: 'x', data: null, created_at: 1 };
    const order = ['object', 'id', 'key', 'livemode', 'data', 'created_at'];
    const body: Record<string, unknown> = { ...everythingWrong };
    for (const field of order) {
      assert.equal(parseError(JSON.stringify(body)).field, field);
      body[field] = event()[field];
    }
    assert.doesNotThrow(() => parseOmiseEvent(JSON.stringify(body)));
  });
});

describe('parseOmiseEvent: nesting depth', () => {
  const nestedInData = (levels: number, open = '[', close = ']'): string =>
    JSON.stringify(event({ data: { object: 'charge', deep: 'HOLE' } })).replace(
      '"HOLE"',
      `${open.repeat(levels)}${close.repeat(levels)}`,
    );

  it('accepts 256 levels, counting the event itself as the first', () => {
    // The event is level 1 and data level 2, so 254 more arrays inside data make 256.
    const parsed = parseOmiseEvent(nestedInData(254));
    assert.equal(parsed.id, 'evnt_test_5xyz1');
  });

  it('refuses level 257 with too_deep, saying where, before parsing', () => {
    const body = nestedInData(255);
    const error = parseError(body);
    assert.equal(error.code, 'too_deep');
    const offset = body.indexOf('[') + 254;
    assert.deepEqual(error.position, { offset, line: 1, column: offset + 1 });
    assert.equal(
      error.message,
      `body nests arrays and objects more than 256 levels deep (level 257 opens at line 1, column ${offset + 1}); an Omise event nests a few levels. It was refused without being parsed; check what produced it.`,
    );
  });

  it('refuses 100,000 levels of [ or {, even when the body never closes them', () => {
    assert.equal(parseError(nestedInData(100_000)).code, 'too_deep');
    assert.equal(parseError(nestedInData(100_000, '{"a":', '}')).code, 'too_deep');
    assert.equal(parseError(`{"data": ${'['.repeat(100_000)}`).code, 'too_deep');
    assert.equal(safeParseOmiseEvent(new TextEncoder().encode('['.repeat(1_000_000))).ok, false);
  });

  it('does not count brackets inside strings, escaped quotes and backslashes included', () => {
    // The note is `"` + 300 `[` + `\`: in JSON `\"[[[...\\`, an escaped quote first and an escaped backslash last.
    const note = `"${'['.repeat(300)}\\`;
    const parsed = parseOmiseEvent(JSON.stringify(event({ data: { object: 'charge', note } })));
    assert.equal((parsed.data as unknown as { note: string }).note, note);
  });
});

describe('OmiseWebhookError', () => {
  it('is an Error with a stable name and code', () => {
    const error = parseError('');
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'OmiseWebhookError');
    assert.match(String(error), /^OmiseWebhookError: body is empty/);
  });
});

describe('safeParseOmiseEvent', () => {
  it('returns the event when the body is good', () => {
    const result = safeParseOmiseEvent(JSON.stringify(event()));
    assert.ok(result.ok);
    assert.equal(result.event.id, 'evnt_test_5xyz1');
  });

  it('returns the error instead of throwing it', () => {
    const result = safeParseOmiseEvent('{');
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.error instanceof OmiseWebhookError && result.error.code === 'invalid_json');
  });
});

describe('eventCreatedAt', () => {
  it('prefers created_at, falls back to created', () => {
    assert.equal(eventCreatedAt({ created_at: 'a', created: 'b' }), 'a');
    assert.equal(eventCreatedAt({ created: 'b' }), 'b');
    assert.equal(eventCreatedAt({}), undefined);
  });
});

describe('collectOmiseIds', () => {
  it('finds ids anywhere, once each, in order of first appearance', () => {
    const value = {
      id: 'evnt_test_5xyz1',
      data: {
        id: 'chrg_test_5abc1',
        refunds: { data: [{ id: 'rfnd_test_5r1', charge: 'chrg_test_5abc1', transaction: 'trxn_test_5t2' }] },
        card: { id: 'card_test_5c1' },
        customer: 'cust_test_5u1',
        source: { id: 'src_test_5s1' },
      },
      webhook_deliveries: [{ id: 'whdl_test_5w1' }],
      live: ['acct_5a1', 'bacc_5b1'],
    };
    assert.deepEqual(collectOmiseIds(value), [
      'evnt_test_5xyz1',
      'chrg_test_5abc1',
      'rfnd_test_5r1',
      'trxn_test_5t2',
      'card_test_5c1',
      'cust_test_5u1',
      'src_test_5s1',
      'whdl_test_5w1',
      'acct_5a1',
      'bacc_5b1',
    ]);
  });

  it('knows every documented prefix', () => {
    const prefixes = [
      'evnt',
      'chrg',
      'card',
      'cust',
      'trxn',
      'rfnd',
      'dspt',
      'docu',
      'trsf',
      'recp',
      'schd',
      'occu',
      'link',
      'src',
      'tokn',
      'paym',
      'whdl',
      'acct',
      'bacc',
    ];
    const ids = prefixes.map((prefix) => `${prefix}_test_5abc`);
    assert.deepEqual(collectOmiseIds(ids), ids);
  });

  it('finds the shortest ids (a 3-letter prefix and one character), in test and live mode', () => {
    assert.deepEqual(collectOmiseIds(['src_1', 'chrg_a', 'src_test_1', 'src_', 'sr_1', 'srcx1_2']), [
      'src_1',
      'chrg_a',
      'src_test_1',
    ]);
  });

  it('ignores property names and strings that only look similar', () => {
    const value = {
      chrg_test_5key: 'x',
      a: 'chrg_TEST_5abc',
      b: 'xchrg_test_5abc',
      c: 'chrg_test_5abc ',
      d: '/charges/chrg_test_5abc',
      e: 'chrg_',
      f: 'skey_test_5abc',
      g: 42,
      h: null,
    };
    assert.deepEqual(collectOmiseIds(value), []);
  });

  it('accepts a bare string and primitives', () => {
    assert.deepEqual(collectOmiseIds('cust_5abc'), ['cust_5abc']);
    assert.deepEqual(collectOmiseIds(null), []);
    assert.deepEqual(collectOmiseIds(undefined), []);
  });

  it('copes with deep nesting and shared or circular references', () => {
    let deep: unknown = 'card_test_5deep';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.deepEqual(collectOmiseIds(deep), ['card_test_5deep']);
    const circular: Record<string, unknown> = { id: 'cust_test_5c' };
    circular.self = circular;
    assert.deepEqual(collectOmiseIds(circular), ['cust_test_5c']);
  });
});
