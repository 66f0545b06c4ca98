import { bodyAlreadyParsedError, utf8Length } from './_body-errors.js';
import { RequestAbortedError, readNodeBody } from './_read-node-body.js';
import { maxBodyBytesOf } from './_webhooks-internals.js';
import type { OmiseWebhooks } from './create-omise-webhooks.js';
import { handleOmiseWebhookRequest, type OmiseWebhookResponse } from './handle-omise-webhook-request.js';

/**
 * The parts of a Node `http.IncomingMessage` (or an Express/Connect request) the middleware uses.
 * Declared here, structurally, so this package needs no `@types/node` and leaks no `node:http`
 * types; a real `IncomingMessage` fits.
 *
 * @example
 * ```ts
 * http.createServer((req: NodeIncomingRequest, res: NodeServerResponse) => middleware(req, res));
 * ```
 */
export interface NodeIncomingRequest {
  method?: string | undefined;
  url?: string | undefined;
  /** Express keeps the full URL here when a router strips a mount path from `url`. */
  originalUrl?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** `true` once the body stream has been read to the end (by anyone). */
  readableEnded?: boolean | undefined;
  /** Set by body parsers: bytes from `express.raw()`, text from `express.text()`, an object from `express.json()`. */
  body?: unknown;
  /** Raw bytes some platforms keep (Google Cloud Functions, Firebase). */
  rawBody?: unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
}

/**
 * The parts of a Node `http.ServerResponse` the middleware uses; a real one fits.
 *
 * @example
 * ```ts
 * const respond = (res: NodeServerResponse) => { res.statusCode = 204; res.end(); };
 * ```
 */
export interface NodeServerResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
  on(event: 'finish', listener: () => void): unknown;
}

/**
 * Options for {@link createNodeMiddleware}.
 *
 * @example
 * ```ts
 * const options: NodeMiddlewareOptions = { path: '/omise/webhook' };
 * ```
 */
export interface NodeMiddlewareOptions {
  /**
   * Only answer requests to this path (query ignored); others go to `next()` or
   * `onUnhandledRequest`. Without it, every request the middleware is given is the webhook: right
   * for `app.post('/omise/webhook', middleware)`, wrong for `app.use(middleware)`.
   */
  path?: string | undefined;
  /** Answers requests to other paths when there is no `next` (a plain `http` server); default 404. */
  onUnhandledRequest?: ((request: NodeIncomingRequest, response: NodeServerResponse) => void) | undefined;
}

/**
 * A Node request listener and Express/Connect middleware `(req, res, next?)`.
 *
 * @example
 * ```ts
 * const middleware: NodeMiddleware = createNodeMiddleware(webhooks);
 * ```
 */
export type NodeMiddleware = (
  request: NodeIncomingRequest,
  response: NodeServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

/**
 * Receive Omise webhooks in a Node `http` server, Express or Connect. The middleware reads the raw
 * body itself (up to `maxBodyBytes`, refusing a larger `Content-Length` before reading), verifies,
 * dedupes and dispatches through `webhooks`, and answers with the statuses of
 * {@link handleOmiseWebhookRequest}. It uses `req.body` when that holds raw bytes or text
 * (`express.raw()`, `express.text()`), and answers 500 `body_already_parsed`, saying how to fix the
 * app, when a JSON body parser got there first.
 *
 * Non-POST requests are answered 405. A bug (an error that is not an `OmiseWebhookError`) goes to
 * `next(error)`, or, without `next`, is answered 500 and makes the returned promise reject.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createOmiseWebhooks } from '@omise-webhook/events';
 * import { createNodeMiddleware } from '@omise-webhook/events/node';
 *
 * const webhooks = createOmiseWebhooks({ secret: process.env.OMISE_WEBHOOK_SECRET });
 * webhooks.on('charge.complete', async (event) => markPaid(event.data.id));
 *
 * const app = express();
 * app.post('/omise/webhook', createNodeMiddleware(webhooks)); // before app.use(express.json())
 * app.use(express.json());
 * ```
 */
export function createNodeMiddleware(webhooks: OmiseWebhooks, options: NodeMiddlewareOptions = {}): NodeMiddleware {
  const limit = maxBodyBytesOf(webhooks);
  const { path, onUnhandledRequest } = options;

  return async function omiseWebhookMiddleware(request, response, next) {
    if (path !== undefined && pathOf(request.originalUrl ?? request.url) !== path) {
      if (next !== undefined) return next();
      if (onUnhandledRequest !== undefined) return onUnhandledRequest(request, response);
      request.resume();
      return send(
        request,
        response,
        plain(404, 'not_found', `nothing here; Omise webhooks are received at POST ${path}`),
      );
    }
    if (request.method !== 'POST') {
      request.resume();
      response.setHeader('allow', 'POST');
      return send(
        request,
        response,
        plain(
          405,
          'method_not_allowed',
          `${request.method ?? 'this method'} is not allowed here; Omise sends webhooks with POST`,
        ),
      );
    }

    let answer: OmiseWebhookResponse;
    try {
      answer = await handleOmiseWebhookRequest(webhooks, {
        rawBody: () => rawBodyOf(request, limit),
        headers: request.headers,
      });
    } catch (error) {
      if (error instanceof RequestAbortedError) return;
      if (next !== undefined) return next(error);
      send(
        request,
        response,
        plain(500, 'internal_error', 'the webhook receiver failed unexpectedly; see the server log'),
      );
      throw error;
    }
    send(request, response, answer);
  };
}

async function rawBodyOf(request: NodeIncomingRequest, limit: number): Promise<string | Uint8Array> {
  for (const candidate of [request.rawBody, request.body]) {
    if (candidate instanceof Uint8Array || typeof candidate === 'string') return candidate;
  }
  const { body } = request;
  const parsed = body !== undefined && body !== null && !(isPlainObject(body) && Object.keys(body).length === 0);
  if (parsed || (body !== undefined && request.readableEnded === true)) {
    throw bodyAlreadyParsedError(
      'req.body is already an object: a JSON body parser (express.json(), bodyParser.json()) ran before the Omise webhook middleware and consumed the raw body',
      FIX,
    );
  }
  if (request.readableEnded === true) {
    throw bodyAlreadyParsedError(
      'the request body stream was already read by something that ran before the Omise webhook middleware (a body parser, or a logger that reads bodies), and req.body holds no raw bytes',
      FIX,
    );
  }
  return readNodeBody(request, limit);
}

const FIX =
  "Mount the webhook route before the parser, e.g. app.post('/omise/webhook', createNodeMiddleware(webhooks)) above app.use(express.json()), or give this route the raw bytes: app.post('/omise/webhook', express.raw({ type: 'application/json' }), createNodeMiddleware(webhooks)).";

function send(request: NodeIncomingRequest, response: NodeServerResponse, answer: OmiseWebhookResponse): void {
  // A body left unread (refused as too large) must not be parsed as the next request on this
  // connection: close it once the answer is out.
  const unread = request.readableEnded !== true && answer.status === 413;
  response.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) response.setHeader(name, value);
  response.setHeader('content-length', String(utf8Length(answer.body)));
  if (unread) {
    response.setHeader('connection', 'close');
    response.on('finish', () => request.destroy());
  }
  response.end(answer.body);
}

function plain(status: number, code: string, message: string): OmiseWebhookResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify({ error: code, message }),
  };
}

function pathOf(url: string | undefined): string {
  const value = url ?? '/';
  const query = value.indexOf('?');
  return query === -1 ? value : value.slice(0, query);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
