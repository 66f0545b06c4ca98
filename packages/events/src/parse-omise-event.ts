import { nestingLimitPassedAt } from './_bytes.js';
import { findJsonSyntaxError } from './_json-syntax-error.js';
import { notRawMessage } from './_not-raw-message.js';
import { type OmiseJsonPosition, OmiseWebhookError } from './errors.js';
import type { OmiseEvent, OmiseEventEnvelope } from './types.js';

const EVENT_ID = /^evnt_(test_)?[0-9a-z]+$/;
/**
 * Omise's event ids are about 30 characters and its keys at most 28; these caps leave room for
 * growth while keeping a hostile 100,000-character id out of file names, logs and indexes.
 */
const MAX_ID_LENGTH = 64;
const MAX_KEY_LENGTH = 64;
/**
 * Omise events nest a handful of levels. A body nested far deeper is refused before `JSON.parse`
 * sees it: every recursive walk of the parsed value (JSON.stringify, a structured clone, a diff)
 * would overflow the call stack on it.
 */
const MAX_DEPTH = 256;
const EVENT_KEY = /^[a-z_]+(\.[a-z_]+)+$/;
const OMISE_ID =
  /^(evnt|chrg|card|cust|trxn|rfnd|dspt|docu|trsf|recp|schd|occu|link|src|tokn|paym|whdl|acct|bacc)_(test_)?[0-9a-z]+$/;

/**
 * Parse and check a webhook body. Give it the raw request body, exactly as received.
 *
 * Checks that the body is UTF-8 JSON (no byte order mark) and an Omise event envelope: `object` is
 * `"event"`, `id` is an event id, `key` is lowercase dotted words, `livemode` is a boolean that
 * agrees with the id's test marker, `data` is an object with a string `object`, and `created_at` /
 * `created` are strings when present. It does not check `data` beyond that, and it does not check
 * authenticity: verify the signature first with {@link verifyOmiseSignature}.
 *
 * An event with a key this library does not know parses fine; {@link isKnownOmiseEvent} tells
 * them apart.
 *
 * Arrays and objects nested more than 256 levels deep are refused with `too_deep` before the
 * text is parsed, and `id` and `key` may be at most 64 characters long.
 *
 * @throws {OmiseWebhookError} `payload_not_raw`, `invalid_json` (with `position`), `too_deep`
 * (with `position`) or `invalid_event` (with `field`).
 *
 * @example
 * ```ts
 * const event = parseOmiseEvent(await request.text());
 * if (event.key === 'charge.complete' && event.data.status === 'successful') {
 *   await markOrderPaid(event.data.metadata?.order_id);
 * }
 * ```
 */
export function parseOmiseEvent(raw: string | Uint8Array): OmiseEvent {
  const text = decodeBody(raw);
  if (text.startsWith('\uFEFF')) {
    throw new OmiseWebhookError(
      'invalid_json',
      'body starts with a byte order mark (U+FEFF), which JSON does not allow and Omise never sends; something between Omise and here added it. Pass the body on unchanged, or strip the mark where it is added.',
      { position: { offset: 0, line: 1, column: 1 } },
    );
  }
  if (text.trim() === '') {
    throw new OmiseWebhookError(
      'invalid_json',
      text === ''
        ? 'body is empty; expected an Omise event as JSON. Was the body read already (by a body parser) or never sent?'
        : 'body is empty apart from whitespace; expected an Omise event as JSON.',
      { position: positionAt(text, text.length) },
    );
  }
  if (text === '[object Object]') {
    throw new OmiseWebhookError(
      'invalid_json',
      'body is the text "[object Object]": an already-parsed object was turned into a string somewhere. Pass the raw request body (a string or bytes) instead.',
    );
  }

  const tooDeepAt = nestingLimitPassedAt(text, MAX_DEPTH);
  if (tooDeepAt !== -1) {
    const position = positionAt(text, tooDeepAt);
    throw new OmiseWebhookError(
      'too_deep',
      `body nests arrays and objects more than ${MAX_DEPTH} levels deep (level ${MAX_DEPTH + 1} opens at line ${position.line}, column ${position.column}); an Omise event nests a few levels. It was refused without being parsed; check what produced it.`,
      { position },
    );
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const syntaxError = findJsonSyntaxError(text) ?? engineSyntaxError(text, cause);
    const position = positionAt(text, syntaxError.offset);
    throw new OmiseWebhookError(
      'invalid_json',
      `body is not valid JSON: ${syntaxError.description} at line ${position.line}, column ${position.column}. Omise sends one JSON event object; check that the whole body was read (not cut short by a size limit) and passed on unchanged.`,
      { position, cause },
    );
  }

  checkEnvelope(value);
  return value as OmiseEvent;
}

