import { nestedDeeperThan } from './_bytes.js';
import { getCryptoBackend } from './_crypto-backend.js';
import { notRawMessage } from './_not-raw-message.js';
import { OmiseWebhookError } from './errors.js';

/**
 * The header holding the signature: lowercase hex of an HMAC-SHA256, or several comma-separated
 * while a secret is being rolled.
 *
 * @example
 * ```ts
 * const signature = request.headers.get(OMISE_SIGNATURE_HEADER);
 * ```
 */
export const OMISE_SIGNATURE_HEADER = 'Omise-Signature';

/**
 * The header holding the time of signing, in Unix seconds.
 *
 * @example
 * ```ts
 * const timestamp = request.headers.get(OMISE_SIGNATURE_TIMESTAMP_HEADER);
 * ```
 */
export const OMISE_SIGNATURE_TIMESTAMP_HEADER = 'Omise-Signature-Timestamp';

/**
 * How far, in seconds, a signature's timestamp may be from now, either way. Omise publishes no
 * replay window; five minutes is the common choice.
 *
 * @example
 * ```ts
 * await verifyOmiseSignature({ ...options, toleranceSec: DEFAULT_TOLERANCE_SEC * 2 });
 * ```
 */
export const DEFAULT_TOLERANCE_SEC = 300;

/**
 * Why a signature check failed, in the order the checks run. Stable: match on these, not on messages.
 *
 * @example
 * ```ts
 * const status = (code: OmiseSignatureFailureCode) =>
 *   code === 'missing_secret' || code === 'secret_not_base64' ? 500 : 400;
 * ```
 */
export type OmiseSignatureFailureCode =
  | 'missing_secret'
  | 'secret_not_base64'
  | 'payload_not_raw'
  | 'missing_signature'
  | 'missing_timestamp'
  | 'malformed_signature'
  | 'malformed_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'no_signature_matched';

/**
 * A likely cause of a failed check, found by re-trying the signature with a known mistake undone:
 *
 * - `secret_not_base64_decoded`: it matches with the secret's text, not its base64-decoded bytes, as the key.
 * - `body_reserialised`: it matches the body re-serialised (compact, 2-space or Omise-style JSON).
 * - `secret_whitespace`: the configured secret has surrounding whitespace, and it matches once trimmed.
 * - `timestamp_mismatch`: it matches the body signed alone, without the `timestamp.` prefix.
 *
 * @example
 * ```ts
 * if (!result.ok && result.diagnosis === 'body_reserialised') console.error(result.hint);
 * ```
 */
export type OmiseSignatureDiagnosis =
  | 'secret_not_base64_decoded'
  | 'body_reserialised'
  | 'secret_whitespace'
  | 'timestamp_mismatch';

/**
 * The outcome of {@link verifyOmiseSignature}.
 *
 * @example
 * ```ts
 * const result: OmiseSignatureVerification = await verifyOmiseSignature(options);
 * if (result.ok) console.log(`signed at ${result.timestamp} with secret #${result.matchedSecretIndex}`);
 * else console.error(`${result.code}: ${result.message}${result.hint ? `\n${result.hint}` : ''}`);
 * ```
 */
export type OmiseSignatureVerification =
  | {
      ok: true;
      /** The signing time, Unix seconds. */
      timestamp: number;
      /** Which secret matched, counting `secret` (if given) first, then `secrets` in order. */
      matchedSecretIndex: number;
    }
  | {
      ok: false;
      code: OmiseSignatureFailureCode;
      /** What happened, what was expected and what to do. */
      message: string;
      /** The likely cause in plain words, when one was found. */
      hint?: string;
      diagnosis?: OmiseSignatureDiagnosis;
    };

/**
 * Options for {@link verifyOmiseSignature}.
 *
 * @example
 * ```ts
 * const options: VerifyOmiseSignatureOptions = {
 *   payload: rawBody,
 *   signature: request.headers.get('Omise-Signature'),
 *   timestamp: request.headers.get('Omise-Signature-Timestamp'),
 *   secret: process.env.OMISE_WEBHOOK_SECRET,
 * };
 * ```
 */
