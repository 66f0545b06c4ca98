/**
 * The interfaces between the pure core and the adapters at its edges.
 *
 * Everything that touches the outside world (storage, the Omise API, the clock, the
 * file mirror) is reached through one of these, so the core can be tested with fakes
 * and every adapter can be swapped (SQLite for PostgreSQL, the real API for the fake).
 */

import type { OmiseEventEnvelope, OmiseList } from '@omise-webhook/events';
import type { StorageHealth } from './storage-health.js';

/** Header name/value pairs in the order they arrived, names as the sender spelled them. */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** Where a stored event came from. */
export type EventOrigin = 'webhook' | 'sync' | 'trigger';

/** How an event's authenticity was (or was not) established. */
export type VerificationMode = 'signature' | 'api' | 'both' | 'none';

/**
 * - `verified`: every configured check passed.
 * - `unverified`: nothing is configured to check with; accepted as is.
 * - `pending`: the Omise API could not be reached; the check is retried in the background.
 * - `failed`: a later background check found the event is not genuine (it was already acknowledged).
 */
export type VerificationStatus = 'verified' | 'unverified' | 'pending' | 'failed';

/**
 * Why an event is `unverified`, for code to branch on (the `reason` is for people):
 * - `verification_off`: `--verify none` turned checking off on purpose.
 * - `nothing_to_verify_with`: neither a webhook secret nor a secret key is configured.
 */
export type VerificationReasonCode = 'verification_off' | 'nothing_to_verify_with';

export interface VerificationOutcome {
  mode: VerificationMode;
  status: VerificationStatus;
  /** Plain words: what was checked and what came of it. */
  reason: string;
  /** Set when `status` is `unverified`: why nothing was checked. */
  reasonCode?: VerificationReasonCode;
  /** Set when `status` is `pending` or `failed`: how many API checks have been tried. */
  apiAttempts?: number;
}

/** Omise's own copy of the event, fetched from `GET /events/:id`. */
export interface OmiseCopy {
  /** The API's response body, exactly as it came. */
  body: string;
  fetchedAt: string;
  /** Dotted paths whose values differ between the received event and Omise's copy (empty when equal). */
  differences: string[];
}

/** A request to the webhook route, as the HTTP listener read it. */
export interface WebhookRequest {
  method: string;
  path: string;
  headers: HeaderList;
  body: Uint8Array;
  remoteAddress: string | null;
}

/** What to answer the sender. `body` is sent as JSON. */
export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
  /** The stored event, when one was accepted. */
  event?: StoredEvent;
  duplicate?: boolean;
}

/**
 * What the HTTP listener hands requests to (the application's `Receiver`): the listener reads
 * bytes and writes answers, the handler decides and stores.
 */
export interface WebhookHandler {
  handleWebhook(request: WebhookRequest): Promise<WebhookAnswer>;
  /** Stores a request the listener refused before reading it whole (too large, too slow). */
  keepRejection(rejection: NewRejection): Promise<void>;
}

/** What the ingest core hands to the store for an accepted request. */
export interface NewDelivery {
  eventId: string;
  key: string;
  livemode: boolean;
  /** `data.object` (charge, customer, ...). */
  objectType: string;
  /** `data.id`. */
  objectId: string | null;
  /** Every Omise id mentioned anywhere in the event, for lookup by any of them. */
  relatedIds: string[];
  /** `created_at` (or the older `created`) from the envelope. */
  createdAt: string | null;
  receivedAt: string;
  body: Uint8Array;
  headers: HeaderList;
  verification: VerificationOutcome;
  omiseCopy?: OmiseCopy;
  origin: EventOrigin;
  /**
   * Forward targets to queue in the same transaction as a new event (ignored for a duplicate),
   * so a crash after the answer cannot lose a forward. Queued `held` while the verification is
   * `pending`; `updateVerification` releases them (verified) or cancels them (failed).
   */
  forwardTargets?: readonly string[];
}