/**
 * The same as {@link parseOmiseEvent}, returning the error instead of throwing it.
 *
 * @example
 * ```ts
 * const result = safeParseOmiseEvent(body);
 * if (!result.ok) return new Response(result.error.message, { status: 400 });
 * console.log(result.event.key);
 * ```
 */
export function safeParseOmiseEvent(
  raw: string | Uint8Array,
): { ok: true; event: OmiseEvent } | { ok: false; error: OmiseWebhookError } {
  try {
    return { ok: true, event: parseOmiseEvent(raw) };
  } catch (error) {
    if (error instanceof OmiseWebhookError) return { ok: false, error };
    throw error;
  }
}

/**
 * When the event was created: `created_at` in API versions since 2019-05-29, `created` before.
 *
 * @example
 * ```ts
 * eventCreatedAt(event); // '2019-12-31T12:59:59Z'
 * ```
 */
export function eventCreatedAt(event: Pick<OmiseEventEnvelope, 'created_at' | 'created'>): string | undefined {
  return event.created_at ?? event.created;
}

/**
 * Every Omise object id anywhere inside a value (object values and array items, at any depth), each
 * once, in order of first appearance. Property names are not searched.
 *
 * An index of these lets a user find every event that mentions a charge, customer or card.
 *
 * @example
 * ```ts
 * collectOmiseIds(event);
 * // ['evnt_test_5xyz', 'chrg_test_5abc', 'trxn_test_5def', 'card_test_5ghi', 'cust_test_5jkl']
 * ```
 */
export function collectOmiseIds(value: unknown): string[] {
  const found = new Set<string>();
  const seen = new Set<object>();
  // An explicit stack (children pushed in reverse) keeps document order without recursion, so a
  // deeply nested body cannot overflow the call stack.
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === 'string') {
      // Every Omise id has "_" after its 3- or 4-letter prefix: most strings fail this cheaper test first.
      const underscoreAt = current.length >= 5 ? current.indexOf('_') : -1;
      if ((underscoreAt === 3 || underscoreAt === 4) && OMISE_ID.test(current)) found.add(current);
    } else if (current !== null && typeof current === 'object' && !seen.has(current)) {
      seen.add(current);
      const children = Array.isArray(current) ? current : Object.values(current);
      for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]);
    }
  }
  return [...found];
}

// One decoder for every body (without `stream`, each decode starts afresh, even after a failure).
// ignoreBOM keeps a byte order mark in the text so it can be reported rather than silently
// dropped: its presence means something rewrote the body.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeBody(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array) {
    try {
      return strictUtf8.decode(raw);
    } catch (cause) {
      const offset = firstInvalidUtf8Byte(raw);
      throw new OmiseWebhookError(
        'invalid_json',
        `body is not valid UTF-8 (first bad byte at offset ${offset}, 0x${(raw[offset] ?? 0).toString(16).padStart(2, '0')}); Omise sends UTF-8 JSON. Was the body decoded with another encoding and re-encoded, or cut in the middle of a character?`,
        { cause },
      );
    }
  }
  throw new OmiseWebhookError('payload_not_raw', notRawMessage('parseOmiseEvent', raw));
}

function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  // A streaming decoder accepts any valid prefix (it holds back an unfinished final character
  // rather than rejecting it), so a binary search finds the longest prefix that decodes.
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, middle), { stream: true });
      good = middle;
    } catch {
      bad = middle;
    }
  }
  // Decoding went wrong at byte `good`. If that byte sits inside a character begun a few bytes
  // earlier that never finished, point at the start of that character instead.
  let at = good;
  for (let back = 1; back <= 3 && at - back >= 0; back++) {
    const byte = bytes[at - back] ?? 0;
    if ((byte & 0xc0) !== 0x80) {
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      if (length > back) at -= back;
      break;
    }
  }
  return at;
}