export interface VerifyOmiseSignatureOptions {
  /** The raw request body, exactly as received. */
  payload: string | Uint8Array;
  /** The `Omise-Signature` header. */
  signature: string | null | undefined;
  /** The `Omise-Signature-Timestamp` header. */
  timestamp: string | null | undefined;
  /** The webhook secret (base64 text from the dashboard) for the mode the endpoint serves. */
  secret?: string | undefined;
  /** Several secrets, any of which may match, for example `[old, new]` while rolling; checked after `secret`. */
  secrets?: readonly string[] | undefined;
  /** Seconds the timestamp may be from now, either way; default 300. `Infinity` turns the check off (for re-verifying stored deliveries). Negative or NaN means the default. */
  toleranceSec?: number | undefined;
  /** The current time in milliseconds since the epoch; default `Date.now()`. */
  now?: number | undefined;
  /**
   * Look for a likely cause when nothing matches; default `true`. Bounded, since anyone can send a
   * request with a made-up signature: it costs at most a re-parse, four re-serialisations and a few
   * HMACs of a body up to `diagnoseMaxBytes`, and skips the re-serialisations of a body nested
   * deeper than 256 levels. Larger bodies fail the same way, with no diagnosis.
   */
  diagnose?: boolean | undefined;
  /**
   * The largest body, in bytes, that a failed check looks into for a likely cause (and reads for
   * its mode, for the message); default 65,536 (64 KiB), well above any Omise event. Over it, the
   * failure keeps its code and message, and the message says the diagnosis was skipped.
   * `Infinity` lifts the bound; negative or NaN means the default.
   */
  diagnoseMaxBytes?: number | undefined;
}

/**
 * Options for {@link signOmisePayload}.
 *
 * @example
 * ```ts
 * const options: SignOmisePayloadOptions = { payload: body, secret, timestamp: 1700000000 };
 * ```
 */
export interface SignOmisePayloadOptions {
  /** The exact body that will be sent. */
  payload: string | Uint8Array;
  /** The webhook secret, base64 text. */
  secret: string;
  /** Unix seconds; default now. */
  timestamp?: number | undefined;
}

/**
 * A signature and the headers that carry it.
 *
 * @example
 * ```ts
 * const signed: OmiseSignedPayload = await signOmisePayload({ payload: body, secret });
 * await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...signed.headers } });
 * ```
 */
export interface OmiseSignedPayload {
  signature: string;
  timestamp: string;
  headers: { 'Omise-Signature': string; 'Omise-Signature-Timestamp': string };
}

/**
 * The signature headers read from a request, whatever shape its headers come in.
 *
 * @example
 * ```ts
 * const { signature, timestamp, misnamedSignatureHeader } = readOmiseSignatureHeaders(request.headers);
 * ```
 */
export interface OmiseSignatureHeaders {
  signature: string | undefined;
  timestamp: string | undefined;
  /** Set when the request has `X-Omise-Signature` or `X-Omise-Signature-Timestamp` (as spelled there): headers Omise never sends, so whoever sent them followed a wrong guide. */
  misnamedSignatureHeader?: string;
}

const SIGNATURE_PART = /^[0-9a-f]{64}$/i;
const TIMESTAMP = /^\d{1,12}$/;
const MISNAMED_HEADERS = new Set(['x-omise-signature', 'x-omise-signature-timestamp']);
const encoder = new TextEncoder();

const HINTS: Record<OmiseSignatureDiagnosis, string> = {
  secret_not_base64_decoded:
    "the sender used the secret text as the HMAC key without base64-decoding it. Omise keys the HMAC with the secret's base64-decoded bytes; fix the sender, for example createHmac('sha256', Buffer.from(secret, 'base64')).",
  body_reserialised:
    'the body was re-serialised after it was signed — a forwarder or JSON body parser changed the bytes; verify and forward the raw bytes exactly as received.',
  secret_whitespace:
    'the secret has leading or trailing whitespace, often a newline from a .env file or a file read; trim it where it is loaded. With the whitespace removed, the signature matches.',
  timestamp_mismatch:
    "the sender signed the body alone, without the timestamp: Omise signs timestamp + '.' + body, with the timestamp from the Omise-Signature-Timestamp header.",
};

