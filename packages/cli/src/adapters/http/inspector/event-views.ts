import { describeDifferences, diffJsonValues, type ValueChange } from '../../../core/compare-events.js';
import { lineDiff } from '../../../core/line-diff.js';
import type {
  DifferingBody,
  ForwardAttempt,
  HeaderList,
  StoredEvent,
  StoredRejection,
  VerificationOutcome,
} from '../../../core/ports.js';
import { WEBHOOK_SECRET_ADVICE } from '../../../core/secret-advice.js';

/** One row of the live list: enough to show, never the body. */
export interface EventSummary {
  id: string;
  seq: number;
  key: string;
  livemode: boolean;
  objectType: string;
  objectId: string | null;
  /** `data.amount` in the smallest unit (satang, cents), when the object has one. */
  amount: number | null;
  currency: string | null;
  /** `data.status` (`successful`, `pending`, `closed` ...), or `deleted` for a deleted-object stub. */
  status: string | null;
  verification: { mode: string; status: string };
  createdAt: string | null;
  receivedAt: string;
  lastReceivedAt: string;
  deliveryCount: number;
  origin: string;
  /** A later delivery of this id carried a body other than the first copy's. */
  bodyDiffers: boolean;
}

/** A later body that differed from the first copy, with how it differs. */
export interface DifferingBodyView {
  sha256: string;
  size: number;
  /** The kept first 64 KiB as text (base64 when not UTF-8). */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** Only the first 64 KiB were kept, so the comparison covers only those. */
  truncated: boolean;
  headers: HeaderList;
  origin: string;
  firstReceivedAt: string;
  lastReceivedAt: string;
  deliveries: number;
  /** Paths whose values differ from the first copy's; null when the kept bytes are not whole JSON. */
  differences: string[] | null;
  /** A line diff against the first copy (`- ` first only, `+ ` this one only); null when too large to align. */
  diff: string | null;
}

export interface EventDetail extends EventSummary {
  verification: VerificationOutcome & { diagnosis: string };
  headers: HeaderList;
  /** The body exactly as received: UTF-8 text, or base64 when the bytes are not UTF-8. */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  bodySize: number;
  omiseCopy: StoredEvent['omiseCopy'];
  forwardAttempts: ForwardAttemptView[];
  /** Later deliveries whose body differed from this one (see `differingBodies`). */
  differingDeliveries: number;
  /** The distinct differing bodies that were kept (at most 5), oldest first. */
  differingBodies: DifferingBodyView[];
}

/** A forward or replay attempt as the page shows it: the answer's excerpt as text. */
export interface ForwardAttemptView extends Omit<ForwardAttempt, 'responseExcerpt'> {
  /** The first 64 KiB of the target's answer, as UTF-8 text (null when there was no answer). */
  response: string | null;
}

export function describeForwardAttempt(attempt: ForwardAttempt): ForwardAttemptView {
  const { responseExcerpt, ...rest } = attempt;
  return { ...rest, response: responseExcerpt === null ? null : Buffer.from(responseExcerpt).toString('utf8') };
}

interface ParsedData {
  object?: unknown;
  id?: unknown;
  amount?: unknown;
  currency?: unknown;
  status?: unknown;
  deleted?: unknown;
}

/** The event's `data`, or null when the body cannot be read (it always can for accepted events). */
export function eventData(event: StoredEvent): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(Buffer.from(event.body).toString('utf8')) as { data?: unknown };
    return typeof parsed.data === 'object' && parsed.data !== null && !Array.isArray(parsed.data)
      ? (parsed.data as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export function summariseEvent(event: StoredEvent, data: ParsedData | null = eventData(event)): EventSummary {
  return {
    id: event.eventId,
    seq: event.seq,
    key: event.key,
    livemode: event.livemode,
    objectType: event.objectType,
    objectId: event.objectId,
    amount: typeof data?.amount === 'number' ? data.amount : null,
    currency: typeof data?.currency === 'string' ? data.currency : null,
    status: typeof data?.status === 'string' ? data.status : data?.deleted === true ? 'deleted' : null,
    verification: { mode: event.verification.mode, status: event.verification.status },
    createdAt: event.createdAt,
    receivedAt: event.receivedAt,
    lastReceivedAt: event.lastReceivedAt,
    deliveryCount: event.deliveryCount,
    origin: event.origin,
    bodyDiffers: event.differingDeliveries > 0,
  };
}

/** Bytes as text when they are UTF-8 (exactly, no replacement characters), else base64. */
export function bodyText(bytes: Uint8Array): { body: string; bodyEncoding: 'utf8' | 'base64' } {
  try {
    return { body: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), bodyEncoding: 'utf8' };
  } catch {
    return { body: Buffer.from(bytes).toString('base64'), bodyEncoding: 'base64' };
  }
}

