/**
 * Forwarding decisions, pure: which targets an event goes to, what request carries it (the
 * stored bytes and the original headers minus hop-by-hop ones, plus ours), what happens after
 * an attempt (delivered, retry at a time, or failed for good), and which queued jobs may be
 * sent now. No sockets, timers or SQL here; the forwarder and the stores use these.
 */
import { matchesEventKeyPattern } from '@omise-webhook/events';
import type { HeaderList, VerificationOutcome } from './ports.js';

/** One place to forward to: every event whose key matches `pattern` goes to `url`. */
export interface ForwardRoute {
  /** `*`, `charge.*`, an exact key, or a comma list of those (see `matchesEventKeyPattern`). */
  pattern: string;
  url: string;
}

/** `5s,30s,2m,10m,1h,6h`: the waits before the 2nd, 3rd, ... attempt. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000];
export const DEFAULT_FORWARD_TIMEOUT_MS = 10_000;
/** How much of a target's answer is kept with each attempt. */
export const RESPONSE_EXCERPT_BYTES = 64 * 1024;
/**
 * Jobs of one target claimed at once while it is healthy (sent, or answered and being
 * recorded). Sends start in the order the events were received; once an attempt fails, only
 * that event is tried until it gets through.
 */
export const DEFAULT_MAX_IN_FLIGHT_PER_TARGET = 256;
/** Connections to one target at once; further sends wait for one, in order. */
export const FORWARD_CONNECTIONS_PER_TARGET = 64;

/** What decides whether a failed attempt is tried again. */
export interface RetryPlan {
  /** Waits before each retry; its length is the number of retries. */
  scheduleMs: readonly number[];
  /** Retry 4xx answers too (by default a 4xx is final: the handler refused the event). */
  retry4xx: boolean;
}

/**
 * Headers that describe one connection, not the message, and so are never passed on, per
 * RFC 9110 section 7.6.1, plus `Proxy-Connection` (its obsolete twin), `Expect` (the body is
 * already here, nothing to ask) and `Host`/`Content-Length` (set again for the new request).
 * Any header named in `Connection` is dropped too.
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'content-length',
];

export const FORWARDED_BY_HEADER = 'Omise-Webhook-Forwarded-By';
export const ATTEMPT_HEADER = 'Omise-Webhook-Attempt';
export const EVENT_ID_HEADER = 'Omise-Webhook-Event-Id';
export const REPLAY_HEADER = 'Omise-Webhook-Replay';
const OUR_HEADERS = new Set([FORWARDED_BY_HEADER, ATTEMPT_HEADER, EVENT_ID_HEADER, REPLAY_HEADER].map(lower));

function lower(name: string): string {
  return name.toLowerCase();
}

/**
 * Only events that are known genuine, or accepted because nothing is configured to check
 * them with (`--verify none` or no secret at all), are forwarded.
 */
export function isForwardable(verification: VerificationOutcome): boolean {
  return verification.status === 'verified' || (verification.status === 'unverified' && verification.mode === 'none');
}

/**
 * The targets an event goes to (each URL once, in the order the routes were given), or none
 * when it is not forwardable. A `pending` event gets its targets too: they are held in the
 * store until the API check decides.
 *
 * @example
 * forwardTargetsFor({ key: 'charge.create', verification }, [{ pattern: 'charge.*', url: 'http://localhost:8080/omise' }]);
 * // ['http://localhost:8080/omise']
 */
export function forwardTargetsFor(
  event: { key: string; verification: VerificationOutcome },
  routes: readonly ForwardRoute[],
): string[] {
  if (!isForwardable(event.verification) && event.verification.status !== 'pending') return [];
  return targetsForKey(event.key, routes);
}

/** Every URL whose pattern matches the key, each once, in route order. */
export function targetsForKey(key: string, routes: readonly ForwardRoute[]): string[] {
  const urls: string[] = [];
  for (const route of routes) {
    if (!urls.includes(route.url) && matchesEventKeyPattern(key, route.pattern)) urls.push(route.url);
  }
  return urls;
}

/**
 * Checks a forward target: an absolute http(s) URL. Returns the problem in plain words, or null.
 */
export function problemWithTargetUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not a URL; expected something like http://localhost:8080/omise/webhook';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `its scheme is ${url.protocol.slice(0, -1)}; only http and https targets can be forwarded to`;
  }
  if (url.username || url.password) return 'it has a user name or password in it; they would be sent in the clear';
  return null;
}

