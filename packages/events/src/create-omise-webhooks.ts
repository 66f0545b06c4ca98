import { bodyAlreadyParsedError, bodyTooLargeError, utf8Length } from './_body-errors.js';
import { describePayload } from './_not-raw-message.js';
import {
  DEFAULT_API_TIMEOUT_MS,
  DEFAULT_OMISE_API_URL,
  fetchEventFromOmiseApi,
  type ResolvedApiVerification,
} from './_verify-with-api.js';
import { DEFAULT_MAX_BODY_BYTES, setWebhooksInternals } from './_webhooks-internals.js';
import { createMemoryDedupeStore, type DedupeStore } from './dedupe-store.js';
import { OmiseWebhookError } from './errors.js';
import {
  closestEventKeys,
  isOmiseEventKey,
  matchesEventKeyPattern,
  OMISE_EVENT_CATALOGUE,
  type OmiseEventGroup,
  type OmiseEventKey,
} from './event-catalogue.js';
import { readOmiseSignatureHeaders, verifyOmiseSignature, webhookSecretProblem } from './omise-signature.js';
import { parseOmiseEvent } from './parse-omise-event.js';
import type { KnownOmiseEvent, OmiseEvent } from './types.js';

/**
 * A pattern for every known key of one group, like `charge.*`. `customer.*` includes
 * `customer.update.card`.
 *
 * @example
 * ```ts
 * const pattern: OmiseEventKeyPattern = 'charge.*';
 * ```
 */
export type OmiseEventKeyPattern = `${OmiseEventGroup}.*`;

/**
 * What {@link OmiseWebhooks.on} accepts: one of the 35 known keys, or a group pattern.
 *
 * @example
 * ```ts
 * const selectors: OmiseEventSelector[] = ['charge.complete', 'refund.*'];
 * ```
 */
export type OmiseEventSelector = OmiseEventKey | OmiseEventKeyPattern;

/**
 * The known keys a selector matches: `'charge.*'` gives the six charge keys.
 *
 * @example
 * ```ts
 * type DisputeKeys = OmiseEventKeysMatching<'dispute.*'>;
 * // 'dispute.create' | 'dispute.update' | 'dispute.accept' | 'dispute.close'
 * ```
 */
export type OmiseEventKeysMatching<S extends OmiseEventSelector> = S extends `${infer G}.*`
  ? Extract<OmiseEventKey, `${G}.${string}`>
  : Extract<S, OmiseEventKey>;

/**
 * The event a handler for a selector receives: for `'charge.complete'`, an event whose `data` is an
 * `OmiseCharge`; for `'charge.*'`, the union of the charge events.
 *
 * @example
 * ```ts
 * function amountOf(event: OmiseEventFor<'charge.*'>): number {
 *   return event.data.amount;
 * }
 * ```
 */
export type OmiseEventFor<S extends OmiseEventSelector> = KnownOmiseEvent<OmiseEventKeysMatching<S>>;

/**
 * A handler for events. It may be async; it is awaited, and what it throws is reported.
 *
 * @example
 * ```ts
 * const handler: OmiseEventHandler<OmiseEventFor<'refund.create'>> = async (event) => {
 *   await recordRefund(event.data.charge, event.data.amount);
 * };
 * ```
 */
export type OmiseEventHandler<E = OmiseEvent> = (event: E) => unknown;

/**
 * A handler for failures of {@link OmiseWebhooks.receive}: bad signatures, bad bodies, and handlers
 * that threw. It may be async; it is awaited.
 *
 * @example
 * ```ts
 * const onError: OmiseErrorHandler = (error) => {
 *   logger.warn({ code: error.code, reason: error.reason }, error.message);
 * };
 * ```
 */
export type OmiseErrorHandler = (error: OmiseWebhookError) => unknown;

