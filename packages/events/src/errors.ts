/**
 * Why the library refused a payload or a secret. Stable: match on these, not on messages.
 *
 * - `invalid_json`: the body is empty, not UTF-8, has a byte order mark, or is not JSON.
 * - `invalid_event`: the body is JSON but not an Omise event (see `field`).
 * - `payload_not_raw`: the payload was not a string or bytes, usually because a JSON body parser ran first.
 * - `missing_secret`: no secret was given, or it was empty.
 * - `invalid_secret`: the secret is not base64 text.
 *
 * @example
 * ```ts
 * const code: OmiseWebhookErrorCode = 'invalid_json';
 * ```
 */
export type OmiseWebhookErrorCode =
  | 'invalid_json'
  | 'invalid_event'
  | 'payload_not_raw'
  | 'missing_secret'
  | 'invalid_secret';

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
  /** For `invalid_json`: where the parser gave up. */
  declare readonly position?: OmiseJsonPosition;

  constructor(
    code: OmiseWebhookErrorCode,
    message: string,
    details: { field?: string; position?: OmiseJsonPosition; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.field !== undefined) this.field = details.field;
    if (details.position !== undefined) this.position = details.position;
  }
}