export interface StoredEvent {
  /** Monotonic store sequence: newer events have larger numbers. */
  seq: number;
  eventId: string;
  key: string;
  livemode: boolean;
  objectType: string;
  objectId: string | null;
  createdAt: string | null;
  /** When the first copy arrived. */
  receivedAt: string;
  /** When the latest copy arrived. */
  lastReceivedAt: string;
  deliveryCount: number;
  /** The bytes of the first copy, exactly as received. */
  body: Uint8Array;
  /** The headers of the first copy, in order. */
  headers: HeaderList;
  verification: VerificationOutcome;
  omiseCopy: OmiseCopy | null;
  origin: EventOrigin;
  /**
   * Later deliveries (webhook or simulated, not sync's API copy) whose body was not the first
   * copy's bytes: the same id with other content, which Omise never sends on its own.
   */
  differingDeliveries: number;
}

/**
 * A body that came later under an already stored id and differed from the first copy. Kept
 * bounded: the first 64 KiB, with the full size and hash, at most a few per event.
 */
export interface DifferingBody {
  /** SHA-256 of the whole body, lowercase hex. */
  sha256: string;
  /** The whole body's size in bytes. */
  size: number;
  /** The first bytes of the body (all of it unless `truncated`). */
  excerpt: Uint8Array;
  truncated: boolean;
  /** The headers of the first delivery that carried this body. */
  headers: HeaderList;
  origin: EventOrigin;
  firstReceivedAt: string;
  lastReceivedAt: string;
  /** How many deliveries carried exactly this body. */
  deliveries: number;
}

export interface RecordDeliveryResult {
  event: StoredEvent;
  /** True when the event id was already stored: this request was counted as another delivery. */
  duplicate: boolean;
  /** For a duplicate: its body was not the first copy's bytes (see `StoredEvent.differingDeliveries`). */
  bodyDiffers?: boolean;
  /**
   * Only when `onCommitted` was given: forward jobs of this event that the store already
   * marked in flight at commit, for the caller to send now instead of claiming them (a store
   * may leave every job to `claimDueForwards`).
   */
  claimedForwards?: ForwardJob[];
}

/** A request that was refused, kept so the user can see what went wrong. */
export interface NewRejection {
  receivedAt: string;
  method: string;
  path: string;
  remoteAddress: string | null;
  headers: HeaderList;
  /**
   * The bytes that were read (empty when the body was too large to read). A store keeps only
   * the first 64 KiB of them (see `StoredRejection.bodyTruncated`).
   */
  body: Uint8Array;
  /** The size the request declared or that was read, whichever is known. */
  bodySize: number;
  status: number;
  /** Stable machine code, e.g. `invalid_json`, `no_signature_matched`, `livemode_refused`. */
  code: string;
  /** The message the sender got. */
  reason: string;
  /** Extra plain-words diagnosis, e.g. "the secret was used without base64-decoding it". */
  hint: string | null;
  /** The event id when the body was readable enough to have one. */
  eventId: string | null;
}

export interface StoredRejection extends NewRejection {
  seq: number;
  /** `body` holds only the first bytes of what was read: strangers must not fill the disk. */
  bodyTruncated: boolean;
  /** SHA-256 (lowercase hex) of every byte that was read; null when nothing was read. */
  bodySha256: string | null;
}