/**
 * Request headers in any common shape: a fetch `Headers`, a Node-style record (values may be
 * arrays), or a list of name/value pairs.
 *
 * @example
 * ```ts
 * const headers: OmiseRequestHeaders = [['Omise-Signature', signature], ['Omise-Signature-Timestamp', timestamp]];
 * ```
 */
export type OmiseRequestHeaders =
  | Headers
  | Record<string, string | string[] | undefined>
  | ReadonlyArray<readonly [string, string]>;

/**
 * What {@link OmiseWebhooks.receive} takes: the raw body exactly as received, and the headers.
 *
 * @example
 * ```ts
 * const input: OmiseReceiveInput = { rawBody: await request.text(), headers: request.headers };
 * ```
 */
export interface OmiseReceiveInput {
  /** The exact bytes Omise sent (or that text, decoded as UTF-8). Never a parsed object. */
  rawBody: string | Uint8Array;
  headers: OmiseRequestHeaders;
}

/**
 * What {@link OmiseWebhooks.receive} resolves to: `handled` (every matching handler ran and none
 * threw) or `duplicate` (this event id was already handled within the dedupe window; no handler
 * ran). Either way, answer 200.
 *
 * @example
 * ```ts
 * const { status, event } = await webhooks.receive({ rawBody, headers });
 * console.log(`${event.id} ${event.key}: ${status}`);
 * ```
 */
export interface OmiseReceiveResult {
  status: 'handled' | 'duplicate';
  /** The verified event: with `verifyWithApi`, Omise's own copy from the API. */
  event: OmiseEvent;
}

/**
 * The part of `fetch` that API verification uses. The global `fetch` fits; so does a stub in tests.
 *
 * @example
 * ```ts
 * const fetchThroughProxy: OmiseApiFetch = (url, init) => fetch(url, { ...init, dispatcher: proxyAgent });
 * ```
 */
export type OmiseApiFetch = (
  url: string,
  init: { method: 'GET'; headers: Record<string, string>; signal?: AbortSignal | undefined },
) => Promise<{ status: number; text(): Promise<string> }>;

/**
 * Options for checking each event with the Omise API (`GET {apiUrl}/events/{id}`, HTTP Basic auth
 * with the secret key). A forged body cannot name an event Omise does not have, and the handlers get
 * Omise's copy of the event. Costs one API call per event.
 *
 * @example
 * ```ts
 * const verifyWithApi: OmiseApiVerificationOptions = { secretKey: process.env.OMISE_SECRET_KEY! };
 * ```
 */
export interface OmiseApiVerificationOptions {
  /** The secret key (`skey_test_...` or `skey_...`) for the mode this endpoint serves. */
  secretKey: string;
  /** Default `https://api.omise.co`. */
  apiUrl?: string | undefined;
  /** Default the global `fetch`. */
  fetch?: OmiseApiFetch | undefined;
  /** How long to wait for the API, in ms; default 10,000. */
  timeoutMs?: number | undefined;
}

/**
 * Options for {@link createOmiseWebhooks}.
 *
 * @example
 * ```ts
 * const options: OmiseWebhooksOptions = {
 *   secret: process.env.OMISE_WEBHOOK_SECRET,
 *   dedupe: { windowSec: 3600 },
 * };
 * ```
 */
export interface OmiseWebhooksOptions {
  /** The webhook secret (base64 text from the dashboard's Webhooks page) for the mode this endpoint serves. */
  secret?: string | undefined;
  /** More secrets, any of which may match: `[oldSecret, newSecret]` while rolling. Checked after `secret`. */
  secrets?: readonly string[] | undefined;
  /** Seconds a signature's timestamp may be from now, either way; default 300. */
  toleranceSec?: number | undefined;
  /** Also check each event with the Omise API. Without any secret, this is the only check. */
  verifyWithApi?: OmiseApiVerificationOptions | undefined;
  /**
   * Skip events already handled: `windowSec` (default 86,400, a day) is how long an id is
   * remembered; `store` defaults to {@link createMemoryDedupeStore}. `false` turns it off.
   */
  dedupe?: false | { store?: DedupeStore | undefined; windowSec?: number | undefined } | undefined;
  /** The largest body accepted, in bytes; default 1 MiB. The adapters stop reading there. */
  maxBodyBytes?: number | undefined;
  /** The clock, in milliseconds since the epoch; default `Date.now`. Inject one in tests. */
  now?: (() => number) | undefined;
}