/**
 * The verification outcome in plain words: what it means for whether to trust the event,
 * and what to do about it.
 */
export function diagnoseVerification(verification: VerificationOutcome): string {
  const { mode, status, reason } = verification;
  switch (status) {
    case 'verified':
      if (mode === 'signature') {
        return `Genuine: the Omise-Signature header is an HMAC of these exact bytes made with your webhook secret, and its timestamp is recent (${reason}).`;
      }
      if (mode === 'api') {
        return `Genuine: the Omise API knows this event for your account (${reason}). Omise's copy is kept with it.`;
      }
      return `Genuine: the signature matched your webhook secret and the Omise API knows this event (${reason}).`;
    case 'unverified':
      return verification.reasonCode === 'verification_off'
        ? 'Not checked: verification is turned off (--verify none), so anyone who knows the URL could have sent this.'
        : 'Not checked: nothing is configured to verify with, so anyone who knows the URL could have sent this. ' +
            `To check signatures, ${WEBHOOK_SECRET_ADVICE}; or put your test secret key there as OMISE_SECRET_KEY.`;
    case 'pending': {
      const attempts = verification.apiAttempts ?? 1;
      return `Not confirmed yet: ${reason}. The Omise API is asked again in the background (${attempts} attempt${attempts === 1 ? '' : 's'} so far); do not act on it until it is verified.`;
    }
    case 'failed':
      return `Not genuine: ${reason}. It was acknowledged before the check could finish; do not act on it.`;
    default:
      return reason;
  }
}

export function describeEvent(
  event: StoredEvent,
  forwardAttempts: ForwardAttempt[] = [],
  differingBodies: DifferingBody[] = [],
): EventDetail {
  const first = bodyText(event.body);
  return {
    ...summariseEvent(event),
    verification: { ...event.verification, diagnosis: diagnoseVerification(event.verification) },
    headers: event.headers,
    ...first,
    bodySize: event.body.byteLength,
    omiseCopy: event.omiseCopy,
    forwardAttempts: forwardAttempts.map(describeForwardAttempt),
    differingDeliveries: event.differingDeliveries,
    differingBodies: differingBodies.map((body) => describeDifferingBody(first, body)),
  };
}

/** A differing body beside the first copy: the paths that differ (whole JSON only) and a line diff. */
function describeDifferingBody(
  first: { body: string; bodyEncoding: 'utf8' | 'base64' },
  differing: DifferingBody,
): DifferingBodyView {
  const text = bodyText(differing.excerpt);
  let differences: string[] | null = null;
  if (!differing.truncated && text.bodyEncoding === 'utf8' && first.bodyEncoding === 'utf8') {
    try {
      JSON.parse(text.body);
      // Both sides are read the same way, so only real differences show (not Omise's delivery log).
      differences = describeDifferences(JSON.parse(first.body), text.body);
    } catch {
      differences = null;
    }
  }
  return {
    sha256: differing.sha256,
    size: differing.size,
    ...text,
    truncated: differing.truncated,
    headers: differing.headers,
    origin: differing.origin,
    firstReceivedAt: differing.firstReceivedAt,
    lastReceivedAt: differing.lastReceivedAt,
    deliveries: differing.deliveries,
    differences,
    diff: text.bodyEncoding === 'utf8' && first.bodyEncoding === 'utf8' ? lineDiff(first.body, text.body) : null,
  };
}

