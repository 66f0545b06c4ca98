import { getWebhooksInternals } from './_webhooks-internals.js';
import type { OmiseRequestHeaders, OmiseWebhooks } from './create-omise-webhooks.js';
import { OmiseWebhookError, type OmiseWebhookErrorCode } from './errors.js';

/**
 * A request as {@link handleOmiseWebhookRequest} sees it. `rawBody` may be a function that reads
 * the body, so that an adapter's reading failures (`body_too_large`, `body_already_parsed`) are
 * answered and reported to `onError` like every other failure.
 *
 * @example
 * ```ts
 * const request: OmiseWebhookRequest = { rawBody: () => readBody(req), headers: req.headers };
 * ```
 */
export interface OmiseWebhookRequest {
  rawBody: string | Uint8Array | (() => Promise<string | Uint8Array>);
  headers: OmiseRequestHeaders;
}

/**
 * The HTTP answer to send back: a JSON body, `Content-Type` and `Cache-Control` headers.
 *
 * @example
 * ```ts
 * const { status, headers, body } = await handleOmiseWebhookRequest(webhooks, request);
 * return new Response(body, { status, headers });
 * ```
 */
export interface OmiseWebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The HTTP status each failure is answered with. 401 tells a sender the request was not
 * authentic; 5xx says the receiver (not the sender) must change something, or try again.
 *
 * @example
 * ```ts
 * OMISE_WEBHOOK_ERROR_STATUS.signature_invalid; // 401
 * ```
 */
export const OMISE_WEBHOOK_ERROR_STATUS: Readonly<Record<OmiseWebhookErrorCode, number>> = Object.freeze({
  invalid_json: 400,
  invalid_event: 422,
  too_deep: 422,
  body_too_large: 413,
  signature_invalid: 401,
  api_verification_failed: 401,
  body_already_parsed: 500,
  payload_not_raw: 500,
  handler_failed: 500,
  missing_secret: 500,
  invalid_secret: 500,
  invalid_options: 500,
  unknown_event_key: 500,
  api_unavailable: 503,
  dedupe_failed: 503,
});

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/**
 * The one core every adapter is a thin layer over: read the body, `receive` it, and turn the
 * outcome into an HTTP answer. Use it to connect a framework this package has no adapter for.
 *
 * | outcome | status |
 * |---|---|
 * | handled, or a duplicate | 200 `{"status":"handled"\|"duplicate","id":"evnt_..."}` |
 * | `invalid_json` | 400 |
 * | `signature_invalid`, `api_verification_failed` | 401 |
 * | `body_too_large` | 413 |
 * | `invalid_event`, `too_deep` | 422 |
 * | `handler_failed`, `body_already_parsed` | 500 |
 * | `api_unavailable`, `dedupe_failed` | 503 |
 *
 * Failures are answered `{"error": code, "message"}` (and `hint` when there is one), the shape
 * `omise-webhook serve` answers with, so a sender sees one shape from either. For `handler_failed`
 * the message does not repeat what your handlers threw: that goes to `onError`, not to the sender.
 * Errors that are not an {@link OmiseWebhookError} (a bug) are rethrown for the framework to log.
 *
 * @example
 * ```ts
 * // A Koa route
 * router.post('/omise/webhook', async (ctx) => {
 *   const answer = await handleOmiseWebhookRequest(webhooks, { rawBody: ctx.request.rawBody, headers: ctx.headers });
 *   ctx.status = answer.status;
 *   ctx.set(answer.headers);
 *   ctx.body = answer.body;
 * });
 * ```
 */
export async function handleOmiseWebhookRequest(
  webhooks: OmiseWebhooks,
  request: OmiseWebhookRequest,
): Promise<OmiseWebhookResponse> {
  let rawBody: string | Uint8Array;
  try {
    rawBody = typeof request.rawBody === 'function' ? await request.rawBody() : request.rawBody;
  } catch (error) {
    if (!(error instanceof OmiseWebhookError)) throw error;
    await getWebhooksInternals(webhooks)?.report(error);
    return omiseWebhookErrorResponse(error);
  }
  try {
    const result = await webhooks.receive({ rawBody, headers: request.headers });
    return {
      status: 200,
      headers: { ...JSON_HEADERS },
      body: JSON.stringify({ status: result.status, id: result.event.id }),
    };
  } catch (error) {
    if (!(error instanceof OmiseWebhookError)) throw error;
    return omiseWebhookErrorResponse(error);
  }
}

function omiseWebhookErrorResponse(error: OmiseWebhookError): OmiseWebhookResponse {
  const status = OMISE_WEBHOOK_ERROR_STATUS[error.code] ?? 500;
  const message =
    error.code === 'handler_failed'
      ? `${error.errors?.length ?? 1} failure(s) handling event ${error.event?.id ?? '(unknown)'} (${error.event?.key ?? '?'}); the details went to the receiver's onError handlers, not here. The event was not recorded as handled; send it again once the handler is fixed.`
      : error.message;
  return {
    status,
    headers: { ...JSON_HEADERS },
    body: JSON.stringify(
      error.hint === undefined ? { error: error.code, message } : { error: error.code, message, hint: error.hint },
    ),
  };
}