export interface EventQuery {
  /** Key pattern: exact, `charge.*`, `*`, or a comma-separated list of those. */
  key?: string;
  objectType?: string;
  verification?: VerificationStatus;
  /** Any Omise id (exact), or text that appears in the body. */
  q?: string;
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface EventFeedRequest {
  /**
   * An opaque position from an earlier page, or null for the start (or `receivedSince`). A
   * position a store cannot read throws `InvalidFeedCursorError`.
   */
  after: string | null;
  /** At most this many events. */
  limit: number;
  /** Only with `after: null`: begin with the events received at or after this time (ISO 8601). */
  receivedSince?: string;
}

export interface EventFeedPage {
  /** Oldest first, in the order they became visible. */
  items: StoredEvent[];
  /** The position after the last item; the request's `after` when there is none. */
  cursor: string | null;
}

/** A feed position that this store did not write (another store's, or mangled). */
export class InvalidFeedCursorError extends Error {
  override readonly name = 'InvalidFeedCursorError';
  constructor(readonly cursor: string) {
    super(
      `the feed position ${JSON.stringify(cursor.slice(0, 80))} is not one this store wrote; start again without it (a listener's cursor belongs to one store)`,
    );
  }
}

export interface EventPage {
  items: StoredEvent[];
  nextCursor: string | null;
}

export interface RejectionPage {
  items: StoredRejection[];
  nextCursor: string | null;
}

export interface StoreStats {
  total: number;
  byKey: Record<string, number>;
  byVerification: Record<string, number>;
  rejected: number;
}

export interface RecordDeliveryOptions {
  onCommitted?: (result: RecordDeliveryResult) => void;
}

/**
 * Accepted events and their deliveries: recording them, reading them back (by id, by page, by
 * object, as a feed), their verification and their differing bodies, and retention.
 *
 * Every write resolves only once it is durable, so the receiver can acknowledge a webhook as
 * soon as `recordDelivery` resolves.
 */
export interface EventLog {
  /**
   * `onCommitted` is called once the delivery is committed (other readers see it) and before
   * the promise resolves, which waits for the disk. Forwarding starts there: a crash between
   * the two can at worst make a target see an event twice (the sender, never answered,
   * delivers it again), never miss one.
   */
  recordDelivery(delivery: NewDelivery, options?: RecordDeliveryOptions): Promise<RecordDeliveryResult>;
  getEvent(eventId: string): Promise<StoredEvent | undefined>;
  /** Newest first. */
  listEvents(query?: EventQuery): Promise<EventPage>;
  /** Every event that carried this object id anywhere, oldest first. */
  eventsForObject(objectId: string): Promise<StoredEvent[]>;
  /**
   * Accepted events in the order they became visible, after a position (`EventFeedPage.cursor`
   * of an earlier page). A reader that follows the cursor sees every event once and skips none,
   * even while several processes write at once: a store returns an event only when no event
   * that commits later can take a place before it. What `listen` and the live stream follow.
   */
  eventFeed(request: EventFeedRequest): Promise<EventFeedPage>;
  /** The position of the newest visible event, to follow from now on (null: the store is empty). */
  eventFeedHead(): Promise<string | null>;
  updateVerification(eventId: string, verification: VerificationOutcome, omiseCopy?: OmiseCopy): Promise<void>;
  /** Events whose API check is still to be done, oldest first. */
  pendingVerifications(limit?: number): Promise<StoredEvent[]>;
  /** The bodies that differed from the first copy, in the order they first came (empty for none). */
  listDifferingBodies(eventId: string): Promise<DifferingBody[]>;
  /**
   * Removes the oldest events that fall outside the retention (`--retain`, `--max-events`), with
   * their redeliveries, lookup ids, text index entries, counts and finished forward jobs and
   * attempts; at most `limit` per call, so each call is short. An event with a forward job still
   * waiting (held or pending) is kept until the job finishes.
   */
  pruneEvents?(request: PruneRequest): Promise<PruneResult>;
}

/**
 * Requests that were refused, kept so the user can see what went wrong. Bounded in number
 * (`--max-rejections`) and bytes (`--max-rejected-bytes`): the oldest go first, the newest stays.
 */
export interface RejectionLog {
  recordRejection(rejection: NewRejection): Promise<StoredRejection>;
  /** Newest first. */
  listRejections(options?: { limit?: number; cursor?: string }): Promise<RejectionPage>;
  getRejection(seq: number): Promise<StoredRejection | undefined>;
}

/**
 * Forwarding: jobs (one per event and target, queued per target in order) and the attempts made
 * for them. Jobs for a new event are queued by `EventLog.recordDelivery` in the same write.
 */
export interface ForwardQueue {
  /** Queues an already stored event for these targets, due now, behind what is queued. */
  enqueueForwards(eventId: string, targets: readonly string[], now: number): Promise<ForwardJob[]>;
  /**
   * Marks the jobs that may be sent now as in flight and returns them, oldest first per target
   * (rules in `selectSendableJobs`); `nextDueAt` is when a waiting job is next due, if any.
   * In-flight marks live in this process only: after a restart every pending job can be claimed again.
   */
  claimDueForwards(options: {
    now: number;
    maxInFlightPerTarget: number;
    /** Only these targets (the ones configured now); all when omitted. */
    targets?: readonly string[];
  }): Promise<ForwardClaim>;
  /** Records an attempt (forward or replay) and, for a job, its new state; releases the job's claim. */
  recordForwardAttempt(attempt: NewForwardAttempt): Promise<ForwardAttempt>;
  /** Every attempt for the event, oldest first. */
  listForwardAttempts(eventId: string): Promise<ForwardAttempt[]>;
  /** The event's forward jobs, by target. */
  listForwardJobs(eventId: string): Promise<ForwardJob[]>;
  /** Jobs that ran out of retries or got a final answer, newest first. */
  listFailedForwards(options?: { limit?: number }): Promise<ForwardJob[]>;
  /** Puts a failed job back in its target's queue (at the back), due now, with a fresh retry plan. */
  retryFailedForward(jobId: number, now: number): Promise<ForwardJob | undefined>;
}

/**
 * The single source of truth: the three concerns in one store (one SQLite file, one database),
 * because a new event and its forward jobs are written in one transaction. Code that needs only
 * one concern takes that port (or a `Pick` of it), so a fake for its tests stays small.
 */
export interface EventStore extends EventLog, RejectionLog, ForwardQueue {
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
  /** Whether the store can be written (a full disk, an I/O error); absent for stores without a disk. */
  readonly health?: StorageHealth;
}

export interface PruneRequest {
  /** Events received before this time (ISO 8601) go. */
  receivedBefore?: string;
  /** Events beyond the newest this many go. */
  keepNewest?: number;
  /** At most this many events per call. */
  limit: number;
  /** Continue after this seq (the previous call's `next`); from the oldest when absent. */
  after?: number;
}

export interface PruneResult {
  /** Ids of the events removed, oldest first. */
  removed: string[];
  /** Where to continue (pass as `after`), or null when nothing more falls outside the retention. */
  next: number | null;
}

/** Where a forward job stands. */
export type ForwardJobState =
  /** Waiting for the event's API check; never sent unless it is verified. */
  | 'held'
  | 'pending'
  | 'delivered'
  | 'failed'
  /** The event failed verification, so it is never forwarded. */
  | 'cancelled';

/** One event on its way to one target. */
export interface ForwardJob {
  id: number;
  eventId: string;
  target: string;
  state: ForwardJobState;
  /** Attempts made so far, every plan together (the next attempt's number is this plus one). */
  attempts: number;
  /** Attempts in the current retry plan (a job re-queued by hand starts a fresh plan). */
  attemptsInPlan: number;
  /** When it may be sent next, ms since the epoch. */
  dueAt: number;
  createdAt: string;
  /** The reason of the last failed attempt. */
  lastError: string | null;
}

export interface ForwardClaim {
  jobs: ForwardJob[];
  nextDueAt: number | null;
}

/** What one send was: part of a job (`forward`) or a replay. */
export type ForwardAttemptKind = 'forward' | 'replay';
/** `delivered` (2xx), `retry` (will be tried again) or `failed` (final, or a replay that did not get a 2xx). */
export type ForwardAttemptOutcome = 'delivered' | 'retry' | 'failed';

export interface NewForwardAttempt {
  /** The job this attempt belongs to; null for a replay. */
  jobId: number | null;
  eventId: string;
  target: string;
  kind: ForwardAttemptKind;
  /** For replays: sent as stored, or signed again with a fresh timestamp. */
  replayMode?: 'verbatim' | 'resigned';
  /** 1-based number of the attempt within its job (1 for a replay). */
  attempt: number;
  startedAt: string;
  latencyMs: number;
  /** The target's status code, or null when there was no answer. */
  status: number | null;
  /** The first 64 KiB of the answer's body. */
  responseExcerpt: Uint8Array | null;
  /** The answer's body was longer than the excerpt. */
  responseTruncated: boolean;
  /** What went wrong when there was no answer (refused, timeout, not HTTP). */
  error: string | null;
  outcome: ForwardAttemptOutcome;
  /** Why it is retried or failed, in plain words. */
  reason: string | null;
  /** When the job is next tried, ms since the epoch (outcome `retry`). */
  nextAttemptAt: number | null;
}

export interface ForwardAttempt extends Omit<NewForwardAttempt, 'nextAttemptAt'> {
  seq: number;
  nextAttemptAt: string | null;
}

/** The clock, injected so tests control time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** One HTTP request sent byte for byte: headers exactly as listed (order, spelling), the body as is. */
export interface RawHttpRequest {
  url: string;
  headers: HeaderList;
  body: Uint8Array;
  /** Give up (and call it an error) when the whole answer has not come within this time. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export type RawHttpResult =
  | {
      kind: 'response';
      status: number;
      /** The first 64 KiB of the answer's body. */
      excerpt: Uint8Array;
      truncated: boolean;
      latencyMs: number;
    }
  /** No usable answer: refused, reset, timed out, not HTTP, aborted. */
  | { kind: 'error'; message: string; latencyMs: number };

/** Sends forwarded and replayed requests. */
export interface HttpSender {
  send(request: RawHttpRequest): Promise<RawHttpResult>;
  /** Closes idle connections. */
  close(): void;
}

/** Timers, injected with the clock so retry schedules are tested without waiting. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real timers that never keep the process alive on their own. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What `GET /events/:id` on the Omise API said about an event. */
export type OmiseEventLookup =
  | { kind: 'found'; body: string }
  | { kind: 'not_found'; message: string }
  /** Our own key was refused: the event may well be genuine; we cannot tell yet. */
  | { kind: 'auth_failed'; message: string }
  /** Network error, timeout or 5xx: try again later. */
  | { kind: 'unavailable'; message: string };

/** The slice of the Omise API the receiver needs to verify an event. */
export interface OmiseEventsLookup {
  lookupEvent(eventId: string): Promise<OmiseEventLookup>;
}

/** An Omise API answer: the parsed body and the exact text it came as. */
export interface OmiseApiResponse<T> {
  status: number;
  /** The response body exactly as it came. */
  text: string;
  data: T;
}

export type ListOrder = 'chronological' | 'reverse_chronological';

/** Omise's pagination parameters for list endpoints. */
export interface ListParams {
  from?: string;
  to?: string;
  offset?: number;
  limit?: number;
  order?: ListOrder;
}

/**
 * The Events API as `sync` and the pending verifier read it (`GET /events`, `GET /events/:id`).
 * The HTTP client implements it; tests hand in a fake that answers from memory.
 */
export interface OmiseEventsApi extends OmiseEventsLookup {
  /** Where the API is, for messages ("could not reach https://api.omise.co"). */
  readonly baseUrl: string;
  listEvents(params?: ListParams): Promise<OmiseApiResponse<OmiseList<Record<string, unknown>>>>;
  getEvent(eventId: string): Promise<OmiseApiResponse<OmiseEventEnvelope>>;
}

/**
 * The event files under `log/api/event/` (`--files`): a copy of the store for editors and
 * `grep`, never the source of truth, so every method may lag behind the store.
 */
export interface EventFiles {
  /** Writes (or rewrites) the event's file soon, off the caller's path. */
  enqueue(event: StoredEvent): void;
  /** Deletes the files of events the store no longer has (retention). */
  removeFiles(eventIds: readonly string[]): Promise<void>;
  /** Writes the files missing for stored events (after a crash); resolves with how many. */
  reconcile(store: Pick<EventLog, 'listEvents'>): Promise<number>;
  /** About how many files are still to be written, for telling the user at shutdown. */
  readonly waitingFiles: number;
  /** Resolves once every queued file is written. */
  idle(): Promise<void>;
  /** Writes what is queued and stops. */
  close(): Promise<void>;
}

/**
 * Where `sync` remembers how far it has fetched the Events API: every event created up to
 * `syncedThrough` is in the store. Losing it is harmless (the next sync fetches more and dedupes).
 */
export interface SyncCheckpoint {
  load(): Promise<string | null>;
  save(syncedThrough: string): Promise<void>;
}