/** Which headers to send and where: the original list, filtered and completed. */
export interface ForwardHeadersInput {
  original: HeaderList;
  /** The target URL; its host (and port) becomes the Host header. */
  target: string;
  bodyLength: number;
  eventId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Set for replays. */
  replay?: 'verbatim' | 'resigned';
}

/**
 * The headers of a forwarded request, in the order they arrived: hop-by-hop headers (and
 * any named in `Connection`) removed, `Host` and `Content-Length` set for the new request
 * where the original had them (Host first and Content-Length last when it did not), and ours
 * at the end. Spelling is kept as the sender wrote it.
 *
 * @example
 * buildForwardHeaders({ original: [['Host', 'abc.ngrok.app'], ['Omise-Signature', sig]], target: 'http://localhost:8080/hook', bodyLength: 120, eventId, attempt: 1 });
 * // [['Host', 'localhost:8080'], ['Omise-Signature', sig], ['Content-Length', '120'], ['Omise-Webhook-Forwarded-By', 'omise-webhook'], ...]
 */
export function buildForwardHeaders(input: ForwardHeadersInput): Array<[string, string]> {
  const dropped = new Set(HOP_BY_HOP_HEADERS);
  for (const [name, value] of input.original) {
    if (lower(name) !== 'connection') continue;
    for (const token of value.split(',')) {
      const named = token.trim().toLowerCase();
      if (named) dropped.add(named);
    }
  }
  const host = new URL(input.target).host;
  const length = String(input.bodyLength);
  const headers: Array<[string, string]> = [];
  let hostPlaced = false;
  let lengthPlaced = false;
  for (const [name, value] of input.original) {
    const key = lower(name);
    if (key === 'host' && !hostPlaced) {
      headers.push([name, host]);
      hostPlaced = true;
    } else if (key === 'content-length' && !lengthPlaced) {
      headers.push([name, length]);
      lengthPlaced = true;
    } else if (!dropped.has(key) && !OUR_HEADERS.has(key)) {
      headers.push([name, value]);
    }
  }
  if (!hostPlaced) headers.unshift(['Host', host]);
  if (!lengthPlaced) headers.push(['Content-Length', length]);
  headers.push([FORWARDED_BY_HEADER, 'omise-webhook'], [ATTEMPT_HEADER, String(input.attempt)]);
  headers.push([EVENT_ID_HEADER, input.eventId]);
  if (input.replay) headers.push([REPLAY_HEADER, input.replay]);
  return headers;
}

/**
 * Replaces the signature headers' values where they stand (or appends them when the original
 * was unsigned), so a re-signed replay keeps the original header order.
 */
export function replaceSignatureHeaders(
  headers: HeaderList,
  signed: { signature: string; timestamp: string },
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let signaturePlaced = false;
  let timestampPlaced = false;
  for (const [name, value] of headers) {
    const key = lower(name);
    if (key === 'omise-signature') {
      if (!signaturePlaced) out.push([name, signed.signature]);
      signaturePlaced = true;
    } else if (key === 'omise-signature-timestamp') {
      if (!timestampPlaced) out.push([name, signed.timestamp]);
      timestampPlaced = true;
    } else out.push([name, value]);
  }
  if (!timestampPlaced) out.push(['Omise-Signature-Timestamp', signed.timestamp]);
  if (!signaturePlaced) out.push(['Omise-Signature', signed.signature]);
  return out;
}

/** What came back from one send. */
export type SendOutcome =
  | { kind: 'response'; status: number }
  /** No usable answer: refused, reset, timed out, not HTTP. */
  | { kind: 'error'; message: string };

/** What happens to a job after an attempt. */
export type AttemptDecision =
  | { outcome: 'delivered' }
  | { outcome: 'retry'; nextAttemptAt: number; reason: string }
  | { outcome: 'failed'; reason: string };

/**
 * Delivered on 2xx. A network error, a timeout or a 5xx is retried on the schedule; a 4xx is
 * final unless `retry4xx`; a 1xx/3xx is final (redirects are not followed: fix the URL). After
 * the last retry the job fails and goes to the failed list.
 *
 * @param attemptInPlan 1 for the first attempt since the job was queued (or re-queued by hand).
 * @example
 * decideAfterAttempt({ outcome: { kind: 'response', status: 503 }, attemptInPlan: 1, plan, now: 0 });
 * // { outcome: 'retry', nextAttemptAt: 5000, reason: '503 from the target' }
 */
