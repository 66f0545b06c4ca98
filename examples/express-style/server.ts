// An Express-style shop backend that receives Omise webhooks with createNodeMiddleware.
// Express is not installed in this repository, so this uses plain node:http; with Express the
// middleware is mounted the same way: app.post('/omise/webhook', createNodeMiddleware(webhooks)),
// above app.use(express.json()).
//
// Run: OMISE_WEBHOOK_SECRET=... node --import tsx examples/express-style/server.ts

import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createOmiseWebhooks } from '@omise-webhook/events';
import { createNodeMiddleware } from '@omise-webhook/events/node';

export interface Order {
  status: 'paid' | 'payment_failed';
  chargeId: string;
  amount: number;
  refunded: number;
}

/** The shop's orders by order id (the charge's metadata.order_id, or the charge id). */
export type Orders = Map<string, Order>;

export function createShopServer(options: { secret: string | undefined; orders: Orders }): Server {
  const { orders } = options;
  const webhooks = createOmiseWebhooks({ secret: options.secret });

  webhooks.on('charge.complete', (event) => {
    // event.data is an OmiseCharge: typed from the key.
    const charge = event.data;
    const orderId = String(charge.metadata?.order_id ?? charge.id);
    orders.set(orderId, {
      status: charge.status === 'successful' ? 'paid' : 'payment_failed',
      chargeId: charge.id,
      amount: charge.amount,
      refunded: 0,
    });
  });
  webhooks.on('refund.create', (event) => {
    for (const order of orders.values()) {
      if (order.chargeId === event.data.charge) order.refunded += event.data.amount;
    }
  });
  webhooks.onError((error) => {
    console.error(`omise webhook refused (${error.code}): ${error.message}`);
  });

  const omise = createNodeMiddleware(webhooks, { path: '/omise/webhook' });
  return createServer((request, response) => {
    // The rest of the app would route here; this shop only has the webhook.
    void omise(request, response);
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000);
  createShopServer({ secret: process.env.OMISE_WEBHOOK_SECRET, orders: new Map() }).listen(port, () => {
    console.log(`listening on http://localhost:${port}/omise/webhook`);
  });
}
