import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { _setCryptoBackendForTests, getCryptoBackend } from './_crypto-backend.js';
import { OmiseWebhookError } from './errors.js';
import { formatOmiseJson } from './omise-json.js';
import {
  DEFAULT_TOLERANCE_SEC,
  OMISE_SIGNATURE_HEADER,
  OMISE_SIGNATURE_TIMESTAMP_HEADER,
  type OmiseSignatureVerification,
  readOmiseSignatureHeaders,
  reserialisations,
  signOmisePayload,
  type VerifyOmiseSignatureOptions,
  verifyOmiseSignature,
} from './omise-signature.js';

// Expected signatures are computed here with node:crypto, independently of the code under test.
function hmacHex(key: Buffer, ...parts: (string | Uint8Array)[]): string {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
}
function expectedSignature(secret: string, timestamp: string | number, body: string | Uint8Array): string {
  return hmacHex(Buffer.from(secret, 'base64'), `${timestamp}.`, body);
}

const SECRET = randomBytes(32).toString('base64');
const OLD_SECRET = randomBytes(32).toString('base64');
const OTHER_SECRET = randomBytes(32).toString('base64');
const TS = 1_700_000_000;
const NOW = TS * 1000;
const BODY = formatOmiseJson({
  object: 'event',
  id: 'evnt_test_5xyz1',
  livemode: false,
  location: '/events/evnt_test_5xyz1',
  key: 'charge.create',
  created_at: '2023-11-14T22:13:20Z',
  data: { object: 'charge', id: 'chrg_test_5abc1', description: 'ทดสอบ', refunds: [] },
});
const GOOD = expectedSignature(SECRET, TS, BODY);

/** A valid test-mode envelope padded past `size` bytes with small objects, pretty-printed like Omise's. */
function padded(size: number): string {
  const item = { a: 1, b: [2] };
  const count = Math.ceil(size / 18);
  return formatOmiseJson({ ...JSON.parse(BODY), padding: Array.from({ length: count }, () => item) });
}

function options(overrides: Partial<VerifyOmiseSignatureOptions> = {}): VerifyOmiseSignatureOptions {
  return { payload: BODY, signature: GOOD, timestamp: String(TS), secret: SECRET, now: NOW, ...overrides };
}

function assertFailure(
  result: OmiseSignatureVerification,
  code: string,
  message?: RegExp,
): asserts result is Extract<OmiseSignatureVerification, { ok: false }> {
  assert.equal(result.ok, false, 'expected the check to fail');
  assert.ok(!result.ok);
  assert.equal(result.code, code, result.message);
  if (message) assert.match(result.message, message);
}

