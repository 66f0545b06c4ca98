import {
  type OmiseEvent,
  readOmiseSignatureHeaders,
  safeParseOmiseEvent,
  verifyOmiseSignature,
} from '@omise-webhook/events';
import { describeDifferences } from './compare-events.js';
import { eventLookupFields } from './event-lookup-fields.js';
import {
  type Clock,
  type HeaderList,
  type NewDelivery,
  type OmiseCopy,
  type OmiseEventsLookup,
  systemClock,
  type VerificationMode,
  type VerificationOutcome,
} from './ports.js';

/** Sent by `omise-webhook trigger` (never by Omise) so a simulated event is stored with origin `trigger`. */
export const SIMULATED_ORIGIN_HEADER = 'Omise-Webhook-Origin';

/** The settings that decide what a webhook request means. */
export interface IngestPolicy {
  mode: VerificationMode;
  /** Why this mode was chosen, for the `unverified` reason and the start-up banner. */
  modeSource: 'forced' | 'configured';
  /** Base64 webhook secrets; several while one is being rolled. */
  webhookSecrets: string[];
  toleranceSec: number;
  allowLive: boolean;
}

export interface IngestRequest {
  body: Uint8Array;
  headers: HeaderList;
  receivedAt: Date;
}

export interface IngestDependencies {
  /** Needed when the mode is `api` or `both`. */
  omiseApi?: OmiseEventsLookup;
  /** When Omise's copy was fetched is read from it (default: the system clock). */
  clock?: Clock;
}

export type IngestDecision =
  | { kind: 'accept'; delivery: NewDelivery; event: OmiseEvent }
  | {
      kind: 'reject';
      status: number;
      code: string;
      message: string;
      hint: string | null;
      eventId: string | null;
    };

type IngestRejection = Extract<IngestDecision, { kind: 'reject' }>;

function reject(
  status: number,
  code: string,
  message: string,
  options: { hint?: string | null; eventId?: string | null } = {},
): IngestRejection {
  return { kind: 'reject', status, code, message, hint: options.hint ?? null, eventId: options.eventId ?? null };
}

/**
 * A body that failed its signature is described (is it even an event?) only up to this size, the
 * library's own bound for its diagnosis: Omise's events are a few KiB, and a stranger's large
 * forged body must cost one HMAC, no more.
 */
export const DIAGNOSIS_MAX_BYTES = 64 * 1024;

/**
 * Decides what one webhook request means: verify the signature over the raw bytes (when the
 * mode asks for it), then parse and validate the envelope, refuse live mode unless allowed,
 * and look the event up in the Omise API (when the mode asks for it). The signature comes
 * first so a forged request never pays for a parse. It stores nothing and answers nothing;
 * the receiver does both with the decision.
 *
 * @example
 * const decision = await ingestWebhook({ body, headers, receivedAt: new Date() }, policy, {});
 * if (decision.kind === 'reject') respond(decision.status, decision.message);
 */
