// app/api/omise/webhook/route.ts: a Next.js App Router route handler for Omise webhooks.
// Next.js hands route handlers the standard Request with its body unread, so the fetch handler
// can verify the exact bytes. Works on the Node.js and Edge runtimes (Web Crypto on Edge).

import { createFetchHandler, createOmiseWebhooks } from '@omise-webhook/events';
import { orders } from '../../../../lib/orders.js';

function createHandler(): (request: Request) => Promise<Response> {
  const webhooks = createOmiseWebhooks({ secret: process.env.OMISE_WEBHOOK_SECRET });
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
  return createFetchHandler(webhooks);
}

// Built on the first request rather than at import, so `next build` (which imports route files)
// does not need OMISE_WEBHOOK_SECRET.
let handle: ((request: Request) => Promise<Response>) | undefined;

export async function POST(request: Request): Promise<Response> {
  handle ??= createHandler();
  return handle(request);
}