describe('signOmisePayload', () => {
  it('matches a known-answer vector computed with openssl', async () => {
    // printf '1700000000.{"object":"event"}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<secret bytes>
    const signed = await signOmisePayload({
      payload: '{"object":"event"}',
      secret: 'a25vd24tYW5zd2VyLXNlY3JldC1mb3Itb21pc2UtdGVzdHM=',
      timestamp: 1_700_000_000,
    });
    assert.equal(signed.signature, '593a7ab32b630ad91f76a060a07fb2d864cde20ea95ef9227712748fb8a9381b');
  });

  it('signs timestamp + "." + body with the base64-decoded secret, and returns the headers', async () => {
    const signed = await signOmisePayload({ payload: BODY, secret: SECRET, timestamp: TS });
    assert.deepEqual(signed, {
      signature: GOOD,
      timestamp: String(TS),
      headers: { 'Omise-Signature': GOOD, 'Omise-Signature-Timestamp': String(TS) },
    });
    assert.deepEqual(Object.keys(signed.headers), [OMISE_SIGNATURE_HEADER, OMISE_SIGNATURE_TIMESTAMP_HEADER]);
  });

  it('signs bytes the same as the text they encode', async () => {
    const signed = await signOmisePayload({ payload: new TextEncoder().encode(BODY), secret: SECRET, timestamp: TS });
    assert.equal(signed.signature, GOOD);
  });

  it('defaults the timestamp to now, in seconds', async () => {
    const before = Math.floor(Date.now() / 1000);
    const signed = await signOmisePayload({ payload: BODY, secret: SECRET });
    const after = Math.floor(Date.now() / 1000);
    assert.ok(Number(signed.timestamp) >= before && Number(signed.timestamp) <= after);
    assert.equal(signed.signature, expectedSignature(SECRET, signed.timestamp, BODY));
  });

  it('refuses an empty secret, a secret that is not base64, and a parsed body', async () => {
    await assert.rejects(signOmisePayload({ payload: BODY, secret: '' }), {
      name: 'OmiseWebhookError',
      code: 'missing_secret',
    });
    await assert.rejects(signOmisePayload({ payload: BODY, secret: 'not base64!' }), (error: unknown) => {
      assert.ok(error instanceof OmiseWebhookError);
      assert.equal(error.code, 'invalid_secret');
      assert.match(error.message, /not base64/);
      return true;
    });
    await assert.rejects(signOmisePayload({ payload: BODY, secret: 'skey_test_5abc' }), {
      code: 'invalid_secret',
      message: /API key/,
    });
    await assert.rejects(signOmisePayload({ payload: JSON.parse(BODY), secret: SECRET }), {
      code: 'payload_not_raw',
      message: /raw request body/,
    });
  });

  it('refuses a timestamp that is not whole seconds', async () => {
    await assert.rejects(signOmisePayload({ payload: BODY, secret: SECRET, timestamp: TS * 1000 }), {
      name: 'RangeError',
      message: /milliseconds/,
    });
    await assert.rejects(signOmisePayload({ payload: BODY, secret: SECRET, timestamp: 1.5 }), { name: 'RangeError' });
    await assert.rejects(signOmisePayload({ payload: BODY, secret: SECRET, timestamp: -1 }), { name: 'RangeError' });
  });
});

