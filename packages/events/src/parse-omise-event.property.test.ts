// Property-based tests for the event parser (issue 12): whatever the bytes, it returns an event or
// an OmiseWebhookError with a documented code, and never throws anything else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OmiseWebhookError } from './errors.js';
import { parseOmiseEvent, safeParseOmiseEvent } from './parse-omise-event.js';

const CODES = new Set(['invalid_json', 'invalid_event', 'too_deep']);

function assertParsesOrRefuses(raw: string | Uint8Array): void {
  const result = safeParseOmiseEvent(raw);
  if (result.ok) {
    assert.equal(result.event.object, 'event');
    assert.ok(result.event.id.length <= 64);
  } else {
    assert.ok(result.error instanceof OmiseWebhookError);
    assert.ok(CODES.has(result.error.code), result.error.code);
    assert.ok(result.error.message.length < 2_000, 'messages quote bad values only in part');
  }
}

/** An envelope with every field possibly wrong, so generated bodies get past JSON and deep into the checks. */
const envelope = fc.record(
  {
    object: fc.oneof(fc.constant('event'), fc.jsonValue()),
    id: fc.oneof(
      fc.stringMatching(/^evnt_(test_)?[0-9a-z]{1,80}$/),
      fc.string({ maxLength: 100 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    livemode: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
    key: fc.oneof(fc.stringMatching(/^[a-z_]{1,10}(\.[a-z_]{1,10}){1,3}$/), fc.string({ maxLength: 80 })),
    data: fc.oneof(fc.record({ object: fc.oneof(fc.string(), fc.jsonValue()) }), fc.jsonValue({ maxDepth: 3 })),
    created_at: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);

describe('parseOmiseEvent: any input', () => {
  it('any bytes: an event or a documented error, never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), assertParsesOrRefuses), { numRuns: 500 });
  });

  it('any text, including lone surrogates and control characters', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), assertParsesOrRefuses), { numRuns: 500 });
  });

  it('any JSON, and any envelope with fields right or wrong, as text or bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), envelope), fc.boolean(), (value, asBytes) => {
        const text = JSON.stringify(value) ?? 'null';
        assertParsesOrRefuses(asBytes ? new TextEncoder().encode(text) : text);
      }),
      { numRuns: 500 },
    );
  });

  it('JSON cut short or with a byte changed', () => {
    fc.assert(
      fc.property(envelope, fc.nat(), fc.integer({ min: 0, max: 255 }), (value, at, byte) => {
        const bytes = new TextEncoder().encode(JSON.stringify(value));
        assertParsesOrRefuses(bytes.subarray(0, at % (bytes.length + 1)));
        const changed = bytes.slice();
        if (changed.length > 0) changed[at % changed.length] = byte;
        assertParsesOrRefuses(changed);
      }),
      { numRuns: 500 },
    );
  });

  it('nesting: too_deep exactly when arrays and objects open more than 256 levels', () => {
    const level = fc.constantFrom(['[', ']'], ['{"a":', '}'], ['["[",', ']']);
    fc.assert(
      fc.property(fc.array(level, { minLength: 0, maxLength: 600 }), fc.boolean(), (levels, closed) => {
        const inner = `${levels.map(([open]) => open).join('')}1${
          closed
            ? levels
                .map(([, close]) => close)
                .reverse()
                .join('')
            : ''
        }`;
        const body = `{"object":"event","id":"evnt_test_5x","livemode":false,"key":"charge.create","data":{"object":"charge","x":${inner}}}`;
        const error = safeParseOmiseEvent(body);
        // The envelope and data are levels 1 and 2.
        if (levels.length + 2 > 256) {
          assert.equal(!error.ok && error.error.code, 'too_deep');
        } else if (closed || levels.length === 0) {
          assert.equal(error.ok, true);
        } else {
          assert.equal(!error.ok && error.error.code, 'invalid_json');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('throws only OmiseWebhookError from parseOmiseEvent', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          parseOmiseEvent(value as string);
        } catch (error) {
          assert.ok(error instanceof OmiseWebhookError, String(error));
        }
      }),
      { numRuns: 300 },
    );
  });
});
