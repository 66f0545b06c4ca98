import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ServerType, serve } from '@hono/node-server';
import { deliver, EXAMPLE_WEBHOOK_SECRET, signedEvent } from '../_shared/signed-event.js';

// Next.js is not installed here: the route's POST is served the way Next's server calls it, with
// a standard Request, through @hono/node-server.
describe('example: Next.js-style route handler (createFetchHandler)', () => {
  let server: ServerType;
  let url: string;
  let orders: typeof import('./lib/orders.js').orders;
  before(async () => {
    process.env.OMISE_WEBHOOK_SECRET = EXAMPLE_WEBHOOK_SECRET;
    const route = await import('./app/api/omise/webhook/route.js');
    ({ orders } = await import('./lib/orders.js'));
    server = await new Promise<ServerType>((resolve) => {
      const started = serve(
        {
          fetch: (request) => (request.method === 'POST' ? route.POST(request) : new Response(null, { status: 405 })),
          port: 0,
          hostname: '127.0.0.1',
        },
        () => resolve(started),
      );
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/omise/webhook`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('marks the order paid from a signed charge.complete sent over HTTP', async () => {
    const event = await signedEvent('charge.complete', EXAMPLE_WEBHOOK_SECRET);
    const sent = JSON.parse(event.body);
    const response = await deliver(url, event);
    assert.equal(response.status, 200, response.body);
    assert.deepEqual(JSON.parse(response.body), { status: 'handled', id: sent.id });
    assert.deepEqual(orders.get(String(sent.data.metadata?.order_id ?? sent.data.id)), {
      status: sent.data.status === 'successful' ? 'paid' : 'payment_failed',
      chargeId: sent.data.id,
      amount: sent.data.amount,
    });
  });

  it('refuses an unsigned request (401)', async () => {
    const event = await signedEvent('charge.complete', EXAMPLE_WEBHOOK_SECRET);
    const response = await deliver(url, { ...event, headers: [['Content-Type', 'application/json']] });
    assert.equal(response.status, 401);
    assert.match(JSON.parse(response.body).message, /missing_signature/);
  });
});