/**
 * A webhook receiver: register handlers, then feed it requests with {@link OmiseWebhooks.receive}
 * or one of the adapters.
 *
 * @example
 * ```ts
 * const webhooks: OmiseWebhooks = createOmiseWebhooks({ secret: process.env.OMISE_WEBHOOK_SECRET });
 * webhooks.on('charge.complete', async (event) => markPaid(event.data.id));
 * ```
 */
export interface OmiseWebhooks {
  /**
   * Call `handler` for events with this key, any key of a group (`'charge.*'`), or any of a list.
   * `event` is typed by the selector: for `'charge.complete'`, `event.data` is an `OmiseCharge`.
   * Events with a key this library does not know reach only {@link OmiseWebhooks.onAny}.
   *
   * @throws {OmiseWebhookError} `unknown_event_key` for a key that is not one of the 35 known
   * ones or a group pattern (with a "did you mean"), `invalid_options` when `handler` is not a function.
   */
  on<S extends OmiseEventSelector>(selector: S | readonly S[], handler: OmiseEventHandler<OmiseEventFor<S>>): void;
  /** Call `handler` for every event, including keys this library does not know yet. */
  onAny(handler: OmiseEventHandler<OmiseEvent>): void;
  /** Call `handler` for every failure of `receive`, then `receive` rejects with the same error. */
  onError(handler: OmiseErrorHandler): void;
  /** Undo `on(selector, handler)`; `'*'` undoes `onAny(handler)` and `'error'` undoes `onError(handler)`. */
  removeListener<S extends OmiseEventSelector>(
    selector: S | readonly S[],
    handler: OmiseEventHandler<OmiseEventFor<S>>,
  ): void;
  removeListener(selector: '*', handler: OmiseEventHandler<OmiseEvent>): void;
  removeListener(selector: 'error', handler: OmiseErrorHandler): void;
  /**
   * Verify, parse, dedupe and dispatch one delivery. Resolves once every matching handler has
   * finished. Rejects with an {@link OmiseWebhookError} (after the `onError` handlers ran) when the
   * body or signature is bad, or when any handler threw: every handler still runs, and
   * `error.errors` holds each failure.
   */
  receive(input: OmiseReceiveInput): Promise<OmiseReceiveResult>;
}

const DEFAULT_DEDUPE_WINDOW_SEC = 24 * 60 * 60;
const GROUPS: ReadonlySet<string> = new Set(Object.values(OMISE_EVENT_CATALOGUE).map((info) => info.group));

interface Registration {
  selectors: string[];
  handler: OmiseEventHandler<never>;
}

/**
 * Create a webhook receiver: typed handlers per event key, signature verification (and optionally
 * the Omise API), dedupe by event id, and awaited dispatch where a failing handler is reported,
 * never swallowed. Feed it with {@link createFetchHandler}, `createNodeMiddleware`
 * (`@omise-webhook/events/node`), `omiseWebhooksFastify` (`@omise-webhook/events/fastify`), or
 * call `receive` yourself.
 *
 * @throws {OmiseWebhookError} `missing_secret` when there is neither a secret nor `verifyWithApi`,
 * `invalid_secret` when a secret is not base64, `invalid_options` for any other bad option.
 *
 * @example
 * ```ts
 * const webhooks = createOmiseWebhooks({ secret: process.env.OMISE_WEBHOOK_SECRET });
 * webhooks.on('charge.complete', async (event) => {
 *   if (event.data.status === 'successful') await markOrderPaid(event.data.metadata?.order_id);
 * });
 * webhooks.on('refund.*', (event) => console.log('refund', event.data.amount));
 * webhooks.onError((error) => console.error(`omise webhook ${error.code}: ${error.message}`));
 * const { status } = await webhooks.receive({ rawBody: await request.text(), headers: request.headers });
 * ```
 */
