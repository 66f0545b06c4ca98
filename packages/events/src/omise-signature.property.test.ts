// Property-based tests for the parts of the library that take untrusted input (issue 12): the
// signature headers and the verifier. Run counts are modest so the file takes about a second.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readOmiseSignatureHeaders, verifyOmiseSignature } from './omise-signature.js';

const SECRET = randomBytes(32).toString('base64');
const NOW_SEC = 1_700_000_000;

// Computed with node:crypto, independently of the code under test.
function sign(secret: string, timestamp: string, body: string | Uint8Array): string {
  return createHmac('sha256', Buffer.from(secret, 'base64')).update(`${timestamp}.`).update(body).digest('hex');
}

/** Header text a stranger might send: anything, hex-ish parts, commas, whitespace, unicode. */
const headerText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .array(fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{0,70}$/), fc.constantFrom('', ' ', ',', 'v1=')), { maxLength: 6 })
    .map((parts) => parts.join(',')),
);
const timestampText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer({ min: NOW_SEC - 400, max: NOW_SEC + 400 }).map(String),
  fc.constant(String(NOW_SEC)),
);
const payload = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }));

describe('readOmiseSignatureHeaders: any headers', () => {
  it('never throws, and reads only Omise-Signature and Omise-Signature-Timestamp (any case)', () => {
    const name = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('Omise-Signature', 'omise-signature', 'OMISE-SIGNATURE-TIMESTAMP', 'X-Omise-Signature'),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string({ unit: 'binary', maxLength: 80 })), { maxLength: 8 }), (pairs) => {
        const read = readOmiseSignatureHeaders(pairs);
        const wanted = (header: string) => pairs.filter(([n]) => n.toLowerCase() === header).map(([, v]) => v);
        const signatures = wanted('omise-signature');
        const timestamps = wanted('omise-signature-timestamp');
        assert.equal(read.signature, signatures.length > 0 ? signatures.join(',') : undefined);
        assert.equal(read.timestamp, timestamps.length > 0 ? timestamps.join(',') : undefined);
        // The record and Headers forms must not throw either.
        readOmiseSignatureHeaders(Object.fromEntries(pairs));
      }),
      { numRuns: 300 },
    );
  });
});

describe('verifyOmiseSignature: any request', () => {
  it('never throws, and accepts only when a part of the header is the HMAC made with the secret', async () => {
    await fc.assert(
      fc.asyncProperty(
        headerText,
        timestampText,
        payload,
        fc.boolean(),
        async (signature, timestamp, body, diagnose) => {
          const result = await verifyOmiseSignature({
            payload: body,
            signature,
            timestamp,
            secret: SECRET,
            now: NOW_SEC * 1000,
            diagnose,
          });
          if (result.ok) {
            const expected = sign(SECRET, timestamp.trim(), body);
            assert.ok(signature.split(',').some((part) => part.trim().toLowerCase() === expected));
          } else {
            assert.equal(typeof result.message, 'string');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never accepts a signature made with another secret, whatever else the header holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        payload,
        fc.array(fc.stringMatching(/^[0-9a-f]{64}$/), { maxLength: 3 }),
        async (otherKey, body, decoys) => {
          const otherSecret = Buffer.from(otherKey).toString('base64');
          fc.pre(otherSecret !== SECRET);
          const timestamp = String(NOW_SEC);
          const forged = [sign(otherSecret, timestamp, body), ...decoys].join(',');
          const result = await verifyOmiseSignature({
            payload: body,
            signature: forged,
            timestamp,
            secret: SECRET,
            now: NOW_SEC * 1000,
          });
          assert.equal(result.ok, false);
          assert.equal(result.ok === false && result.code, 'no_signature_matched');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('accepts the right signature among any well-formed decoys, in any position', async () => {
    await fc.assert(
      fc.asyncProperty(
        payload,
        fc.array(fc.stringMatching(/^[0-9a-f]{64}$/), { maxLength: 3 }),
        fc.nat(),
        async (body, decoys, position) => {
          const timestamp = String(NOW_SEC - 10);
          const parts = [...decoys];
          parts.splice(position % (decoys.length + 1), 0, sign(SECRET, timestamp, body));
          const result = await verifyOmiseSignature({
            payload: body,
            signature: parts.join(', '),
            timestamp,
            secret: SECRET,
            now: NOW_SEC * 1000,
          });
          assert.equal(result.ok, true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
