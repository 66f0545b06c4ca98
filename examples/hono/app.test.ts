import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ServerType, serve } from '@hono/node-server';
import { deliver, EXAMPLE_WEBHOOK_SECRET, signedEvent } from '../_shared/signed-event.js';
import { createShopApp } from './app.js';

describe('example: Hono (createFetchHandler)', () => {
  let server: ServerType;
  let base: string;
  before(async () => {
    const app = createShopApp({ secret: EXAMPLE_WEBHOOK_SECRET });
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('marks the order paid from a signed charge.complete sent over HTTP', async () => {
    const event = await signedEvent('charge.complete', EXAMPLE_WEBHOOK_SECRET);
    const sent = JSON.parse(event.body);
    const response = await deliver(`${base}/omise/webhook`, event);
    assert.equal(response.status, 200, response.body);
    assert.deepEqual(JSON.parse(response.body), { status: 'handled', id: sent.id });

    const order = await fetch(`${base}/orders/${sent.data.metadata?.order_id ?? sent.data.id}`);
    assert.equal(order.status, 200);
    assert.deepEqual(await order.json(), {
      status: sent.data.status === 'successful' ? 'paid' : 'payment_failed',
      chargeId: sent.data.id,
      amount: sent.data.amount,
    });
  });

  it('refuses a body changed after signing (401), with the likely cause', async () => {
    const event = await signedEvent('charge.complete', EXAMPLE_WEBHOOK_SECRET);
    const reserialised = { ...event, body: JSON.stringify(JSON.parse(event.body)) };
    const response = await deliver(`${base}/omise/webhook`, reserialised);
    assert.equal(response.status, 401);
    assert.match(JSON.parse(response.body).hint, /re-serialised/);
  });
});
