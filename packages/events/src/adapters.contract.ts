// The behaviour every adapter must have, written once and run against each (adapters.test.ts).
// Expected signatures are computed by the test kit with node:crypto, not by the library.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  fixture,
  NEW_SECRET,
  NOW_SEC,
  OLD_SECRET,
  SECRET,
  signedHeaders,
  signForTest,
  WRONG_SECRET,
} from '../test/test-kit.js';
import { createOmiseWebhooks, type OmiseWebhooks, type OmiseWebhooksOptions } from './create-omise-webhooks.js';
import type { OmiseWebhookError } from './errors.js';
import type { OmiseEvent } from './types.js';

export interface SentRequest {
  headers: Array<[string, string]>;
  body: string | Uint8Array;
  /** Send without Content-Length, in pieces, so the size is only known by reading. */
  chunked?: boolean;
}

export interface ReceivedResponse {
  status: number;
  contentType: string | undefined;
  body: string;
}

export interface RunningAdapter {
  post(request: SentRequest): Promise<ReceivedResponse>;
  close(): Promise<void>;
}

export interface AdapterHarness {
  name: string;
  /**
   * Serve `webhooks` through the adapter. With `bodyParserFirst`, something in front of it reads
   * and parses the JSON body first, as a misconfigured app would.
   */
  start(webhooks: OmiseWebhooks, options: { bodyParserFirst: boolean }): Promise<RunningAdapter>;
  /** What this adapter's `body_already_parsed` message must tell the developer to do. */
  parsedBodyAdvice: RegExp;
}

const CHARGE_COMPLETE = fixture('charge.complete.json');
const CHARGE_ID = 'chrg_test_5ygr5q0ekcwwfgyq1rr';
const EVENT_ID = 'evnt_test_5ygr5yxi8vd0mvv3pxp';
const REFUND_CREATE = fixture('refund.create.json');

/** A receiver on a fake clock, with what it saw recorded. */
function setUp(options: Partial<OmiseWebhooksOptions> = {}) {
  const clock = { nowMs: NOW_SEC * 1000 };
  const webhooks = createOmiseWebhooks({ secret: SECRET, now: () => clock.nowMs, ...options });
  const seen: Array<{ by: string; event: OmiseEvent }> = [];
  const errors: OmiseWebhookError[] = [];
  webhooks.on('charge.complete', (event) => {
    seen.push({ by: 'charge.complete', event });
  });
  webhooks.onAny((event) => {
    seen.push({ by: 'any', event });
  });
  webhooks.onError((error) => {
    errors.push(error);
  });
  return { webhooks, clock, seen, errors };
}

function parseBody(response: ReceivedResponse): Record<string, unknown> {
  assert.match(response.contentType ?? '', /^application\/json/, 'answers are JSON');
  return JSON.parse(response.body) as Record<string, unknown>;
}