export function createOmiseWebhooks(options: OmiseWebhooksOptions): OmiseWebhooks {
  if (options === null || typeof options !== 'object') {
    throw new OmiseWebhookError(
      'invalid_options',
      `createOmiseWebhooks needs an options object like { secret: process.env.OMISE_WEBHOOK_SECRET }; got ${options === null ? 'null' : typeof options}.`,
    );
  }
  const secrets = checkSecrets(options);
  const apiVerification = checkApiVerification(options.verifyWithApi);
  if (secrets.length === 0 && apiVerification === undefined) {
    throw new OmiseWebhookError(
      'missing_secret',
      `createOmiseWebhooks needs \`secret\`, the base64 webhook secret from the dashboard's Webhooks page (one per mode); it was ${describeMissing(options.secret)}. Is the environment variable that holds it (OMISE_WEBHOOK_SECRET) set? To check events with the Omise API instead, pass verifyWithApi: { secretKey }.`,
    );
  }
  const toleranceSec = checkNonNegative('toleranceSec', options.toleranceSec, true);
  const maxBodyBytes = checkNonNegative('maxBodyBytes', options.maxBodyBytes, false) ?? DEFAULT_MAX_BODY_BYTES;
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') {
    throw new OmiseWebhookError(
      'invalid_options',
      `createOmiseWebhooks: now must be a function returning ms; got ${typeof now}.`,
    );
  }
  const dedupe = checkDedupe(options.dedupe, now);

  const registrations: Registration[] = [];
  const anyHandlers: OmiseEventHandler[] = [];
  const errorHandlers: OmiseErrorHandler[] = [];

  /** Run every onError handler; what they throw joins the error's `errors`, since there is nowhere else to put it. */
  const report = async (error: OmiseWebhookError): Promise<void> => {
    const settled = await Promise.allSettled([...errorHandlers].map(async (handler) => handler(error)));
    const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    if (failures.length > 0) {
      (error as { errors?: readonly unknown[] }).errors = [...(error.errors ?? []), ...failures];
      error.message += ` (${failures.length} onError handler${failures.length === 1 ? '' : 's'} also threw; see error.errors.)`;
    }
  };

  const dispatch = async (event: OmiseEvent): Promise<void> => {
    const known = isOmiseEventKey(event.key);
    // Snapshot, so a handler that adds or removes handlers does not change this delivery.
    const handlers: OmiseEventHandler[] = [
      ...registrations
        .filter((registration) => known && registration.selectors.some((s) => matchesEventKeyPattern(event.key, s)))
        .map((registration) => registration.handler as OmiseEventHandler),
      ...anyHandlers,
    ];
    // Started in registration order and awaited together: one slow or failing handler neither
    // delays nor cancels the others.
    const settled = await Promise.allSettled(handlers.map(async (handler) => handler(event)));
    const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    if (failures.length === 0) return;
    let released = true;
    if (dedupe !== undefined) {
      try {
        await dedupe.store.release(event.id);
      } catch (releaseError) {
        released = false;
        failures.push(releaseError);
      }
    }
    const handlerFailures = released ? failures : failures.slice(0, -1);
    throw new OmiseWebhookError(
      'handler_failed',
      handlerFailedMessage(event, handlerFailures, handlers.length, released),
      {
        errors: failures,
        event,
        cause: failures[0],
      },
    );
  };

  const receiveOrThrow = async (input: OmiseReceiveInput): Promise<OmiseReceiveResult> => {
    const { rawBody, headers } = (input ?? {}) as Partial<OmiseReceiveInput>;
    if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
      throw bodyAlreadyParsedError(
        `receive() got ${describePayload(rawBody)} as rawBody, not the raw request body`,
        "Pass the body exactly as received, as a string or bytes: `await request.text()` in fetch-style handlers, or use createNodeMiddleware, which reads the request itself. A JSON body parser (express.json()) that ran first has replaced the raw bytes with an object; mount the webhook route before it, or use express.raw({ type: 'application/json' }) for this route.",
      );
    }
    const size = typeof rawBody === 'string' ? utf8Length(rawBody) : rawBody.length;
    if (size > maxBodyBytes) throw bodyTooLargeError(size, maxBodyBytes, 'given');

    if (secrets.length > 0) {
      const { signature, timestamp, misnamedSignatureHeader } = readOmiseSignatureHeaders(headers ?? {});
      const result = await verifyOmiseSignature({
        payload: rawBody,
        signature,
        timestamp,
        secrets,
        toleranceSec,
        now: now(),
      });
      if (!result.ok) {
        const misnamed =
          result.code === 'missing_signature' && misnamedSignatureHeader !== undefined
            ? ` The request has a ${misnamedSignatureHeader} header instead, which Omise never sends: whatever sent this request followed a wrong guide.`
            : '';
        throw new OmiseWebhookError(
          'signature_invalid',
          `Omise-Signature check failed (${result.code}): ${result.message}${misnamed}${result.hint === undefined ? '' : ` Likely cause: ${result.hint}`}`,
          { reason: result.code, hint: result.hint, diagnosis: result.diagnosis },
        );
      }
    }

    let event = parseOmiseEvent(rawBody);
    if (apiVerification !== undefined) event = await fetchEventFromOmiseApi(event, apiVerification);

    if (dedupe !== undefined) {
      let fresh: boolean;
      try {
        fresh = await dedupe.store.claim(event.id, dedupe.windowSec);
      } catch (cause) {
        throw new OmiseWebhookError(
          'dedupe_failed',
          `the dedupe store failed to record event ${event.id}: ${cause instanceof Error ? cause.message : String(cause)}. The event was not handled; check the store (is it reachable?), or pass dedupe: false to handle events without it.`,
          { cause },
        );
      }
      if (!fresh) return { status: 'duplicate', event };
    }
    await dispatch(event);
    return { status: 'handled', event };
  };

  const webhooks: OmiseWebhooks = {
    on(selector: OmiseEventSelector | readonly OmiseEventSelector[], handler: OmiseEventHandler<never>) {
      const selectors = checkSelectors(selector);
      checkHandler('on', handler);
      registrations.push({ selectors, handler });
    },
    onAny(handler) {
      checkHandler('onAny', handler);
      anyHandlers.push(handler);
    },
    onError(handler) {
      checkHandler('onError', handler);
      errorHandlers.push(handler);
    },
    removeListener(selector: string | readonly string[], handler: unknown) {
      if (selector === '*') return removeLast(anyHandlers, handler);
      if (selector === 'error') return removeLast(errorHandlers, handler);
      const selectors = checkSelectors(selector);
      for (let i = registrations.length - 1; i >= 0; i--) {
        const registration = registrations[i] as Registration;
        if (registration.handler !== handler) continue;
        registration.selectors = registration.selectors.filter((s) => !selectors.includes(s));
        if (registration.selectors.length === 0) registrations.splice(i, 1);
      }
    },
    async receive(input) {
      try {
        return await receiveOrThrow(input);
      } catch (error) {
        if (error instanceof OmiseWebhookError) await report(error);
        throw error;
      }
    },
  };
  setWebhooksInternals(webhooks, { maxBodyBytes, report });
  return webhooks;
}

