// Property-based tests for ingest through the receiver (issue 12): any bytes, any headers, in
// every verification mode, are answered with a status below 500 and never crash; a request that
// is refused is never stored as an event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import type { IngestPolicy } from '../core/ingest.js';
import { Notifier } from '../core/notifier.js';
import type { OmiseEventsLookup } from '../core/ports.js';
import { eventBody } from '../testing/delivery-fixtures.js';
import { rawRequest } from '../testing/http.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { Receiver } from './receiver.js';

const NOW = Date.UTC(2026, 10, 26, 7, 0, 0);
const NOW_SEC = Math.floor(NOW / 1000);

/** Bodies from noise to nearly right: bytes, text, JSON, events cut or changed, deep nesting. */
const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 300 }).map((text) => Buffer.from(text)),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc
    .tuple(fc.stringMatching(/^evnt_(test_)?[0-9a-z]{1,80}$/), fc.nat(), fc.integer({ min: 0, max: 255 }))
    .map(([eventId, at, byte]) => {
      const bytes = Buffer.from(eventBody({ eventId }));
      if (at % 3 === 0) bytes[at % bytes.length] = byte;
      return at % 5 === 0 ? bytes.subarray(0, at % bytes.length) : bytes;
    }),
  fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 3_000 }), weight: 20 },
        { arbitrary: fc.constant(100_000), weight: 1 },
      ),
      fc.constantFrom('[', '{"a":'),
    )
    .map(([levels, open]) =>
      Buffer.from(eventBody({ eventId: 'evnt_test_5xprop' }).replace('100000', open.repeat(levels))),
    ),
);

/** Headers from none to a valid signature, with strange names and values between. */
function headers(bytes: Buffer) {
  return fc.oneof(
    fc.array(fc.tuple(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 100 })), { maxLength: 5 }),
    fc.tuple(fc.string({ unit: 'binary', maxLength: 100 }), fc.string({ maxLength: 20 })).map(
      ([signature, timestamp]): Array<[string, string]> => [
        ['Omise-Signature', signature],
        ['Omise-Signature-Timestamp', timestamp],
      ],
    ),
    fc.integer({ min: NOW_SEC - 600, max: NOW_SEC + 600 }).map(
      (timestamp): Array<[string, string]> => [
        ['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, timestamp, bytes)],
        ['Omise-Signature-Timestamp', String(timestamp)],
      ],
    ),
  );
}

const request = body.chain((bytes) => fc.tuple(fc.constant(bytes), headers(bytes)));

/** An Omise API stand-in that answers every way the real one can, chosen by the event id. */
const omiseApi: OmiseEventsLookup = {
  lookupEvent: async (eventId) => {
    const answers = ['found', 'not_found', 'unavailable', 'auth_failed'] as const;
    const kind = answers[eventId.length % answers.length] ?? 'found';
    if (kind === 'found') return { kind, body: `{"object":"event","id":"${eventId}"}` };
    return { kind, message: `stand-in says ${kind}` };
  },
};

function receiverFor(mode: IngestPolicy['mode'], allowLive: boolean) {
  const store = new MemoryEventStore({ maxRejections: 100 });
  const receiver = new Receiver({
    store,
    notifier: new Notifier(),
    clock: { now: () => NOW },
    policy: { mode, modeSource: 'configured', webhookSecrets: [TEST_WEBHOOK_SECRET], toleranceSec: 300, allowLive },
    omiseApi,
  });
  return { store, receiver };
}

describe('receiver: any request', () => {
  for (const mode of ['none', 'signature', 'api', 'both'] as const) {
    it(`mode ${mode}: answers below 500, and stores an event only when it answers 200`, async () => {
      await fc.assert(
        fc.asyncProperty(request, fc.boolean(), async ([bytes, headerList], allowLive) => {
          const { store, receiver } = receiverFor(mode, allowLive);
          const answer = await receiver.handleWebhook({
            method: 'POST',
            path: '/omise/webhook',
            headers: headerList,
            body: bytes,
            remoteAddress: '127.0.0.1',
          });
          assert.ok(answer.status < 500, `${answer.status} ${JSON.stringify(answer.body)}`);
          const stored = (await store.listEvents({})).items.length;
          if (answer.status === 200) assert.equal(stored, 1);
          else {
            assert.equal(stored, 0);
            assert.equal((await store.listRejections({})).items.length, 1);
          }
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe('serve: any request over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
  });
  after(() => server.close());

  it('answers below 500 and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ([bytes, headerList]) => {
        const safeHeaders = headerList.filter(
          ([name, value]) =>
            /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) &&
            /^[\t\x20-\x7e]*$/.test(value) &&
            !/^(host|content-length|transfer-encoding|connection|expect)$/i.test(name),
        );
        const response = await rawRequest({ url: server.webhookUrl, headers: safeHeaders, body: bytes });
        assert.ok(response.status < 500, `${response.status} ${response.body}`);
      }),
      { numRuns: 80 },
    );
  });
});