for (const backend of ['node', 'web'] as const) {
  describe(`verifyOmiseSignature (${backend} crypto)`, () => {
    before(() => _setCryptoBackendForTests(backend));
    after(() => _setCryptoBackendForTests(undefined));

    it(`really uses ${backend} crypto`, () => {
      assert.equal(getCryptoBackend().name, backend);
    });

    describe('valid signatures', () => {
      it('accepts a correct signature', async () => {
        assert.deepEqual(await verifyOmiseSignature(options()), { ok: true, timestamp: TS, matchedSecretIndex: 0 });
      });

      it('accepts the body as bytes, including non-ASCII text', async () => {
        const result = await verifyOmiseSignature(options({ payload: new TextEncoder().encode(BODY) }));
        assert.equal(result.ok, true);
      });

      it('accepts uppercase hex and spaces around the header values', async () => {
        const result = await verifyOmiseSignature(
          options({ signature: ` ${GOOD.toUpperCase()} `, timestamp: ` ${TS} ` }),
        );
        assert.equal(result.ok, true);
      });

      it('round-trips with signOmisePayload', async () => {
        const signed = await signOmisePayload({ payload: BODY, secret: SECRET, timestamp: TS });
        assert.equal(
          (await verifyOmiseSignature(options({ signature: signed.signature, timestamp: signed.timestamp }))).ok,
          true,
        );
      });

      it('accepts an empty body that was signed as empty', async () => {
        const result = await verifyOmiseSignature(
          options({ payload: '', signature: expectedSignature(SECRET, TS, '') }),
        );
        assert.equal(result.ok, true);
      });
    });

    describe('several signatures and secret rotation', () => {
      const bad = expectedSignature(OTHER_SECRET, TS, BODY);

      it('passes when the first of several signatures is valid', async () => {
        assert.equal((await verifyOmiseSignature(options({ signature: `${GOOD},${bad}` }))).ok, true);
      });

      it('passes when the last of several signatures is valid', async () => {
        assert.equal((await verifyOmiseSignature(options({ signature: `${bad}, ${bad},${GOOD}` }))).ok, true);
      });

      it('fails when none of several signatures is valid, and says how many were tried', async () => {
        const result = await verifyOmiseSignature(options({ signature: `${bad},${bad}` }));
        assertFailure(result, 'no_signature_matched', /none of the 2 signatures/);
      });

      it('accepts either secret while rolling, and says which matched', async () => {
        const withOld = expectedSignature(OLD_SECRET, TS, BODY);
        const secrets = [OLD_SECRET, SECRET];
        assert.deepEqual(await verifyOmiseSignature(options({ secret: undefined, secrets, signature: withOld })), {
          ok: true,
          timestamp: TS,
          matchedSecretIndex: 0,
        });
        assert.deepEqual(await verifyOmiseSignature(options({ secret: undefined, secrets })), {
          ok: true,
          timestamp: TS,
          matchedSecretIndex: 1,
        });
        // Omise sends both signatures during a roll; either secret finds its own.
        assert.equal((await verifyOmiseSignature(options({ signature: `${withOld},${GOOD}` }))).ok, true);
      });

      it('counts `secret` first, then `secrets`', async () => {
        const result = await verifyOmiseSignature(options({ secret: OTHER_SECRET, secrets: [OLD_SECRET, SECRET] }));
        assert.deepEqual(result, { ok: true, timestamp: TS, matchedSecretIndex: 2 });
      });

      it('fails with the wrong secret', async () => {
        assertFailure(
          await verifyOmiseSignature(options({ secret: OTHER_SECRET })),
          'no_signature_matched',
          /does not match/,
        );
      });
    });

    describe('missing and empty inputs', () => {
      it('needs a secret', async () => {
        for (const overrides of [
          { secret: undefined },
          { secret: '' },
          { secret: '  ' },
          { secret: undefined, secrets: [] },
        ]) {
          assertFailure(await verifyOmiseSignature(options(overrides)), 'missing_secret');
        }
        assertFailure(
          await verifyOmiseSignature(options({ secret: undefined })),
          'missing_secret',
          /no webhook secret was given/,
        );
        assertFailure(
          await verifyOmiseSignature(options({ secret: undefined, secrets: [SECRET, ''] })),
          'missing_secret',
          /secret #2 of 2 is empty/,
        );
      });

      it('never throws, even without options', async () => {
        assertFailure(
          await verifyOmiseSignature(undefined as unknown as VerifyOmiseSignatureOptions),
          'missing_secret',
        );
      });

      it('needs the raw payload, not a parsed object', async () => {
        for (const payload of [JSON.parse(BODY), null, undefined, new ArrayBuffer(1)]) {
          assertFailure(await verifyOmiseSignature(options({ payload })), 'payload_not_raw', /raw request body/);
        }
      });

      for (const value of [undefined, null, '', '   ']) {
        it(`reports the signature header as missing when it is ${JSON.stringify(value) ?? 'undefined'}`, async () => {
          assertFailure(
            await verifyOmiseSignature(options({ signature: value })),
            'missing_signature',
            /Omise-Signature header is (missing|empty)/,
          );
        });
        it(`reports the timestamp header as missing when it is ${JSON.stringify(value) ?? 'undefined'}`, async () => {
          assertFailure(
            await verifyOmiseSignature(options({ timestamp: value })),
            'missing_timestamp',
            /Omise-Signature-Timestamp header is (missing|empty)/,
          );
        });
      }

      it('checks the signature header before the timestamp header', async () => {
        assertFailure(
          await verifyOmiseSignature(options({ signature: undefined, timestamp: undefined })),
          'missing_signature',
        );
      });

      it('explains a failure on an empty body', async () => {
        assertFailure(
          await verifyOmiseSignature(options({ payload: '' })),
          'no_signature_matched',
          /payload is empty \(0 bytes\)/,
        );
      });
    });

    describe('malformed headers', () => {
      const cases: [name: string, signature: string, message: RegExp][] = [
        ['not hex', 'not-a-signature', /is not hex/],
        ['truncated', GOOD.slice(0, 63), /is 63 hex digits; expected 64/],
        ['too long', `${GOOD}0`, /is 65 hex digits; expected 64/],
        ['64 characters, not all hex', `${GOOD.slice(0, 63)}g`, /is not hex/],
        ['prefixed with sha256=', `sha256=${GOOD}`, /scheme prefix/],
        ['in the v1, style of another scheme', `v1,${GOOD}`, /part 1 of 2 .* scheme prefix/],
        ['with a trailing comma', `${GOOD},`, /part 2 of 2 .* is empty/],
      ];
      for (const [name, signature, message] of cases) {
        it(`refuses a signature that is ${name}`, async () => {
          assertFailure(await verifyOmiseSignature(options({ signature })), 'malformed_signature', message);
        });
      }

      const timestamps: [name: string, timestamp: string, message: RegExp][] = [
        ['not a number', 'yesterday', /expected Unix seconds/],
        ['a decimal', `${TS}.5`, /expected Unix seconds/],
        ['negative', `-${TS}`, /expected Unix seconds/],
        ['an ISO date', '2023-11-14T22:13:20Z', /expected Unix seconds/],
        ['in milliseconds', String(NOW), /looks like milliseconds/],
      ];
      for (const [name, timestamp, message] of timestamps) {
        it(`refuses a timestamp that is ${name}`, async () => {
          assertFailure(await verifyOmiseSignature(options({ timestamp })), 'malformed_timestamp', message);
        });
      }

      it('checks the signature format before the timestamp format', async () => {
        assertFailure(await verifyOmiseSignature(options({ signature: 'x', timestamp: 'x' })), 'malformed_signature');
      });
    });

    describe('timestamp tolerance', () => {
      it(`defaults to ${DEFAULT_TOLERANCE_SEC} seconds`, () => {
        assert.equal(DEFAULT_TOLERANCE_SEC, 300);
      });

      it('accepts a signature exactly 300 seconds old and refuses one 301 seconds old', async () => {
        assert.equal((await verifyOmiseSignature(options({ now: NOW + 300_000 }))).ok, true);
        assertFailure(
          await verifyOmiseSignature(options({ now: NOW + 301_000 })),
          'timestamp_too_old',
          /301 seconds old; at most 300/,
        );
      });

      it('accepts a signature exactly 300 seconds ahead and refuses one 301 seconds ahead', async () => {
        assert.equal((await verifyOmiseSignature(options({ now: NOW - 300_000 }))).ok, true);
        assertFailure(
          await verifyOmiseSignature(options({ now: NOW - 301_000 })),
          'timestamp_in_future',
          /301 seconds in the future/,
        );
      });

      it('counts whole seconds of the clock', async () => {
        assert.equal((await verifyOmiseSignature(options({ now: NOW + 300_999 }))).ok, true);
      });

      it('checks the time before the signature, so a stale valid signature still fails', async () => {
        assertFailure(
          await verifyOmiseSignature(options({ now: NOW + 3_600_000 })),
          'timestamp_too_old',
          /toleranceSec: Infinity/,
        );
      });

      it('takes a custom tolerance, including 0', async () => {
        assert.equal((await verifyOmiseSignature(options({ toleranceSec: 10, now: NOW + 10_000 }))).ok, true);
        assertFailure(
          await verifyOmiseSignature(options({ toleranceSec: 10, now: NOW + 11_000 })),
          'timestamp_too_old',
        );
        assert.equal((await verifyOmiseSignature(options({ toleranceSec: 0 }))).ok, true);
        assertFailure(await verifyOmiseSignature(options({ toleranceSec: 0, now: NOW - 1000 })), 'timestamp_in_future');
      });

      it('turns the check off with Infinity', async () => {
        const tenYears = 10 * 365 * 24 * 3600 * 1000;
        assert.equal(
          (await verifyOmiseSignature(options({ toleranceSec: Number.POSITIVE_INFINITY, now: NOW + tenYears }))).ok,
          true,
        );
        assert.equal(
          (await verifyOmiseSignature(options({ toleranceSec: Number.POSITIVE_INFINITY, now: NOW - tenYears }))).ok,
          true,
        );
      });

      it('uses the default for a negative or NaN tolerance', async () => {
        assertFailure(
          await verifyOmiseSignature(options({ toleranceSec: -1, now: NOW + 301_000 })),
          'timestamp_too_old',
        );
        assert.equal((await verifyOmiseSignature(options({ toleranceSec: Number.NaN, now: NOW + 300_000 }))).ok, true);
      });

      it('uses the real clock by default', async () => {
        const timestamp = String(Math.floor(Date.now() / 1000));
        const result = await verifyOmiseSignature({
          payload: BODY,
          secret: SECRET,
          timestamp,
          signature: expectedSignature(SECRET, timestamp, BODY),
        });
        assert.equal(result.ok, true);
        assertFailure(
          await verifyOmiseSignature({ payload: BODY, secret: SECRET, timestamp: String(TS), signature: GOOD }),
          'timestamp_too_old',
        );
      });
    });

    describe('secrets that are not base64', () => {
      const cases: [name: string, secret: string, message: RegExp][] = [
        ['plain text', 'my webhook secret', /character that is not base64 at position 3/],
        ['an API secret key', 'skey_test_5xyz1abc', /looks like an Omise API key \(skey_\.\.\.\)/],
        ['a public key', 'pkey_test_5xyz1abc', /looks like an Omise API key \(pkey_\.\.\.\)/],
        ['URL-safe base64', 'ab-_', /URL-safe base64/],
        ['cut short', 'abcde', /length or "=" padding/],
        ['padded wrongly', 'ab=c', /length or "=" padding/],
        ['over-padded', 'a===', /length or "=" padding/],
      ];
      for (const [name, secret, message] of cases) {
        it(`refuses a secret that is ${name}, without echoing it`, async () => {
          const result = await verifyOmiseSignature(options({ secret }));
          assertFailure(result, 'secret_not_base64', message);
          assert.ok(!result.message.includes(secret), 'the message must not contain the secret');
        });
      }

      it('accepts unpadded base64', async () => {
        const unpadded = SECRET.replace(/=+$/, '');
        assert.notEqual(unpadded, SECRET);
        assert.equal((await verifyOmiseSignature(options({ secret: unpadded }))).ok, true);
      });

      it('names the bad secret among several', async () => {
        assertFailure(
          await verifyOmiseSignature(options({ secret: undefined, secrets: [SECRET, 'bad secret'] })),
          'secret_not_base64',
          /secret #2 of 2/,
        );
      });

      it('checks the secret before the payload and headers', async () => {
        assertFailure(
          await verifyOmiseSignature(
            options({ secret: 'bad secret', payload: null as unknown as string, signature: undefined }),
          ),
          'secret_not_base64',
        );
      });
    });

    describe('diagnosis when nothing matches', () => {
      it('spots a sender that used the secret text as the key (secret_not_base64_decoded)', async () => {
        const signature = hmacHex(Buffer.from(SECRET, 'utf8'), `${TS}.`, BODY);
        const result = await verifyOmiseSignature(options({ signature }));
        assertFailure(result, 'no_signature_matched');
        assert.equal(result.diagnosis, 'secret_not_base64_decoded');
        assert.match(result.hint ?? '', /used the secret text as the HMAC key without base64-decoding it/);
      });

      it('spots a body re-serialised compactly after signing (body_reserialised)', async () => {
        const result = await verifyOmiseSignature(options({ payload: JSON.stringify(JSON.parse(BODY)) }));
        assertFailure(result, 'no_signature_matched');
        assert.equal(result.diagnosis, 'body_reserialised');
        assert.match(
          result.hint ?? '',
          /re-serialised after it was signed .* forward the raw bytes exactly as received/,
        );
      });

      it('spots a body re-serialised with JSON.stringify(value, null, 2)', async () => {
        const result = await verifyOmiseSignature(options({ payload: JSON.stringify(JSON.parse(BODY), null, 2) }));
        assertFailure(result, 'no_signature_matched');
        assert.equal(result.diagnosis, 'body_reserialised');
      });

      it('spots a compact body that was signed pretty-printed the other way round', async () => {
        const compact = JSON.stringify(JSON.parse(BODY));
        const result = await verifyOmiseSignature(
          options({ payload: BODY, signature: expectedSignature(SECRET, TS, compact) }),
        );
        assertFailure(result, 'no_signature_matched');
        assert.equal(result.diagnosis, 'body_reserialised');
      });

      it('spots a secret with a trailing newline (secret_whitespace), without trimming it silently', async () => {
        for (const secret of [`${SECRET}\n`, ` ${SECRET}`, `${SECRET}\r\n`]) {
          const result = await verifyOmiseSignature(options({ secret }));
          assertFailure(result, 'secret_not_base64', /leading or trailing whitespace/);
          assert.equal(result.diagnosis, 'secret_whitespace');
          assert.match(result.hint ?? '', /trim it/);
        }
      });

      it('does not claim trimming helps when it does not', async () => {
        const result = await verifyOmiseSignature(options({ secret: `${OTHER_SECRET}\n` }));
        assertFailure(result, 'secret_not_base64');
        assert.equal(result.diagnosis, undefined);
      });

      it('spots a signature over the body alone, without the timestamp (timestamp_mismatch)', async () => {
        const signature = hmacHex(Buffer.from(SECRET, 'base64'), BODY);
        const result = await verifyOmiseSignature(options({ signature }));
        assertFailure(result, 'no_signature_matched');
        assert.equal(result.diagnosis, 'timestamp_mismatch');
        assert.match(result.hint ?? '', /signed the body alone/);
      });

      it('gives no diagnosis for a plain wrong secret, and asks about the raw body and the mode', async () => {
        const result = await verifyOmiseSignature(options({ secret: OTHER_SECRET }));
        assertFailure(result, 'no_signature_matched', /raw request body, byte for byte/);
        assert.match(result.message, /this is a test-mode event, so use the test-mode secret/);
        assert.equal(result.diagnosis, undefined);
        assert.equal(result.hint, undefined);
      });

      it('names live mode for a live event', async () => {
        const live = BODY.replace('"livemode": false', '"livemode": true');
        const result = await verifyOmiseSignature(options({ payload: live }));
        assertFailure(result, 'no_signature_matched', /live-mode event, so use the live-mode secret/);
      });

      it('skips the diagnosis when asked to', async () => {
        const result = await verifyOmiseSignature(
          options({ payload: JSON.stringify(JSON.parse(BODY)), diagnose: false }),
        );
        assertFailure(result, 'no_signature_matched');
        assert.equal(result.diagnosis, undefined);
      });

      it('does not diagnose a body that is not JSON as re-serialised', async () => {
        const result = await verifyOmiseSignature(options({ payload: 'not json' }));
        assertFailure(result, 'no_signature_matched');
        assert.equal(result.diagnosis, undefined);
      });

      // Issue 12: anyone can send a big body with a made-up signature, so the diagnosis (a re-parse,
      // four re-serialisations and their HMACs) must not be theirs to run on any size or depth.
      describe('bounded, since the body is unverified', () => {
        it('skips it for a forged 1 MiB envelope of small objects, with the usual code and message', async () => {
          const payload = padded(1024 * 1024);
          const bytes = Buffer.byteLength(payload);
          assert.ok(bytes > 1024 * 1024 && bytes > payload.length, 'padded to 1 MiB, with non-ASCII text');
          // Bytes are counted; a string is known to be over the limit by its length, the least
          // its UTF-8 can be, without the cost of counting.
          const cases = [
            { body: new TextEncoder().encode(payload), size: `${bytes}` },
            { body: payload, size: `at least ${payload.length}` },
          ];
          for (const { body, size } of cases) {
            const result = await verifyOmiseSignature(
              options({ payload: body, signature: randomBytes(32).toString('hex') }),
            );
            assertFailure(result, 'no_signature_matched', /^the signature in Omise-Signature does not match/);
            assert.ok(
              result.message.endsWith(
                `No likely cause was looked for: the body is ${size} bytes, and diagnosis stops at 65536 (diagnoseMaxBytes).`,
              ),
              result.message,
            );
            assert.equal(result.diagnosis, undefined);
            assert.equal(result.hint, undefined);
          }
        });

        it('skips it for a re-serialised body over the limit, which it would otherwise spot', async () => {
          const signed = padded(80 * 1024);
          const payload = JSON.stringify(JSON.parse(signed));
          const signature = expectedSignature(SECRET, TS, signed);
          const bytes = Buffer.byteLength(payload);
          assert.ok(bytes > 65536 && bytes < 128 * 1024);

          const bounded = await verifyOmiseSignature(options({ payload, signature }));
          assertFailure(bounded, 'no_signature_matched', /and diagnosis stops at 65536 \(diagnoseMaxBytes\)\.$/);
          assert.equal(bounded.diagnosis, undefined);

          const lifted = await verifyOmiseSignature(
            options({ payload, signature, diagnoseMaxBytes: Number.POSITIVE_INFINITY }),
          );
          assertFailure(lifted, 'no_signature_matched');
          assert.equal(lifted.diagnosis, 'body_reserialised');
          assert.doesNotMatch(lifted.message, /No likely cause was looked for/);
        });

        it('diagnoses a body of exactly diagnoseMaxBytes bytes, and not one byte more', async () => {
          const payload = JSON.stringify(JSON.parse(BODY));
          const bytes = Buffer.byteLength(payload);
          const at = await verifyOmiseSignature(options({ payload, diagnoseMaxBytes: bytes }));
          assertFailure(at, 'no_signature_matched');
          assert.equal(at.diagnosis, 'body_reserialised');
          const under = await verifyOmiseSignature(options({ payload, diagnoseMaxBytes: bytes - 1 }));
          assertFailure(
            under,
            'no_signature_matched',
            new RegExp(`the body is ${bytes} bytes, and diagnosis stops at ${bytes - 1} \\(diagnoseMaxBytes\\)\\.$`),
          );
          assert.equal(under.diagnosis, undefined);
        });

        it('says nothing about skipping when diagnose is false', async () => {
          const result = await verifyOmiseSignature(options({ payload: padded(70 * 1024), diagnose: false }));
          assertFailure(result, 'no_signature_matched');
          assert.doesNotMatch(result.message, /No likely cause/);
        });

        it('uses the default limit for a negative or NaN diagnoseMaxBytes', async () => {
          for (const diagnoseMaxBytes of [-1, Number.NaN]) {
            const result = await verifyOmiseSignature(options({ payload: padded(70 * 1024), diagnoseMaxBytes }));
            assertFailure(result, 'no_signature_matched', /diagnosis stops at 65536 /);
          }
        });

        it('does not re-serialise a body nested 30,000 levels deep, and still finds what it can', async () => {
          // Small enough to be under the byte limit; re-serialising it would overflow the stack.
          const payload = `{"object":"event","id":"evnt_test_deep","data":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
          const wrong = await verifyOmiseSignature(options({ payload }));
          assertFailure(wrong, 'no_signature_matched');
          assert.equal(wrong.diagnosis, undefined);
          // The checks that only HMAC the body still run.
          const signature = hmacHex(Buffer.from(SECRET, 'base64'), payload);
          const alone = await verifyOmiseSignature(options({ payload, signature }));
          assertFailure(alone, 'no_signature_matched');
          assert.equal(alone.diagnosis, 'timestamp_mismatch');
        });

        it('still re-serialises a body nested 256 levels deep', async () => {
          const value = JSON.parse(`[${'['.repeat(255)}${']'.repeat(255)}]`);
          const signed = JSON.stringify(value, null, 2);
          const payload = JSON.stringify(value);
          const result = await verifyOmiseSignature(
            options({ payload, signature: expectedSignature(SECRET, TS, signed) }),
          );
          assertFailure(result, 'no_signature_matched');
          assert.equal(result.diagnosis, 'body_reserialised');
        });
      });
    });
  });
}

// The diagnosis builds formatOmiseJson's output from JSON.stringify's (ten times faster on a big
// body), so the two must agree byte for byte on everything a JSON body can hold.
describe('reserialisations', () => {
  const omiseVariants = (value: unknown) => [formatOmiseJson(value), formatOmiseJson(value, { escapeSlashes: false })];

  it('writes every fixture as formatOmiseJson does, with and without \\/ escapes', () => {
    const fixtures = new URL('../test/fixtures/', import.meta.url);
    const names = readdirSync(fixtures).filter((name) => name.endsWith('.json'));
    assert.ok(names.length >= 10);
    for (const name of names) {
      const value = JSON.parse(readFileSync(new URL(name, fixtures), 'utf8'));
      const variants = reserialisations({ text: '', value });
      for (const expected of omiseVariants(value)) assert.ok(variants.includes(expected), name);
      assert.ok(variants.includes(JSON.stringify(value)), name);
      assert.ok(variants.includes(JSON.stringify(value, null, 2)), name);
    }
  });

  it('agrees on empty arrays at every depth, brackets and escapes inside strings, and empty objects', () => {
    const values: unknown[] = [
      [],
      {},
      [[]],
      { a: [], b: { c: [[], {}, [[]]] } },
      { '[]': '[]', 'a/b': 'x/y', q: 'say "[]" \\', e: '\\', after: [] },
      ['"[]', '\\[]', { x: [] }, [1, [], 'ทด [] \u2028'], null, true, 1.5e-7],
      { data: { refunds: { object: 'list', data: [] }, metadata: {} }, webhook_deliveries: [] },
    ];
    for (const value of values) {
      const variants = reserialisations({ text: '', value });
      for (const expected of omiseVariants(value)) assert.ok(variants.includes(expected), JSON.stringify(value));
    }
  });

  it('leaves out the body itself', () => {
    const value = JSON.parse(BODY);
    assert.equal(reserialisations({ text: BODY, value }).includes(BODY), false);
    assert.equal(reserialisations({ text: BODY, value }).length, 3);
  });
});

describe('readOmiseSignatureHeaders', () => {
  it('reads a fetch Headers object, whatever the case', () => {
    const headers = new Headers({
      'omise-signature': GOOD,
      'OMISE-SIGNATURE-TIMESTAMP': String(TS),
      'Content-Type': 'application/json',
    });
    assert.deepEqual(readOmiseSignatureHeaders(headers), { signature: GOOD, timestamp: String(TS) });
  });

  it('reads a Node-style record, with array values joined by commas', () => {
    const result = readOmiseSignatureHeaders({
      'omise-signature': ['a', 'b'],
      'omise-signature-timestamp': String(TS),
      host: undefined,
    });
    assert.deepEqual(result, { signature: 'a,b', timestamp: String(TS) });
    assert.deepEqual(readOmiseSignatureHeaders({ 'Omise-Signature': 'x', 'Omise-Signature-Timestamp': '1' }), {
      signature: 'x',
      timestamp: '1',
    });
  });

  it('reads a list of name/value pairs, joining repeated headers', () => {
    const result = readOmiseSignatureHeaders([
      ['Omise-Signature', 'a'],
      ['Omise-Signature-Timestamp', '1'],
      ['omise-signature', 'b'],
    ]);
    assert.deepEqual(result, { signature: 'a,b', timestamp: '1' });
  });

  it('returns undefined for headers that are absent', () => {
    assert.deepEqual(readOmiseSignatureHeaders({}), { signature: undefined, timestamp: undefined });
    assert.deepEqual(readOmiseSignatureHeaders([]), { signature: undefined, timestamp: undefined });
    assert.deepEqual(readOmiseSignatureHeaders(new Headers()), { signature: undefined, timestamp: undefined });
  });

  it('reports an X-Omise-Signature header, which Omise never sends, by the name it was sent under', () => {
    assert.deepEqual(readOmiseSignatureHeaders([['X-Omise-Signature', GOOD]]), {
      signature: undefined,
      timestamp: undefined,
      misnamedSignatureHeader: 'X-Omise-Signature',
    });
    assert.equal(
      readOmiseSignatureHeaders({ 'x-omise-signature-timestamp': '1' }).misnamedSignatureHeader,
      'x-omise-signature-timestamp',
    );
    assert.equal(
      readOmiseSignatureHeaders(new Headers({ 'X-Omise-Signature': GOOD })).misnamedSignatureHeader,
      'x-omise-signature',
    );
  });

  it('feeds verifyOmiseSignature, including two signature header lines during a roll', async () => {
    const other = expectedSignature(OTHER_SECRET, TS, BODY);
    const { signature, timestamp } = readOmiseSignatureHeaders([
      ['omise-signature', other],
      ['omise-signature', GOOD],
      ['omise-signature-timestamp', String(TS)],
    ]);
    assert.equal(
      (await verifyOmiseSignature({ payload: BODY, signature, timestamp, secret: SECRET, now: NOW })).ok,
      true,
    );
  });
});