/**
 * Check a webhook's `Omise-Signature` against its raw body. Never throws for bad input: every
 * problem comes back as `{ ok: false, code, message }`, checked in the order of
 * {@link OmiseSignatureFailureCode}, with a `diagnosis` and `hint` when the likely cause can be
 * found.
 *
 * The signature is `hex(HMAC-SHA256(key = base64decode(secret), message = timestamp + "." + body))`;
 * several comma-separated signatures (sent while a secret is rolled) pass if any matches, and
 * uppercase hex is accepted. Comparison takes constant time.
 *
 * A failure costs about what a success does, whoever sends it: the diagnosis (a re-parse, four
 * re-serialisations and a few HMACs) only looks at bodies up to `diagnoseMaxBytes` (64 KiB by
 * default) nested at most 256 levels deep; bigger bodies fail with the same code and a message
 * saying the diagnosis was skipped. On Node the check uses `node:crypto` (reached at run time,
 * not imported) and answers an already-settled promise; elsewhere it uses Web Crypto.
 *
 * @example
 * ```ts
 * const body = await request.text();
 * const result = await verifyOmiseSignature({
 *   payload: body,
 *   signature: request.headers.get('Omise-Signature'),
 *   timestamp: request.headers.get('Omise-Signature-Timestamp'),
 *   secret: process.env.OMISE_WEBHOOK_SECRET,
 * });
 * if (!result.ok) return new Response(result.message, { status: 401 });
 * const event = parseOmiseEvent(body);
 * ```
 */
