// A Hono shop backend that receives Omise webhooks with createFetchHandler. Hono hands the route
// the standard Request as c.req.raw; pass it on before anything reads the body (c.req.json()),
// because the signature is over the raw bytes.
//
// Run: OMISE_WEBHOOK_SECRET=... node --import tsx examples/hono/app.ts

import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { createFetchHandler, createOmiseWebhooks } from '@omise-webhook/events';
import { Hono } from 'hono';

export interface Order {
  status: 'paid' | 'payment_failed';
  chargeId: string;
  amount: number;
}

export function createShopApp(options: { secret: string | undefined }): Hono {
  const orders = new Map<string, Order>();
  const webhooks = createOmiseWebhooks({ secret: options.secret });
  webhooks.on('charge.complete', (event) => {
    const charge = event.data; // an OmiseCharge
    orders.set(String(charge.metadata?.order_id ?? charge.id), {
      status: charge.status === 'successful' ? 'paid' : 'payment_failed',
      chargeId: charge.id,
      amount: charge.amount,
    });
  });
  webhooks.onError((error) => {
    console.error(`omise webhook refused (${error.code}): ${error.message}`);
  });
  const handleOmiseWebhook = createFetchHandler(webhooks);

  const app = new Hono();
  app.post('/omise/webhook', (c) => handleOmiseWebhook(c.req.raw));
  app.get('/orders/:id', (c) => {
    const order = orders.get(c.req.param('id'));
    return order === undefined ? c.json({ error: 'no such order' }, 404) : c.json(order);
  });
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000);
  serve({ fetch: createShopApp({ secret: process.env.OMISE_WEBHOOK_SECRET }).fetch, port });
  console.log(`listening on http://localhost:${port}/omise/webhook`);
}
