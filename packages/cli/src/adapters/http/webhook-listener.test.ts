import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import type { WebhookAnswer, WebhookHandler } from '../../core/ports.js';
import { rawRequest } from '../../testing/http.js';
import { startWebhookListener } from './webhook-listener.js';

/** A handler whose answers wait until the test lets them go, as a slow store would. */
function gatedHandler(): { handler: WebhookHandler; started: Promise<void>; release: () => void } {
  let release = () => {};
  let started = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const startedPromise = new Promise<void>((resolve) => {
    started = resolve;
  });
  const handler: WebhookHandler = {
    async handleWebhook(): Promise<WebhookAnswer> {
      started();
      await gate;
      return { status: 200, body: { received: true } };
    },
    async keepRejection() {},
  };
  return { handler, started: startedPromise, release };
}

function listen(handler: WebhookHandler, drainMs?: number) {
  return startWebhookListener({
    receiver: handler,
    host: '127.0.0.1',
    port: 0,
    path: '/omise/webhook',
    maxBodyBytes: 1024 * 1024,
    requestTimeoutMs: 10_000,
    ...(drainMs === undefined ? {} : { drainMs }),
  });
}

describe('webhook listener: closing drains what is in flight', () => {
  it('answers a request already being handled, then closes; an idle keep-alive connection does not hold it', async () => {
    const { handler, started, release } = gatedHandler();
    const listener = await listen(handler);
    // An idle keep-alive connection: one finished request on an agent that keeps it open.
    const health = await fetch(listener.url.replace('/omise/webhook', '/healthz'));
    assert.equal(health.status, 200);
    const inFlight = rawRequest({ url: listener.url, body: '{}' });
    await started;
    let closed = false;
    const closing = listener.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(closed, false, 'close waits for the request being handled');
    release();
    const answer = await inFlight;
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { received: true });
    await closing;
    assert.equal(closed, true);
  });

  it('cuts a request that takes longer than drainMs, so a stop never hangs', async () => {
    const { handler, started } = gatedHandler();
    const listener = await listen(handler, 100);
    const outcome = new Promise<string>((resolve) => {
      const req = request(listener.url, { method: 'POST', agent: false }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.end('{}');
    });
    await started;
    const began = Date.now();
    await listener.close();
    assert.ok(Date.now() - began < 2_000, 'closed soon after drainMs');
    assert.equal(await outcome, 'ECONNRESET');
  });
});