export function describeAdapterContract(harness: AdapterHarness): void {
  describe(`${harness.name}: the adapter contract`, () => {
    let running: RunningAdapter | undefined;
    const start = async (webhooks: OmiseWebhooks, bodyParserFirst = false) => {
      running = await harness.start(webhooks, { bodyParserFirst });
      return running;
    };
    afterEach(async () => {
      await running?.close();
      running = undefined;
    });

    it('handles a verified event: 200, and each matching handler gets the typed event once', async () => {
      const { webhooks, seen, errors } = setUp();
      const adapter = await start(webhooks);
      const response = await adapter.post({
        headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET] }),
        body: CHARGE_COMPLETE,
      });
      assert.equal(response.status, 200);
      assert.equal(response.body, `{"status":"handled","id":"${EVENT_ID}"}`);
      assert.deepEqual(
        seen.map(({ by, event }) => [by, event.id, event.key, (event.data as { id: string }).id]),
        [
          ['charge.complete', EVENT_ID, 'charge.complete', CHARGE_ID],
          ['any', EVENT_ID, 'charge.complete', CHARGE_ID],
        ],
      );
      assert.deepEqual(errors, []);
    });

    it('answers 401 signature_invalid to a signature made with another secret, and runs no handler', async () => {
      const { webhooks, seen, errors } = setUp();
      const adapter = await start(webhooks);
      const response = await adapter.post({
        headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [WRONG_SECRET] }),
        body: CHARGE_COMPLETE,
      });
      assert.equal(response.status, 401);
      const body = parseBody(response);
      // serve's shape: `error` is the code; there is no `code` key.
      assert.deepEqual(Object.keys(body).slice(0, 2), ['error', 'message']);
      assert.equal('code' in body, false);
      assert.equal(body.error, 'signature_invalid');
      assert.match(String(body.message), /no_signature_matched/);
      assert.deepEqual(seen, []);
      assert.deepEqual(
        errors.map((error) => [error.code, error.reason]),
        [['signature_invalid', 'no_signature_matched']],
      );
    });

    it('answers 401 to an unsigned request', async () => {
      const { webhooks, seen } = setUp();
      const adapter = await start(webhooks);
      const response = await adapter.post({ headers: [['Content-Type', 'application/json']], body: CHARGE_COMPLETE });
      assert.equal(response.status, 401);
      assert.match(String(parseBody(response).message), /missing_signature/);
      assert.deepEqual(seen, []);
    });

    it('answers 401 to a stale signature (older than toleranceSec), and accepts one just inside it', async () => {
      const { webhooks, seen, errors } = setUp({ toleranceSec: 300 });
      const adapter = await start(webhooks);
      const stale = await adapter.post({
        headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET], timestamp: NOW_SEC - 301 }),
        body: CHARGE_COMPLETE,
      });
      assert.equal(stale.status, 401);
      assert.match(String(parseBody(stale).message), /301 seconds old; at most 300/);
      assert.deepEqual(seen, []);
      assert.equal(errors[0]?.reason, 'timestamp_too_old');

      const fresh = await adapter.post({
        headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET], timestamp: NOW_SEC - 300 }),
        body: CHARGE_COMPLETE,
      });
      assert.equal(fresh.status, 200);
    });

    it('accepts either secret while one is rolled (secrets: [old, new]), and both signatures in one header', async () => {
      const { webhooks, seen } = setUp({ secret: undefined, secrets: [OLD_SECRET, NEW_SECRET], dedupe: false });
      const adapter = await start(webhooks);
      for (const secrets of [[OLD_SECRET], [NEW_SECRET], [OLD_SECRET, NEW_SECRET], [WRONG_SECRET, NEW_SECRET]]) {
        const response = await adapter.post({
          headers: signedHeaders({ body: CHARGE_COMPLETE, secrets }),
          body: CHARGE_COMPLETE,
        });
        assert.equal(response.status, 200, `signed with ${secrets.length} secret(s)`);
      }
      const wrong = await adapter.post({
        headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [WRONG_SECRET] }),
        body: CHARGE_COMPLETE,
      });
      assert.equal(wrong.status, 401);
      assert.match(String(parseBody(wrong).message), /any of the 2 configured secrets/);
      assert.equal(seen.filter(({ by }) => by === 'charge.complete').length, 4);
    });

    it('answers 200 duplicate to a redelivery within the window without running handlers, and handles it again after', async () => {
      const { webhooks, seen, clock } = setUp({ dedupe: { windowSec: 3600 } });
      const adapter = await start(webhooks);
      const send = () =>
        adapter.post({
          headers: signedHeaders({
            body: CHARGE_COMPLETE,
            secrets: [SECRET],
            timestamp: Math.floor(clock.nowMs / 1000),
          }),
          body: CHARGE_COMPLETE,
        });
      assert.equal((await send()).body, `{"status":"handled","id":"${EVENT_ID}"}`);
      const again = await send();
      assert.equal(again.status, 200);
      assert.equal(again.body, `{"status":"duplicate","id":"${EVENT_ID}"}`);
      assert.equal(seen.length, 2, 'one event, two handlers, run once');

      clock.nowMs += 3601 * 1000;
      assert.equal((await send()).body, `{"status":"handled","id":"${EVENT_ID}"}`);
      assert.equal(seen.length, 4);
    });

    it('answers 500 body_already_parsed, saying how to fix the app, when a body parser ran first', async () => {
      const { webhooks, seen, errors } = setUp();
      const adapter = await start(webhooks, true);
      const response = await adapter.post({
        headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET] }),
        body: CHARGE_COMPLETE,
      });
      assert.equal(response.status, 500);
      const body = parseBody(response);
      assert.equal(body.error, 'body_already_parsed');
      assert.match(String(body.message), harness.parsedBodyAdvice);
      assert.deepEqual(seen, []);
      assert.deepEqual(
        errors.map((error) => error.code),
        ['body_already_parsed'],
      );
    });

    it('answers 500 handler_failed when a handler throws: the others still run, onError gets every failure, a redelivery runs again', async () => {
      const { webhooks, seen, errors } = setUp();
      const failure = new Error('the orders table is locked (secret detail)');
      const failing = () => {
        throw failure;
      };
      webhooks.on('charge.*', failing);
      const adapter = await start(webhooks);
      const send = () =>
        adapter.post({ headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET] }), body: CHARGE_COMPLETE });

      const response = await send();
      assert.equal(response.status, 500);
      const body = parseBody(response);
      assert.equal(body.error, 'handler_failed');
      assert.doesNotMatch(response.body, /secret detail/, 'what a handler threw is not sent back to the sender');
      assert.deepEqual(
        seen.map(({ by }) => by),
        ['charge.complete', 'any'],
      );
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.code, 'handler_failed');
      assert.deepEqual(errors[0]?.errors, [failure]);
      assert.equal(errors[0]?.event?.id, EVENT_ID);

      webhooks.removeListener('charge.*', failing);
      const retried = await send();
      assert.equal(
        retried.body,
        `{"status":"handled","id":"${EVENT_ID}"}`,
        'a failed event is not remembered as handled',
      );
    });

    for (const chunked of [false, true]) {
      it(`answers 413 body_too_large to a body over maxBodyBytes (${chunked ? 'chunked, found by reading' : 'refused on its Content-Length'})`, async () => {
        const { webhooks, seen, errors } = setUp({ maxBodyBytes: 2048 });
        const adapter = await start(webhooks);
        const body = CHARGE_COMPLETE; // 3,235 bytes
        const response = await adapter.post({ headers: signedHeaders({ body, secrets: [SECRET] }), body, chunked });
        assert.equal(response.status, 413);
        const answer = parseBody(response);
        assert.equal(answer.error, 'body_too_large');
        assert.match(
          String(answer.message),
          chunked
            ? /request body is at least [\d.]+ KiB; the limit is 2 KiB/
            : /request body is 3\.2 KiB \(Content-Length\); the limit is 2 KiB/,
        );
        assert.deepEqual(seen, []);
        assert.deepEqual(
          errors.map((error) => error.code),
          ['body_too_large'],
        );

        // Just under the limit is fine.
        const small = REFUND_CREATE; // 1,112 bytes
        const ok = await adapter.post({
          headers: signedHeaders({ body: small, secrets: [SECRET] }),
          body: small,
          chunked,
        });
        assert.equal(ok.status, 200);
      });
    }

    it('answers 400 invalid_json to a signed body that is not JSON, and 422 invalid_event to JSON that is not an event', async () => {
      const { webhooks, seen } = setUp();
      const adapter = await start(webhooks);
      const notJson = '{"object": "event",';
      const first = await adapter.post({ headers: signedHeaders({ body: notJson, secrets: [SECRET] }), body: notJson });
      assert.equal(first.status, 400);
      assert.equal(parseBody(first).error, 'invalid_json');

      const notEvent = '{"object": "charge", "id": "chrg_test_5ygr5q0ekcwwfgyq1rr"}';
      const second = await adapter.post({
        headers: signedHeaders({ body: notEvent, secrets: [SECRET] }),
        body: notEvent,
      });
      assert.equal(second.status, 422);
      assert.equal(parseBody(second).error, 'invalid_event');
      assert.deepEqual(seen, []);
    });

    it('verifies the exact bytes: a body re-serialised after signing is refused with the likely cause', async () => {
      const { webhooks, seen } = setUp();
      const adapter = await start(webhooks);
      const compact = JSON.stringify(JSON.parse(CHARGE_COMPLETE.toString('utf8')));
      const signature = signForTest(SECRET, NOW_SEC, CHARGE_COMPLETE);
      const response = await adapter.post({
        headers: [
          ['Content-Type', 'application/json'],
          ['Omise-Signature', signature],
          ['Omise-Signature-Timestamp', String(NOW_SEC)],
        ],
        body: compact,
      });
      assert.equal(response.status, 401);
      const body = parseBody(response);
      assert.match(String(body.hint), /re-serialised/);
      assert.deepEqual(seen, []);
    });
  });
}