export async function ingestWebhook(
  request: IngestRequest,
  policy: IngestPolicy,
  dependencies: IngestDependencies,
): Promise<IngestDecision> {
  const checks: string[] = [];
  if (policy.mode === 'signature' || policy.mode === 'both') {
    const verified = await verifySignature(request, policy);
    if (verified.kind === 'reject') return verified;
    checks.push(verified.check);
  }

  const parsed = safeParseOmiseEvent(request.body);
  if (!parsed.ok) {
    const { error } = parsed;
    const status = error.code === 'invalid_json' ? 400 : 422;
    return reject(status, error.code, error.message, { eventId: guessEventId(request.body) });
  }
  const event = parsed.event;

  if (event.livemode && !policy.allowLive) {
    return reject(
      403,
      'livemode_refused',
      `event ${event.id} is a live-mode event and live mode is refused by default; ` +
        'point only your test-mode webhook here, or start with --allow-live (OMISE_WEBHOOK_ALLOW_LIVE=true) if you mean to receive live events',
      { eventId: event.id },
    );
  }

  let omiseCopy: OmiseCopy | undefined;
  let pendingReason: string | null = null;
  if (policy.mode === 'api' || policy.mode === 'both') {
    if (!dependencies.omiseApi) throw new Error(`verification mode ${policy.mode} needs an Omise API client`);
    const lookup = await dependencies.omiseApi.lookupEvent(event.id);
    switch (lookup.kind) {
      case 'found': {
        omiseCopy = {
          body: lookup.body,
          fetchedAt: new Date((dependencies.clock ?? systemClock).now()).toISOString(),
          differences: describeDifferences(event, lookup.body),
        };
        checks.push(
          omiseCopy.differences.length === 0
            ? 'Omise API has this event'
            : `Omise API has this event, with ${omiseCopy.differences.length} difference(s): ${omiseCopy.differences.slice(0, 5).join(', ')}`,
        );
        break;
      }
      case 'not_found':
        return reject(
          401,
          'unknown_to_omise_api',
          `the Omise API does not know event ${event.id} (${lookup.message}); it was not sent by Omise for this account, ` +
            'or OMISE_SECRET_KEY belongs to another account or mode (test/live)',
          { eventId: event.id },
        );
      case 'auth_failed':
      case 'unavailable':
        pendingReason = `could not check with the Omise API yet: ${lookup.message}; retrying in the background`;
        break;
    }
  }

  const verification: VerificationOutcome =
    policy.mode === 'none'
      ? {
          mode: 'none',
          status: 'unverified',
          ...(policy.modeSource === 'forced'
            ? { reason: 'verification is turned off (--verify none)', reasonCode: 'verification_off' }
            : {
                reason: 'nothing to verify with: set OMISE_WEBHOOK_SECRET (signature) or OMISE_SECRET_KEY (Omise API)',
                reasonCode: 'nothing_to_verify_with',
              }),
        }
      : pendingReason !== null
        ? {
            mode: policy.mode,
            status: 'pending',
            reason: [...checks, pendingReason].join('; '),
            apiAttempts: 1,
          }
        : { mode: policy.mode, status: 'verified', reason: checks.join('; ') };

  // Not `{ ...eventLookupFields(event), receivedAt, ... }`:
  // a spread followed by more properties gives every object its own hidden class
  // (docs/architecture.md, "Hot-path objects").
  const delivery: NewDelivery = {
    receivedAt: request.receivedAt.toISOString(),
    ...eventLookupFields(event),
    body: request.body,
    headers: request.headers,
    verification,
    origin: simulatedOrigin(request.headers) ? 'trigger' : 'webhook',
  };
  if (omiseCopy) delivery.omiseCopy = omiseCopy;
  return { kind: 'accept', delivery, event };
}

/**
 * Checks `Omise-Signature` over the exact bytes, before anything parses them. Only a small body
 * that failed is parsed (bounded by the library's depth limit), to say whether it is an event at all.
 */
async function verifySignature(
  request: IngestRequest,
  policy: IngestPolicy,
): Promise<{ kind: 'verified'; check: string } | IngestRejection> {
  const headers = readOmiseSignatureHeaders(request.headers);
  const options = {
    payload: request.body,
    signature: headers.signature,
    timestamp: headers.timestamp,
    secrets: policy.webhookSecrets,
    toleranceSec: policy.toleranceSec,
    now: request.receivedAt.getTime(),
  };
  // The library bounds its own diagnosis (bodies up to 64 KiB, never past 256 levels), so a
  // stranger's large forged body costs one HMAC here.
  const result = await verifyOmiseSignature(options);
  if (result.ok) {
    return {
      kind: 'verified',
      check:
        policy.webhookSecrets.length > 1
          ? `signature matched secret #${result.matchedSecretIndex + 1}`
          : 'signature matched the webhook secret',
    };
  }

  const asEvent = request.body.byteLength <= DIAGNOSIS_MAX_BYTES ? safeParseOmiseEvent(request.body) : undefined;
  let hint = result.hint ?? null;
  if (result.code === 'missing_signature' && headers.misnamedSignatureHeader !== undefined) {
    hint = `the request has a "${headers.misnamedSignatureHeader}" header, which Omise never sends; the header is "Omise-Signature"`;
  }
  if (hint === null && asEvent !== undefined && !asEvent.ok) {
    hint = `the body is not an Omise event either (${asEvent.error.code}): ${asEvent.error.message}`;
  }
  return reject(401, result.code, result.message, {
    hint,
    eventId: asEvent?.ok ? asEvent.event.id : guessEventId(request.body),
  });
}

function simulatedOrigin(headers: IngestRequest['headers']): boolean {
  const wanted = SIMULATED_ORIGIN_HEADER.toLowerCase();
  return headers.some(([name, value]) => name.toLowerCase() === wanted && value.trim() === 'trigger');
}

// At most 64 characters in all, as the library allows: a longer "id" is not taken for one.
const EVENT_ID_IN_TEXT = /"id"\s*:\s*"(evnt_(?:test_[0-9a-z]{1,54}|[0-9a-z]{1,59}))"/;

/**
 * For a body that was refused unparsed, still find its event id so a rejection can be looked up
 * by it. Only the first 4 KiB are read, so it costs the same whatever the body.
 */
function guessEventId(body: Uint8Array): string | null {
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 4096)).toString('utf8');
  return EVENT_ID_IN_TEXT.exec(head)?.[1] ?? null;
}