export async function verifyOmiseSignature(options: VerifyOmiseSignatureOptions): Promise<OmiseSignatureVerification> {
  const {
    payload,
    signature,
    timestamp,
    secret,
    secrets,
    toleranceSec,
    now,
    diagnose = true,
    diagnoseMaxBytes,
  } = options ?? {};

  // One secret is the usual case: no array built to hold it.
  const configured: readonly unknown[] =
    secrets === undefined || !Array.isArray(secrets)
      ? secret === undefined
        ? []
        : [secret]
      : secret === undefined
        ? secrets
        : [secret, ...secrets];
  if (configured.length === 0) {
    return failure(
      'missing_secret',
      'no webhook secret was given; pass `secret` (the base64 webhook secret from the Omise dashboard, for example process.env.OMISE_WEBHOOK_SECRET), or `secrets` while rolling one.',
    );
  }
  for (let index = 0; index < configured.length; index++) {
    const candidate = configured[index];
    if (typeof candidate !== 'string' || candidate.trim() === '') {
      return failure(
        'missing_secret',
        `${secretName(index, configured.length)} is empty; is the environment variable that holds it set? Copy the webhook secret from the Omise dashboard (one per mode: test and live).`,
      );
    }
  }
  const secretTexts = configured as readonly string[];

  const keys: Uint8Array[] = [];
  for (let index = 0; index < secretTexts.length; index++) {
    const text = secretTexts[index] as string;
    const decoded = decodeSecretOnce(text);
    if (decoded.ok) {
      keys.push(decoded.key);
      continue;
    }
    const result = failure(
      'secret_not_base64',
      `${secretName(index, secretTexts.length)} ${decoded.problem}; a webhook secret is base64 text, so it cannot be used.`,
    );
    if (decoded.onlyWhitespace && diagnose) {
      // Trimming is not done silently: a secret with a stray newline is a configuration mistake
      // worth fixing. But check whether trimming would be enough, so the message can say so.
      const trimmed = await verifyOmiseSignature({
        ...options,
        secret: undefined,
        secrets: secretTexts.map((s) => s.trim()),
        diagnose: false,
      });
      if (trimmed.ok) {
        result.diagnosis = 'secret_whitespace';
        result.hint = HINTS.secret_whitespace;
      }
    }
    return result;
  }

  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
    return failure('payload_not_raw', notRawMessage('verifyOmiseSignature', payload));
  }

  const signatureText = typeof signature === 'string' ? signature.trim() : '';
  if (signatureText === '') {
    return failure(
      'missing_signature',
      `the ${OMISE_SIGNATURE_HEADER} header is ${typeof signature === 'string' ? 'empty' : 'missing'}. Omise sends it only once a webhook secret has been created on the dashboard (one per mode); check that one exists for this mode and that the header is read case-insensitively.`,
    );
  }
  const timestampText = typeof timestamp === 'string' ? timestamp.trim() : '';
  if (timestampText === '') {
    return failure(
      'missing_timestamp',
      `the ${OMISE_SIGNATURE_TIMESTAMP_HEADER} header is ${typeof timestamp === 'string' ? 'empty' : 'missing'}. Omise sends it with every signed delivery; whatever passed the request on (a proxy, a forwarder) may have dropped it.`,
    );
  }

  // One signature is the usual case: no split, no array of trimmed copies.
  const provided = signatureText.includes(',') ? signatureText.split(',').map((part) => part.trim()) : [signatureText];
  for (let index = 0; index < provided.length; index++) {
    const part = provided[index] as string;
    if (!SIGNATURE_PART.test(part)) {
      return failure('malformed_signature', malformedSignatureMessage(part, index, provided.length));
    }
  }
  if (!TIMESTAMP.test(timestampText)) {
    return failure(
      'malformed_timestamp',
      /^\d{13}$/.test(timestampText)
        ? `the ${OMISE_SIGNATURE_TIMESTAMP_HEADER} header is ${show(timestampText)}, which looks like milliseconds; Omise sends Unix seconds (10 digits today). Whatever set the header should divide by 1000.`
        : `the ${OMISE_SIGNATURE_TIMESTAMP_HEADER} header is ${show(timestampText)}; expected Unix seconds, digits only, like "1700000000".`,
    );
  }

  const signedAt = Number(timestampText);
  const tolerance = typeof toleranceSec === 'number' && toleranceSec >= 0 ? toleranceSec : DEFAULT_TOLERANCE_SEC;
  const nowSec = Math.floor((typeof now === 'number' && Number.isFinite(now) ? now : Date.now()) / 1000);
  const age = nowSec - signedAt;
  if (age > tolerance) {
    return failure(
      'timestamp_too_old',
      `the signature is ${age} seconds old; at most ${tolerance} are allowed. This is a replayed or long-delayed delivery, or this machine's clock is wrong. To re-check a stored delivery on purpose, pass toleranceSec: Infinity.`,
    );
  }
  if (-age > tolerance) {
    return failure(
      'timestamp_in_future',
      `the signature is dated ${-age} seconds in the future; at most ${tolerance} are allowed. This machine's clock is probably behind (check NTP), or the sender's is ahead.`,
    );
  }

  // The payload goes to the HMAC as it came, string or bytes (see CryptoBackend.hmacSha256Hex).
  const message = [`${timestampText}.`, payload];
  for (let index = 0; index < keys.length; index++) {
    const matched = matchesAny(keys[index] as Uint8Array, message, provided);
    // Node's crypto answers synchronously: only Web Crypto's answer has to be awaited.
    if (typeof matched === 'boolean' ? matched : await matched) {
      return { ok: true, timestamp: signedAt, matchedSecretIndex: index };
    }
  }

  // Nothing matched. Everything from here reads an unverified body that anyone could have sent, so
  // it is bounded by size (and, for re-serialising, by depth) rather than by the sender's goodwill.
  const maxBytes = diagnosisLimit(diagnoseMaxBytes);
  let body: Uint8Array | undefined;
  let size: number;
  let sizeIsLowerBound = false;
  if (typeof payload !== 'string') {
    body = payload;
    size = payload.length;
  } else if (payload.length > maxBytes) {
    // UTF-8 is never shorter than the string's UTF-16 length, so this is over the limit. Counting
    // its exact UTF-8 length would cost more than the HMAC did: the message says "at least".
    size = payload.length;
    sizeIsLowerBound = true;
  } else {
    body = encoder.encode(payload);
    size = body.length;
  }
  if (size > maxBytes) body = undefined;
  // Parsed once, for the message's mode and the re-serialisations, and only within the bound.
  const parsed = body === undefined ? undefined : parseBody(typeof payload === 'string' ? payload : body);
  const result = failure(
    'no_signature_matched',
    noMatchMessage({ size, mode: eventMode(parsed), signatureCount: provided.length, secretCount: keys.length }),
  );
  if (body === undefined) {
    if (diagnose) {
      result.message += ` No likely cause was looked for: the body is ${sizeIsLowerBound ? 'at least ' : ''}${size} bytes, and diagnosis stops at ${maxBytes} (diagnoseMaxBytes).`;
    }
    return result;
  }
  if (diagnose) {
    const variants =
      parsed === undefined || nestedDeeperThan(body, MAX_DIAGNOSIS_DEPTH) ? [] : reserialisations(parsed);
    const diagnosis = await findDiagnosis({ body, variants, prefix: `${timestampText}.`, provided, keys, secretTexts });
    if (diagnosis !== undefined) {
      result.diagnosis = diagnosis;
      result.hint = HINTS[diagnosis];
    }
  }
  return result;
}