function checkSecrets(options: OmiseWebhooksOptions): string[] {
  const { secret, secrets } = options;
  if (secrets !== undefined && !Array.isArray(secrets)) {
    throw new OmiseWebhookError(
      'invalid_options',
      `createOmiseWebhooks: secrets must be an array of base64 secrets, like [oldSecret, newSecret]; got ${typeof secrets}. For one secret, use \`secret\`.`,
    );
  }
  const all = [...(secret === undefined ? [] : [secret]), ...(secrets ?? [])];
  for (const [index, value] of all.entries()) {
    const name = secret !== undefined && index === 0 ? 'secret' : `secrets[${index - (secret === undefined ? 0 : 1)}]`;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new OmiseWebhookError(
        'missing_secret',
        `createOmiseWebhooks: ${name} is ${describeMissing(value)}; expected the base64 webhook secret from the dashboard's Webhooks page. Is the environment variable that holds it set?`,
      );
    }
    const problem = webhookSecretProblem(value);
    if (problem !== undefined) {
      throw new OmiseWebhookError(
        'invalid_secret',
        `createOmiseWebhooks: ${name} ${problem}; a webhook secret is base64 text.`,
      );
    }
  }
  return all;
}

function checkApiVerification(options: OmiseApiVerificationOptions | undefined): ResolvedApiVerification | undefined {
  if (options === undefined) return undefined;
  const { secretKey, apiUrl = DEFAULT_OMISE_API_URL, timeoutMs = DEFAULT_API_TIMEOUT_MS } = options;
  if (typeof secretKey !== 'string' || secretKey.trim() === '') {
    throw new OmiseWebhookError(
      'missing_secret',
      `createOmiseWebhooks: verifyWithApi.secretKey is ${describeMissing(secretKey)}; expected your Omise secret key (skey_test_... or skey_...). Is OMISE_SECRET_KEY set?`,
    );
  }
  if (/^pkey_/.test(secretKey)) {
    throw new OmiseWebhookError(
      'invalid_secret',
      `createOmiseWebhooks: verifyWithApi.secretKey is a public key (pkey_...), which cannot read events; use the secret key (skey_...) from the dashboard's Keys page.`,
    );
  }
  if (secretKey !== secretKey.trim()) {
    throw new OmiseWebhookError(
      'invalid_secret',
      'createOmiseWebhooks: verifyWithApi.secretKey has leading or trailing whitespace (a newline from a .env file?); trim it where it is loaded.',
    );
  }
  let base: URL;
  try {
    base = new URL(apiUrl);
  } catch {
    throw new OmiseWebhookError(
      'invalid_options',
      `createOmiseWebhooks: verifyWithApi.apiUrl is ${JSON.stringify(apiUrl)}, which is not a URL; expected something like "https://api.omise.co".`,
    );
  }
  const fetchFunction = options.fetch ?? (globalThis.fetch as OmiseApiFetch | undefined);
  if (typeof fetchFunction !== 'function') {
    throw new OmiseWebhookError(
      'invalid_options',
      'createOmiseWebhooks: verifyWithApi needs fetch, and this runtime has no global fetch; pass verifyWithApi.fetch.',
    );
  }
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
    throw new OmiseWebhookError(
      'invalid_options',
      `createOmiseWebhooks: verifyWithApi.timeoutMs is ${String(timeoutMs)}; expected a positive number of milliseconds.`,
    );
  }
  return {
    secretKey,
    apiUrl: base.href.replace(/\/+$/, ''),
    fetch: fetchFunction,
    timeoutMs,
  };
}

