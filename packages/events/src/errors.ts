import type { OmiseSignatureDiagnosis, OmiseSignatureFailureCode } from './omise-signature.js';
import type { OmiseEvent } from './types.js';

/**
 * Why the library refused a payload, a secret, an option or a request. Stable: match on these, not
 * on messages.
 *
 * Parsing and signing:
 * - `invalid_json`: the body is empty, not UTF-8, has a byte order mark, or is not JSON.
 * - `invalid_event`: the body is JSON but not an Omise event (see `field`).
 * - `too_deep`: the body nests arrays and objects more than 256 levels deep; refused before it is parsed.
 * - `payload_not_raw`: the payload was not a string or bytes, usually because a JSON body parser ran first.
 * - `missing_secret`: no secret was given, or it was empty.
 * - `invalid_secret`: the secret is not base64 text.
 *
 * Receiving ({@link createOmiseWebhooks}, its `receive` and the adapters):
 * - `invalid_options`: an option of `createOmiseWebhooks` or an adapter is wrong (the message names it).
 * - `unknown_event_key`: `on()` was given a key that is not one of the 35 known keys or a `group.*` pattern.
 * - `body_already_parsed`: the request body was already read or parsed, so the exact bytes Omise signed are gone.
 * - `body_too_large`: the body is larger than `maxBodyBytes`.
 * - `signature_invalid`: the `Omise-Signature` check failed (see `reason`, `hint`, `diagnosis`).
 * - `api_verification_failed`: the Omise API does not know this event, or knows it differently.
 * - `api_unavailable`: the Omise API could not be asked (network, timeout, refused key, error status).
 * - `dedupe_failed`: the dedupe store threw, so the event was not handled.
 * - `handler_failed`: at least one of your handlers threw (see `errors`).
 *
 * @example
 * ```ts
 * const code: OmiseWebhookErrorCode = 'invalid_json';
 * ```
 */
export type OmiseWebhookErrorCode =
  | 'invalid_json'
  | 'invalid_event'
  | 'too_deep'
  | 'payload_not_raw'
  | 'missing_secret'
  | 'invalid_secret'
  | 'invalid_options'
  | 'unknown_event_key'
  | 'body_already_parsed'
  | 'body_too_large'
  | 'signature_invalid'
  | 'api_verification_failed'
  | 'api_unavailable'
  | 'dedupe_failed'
  | 'handler_failed';

/**
 * Where in the body a JSON error is. `offset` counts UTF-16 code units of the decoded text from 0;
 * `line` and `column` count from 1, as editors do.
 *
 * @example
 * ```ts
 * const position: OmiseJsonPosition = { offset: 14, line: 3, column: 5 };
 * ```
 */
export interface OmiseJsonPosition {
  offset: number;
  line: number;
  column: number;
}

/**
 * The optional details an {@link OmiseWebhookError} carries; each applies to some codes only.
 *
 * @example
 * ```ts
 * throw new OmiseWebhookError('invalid_event', '"id" is missing', { field: 'id' } satisfies OmiseWebhookErrorDetails);
 * ```
 */
export interface OmiseWebhookErrorDetails {
  field?: string | undefined;
  position?: OmiseJsonPosition | undefined;
  reason?: OmiseSignatureFailureCode | undefined;
  hint?: string | undefined;
  diagnosis?: OmiseSignatureDiagnosis | undefined;
  errors?: readonly unknown[] | undefined;
  event?: OmiseEvent | undefined;
  cause?: unknown;
}

const DETAIL_KEYS = ['field', 'position', 'reason', 'hint', 'diagnosis', 'errors', 'event'] as const;

/**
 * The one error class this library throws. Its message says what happened, what was expected and
 * what to do; `code` is stable for programs.
 *
 * @example
 * ```ts
 * try {
 *   parseOmiseEvent(body);
 * } catch (error) {
 *   if (error instanceof OmiseWebhookError && error.code === 'invalid_event') {
 *     console.error(`bad field ${error.field}: ${error.message}`);
 *   }
 * }
 * ```
 */
export class OmiseWebhookError extends Error {
  override readonly name = 'OmiseWebhookError';
  readonly code: OmiseWebhookErrorCode;
  // `declare` keeps these off the instance until assigned: a plain class field would define them
  // as `undefined`, so `'field' in error` and object spreads would claim a field that is not there.
  /** For `invalid_event`: the first field that is wrong, as a dotted path (`id`, `data.object`). Absent when the body as a whole is wrong. */
  declare readonly field?: string;
  /** For `invalid_json`: where the parser gave up. For `too_deep`: where the nesting passed the limit. */
  declare readonly position?: OmiseJsonPosition;
  /** For `signature_invalid`: which check failed, as {@link verifyOmiseSignature} reports it. */
  declare readonly reason?: OmiseSignatureFailureCode;
  /** For `signature_invalid`: the likely cause in plain words, when one was found. */
  declare readonly hint?: string;
  /** For `signature_invalid`: the likely cause as a code, when one was found. */
  declare readonly diagnosis?: OmiseSignatureDiagnosis;
  /** For `handler_failed`: what each failing handler threw, in registration order, then what the dedupe store's `release` threw (if it did), then anything an `onError` handler threw. */
  declare readonly errors?: readonly unknown[];
  /** For `handler_failed`: the (verified) event the handlers failed on. */
  declare readonly event?: OmiseEvent;

  constructor(code: OmiseWebhookErrorCode, message: string, details: OmiseWebhookErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    // Only the details that apply are set, so `'field' in error` says something true.
    for (const key of DETAIL_KEYS) {
      if (details[key] !== undefined) (this as Record<string, unknown>)[key] = details[key];
    }
  }
}
