import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, NOW_SEC, SECRET, signedHeaders } from '../test/test-kit.js';
import { createOmiseWebhooks } from './create-omise-webhooks.js';
import { OmiseWebhookError, type OmiseWebhookErrorCode } from './errors.js';
import { handleOmiseWebhookRequest, OMISE_WEBHOOK_ERROR_STATUS } from './handle-omise-webhook-request.js';

const CHARGE_COMPLETE = fixture('charge.complete.json');

describe('handleOmiseWebhookRequest', () => {
  it('answers 200 with the outcome and the event id, as JSON that is not cached', async () => {
    const webhooks = createOmiseWebhooks({ secret: SECRET, now: () => NOW_SEC * 1000 });
    const answer = await handleOmiseWebhookRequest(webhooks, {
      rawBody: CHARGE_COMPLETE,
      headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET] }),
    });
    assert.deepEqual(answer, {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: '{"status":"handled","id":"evnt_test_5ygr5yxi8vd0mvv3pxp"}',
    });
  });

  it('has a status for every error code', () => {
    const codes: OmiseWebhookErrorCode[] = [
      'invalid_json',
      'invalid_event',
      'too_deep',
      'payload_not_raw',
      'missing_secret',
      'invalid_secret',
      'invalid_options',
      'unknown_event_key',
      'body_already_parsed',
      'body_too_large',
      'signature_invalid',
      'api_verification_failed',
      'api_unavailable',
      'dedupe_failed',
      'handler_failed',
    ];
    assert.deepEqual(Object.keys(OMISE_WEBHOOK_ERROR_STATUS).sort(), [...codes].sort());
    assert.deepEqual(
      [
        OMISE_WEBHOOK_ERROR_STATUS.invalid_json,
        OMISE_WEBHOOK_ERROR_STATUS.signature_invalid,
        OMISE_WEBHOOK_ERROR_STATUS.body_too_large,
        OMISE_WEBHOOK_ERROR_STATUS.invalid_event,
        OMISE_WEBHOOK_ERROR_STATUS.handler_failed,
        OMISE_WEBHOOK_ERROR_STATUS.api_unavailable,
      ],
      [400, 401, 413, 422, 500, 503],
    );
  });

  it('sends the hint with a signature failure', async () => {
    const webhooks = createOmiseWebhooks({ secret: SECRET, now: () => NOW_SEC * 1000 });
    const compact = JSON.stringify(JSON.parse(CHARGE_COMPLETE.toString('utf8')));
    const answer = await handleOmiseWebhookRequest(webhooks, {
      rawBody: compact,
      headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET] }),
    });
    assert.equal(answer.status, 401);
    const body = JSON.parse(answer.body);
    // The shape `omise-webhook serve` answers with: one shape whichever receiver a sender meets.
    assert.deepEqual(Object.keys(body), ['error', 'message', 'hint']);
    assert.equal(body.error, 'signature_invalid');
    assert.match(body.hint, /re-serialised/);
  });

  it('counts every failure in a handler_failed answer, not only the handlers that threw', async () => {
    const webhooks = createOmiseWebhooks({ secret: SECRET, now: () => NOW_SEC * 1000 });
    webhooks.on('charge.complete', () => {
      throw new Error('the orders table is locked');
    });
    webhooks.onError(() => {
      throw new Error('the log is full');
    });
    const answer = await handleOmiseWebhookRequest(webhooks, {
      rawBody: CHARGE_COMPLETE,
      headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET] }),
    });
    assert.equal(answer.status, 500);
    const body = JSON.parse(answer.body);
    assert.equal(body.error, 'handler_failed');
    assert.match(body.message, /^2 failure\(s\) handling event evnt_test_5ygr5yxi8vd0mvv3pxp \(charge\.complete\);/);
    assert.doesNotMatch(body.message, /orders table|log is full/);
  });

  it("reports a reading failure to onError and answers it, and rethrows what is not the library's error", async () => {
    const webhooks = createOmiseWebhooks({ secret: SECRET });
    const reported: string[] = [];
    webhooks.onError((error) => {
      reported.push(error.code);
    });
    const answer = await handleOmiseWebhookRequest(webhooks, {
      rawBody: () =>
        Promise.reject(new OmiseWebhookError('body_too_large', 'request body is 2 MiB; the limit is 1 MiB')),
      headers: {},
    });
    assert.equal(answer.status, 413);
    assert.deepEqual(reported, ['body_too_large']);

    const bug = new RangeError('a bug');
    await assert.rejects(
      handleOmiseWebhookRequest(webhooks, { rawBody: () => Promise.reject(bug), headers: {} }),
      (error) => error === bug,
    );
  });
});