/**
 * Sign a body the way Omise does, for simulators, forwarders that re-sign and tests.
 *
 * @throws {OmiseWebhookError} `missing_secret` for an empty secret, `invalid_secret` when the
 * secret is not base64, `payload_not_raw` when the payload is not a string or bytes.
 * @throws {RangeError} when `timestamp` is not whole Unix seconds.
 *
 * @example
 * ```ts
 * const body = formatOmiseJson(event);
 * const { headers } = await signOmisePayload({ payload: body, secret: process.env.OMISE_WEBHOOK_SECRET! });
 * await fetch('http://localhost:3000/omise/webhook', {
 *   method: 'POST',
 *   body,
 *   headers: { 'Content-Type': 'application/json', ...headers },
 * });
 * ```
 */
export async function signOmisePayload(options: SignOmisePayloadOptions): Promise<OmiseSignedPayload> {
  const { payload, secret, timestamp = Math.floor(Date.now() / 1000) } = options;
  if (typeof secret !== 'string' || secret.trim() === '') {
    throw new OmiseWebhookError(
      'missing_secret',
      'signOmisePayload needs `secret`, the base64 webhook secret; it was missing or empty. Is the environment variable that holds it set?',
    );
  }
  const decoded = decodeSecretOnce(secret);
  if (!decoded.ok) {
    throw new OmiseWebhookError('invalid_secret', `the secret ${decoded.problem}; a webhook secret is base64 text.`);
  }
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
    throw new OmiseWebhookError('payload_not_raw', notRawMessage('signOmisePayload', payload));
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > 999_999_999_999) {
    throw new RangeError(
      `signOmisePayload: timestamp must be whole Unix seconds, got ${String(timestamp)}${timestamp > 999_999_999_999 ? ' (that looks like milliseconds; divide by 1000)' : ''}.`,
    );
  }
  const timestampText = String(timestamp);
  const signature = await getCryptoBackend().hmacSha256Hex(decoded.key, [`${timestampText}.`, payload]);
  return {
    signature,
    timestamp: timestampText,
    headers: { [OMISE_SIGNATURE_HEADER]: signature, [OMISE_SIGNATURE_TIMESTAMP_HEADER]: timestampText },
  };
}

/**
 * Read `Omise-Signature` and `Omise-Signature-Timestamp` from request headers in any common shape:
 * a fetch `Headers`, a Node `IncomingHttpHeaders`-style record (values may be arrays), or a list of
 * name/value pairs. Names match case-insensitively; repeated headers are joined with commas.
 *
 * @example
 * ```ts
 * const { signature, timestamp, misnamedSignatureHeader } = readOmiseSignatureHeaders(request.headers);
 * if (!signature && misnamedSignatureHeader) {
 *   console.warn(`${misnamedSignatureHeader} is not an Omise header; Omise sends Omise-Signature`);
 * }
 * ```
 */