function engineSyntaxError(text: string, cause: unknown): { offset: number; description: string } {
  // Only reached if the scanner and the engine disagree, which the tests say they do not.
  const message = cause instanceof Error ? cause.message : String(cause);
  const match = /at position (\d+)/.exec(message);
  return {
    offset: match ? Math.min(Number(match[1]), text.length) : text.length,
    description: message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, ''),
  };
}

function positionAt(text: string, offset: number): OmiseJsonPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { offset, line, column: offset - lineStart + 1 };
}

function checkEnvelope(value: unknown): void {
  if (!isPlainObject(value)) {
    throw invalid(
      undefined,
      `body is JSON but not an Omise event: expected an object like {"object": "event", "key": "charge.create", ...}, got ${describe(value)}.`,
    );
  }
  if (value.object !== 'event') {
    const what =
      typeof value.object === 'string' && value.object !== ''
        ? ` This looks like a ${value.object} object, not an event: Omise webhooks POST event objects whose "data" holds the ${value.object}.`
        : '';
    throw invalid('object', `"object" is ${describe(value.object)}; expected "event".${what}`);
  }
  if (typeof value.id === 'string' && value.id.length > MAX_ID_LENGTH) {
    throw invalid(
      'id',
      `"id" is ${value.id.length} characters long (${describe(value.id)}); Omise event ids are about 30 characters, and at most ${MAX_ID_LENGTH} are accepted.`,
    );
  }
  if (typeof value.id !== 'string' || !EVENT_ID.test(value.id)) {
    throw invalid(
      'id',
      `"id" is ${describe(value.id)}; expected an event id like "evnt_test_5xyz..." or "evnt_5xyz..." (evnt_, an optional test_, then lowercase letters and digits).`,
    );
  }
  if (typeof value.key !== 'string' || value.key === '') {
    throw invalid(
      'key',
      `"key" is ${describe(value.key)}; expected the event key, a non-empty string like "charge.create".`,
    );
  }
  if (value.key.length > MAX_KEY_LENGTH) {
    throw invalid(
      'key',
      `"key" is ${value.key.length} characters long (${describe(value.key)}); Omise event keys are a few dotted words, and at most ${MAX_KEY_LENGTH} characters are accepted.`,
    );
  }
  if (!EVENT_KEY.test(value.key)) {
    throw invalid(
      'key',
      `"key" is ${describe(value.key)}; expected lowercase dotted words like "charge.create" or "customer.update.card".`,
    );
  }
  if (typeof value.livemode !== 'boolean') {
    throw invalid('livemode', `"livemode" is ${describe(value.livemode)}; expected true or false.`);
  }
  if (!isPlainObject(value.data)) {
    throw invalid(
      'data',
      `"data" is ${describe(value.data)}; expected the object the event is about, like {"object": "charge", "id": "chrg_...", ...}.`,
    );
  }
  if (typeof value.data.object !== 'string') {
    throw invalid(
      'data.object',
      `"data.object" is ${describe(value.data.object)}; expected a string naming the kind of object, like "charge".`,
    );
  }
  for (const field of ['created_at', 'created'] as const) {
    if (value[field] !== undefined && typeof value[field] !== 'string') {
      throw invalid(
        field,
        `"${field}" is ${describe(value[field])}; expected an ISO 8601 time string like "2019-12-31T12:59:59Z".`,
      );
    }
  }
  const testId = value.id.includes('_test_');
  if (testId === value.livemode) {
    throw invalid(
      'livemode',
      testId
        ? `"livemode" is true but the id ${value.id} is a test-mode id (it contains "_test_"); Omise sends test-mode events with livemode false. The body was changed or assembled by hand.`
        : `"livemode" is false but the id ${value.id} is a live-mode id (test-mode ids contain "_test_"); Omise sends live events with livemode true. The body was changed or assembled by hand.`,
    );
  }
}

function invalid(field: string | undefined, message: string): OmiseWebhookError {
  return new OmiseWebhookError('invalid_event', message, field === undefined ? {} : { field });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A short, safe rendering of a bad value for an error message. */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': {
      const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
      return value === '' ? 'an empty string' : `${JSON.stringify(shown)} (a string)`;
    }
    case 'number':
    case 'boolean':
      return `${String(value)} (a ${typeof value})`;
    default:
      return 'an object';
  }
}
