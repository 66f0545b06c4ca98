import { bodyAlreadyParsedError, bodyTooLargeError } from './_body-errors.js';
import { concatBytes } from './_bytes.js';
import { maxBodyBytesOf } from './_webhooks-internals.js';
import type { OmiseWebhooks } from './create-omise-webhooks.js';
import { handleOmiseWebhookRequest } from './handle-omise-webhook-request.js';

/**
 * Options for {@link createFetchHandler}.
 *
 * @example
 * ```ts
 * const options: FetchHandlerOptions = { path: '/omise/webhook' };
 * ```
 */
export interface FetchHandlerOptions {
  /** Only answer requests to this path (404 for others). Without it, every request given is the webhook. */
  path?: string | undefined;
}

/**
 * Receive Omise webhooks with the Fetch API: a `(request: Request) => Promise<Response>` for
 * Next.js route handlers, Hono, Bun, Deno, Cloudflare Workers and anything else built on `Request`.
 * It reads the body itself (up to `maxBodyBytes`), verifies, dedupes and dispatches through
 * `webhooks`, and answers with the statuses of {@link handleOmiseWebhookRequest}. A request whose
 * body was already read (`request.bodyUsed`) is answered 500 `body_already_parsed`. Non-POST
 * requests are answered 405.
 *
 * @example
 * ```ts
 * // app/api/omise/webhook/route.ts (Next.js)
 * import { createFetchHandler, createOmiseWebhooks } from '@omise-webhook/events';
 *
 * const webhooks = createOmiseWebhooks({ secret: process.env.OMISE_WEBHOOK_SECRET });
 * webhooks.on('charge.complete', async (event) => markPaid(event.data.id));
 *
 * export const POST = createFetchHandler(webhooks);
 *
 * // Elsewhere, keep the handler and give it the Request:
 * const handler = createFetchHandler(webhooks);
 * // Hono: app.post('/omise/webhook', (c) => handler(c.req.raw)); Bun: Bun.serve({ fetch: handler })
 * ```
 */
export function createFetchHandler(
  webhooks: OmiseWebhooks,
  options: FetchHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const limit = maxBodyBytesOf(webhooks);
  const { path } = options;

  return async function omiseWebhookFetchHandler(request) {
    if (path !== undefined && new URL(request.url).pathname !== path) {
      return json(404, { error: 'not_found', message: `nothing here; Omise webhooks are received at POST ${path}` });
    }
    if (request.method !== 'POST') {
      return json(
        405,
        {
          error: 'method_not_allowed',
          message: `${request.method} is not allowed here; Omise sends webhooks with POST`,
        },
        { allow: 'POST' },
      );
    }
    const answer = await handleOmiseWebhookRequest(webhooks, {
      rawBody: () => readRequestBody(request, limit),
      headers: request.headers,
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}

async function readRequestBody(request: Request, limit: number): Promise<Uint8Array> {
  if (request.bodyUsed) {
    throw bodyAlreadyParsedError(
      'the request body was already read (request.bodyUsed is true), for example by request.json() or a framework that parses bodies',
      'Give the handler the Request before anything reads its body: in Hono, pass c.req.raw without calling c.req.json() first; elsewhere, do not call request.json() or request.text() before it. If you must read the body yourself, call webhooks.receive({ rawBody: await request.text(), headers: request.headers }) instead.',
    );
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await request.body?.cancel().catch(() => undefined);
    throw bodyTooLargeError(declared, limit, 'declared');
  }
  if (request.body === null) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      // Stop reading at once: the rest of an oversized body is never buffered.
      await reader.cancel().catch(() => undefined);
      throw bodyTooLargeError(size, limit, 'read');
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

function json(status: number, body: unknown, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extraHeaders },
  });
}