export function readOmiseSignatureHeaders(
  headers: Headers | Record<string, string | string[] | undefined> | ReadonlyArray<readonly [string, string]>,
): OmiseSignatureHeaders {
  const signature: string[] = [];
  const timestamp: string[] = [];
  let misnamed: string | undefined;
  const add = (name: string, value: string | readonly string[] | undefined): void => {
    if (value === undefined) return;
    const lower = name.toLowerCase();
    const values = typeof value === 'string' ? [value] : value;
    if (lower === 'omise-signature') signature.push(...values);
    else if (lower === 'omise-signature-timestamp') timestamp.push(...values);
    else if (misnamed === undefined && MISNAMED_HEADERS.has(lower)) misnamed = name;
  };

  if (Array.isArray(headers)) {
    for (const [name, value] of headers as ReadonlyArray<readonly [string, string]>) add(name, value);
  } else if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    (headers as Headers).forEach((value, name) => {
      add(name, value);
    });
  } else {
    for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>))
      add(name, value);
  }

  const result: OmiseSignatureHeaders = {
    signature: signature.length > 0 ? signature.join(',') : undefined,
    timestamp: timestamp.length > 0 ? timestamp.join(',') : undefined,
  };
  if (misnamed !== undefined) result.misnamedSignatureHeader = misnamed;
  return result;
}

/**
 * Internal (not exported from the index): what is wrong with a webhook secret, or `undefined` when
 * it is usable. Lets `createOmiseWebhooks` refuse a bad secret when it is configured rather than
 * on the first delivery.
 *
 * @example
 * ```ts
 * webhookSecretProblem('skey_test_123'); // 'looks like an Omise API key (skey_...), not a webhook secret; ...'
 * ```
 */
export function webhookSecretProblem(secret: string): string | undefined {
  const decoded = decodeSecret(secret);
  return decoded.ok ? undefined : decoded.problem;
}

type DecodedSecret = { ok: true; key: Uint8Array } | { ok: false; problem: string; onlyWhitespace: boolean };

/**
 * A receiver checks every delivery against the same one or two secrets: remember how each
 * decoded (a handful at most) rather than validate and decode it again per request.
 */
const decodedSecrets = new Map<string, DecodedSecret>();

function decodeSecretOnce(secret: string): DecodedSecret {
  let decoded = decodedSecrets.get(secret);
  if (decoded === undefined) {
    decoded = decodeSecret(secret);
    if (decodedSecrets.size >= 16) decodedSecrets.clear();
    decodedSecrets.set(secret, decoded);
  }
  return decoded;
}

/** Strict base64: a secret that is not should fail loudly, not decode to a key by accident. */
function decodeSecret(secret: string): DecodedSecret {
  if (/^[sp]key_/.test(secret.trim())) {
    return {
      ok: false,
      problem: `looks like an Omise API key (${secret.trim().slice(0, 5)}...), not a webhook secret; the webhook secret is on the dashboard's webhooks page`,
      onlyWhitespace: false,
    };
  }
  if (secret !== secret.trim()) {
    return {
      ok: false,
      problem: 'has leading or trailing whitespace (a newline from a .env file or a file read?)',
      onlyWhitespace: decodeSecret(secret.trim()).ok,
    };
  }
  const bad = /[^A-Za-z0-9+/=]/.exec(secret);
  if (bad !== null) {
    return {
      ok: false,
      problem:
        bad[0] === '-' || bad[0] === '_'
          ? `contains "${bad[0]}" at position ${bad.index + 1}, which is URL-safe base64, not the standard base64 Omise uses`
          : `contains a character that is not base64 at position ${bad.index + 1}`,
      onlyWhitespace: false,
    };
  }
  const padding = /=*$/.exec(secret)?.[0].length ?? 0;
  const misplacedPadding = secret.slice(0, secret.length - padding).includes('=');
  if (misplacedPadding || padding > 2 || (padding > 0 && secret.length % 4 !== 0) || secret.length % 4 === 1) {
    return {
      ok: false,
      problem: 'is not valid base64 (its length or "=" padding is wrong; was it cut short when copied?)',
      onlyWhitespace: false,
    };
  }
  const binary = atob(secret);
  const key = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) key[i] = binary.charCodeAt(i);
  return { ok: true, key };
}

/** Whether the HMAC of the message under the key is any of the provided signatures (hex, either case). */
function matchesAny(
  key: Uint8Array,
  message: readonly (string | Uint8Array)[],
  provided: readonly string[],
): boolean | Promise<boolean> {
  const digest = getCryptoBackend().hmacSha256Hex(key, message);
  return typeof digest === 'string'
    ? matchesDigest(digest, provided)
    : digest.then((hex) => matchesDigest(hex, provided));
}