export function decideAfterAttempt(input: {
  outcome: SendOutcome;
  attemptInPlan: number;
  plan: RetryPlan;
  now: number;
}): AttemptDecision {
  const { outcome, attemptInPlan, plan, now } = input;
  let retryable: boolean;
  let reason: string;
  if (outcome.kind === 'error') {
    retryable = true;
    reason = outcome.message;
  } else if (outcome.status >= 200 && outcome.status < 300) {
    return { outcome: 'delivered' };
  } else if (outcome.status >= 500) {
    retryable = true;
    reason = `${outcome.status} from the target`;
  } else if (outcome.status >= 400) {
    retryable = plan.retry4xx;
    reason = plan.retry4xx
      ? `${outcome.status} from the target`
      : `${outcome.status} from the target: the handler refused it, so it is not retried (--retry-4xx retries 4xx too)`;
  } else {
    retryable = false;
    reason = `${outcome.status} from the target: redirects are not followed; forward to the final URL`;
  }
  const wait = plan.scheduleMs[attemptInPlan - 1];
  if (!retryable) return { outcome: 'failed', reason };
  if (wait === undefined) {
    return {
      outcome: 'failed',
      reason: `${reason}; gave up after ${attemptInPlan} attempt${attemptInPlan === 1 ? '' : 's'} (--retry-schedule)`,
    };
  }
  return { outcome: 'retry', nextAttemptAt: now + wait, reason };
}

/** The fields of a queued forward job that decide whether it may be sent. */
export interface QueuedJobView {
  id: number;
  /** Attempts made so far, all plans together. */
  attempts: number;
  /** Attempts made in the current plan (reset when a failed job is re-queued by hand). */
  attemptsInPlan: number;
  dueAt: number;
}

/**
 * Which of one target's pending jobs may be sent now. `queue` is every pending job of the
 * target in queue order, in flight or not. Rules:
 * - nothing overtakes the oldest pending job while it waits for a retry;
 * - once the oldest has failed an attempt, it is sent alone until it gets through
 *   (a target that is down gets one probe per retry, not the whole backlog);
 * - otherwise jobs are sent in order, at most `maxInFlight` at once.
 */
export function selectSendableJobs<T extends QueuedJobView>(input: {
  queue: readonly T[];
  inFlight: ReadonlySet<number>;
  now: number;
  maxInFlight: number;
}): { send: T[]; nextDueAt: number | null } {
  const { queue, inFlight, now, maxInFlight } = input;
  const head = queue[0];
  if (!head) return { send: [], nextDueAt: null };
  if (!inFlight.has(head.id) && head.dueAt > now) return { send: [], nextDueAt: head.dueAt };
  const limit = head.attemptsInPlan > 0 ? 1 : maxInFlight;
  const send: T[] = [];
  let busy = 0;
  for (const job of queue) {
    if (busy >= limit) break;
    if (inFlight.has(job.id)) {
      busy += 1;
      continue;
    }
    // A job that failed before waits for its own retry time, and so does everything behind it.
    if (job.dueAt > now) return { send, nextDueAt: job.dueAt };
    if (job !== head && job.attemptsInPlan > 0 && busy > 0) break;
    send.push(job);
    busy += 1;
  }
  return { send, nextDueAt: null };
}

/** One send of a replay run. */
export interface ReplaySend<T> {
  item: T;
  target: string;
  /** 1..duplicate */
  copy: number;
}

/**
 * The order of a replay run: each item to each of its targets, `duplicate` times in a row,
 * oldest first; with `shuffle`, the whole list in random order (Fisher-Yates over `random`).
 *
 * @example
 * planReplaySends({ items: [{ item: a, targets: [url] }], duplicate: 2, shuffle: false });
 * // [{ item: a, target: url, copy: 1 }, { item: a, target: url, copy: 2 }]
 */
export function planReplaySends<T>(input: {
  items: ReadonlyArray<{ item: T; targets: readonly string[] }>;
  duplicate: number;
  shuffle: boolean;
  random?: () => number;
}): ReplaySend<T>[] {
  const sends: ReplaySend<T>[] = [];
  for (const { item, targets } of input.items) {
    for (const target of targets) {
      for (let copy = 1; copy <= input.duplicate; copy++) sends.push({ item, target, copy });
    }
  }
  if (input.shuffle) {
    const random = input.random ?? Math.random;
    for (let i = sends.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [sends[i], sends[j]] = [sends[j] as ReplaySend<T>, sends[i] as ReplaySend<T>];
    }
  }
  return sends;
}

/** `--forward-to` URLs (every key) then `--forward` routes, in the order given. */
export function forwardRoutesOf(config: { forwardTo?: string[]; forward?: ForwardRoute[] }): ForwardRoute[] {
  return [...(config.forwardTo ?? []).map((url) => ({ pattern: '*', url })), ...(config.forward ?? [])];
}