function checkDedupe(
  dedupe: OmiseWebhooksOptions['dedupe'],
  now: () => number,
): { store: DedupeStore; windowSec: number } | undefined {
  if (dedupe === false) return undefined;
  if (dedupe !== undefined && (dedupe === null || typeof dedupe !== 'object')) {
    throw new OmiseWebhookError(
      'invalid_options',
      `createOmiseWebhooks: dedupe is ${JSON.stringify(dedupe)}; expected false or { store?, windowSec? }.`,
    );
  }
  const windowSec = checkNonNegative('dedupe.windowSec', dedupe?.windowSec, false) ?? DEFAULT_DEDUPE_WINDOW_SEC;
  const store = dedupe?.store ?? createMemoryDedupeStore({ now });
  if (typeof store.claim !== 'function' || typeof store.release !== 'function') {
    throw new OmiseWebhookError(
      'invalid_options',
      'createOmiseWebhooks: dedupe.store must have claim(id, windowSec) and release(id) methods (see DedupeStore).',
    );
  }
  return { store, windowSec };
}

function checkNonNegative(name: string, value: unknown, allowInfinity: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new OmiseWebhookError(
      'invalid_options',
      `createOmiseWebhooks: ${name} is ${typeof value === 'string' ? JSON.stringify(value) : String(value)}; expected a number of 0 or more${allowInfinity ? ' (Infinity turns the check off)' : ''}.`,
    );
  }
  return value;
}