function matchesDigest(expected: string, provided: readonly string[]): boolean {
  let matched = false;
  // Compare against every candidate rather than stopping at the first match, so timing does not
  // reveal which of the comma-separated signatures was the valid one.
  for (let i = 0; i < provided.length; i++) {
    if (timingSafeEqualHex(provided[i] as string, expected)) matched = true;
  }
  return matched;
}

/**
 * Whether a provided signature (64 hex digits, either case) is the expected lowercase hex digest,
 * in time that does not depend on where they differ: every character pair is XORed into one value,
 * with no early exit. `| 32` lowercases A-F and leaves digits alone, so uppercase hex needs no
 * copy. Compared as text, as Node's digest comes, so nothing is decoded or allocated per check.
 */
function timingSafeEqualHex(provided: string, expected: string): boolean {
  if (provided.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < provided.length; i++) difference |= (provided.charCodeAt(i) | 32) ^ expected.charCodeAt(i);
  return difference === 0;
}

/**
 * The largest body a failed check looks into. The diagnosis re-parses the body, re-serialises it
 * four ways and HMACs each: on a 1 MiB body of small objects that was about 0.9 s of CPU, six times
 * what accepting it costs, and anyone can send one with a made-up signature.
 */
const DEFAULT_DIAGNOSE_MAX_BYTES = 64 * 1024;

/**
 * The deepest nesting the diagnosis re-serialises. Serialising is recursive, so a deep body could
 * overflow the stack; Omise's events nest a handful of levels.
 */
const MAX_DIAGNOSIS_DEPTH = 256;

function diagnosisLimit(value: unknown): number {
  return typeof value === 'number' && value >= 0 ? value : DEFAULT_DIAGNOSE_MAX_BYTES;
}

async function findDiagnosis(input: {
  body: Uint8Array;
  /** The body re-serialised, see {@link reserialisations}. */
  variants: readonly string[];
  prefix: string;
  provided: readonly string[];
  keys: readonly Uint8Array[];
  secretTexts: readonly string[];
}): Promise<OmiseSignatureDiagnosis | undefined> {
  const { body, variants, prefix, provided, keys, secretTexts } = input;
  for (const text of secretTexts) {
    if (await matchesAny(encoder.encode(text), [prefix, body], provided)) return 'secret_not_base64_decoded';
  }
  for (const variant of variants) {
    for (const key of keys) {
      if (await matchesAny(key, [prefix, variant], provided)) return 'body_reserialised';
    }
  }
  for (const key of keys) {
    if (await matchesAny(key, [body], provided)) return 'timestamp_mismatch';
  }
  return undefined;
}

interface ParsedBody {
  text: string;
  value: unknown;
}