/** What each rejection code means, for codes that come without a more specific hint. */
const REJECTION_EXPLANATIONS: Record<string, string> = {
  invalid_json: 'The body is not JSON, so it cannot be an Omise event. Omise always sends JSON.',
  invalid_event:
    'The body is JSON but not an Omise event (object "event", an evnt_ id, a key and data). Was something other than Omise sending here?',
  livemode_refused:
    'A live-mode event: only test mode is accepted unless serve runs with --allow-live. Point only your test-mode webhook here.',
  missing_signature:
    'No Omise-Signature header. Omise signs only once a webhook secret exists on the dashboard for this mode (test or live); the sender may not be Omise.',
  missing_timestamp: 'An Omise-Signature header without Omise-Signature-Timestamp: Omise always sends both.',
  malformed_signature: 'The Omise-Signature header is not hex HMAC-SHA256 signatures separated by commas.',
  malformed_timestamp: 'The Omise-Signature-Timestamp header is not a Unix time in seconds.',
  timestamp_too_old:
    "The signature's timestamp is older than the tolerance: a replay of an old request, or this machine's clock is wrong (--tolerance).",
  timestamp_in_future: "The signature's timestamp is in the future: this machine's clock, or the sender's, is wrong.",
  no_signature_matched:
    'The signature does not match: a different webhook secret (test and live have their own; a rolled secret changes it), or the body was changed after signing.',
  unknown_to_omise_api:
    'The Omise API does not know this event id for your key: it was not sent by Omise for this account, or the key is for another account or mode.',
  body_too_large: 'The body is larger than --max-body allows, so it was not read.',
};

export interface RejectionSummary {
  id: number;
  receivedAt: string;
  method: string;
  path: string;
  remoteAddress: string | null;
  status: number;
  code: string;
  reason: string;
  hint: string | null;
  /** The hint when there is one, else what the code means in plain words. */
  diagnosis: string;
  eventId: string | null;
  bodySize: number;
  /** Only the first 64 KiB of the body were kept (`bodySize` is the whole size). */
  bodyTruncated: boolean;
  /** SHA-256 of the whole body that was read, lowercase hex; null when none was read. */
  bodySha256: string | null;
}

export interface RejectionDetail extends RejectionSummary {
  headers: HeaderList;
  /** The kept bytes: the whole body, or its first 64 KiB when `bodyTruncated`. */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
}

export function summariseRejection(rejection: StoredRejection): RejectionSummary {
  return {
    id: rejection.seq,
    receivedAt: rejection.receivedAt,
    method: rejection.method,
    path: rejection.path,
    remoteAddress: rejection.remoteAddress,
    status: rejection.status,
    code: rejection.code,
    reason: rejection.reason,
    hint: rejection.hint,
    diagnosis: rejection.hint ?? REJECTION_EXPLANATIONS[rejection.code] ?? rejection.reason,
    eventId: rejection.eventId,
    bodySize: rejection.bodySize,
    bodyTruncated: rejection.bodyTruncated,
    bodySha256: rejection.bodySha256,
  };
}

export function describeRejection(rejection: StoredRejection): RejectionDetail {
  return { ...summariseRejection(rejection), headers: rejection.headers, ...bodyText(rejection.body) };
}

/** A field that differs between two states; `before`/`after` are absent when the field was added/removed. */
export interface FieldChange {
  path: string;
  kind: 'changed' | 'added' | 'removed';
  before?: unknown;
  after?: unknown;
}

export interface TimelineEntry extends EventSummary {
  /** `subject` when the event's `data` is the object itself; `mentioned` when it only refers to it. */
  role: 'subject' | 'mentioned';
  /** For a subject after the first: what changed since the object's previous state. */
  changes: FieldChange[] | null;
}

function toFieldChange(change: ValueChange): FieldChange {
  if (change.before === undefined) return { path: change.path, kind: 'added', after: change.after };
  if (change.after === undefined) return { path: change.path, kind: 'removed', before: change.before };
  return { path: change.path, kind: 'changed', before: change.before, after: change.after };
}

/**
 * An object's story, oldest first: each event that carried it, and for each state of the
 * object after the first, the fields that changed since the one before.
 */
export function buildTimeline(objectId: string, events: StoredEvent[]): TimelineEntry[] {
  let previous: Record<string, unknown> | null = null;
  return events.map((event) => {
    const data = eventData(event);
    const summary = summariseEvent(event, data);
    if (data?.id !== objectId) return { ...summary, role: 'mentioned', changes: null };
    const changes = previous === null ? null : diffJsonValues(previous, data).map(toFieldChange);
    previous = data;
    return { ...summary, role: 'subject', changes };
  });
}
