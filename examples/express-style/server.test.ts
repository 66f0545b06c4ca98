import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deliver, EXAMPLE_WEBHOOK_SECRET, signedEvent } from '../_shared/signed-event.js';
import { createShopServer, type Orders } from './server.js';

describe('example: Express-style (node:http + createNodeMiddleware)', () => {
  const orders: Orders = new Map();
  const server = createShopServer({ secret: EXAMPLE_WEBHOOK_SECRET, orders });
  let url: string;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/omise/webhook`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('marks the order paid from a signed charge.complete, and answers a redelivery as a duplicate', async () => {
    const event = await signedEvent('charge.complete', EXAMPLE_WEBHOOK_SECRET);
    const sent = JSON.parse(event.body);
    const first = await deliver(url, event);
    assert.equal(first.status, 200, first.body);
    assert.deepEqual(JSON.parse(first.body), { status: 'handled', id: sent.id });
    assert.deepEqual(orders.get(String(sent.data.metadata?.order_id ?? sent.data.id)), {
      status: sent.data.status === 'successful' ? 'paid' : 'payment_failed',
      chargeId: sent.data.id,
      amount: sent.data.amount,
      refunded: 0,
    });

    const again = await deliver(url, event);
    assert.deepEqual(JSON.parse(again.body), { status: 'duplicate', id: sent.id });
  });

  it('refuses an event signed with another secret (401) and changes nothing', async () => {
    const before = JSON.stringify([...orders]);
    const forged = await signedEvent('refund.create', btoa('not the secret of this endpoint!'));
    const response = await deliver(url, forged);
    assert.equal(response.status, 401);
    assert.equal(JSON.parse(response.body).error, 'signature_invalid');
    assert.equal(JSON.stringify([...orders]), before);
  });
});