/** The body's text and JSON value, or undefined when it is not JSON. */
function parseBody(body: string | Uint8Array): ParsedBody | undefined {
  try {
    const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
    return { text, value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * Internal (not exported from the index; exported for its test): the ways a parsed-and-re-serialised
 * body commonly comes out (compact, 2-space, Omise-style with and without `\/`), minus the body
 * itself. Serialising recurses, so the caller checks the depth first. The Omise-style ones are
 * formatOmiseJson's output, derived from JSON.stringify's: on a 64 KiB body of small objects that
 * took 3 ms, where formatOmiseJson took 25.
 *
 * @example
 * ```ts
 * reserialisations({ text: '{"a":[]}', value: { a: [] } }); // ['{\n  "a": []\n}', '{\n  "a": [\n\n  ]\n}']
 * ```
 */
export function reserialisations(parsed: ParsedBody): string[] {
  const pretty = JSON.stringify(parsed.value, null, 2);
  if (pretty === undefined) return [];
  const omise = omiseStyle(pretty);
  const variants = new Set([JSON.stringify(parsed.value), pretty, omise.replaceAll('/', '\\/'), omise]);
  variants.delete(parsed.text);
  return [...variants];
}

/**
 * JSON.stringify(value, null, 2) as Ruby's generator writes it, except for `/` escapes: every
 * empty array `[]` opens onto an empty line and closes at its line's indent. (Empty objects stay
 * `{}`, and everything else is written alike.) A string cannot hold a raw newline, so a `[]`
 * followed by the end of its line, or by a comma and the end of its line, is never inside one.
 */
function omiseStyle(pretty: string): string {
  let result = '';
  let copied = 0;
  for (let at = pretty.indexOf('[]'); at !== -1; at = pretty.indexOf('[]', at + 2)) {
    const after = at + 2;
    const next = pretty.charCodeAt(after);
    const endsLine =
      after === pretty.length || next === 0x0a || (next === 0x2c && pretty.charCodeAt(after + 1) === 0x0a);
    if (!endsLine) continue;
    const lineStart = pretty.lastIndexOf('\n', at) + 1;
    let indentEnd = lineStart;
    while (pretty.charCodeAt(indentEnd) === 0x20) indentEnd++;
    result += `${pretty.slice(copied, at)}[\n\n${pretty.slice(lineStart, indentEnd)}]`;
    copied = after;
  }
  return copied === 0 ? pretty : result + pretty.slice(copied);
}

function noMatchMessage(input: {
  size: number;
  mode: 'test' | 'live' | undefined;
  signatureCount: number;
  secretCount: number;
}): string {
  const { size, mode, signatureCount, secretCount } = input;
  const signatures = signatureCount === 1 ? 'the signature' : `none of the ${signatureCount} signatures`;
  const secrets = secretCount === 1 ? 'the configured secret' : `any of the ${secretCount} configured secrets`;
  const lead = `${signatures} in ${OMISE_SIGNATURE_HEADER} ${signatureCount === 1 ? 'does not match' : 'matches'} this payload signed with ${secrets}.`;
  if (size === 0) {
    return `${lead} The payload is empty (0 bytes): the body was probably consumed by a body parser, or never read, before verification. Pass the raw request body.`;
  }
  const modeAdvice =
    mode === undefined
      ? 'test and live mode have different webhook secrets'
      : `test and live mode have different webhook secrets, and this is a ${mode}-mode event, so use the ${mode}-mode secret`;
  return `${lead} Check that (1) the payload is the raw request body, byte for byte, not JSON.stringify of a parsed body; (2) the secret is the webhook secret for the right mode: ${modeAdvice}; (3) it is the current secret, if it was rolled on the dashboard.`;
}

/** Test or live, read from the (unverified) body, only to make advice more specific. */
function eventMode(parsed: ParsedBody | undefined): 'test' | 'live' | undefined {
  const livemode = (parsed?.value as { livemode?: unknown } | null | undefined)?.livemode;
  return typeof livemode === 'boolean' ? (livemode ? 'live' : 'test') : undefined;
}

function malformedSignatureMessage(part: string, index: number, count: number): string {
  const which =
    count === 1
      ? `the ${OMISE_SIGNATURE_HEADER} header`
      : `part ${index + 1} of ${count} in the ${OMISE_SIGNATURE_HEADER} header`;
  if (part === '') {
    return `${which} is empty; expected 64 hex digits (an HMAC-SHA256), several separated by commas while a secret is rolled.`;
  }
  if (/^(sha256=|v1$)/i.test(part)) {
    return `${which} starts with a scheme prefix (${show(part.slice(0, 7))}); Omise signatures are bare hex with no prefix. Was this request signed by another service's scheme?`;
  }
  if (/^[0-9a-f]+$/i.test(part)) {
    return `${which} is ${part.length} hex digits; expected 64 (an HMAC-SHA256). Was it cut short?`;
  }
  return `${which} is not hex; expected 64 hex digits (an HMAC-SHA256), like "3f1c...". Got ${show(part)}.`;
}

function failure(code: OmiseSignatureFailureCode, message: string): Extract<OmiseSignatureVerification, { ok: false }> {
  return { ok: false, code, message };
}

function secretName(index: number, count: number): string {
  return count === 1 ? 'the secret' : `secret #${index + 1} of ${count}`;
}

/** A header value for a message: quoted and cut short, since headers come from strangers. */
function show(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
}
