import { bodyAlreadyParsedError } from './_body-errors.js';
import { readNodeBody } from './_read-node-body.js';
import { maxBodyBytesOf } from './_webhooks-internals.js';
import type { NodeIncomingRequest } from './create-node-middleware.js';
import type { OmiseWebhooks } from './create-omise-webhooks.js';
import { OmiseWebhookError } from './errors.js';
import { handleOmiseWebhookRequest } from './handle-omise-webhook-request.js';

/**
 * The parts of a Fastify instance the plugin uses, declared structurally so this package does not
 * depend on `fastify`. Written against Fastify 4 and 5's documented API (`addContentTypeParser`
 * with a `(request, payload, done)` parser, `hasContentTypeParser`, `removeContentTypeParser`,
 * `post(path, handler)`).
 *
 * @example
 * ```ts
 * await omiseWebhooksFastify(fastify as FastifyInstanceLike, { webhooks });
 * ```
 */
export interface FastifyInstanceLike {
  addContentTypeParser(
    contentType: string | string[],
    parser: (
      request: unknown,
      payload: NodeIncomingRequest,
      done: (error: Error | null, body?: unknown) => void,
    ) => void,
  ): unknown;
  hasContentTypeParser?(contentType: string): boolean;
  removeContentTypeParser?(contentType: string | string[]): unknown;
  post(path: string, handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

/**
 * The parts of a Fastify request the plugin's route uses.
 *
 * @example
 * ```ts
 * const body = (request as FastifyRequestLike).body;
 * ```
 */
export interface FastifyRequestLike {
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The parts of a Fastify reply the plugin's route uses.
 *
 * @example
 * ```ts
 * (reply as FastifyReplyLike).code(200).header('content-type', 'application/json').send('{}');
 * ```
 */
export interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload: string): unknown;
}

/**
 * Options for {@link omiseWebhooksFastify}.
 *
 * @example
 * ```ts
 * const options: OmiseWebhooksFastifyOptions = { webhooks, path: '/omise/webhook' };
 * ```
 */
export interface OmiseWebhooksFastifyOptions {
  webhooks: OmiseWebhooks;
  /** The route, default `/omise/webhook` (under the `prefix` given to `register`, if any). */
  path?: string | undefined;
}

/** Omise sends `application/json`; `text/plain` is the other type Fastify parses by default. */
const RAW_TYPES = ['application/json', 'text/plain'];

/**
 * A Fastify plugin that adds `POST /omise/webhook` and keeps its raw body. Register it on its own
 * (not wrapped in `fastify-plugin`): Fastify then scopes its content-type parser, which hands over
 * the body stream unparsed, to this route alone, and the app's other routes keep parsing JSON as
 * before. The route reads the stream itself (up to `maxBodyBytes`) and answers with the statuses
 * of {@link handleOmiseWebhookRequest}.
 *
 * This package does not depend on Fastify: the plugin is typed structurally, and its tests run it
 * inside a real Fastify 5 (a dev dependency of the repository only).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createOmiseWebhooks } from '@omise-webhook/events';
 * import { omiseWebhooksFastify } from '@omise-webhook/events/fastify';
 *
 * const webhooks = createOmiseWebhooks({ secret: process.env.OMISE_WEBHOOK_SECRET });
 * webhooks.on('charge.complete', async (event) => markPaid(event.data.id));
 *
 * const app = Fastify();
 * await app.register(omiseWebhooksFastify, { webhooks });
 * await app.listen({ port: 3000 });
 * ```
 */
export async function omiseWebhooksFastify(
  fastify: FastifyInstanceLike,
  options: OmiseWebhooksFastifyOptions,
): Promise<void> {
  const { webhooks, path = '/omise/webhook' } = options ?? ({} as Partial<OmiseWebhooksFastifyOptions>);
  if (typeof webhooks?.receive !== 'function') {
    throw new OmiseWebhookError(
      'invalid_options',
      'omiseWebhooksFastify needs { webhooks }, the object from createOmiseWebhooks(): fastify.register(omiseWebhooksFastify, { webhooks }).',
    );
  }
  const limit = maxBodyBytesOf(webhooks);

  // A parent scope may have its own JSON parser, which Fastify would refuse to shadow; this scope
  // is ours alone, so remove it here (the parent keeps it).
  for (const type of RAW_TYPES) {
    if (fastify.hasContentTypeParser?.(type) === true) fastify.removeContentTypeParser?.(type);
  }
  // Hand the stream on unread: the route reads it with the size limit, so a body that is too large
  // is answered like every other failure (and reaches onError) rather than by Fastify's own error.
  fastify.addContentTypeParser(RAW_TYPES, (_request, payload, done) => done(null, payload));

  fastify.post(path, async (request, reply) => {
    const answer = await handleOmiseWebhookRequest(webhooks, {
      rawBody: () => rawBodyOf(request.body, limit),
      headers: request.headers,
    });
    reply.code(answer.status);
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
    // A body refused as too large was left unread; it must not be taken for the next request.
    if (answer.status === 413) reply.header('connection', 'close');
    return reply.send(answer.body);
  });
}

async function rawBodyOf(body: unknown, limit: number): Promise<string | Uint8Array> {
  if (body instanceof Uint8Array || typeof body === 'string') return body;
  if (body === undefined || body === null) return new Uint8Array(0);
  if (isStream(body)) return readNodeBody(body, limit);
  throw bodyAlreadyParsedError(
    'request.body is already an object, so something parsed the body before the Omise webhook route (a hook, or a parser from a plugin wrapped in fastify-plugin)',
    'Register omiseWebhooksFastify on its own with fastify.register(omiseWebhooksFastify, { webhooks }), not wrapped in fastify-plugin, and do not replace request.body in hooks that apply to its route.',
  );
}

function isStream(value: unknown): value is NodeIncomingRequest {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NodeIncomingRequest).on === 'function' &&
    typeof (value as NodeIncomingRequest).pause === 'function'
  );
}