function checkSelectors(selector: unknown): string[] {
  const list = Array.isArray(selector) ? (selector as unknown[]) : [selector];
  if (list.length === 0) {
    throw new OmiseWebhookError(
      'invalid_options',
      'on() got an empty list of event keys; pass at least one key, like on(["charge.complete"], handler).',
    );
  }
  return list.map(checkSelector);
}

function checkSelector(selector: unknown): string {
  if (typeof selector === 'string') {
    if (isOmiseEventKey(selector)) return selector;
    if (selector.endsWith('.*') && GROUPS.has(selector.slice(0, -2))) return selector;
  }
  const shown = typeof selector === 'string' ? JSON.stringify(selector) : String(selector);
  let advice: string;
  if (selector === '*') advice = 'For every event, use onAny(handler).';
  else if (typeof selector === 'string' && selector.endsWith('.*')) {
    advice = `There is no group "${selector.slice(0, -2)}"; the groups are ${[...GROUPS].join(', ')}.`;
  } else {
    const near = typeof selector === 'string' ? closestEventKeys(selector) : [];
    advice =
      near.length > 0
        ? `Did you mean ${near.map((key) => JSON.stringify(key)).join(' or ')}?`
        : 'The known keys are listed in OMISE_EVENT_KEYS.';
  }
  throw new OmiseWebhookError(
    'unknown_event_key',
    `${shown} is not an Omise event key or group pattern. ${advice} on() takes one of the 35 known keys (like "charge.complete"), a group pattern (like "charge.*"), or a list of them; events with keys this library does not know reach onAny().`,
  );
}

function checkHandler(method: string, handler: unknown): void {
  if (typeof handler !== 'function') {
    throw new OmiseWebhookError(
      'invalid_options',
      `${method}() needs a handler function as its ${method === 'on' ? 'second' : 'only'} argument; got ${handler === null ? 'null' : typeof handler}.`,
    );
  }
}

/** Remove the most recently added `item`, as Node's `EventEmitter.removeListener` does. */
function removeLast<T>(list: T[], item: unknown): void {
  const index = list.lastIndexOf(item as T);
  if (index !== -1) list.splice(index, 1);
}

function handlerFailedMessage(
  event: OmiseEvent,
  failures: readonly unknown[],
  handlerCount: number,
  released: boolean,
): string {
  const lines = failures.map((failure, index) => `(${index + 1}) ${describeFailure(failure)}`).join(' ');
  const redelivery = released
    ? 'The event is not recorded as handled, so a redelivery of it will run the handlers again'
    : 'Releasing its id in the dedupe store failed too, so a redelivery within the dedupe window will be skipped as a duplicate; release the id in the store to have it handled';
  return `${failures.length} of ${handlerCount} handler${handlerCount === 1 ? '' : 's'} failed for event ${event.id} (${event.key}): ${lines}. The other handlers ran to the end. ${redelivery}; every failure is in error.errors.`;
}

function describeFailure(failure: unknown): string {
  const text = failure instanceof Error ? `${failure.name}: ${failure.message}` : `threw ${String(failure)}`;
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function describeMissing(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'only whitespace';
  return `a ${typeof value}, not a string`;
}
