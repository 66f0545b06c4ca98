import { matchesEventKeyPattern } from '@omise-webhook/events';
import { looksLikeOmiseId } from '../../core/event-lookup-fields.js';
import { selectSendableJobs } from '../../core/forwarding.js';
import type {
  DifferingBody,
  EventFeedPage,
  EventFeedRequest,
  EventPage,
  EventQuery,
  EventStore,
  ForwardAttempt,
  ForwardClaim,
  ForwardJob,
  NewDelivery,
  NewForwardAttempt,
  NewRejection,
  OmiseCopy,
  PruneRequest,
  PruneResult,
  RecordDeliveryOptions,
  RecordDeliveryResult,
  RejectionPage,
  StoredEvent,
  StoredRejection,
  StoreStats,
  VerificationOutcome,
} from '../../core/ports.js';
import { comparableOrigins, keepBody, keptRejection, MAX_DIFFERING_BODIES } from './kept-body.js';
import { firstDeliveryFields, normaliseLimit, parseCursor, parseFeedSeq } from './query-helpers.js';

interface MemoryEvent extends StoredEvent {
  omiseIds: Set<string>;
  differingBodies: DifferingBody[];
}

/** Binary order, as SQLite's ORDER BY sorts text. */
function byName([a]: [string, number], [b]: [string, number]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

type QueuedJob = ForwardJob & { queueSeq: number; finishedAt: string | null };

function publicJob(job: QueuedJob): ForwardJob {
  const { queueSeq: _queueSeq, finishedAt: _finishedAt, ...rest } = job;
  return { ...rest };
}

function snapshot(event: MemoryEvent): StoredEvent {
  const { omiseIds: _omiseIds, differingBodies: _differingBodies, ...rest } = event;
  return structuredClone(rest);
}

/**
 * A store that lives in memory: for tests and `--store memory` (nothing survives a restart).
 * It passes the same contract suite as the SQLite store.
 */
export class MemoryEventStore implements EventStore {
  #events: MemoryEvent[] = [];
  #nextSeq = 1;
  #nextJobId = 1;
  #nextAttemptSeq = 1;
  /** Jobs by id (the array keeps them in creation order). */
  readonly #jobsById = new Map<number, QueuedJob>();
  readonly #byId = new Map<string, MemoryEvent>();
  readonly #rejections: Array<{ rejection: StoredRejection; keptBytes: number }> = [];
  /** The bytes of every kept rejection together, kept with every write as SQLite's totals are. */
  #rejectedBytes = 0;
  #nextRejectionSeq = 1;
  readonly #maxRejections: number;
  readonly #maxRejectedBytes: number;
  #forwardJobs: QueuedJob[] = [];
  #forwardAttempts: ForwardAttempt[] = [];
  readonly #inFlight = new Set<number>();
  #nextQueueSeq = 1;

  constructor(options: { maxRejections?: number; maxRejectedBytes?: number } = {}) {
    this.#maxRejections = options.maxRejections ?? 1000;
    this.#maxRejectedBytes = options.maxRejectedBytes ?? 64 * 1024 * 1024;
  }

  async recordDelivery(delivery: NewDelivery, options: RecordDeliveryOptions = {}): Promise<RecordDeliveryResult> {
    const result = this.#record(delivery);
    options.onCommitted?.(result);
    return result;
  }

  #record(delivery: NewDelivery): RecordDeliveryResult {
    const existing = this.#byId.get(delivery.eventId);
    if (existing) {
      existing.deliveryCount += 1;
      existing.lastReceivedAt = delivery.receivedAt;
      const bodyDiffers =
        !Buffer.from(delivery.body).equals(existing.body) && comparableOrigins(existing.origin, delivery.origin);
      if (bodyDiffers) this.#keepDifferingBody(existing, delivery);
      return { event: snapshot(existing), duplicate: true, bodyDiffers };
    }
    // Copies, not references: what the caller holds must not change what is stored.
    const event: MemoryEvent = {
      seq: this.#nextSeq++,
      ...firstDeliveryFields(delivery),
      body: copyBytes(delivery.body),
      headers: delivery.headers.map(([name, value]) => [name, value] as const),
      verification: { ...delivery.verification },
      omiseCopy: delivery.omiseCopy ? structuredClone(delivery.omiseCopy) : null,
      omiseIds: new Set([...(delivery.objectId ? [delivery.objectId] : []), ...delivery.relatedIds]),
      differingBodies: [],
    };
    this.#events.push(event);
    this.#byId.set(event.eventId, event);
    if (delivery.forwardTargets?.length) {
      this.#insertJobs(event.eventId, delivery.forwardTargets, {
        held: delivery.verification.status === 'pending',
        dueAt: Date.parse(delivery.receivedAt),
        createdAt: delivery.receivedAt,
      });
    }
    return { event: snapshot(event), duplicate: false };
  }

  #keepDifferingBody(event: MemoryEvent, delivery: NewDelivery): void {
    event.differingDeliveries += 1;
    const kept = keepBody(delivery.body);
    const known = event.differingBodies.find((body) => body.sha256 === kept.sha256);
    if (known) {
      known.deliveries += 1;
      known.lastReceivedAt = delivery.receivedAt;
    } else if (event.differingBodies.length < MAX_DIFFERING_BODIES) {
      event.differingBodies.push({
        sha256: kept.sha256,
        size: delivery.body.byteLength,
        excerpt: new Uint8Array(kept.excerpt),
        truncated: kept.truncated,
        headers: delivery.headers.map(([name, value]) => [name, value] as const),
        origin: delivery.origin,
        firstReceivedAt: delivery.receivedAt,
        lastReceivedAt: delivery.receivedAt,
        deliveries: 1,
      });
    }
  }

  async listDifferingBodies(eventId: string): Promise<DifferingBody[]> {
    return structuredClone(this.#byId.get(eventId)?.differingBodies ?? []);
  }

  async recordRejection(rejection: NewRejection): Promise<StoredRejection> {
    const kept = keptRejection(rejection);
    const stored: StoredRejection = {
      ...kept.stored,
      body: new Uint8Array(kept.stored.body),
      seq: this.#nextRejectionSeq++,
    };
    this.#rejections.push({ rejection: stored, keptBytes: kept.keptBytes });
    this.#rejectedBytes += kept.keptBytes;
    // Oldest first until both bounds hold again; the newest always stays.
    while (
      this.#rejections.length > 1 &&
      (this.#rejections.length > this.#maxRejections || this.#rejectedBytes > this.#maxRejectedBytes)
    ) {
      this.#rejectedBytes -= (this.#rejections.shift() as { keptBytes: number }).keptBytes;
    }
    return structuredClone(stored);
  }

  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    const event = this.#byId.get(eventId);
    return event ? snapshot(event) : undefined;
  }

  async listEvents(query: EventQuery = {}): Promise<EventPage> {
    const before = parseCursor(query.cursor);
    const limit = normaliseLimit(query.limit);
    const q = query.q?.trim();
    const needle = q && !looksLikeOmiseId(q) ? Buffer.from(q, 'utf8') : null;
    const matches: MemoryEvent[] = [];
    for (let i = this.#events.length - 1; i >= 0 && matches.length <= limit; i--) {
      const event = this.#events[i] as MemoryEvent;
      if (before !== null && event.seq >= before) continue;
      if (query.key && !matchesEventKeyPattern(event.key, query.key)) continue;
      if (query.objectType && event.objectType !== query.objectType) continue;
      if (query.verification && event.verification.status !== query.verification) continue;
      if (q) {
        if (needle) {
          if (Buffer.from(event.body).indexOf(needle) === -1) continue;
        } else if (event.eventId !== q && !event.omiseIds.has(q)) continue;
      }
      matches.push(event);
    }
    const items = matches.slice(0, limit).map(snapshot);
    const last = items.at(-1);
    return { items, nextCursor: matches.length > limit && last ? String(last.seq) : null };
  }

  async eventFeed(request: EventFeedRequest): Promise<EventFeedPage> {
    const after = parseFeedSeq(request.after);
    const since = request.after === null ? request.receivedSince : undefined;
    const items: StoredEvent[] = [];
    for (const event of this.#events) {
      if (items.length >= request.limit) break;
      if (after !== null && event.seq <= after) continue;
      if (since !== undefined && event.receivedAt < since) continue;
      items.push(snapshot(event));
    }
    const last = items.at(-1);
    return { items, cursor: last ? String(last.seq) : request.after };
  }

  async eventFeedHead(): Promise<string | null> {
    const newest = this.#events.at(-1);
    return newest ? String(newest.seq) : null;
  }

  async eventsForObject(objectId: string): Promise<StoredEvent[]> {
    return this.#events.filter((e) => e.omiseIds.has(objectId) || e.eventId === objectId).map(snapshot);
  }

  async updateVerification(eventId: string, verification: VerificationOutcome, omiseCopy?: OmiseCopy): Promise<void> {
    const event = this.#byId.get(eventId);
    if (!event) return;
    event.verification = { ...verification };
    if (omiseCopy) event.omiseCopy = structuredClone(omiseCopy);
    for (const job of this.#forwardJobs) {
      if (job.eventId !== eventId || job.state !== 'held') continue;
      if (verification.status === 'verified') {
        job.state = 'pending';
        job.dueAt = 0;
      } else if (verification.status === 'failed') job.state = 'cancelled';
    }
  }

  async pendingVerifications(limit = 100): Promise<StoredEvent[]> {
    return this.#events
      .filter((e) => e.verification.status === 'pending')
      .slice(0, limit)
      .map(snapshot);
  }

  async listRejections(options: { limit?: number; cursor?: string } = {}): Promise<RejectionPage> {
    const before = parseCursor(options.cursor);
    const limit = normaliseLimit(options.limit);
    const newestFirst = this.#rejections
      .map((kept) => kept.rejection)
      .reverse()
      .filter((r) => before === null || r.seq < before);
    const items = newestFirst.slice(0, limit).map((r) => structuredClone(r));
    const last = items.at(-1);
    return { items, nextCursor: newestFirst.length > limit && last ? String(last.seq) : null };
  }

  async getRejection(seq: number): Promise<StoredRejection | undefined> {
    const found = this.#rejections.find((kept) => kept.rejection.seq === seq);
    return found ? structuredClone(found.rejection) : undefined;
  }

  async stats(): Promise<StoreStats> {
    const byKey: Record<string, number> = {};
    const byVerification: Record<string, number> = {};
    for (const event of this.#events) {
      byKey[event.key] = (byKey[event.key] ?? 0) + 1;
      byVerification[event.verification.status] = (byVerification[event.verification.status] ?? 0) + 1;
    }
    return {
      total: this.#events.length,
      byKey: Object.fromEntries(Object.entries(byKey).sort(byName)),
      byVerification: Object.fromEntries(Object.entries(byVerification).sort(byName)),
      rejected: this.#rejections.length,
    };
  }

  #insertJobs(
    eventId: string,
    targets: readonly string[],
    options: { held: boolean; dueAt: number; createdAt: string },
  ): ForwardJob[] {
    return targets.map((target) => {
      const job = {
        id: this.#nextJobId++,
        eventId,
        target,
        state: options.held ? ('held' as const) : ('pending' as const),
        attempts: 0,
        attemptsInPlan: 0,
        dueAt: options.dueAt,
        createdAt: options.createdAt,
        lastError: null,
        queueSeq: this.#nextQueueSeq++,
        finishedAt: null,
      };
      this.#forwardJobs.push(job);
      this.#jobsById.set(job.id, job);
      return publicJob(job);
    });
  }

  async enqueueForwards(eventId: string, targets: readonly string[], now: number): Promise<ForwardJob[]> {
    if (!this.#byId.has(eventId)) throw new Error(`no stored event has id ${eventId}`);
    return this.#insertJobs(eventId, targets, { held: false, dueAt: now, createdAt: new Date(now).toISOString() });
  }

  async claimDueForwards(options: {
    now: number;
    maxInFlightPerTarget: number;
    targets?: readonly string[];
  }): Promise<ForwardClaim> {
    const queues = new Map<string, QueuedJob[]>();
    for (const job of this.#forwardJobs) {
      if (job.state !== 'pending') continue;
      if (options.targets && !options.targets.includes(job.target)) continue;
      const queue = queues.get(job.target) ?? [];
      queue.push(job);
      queues.set(job.target, queue);
    }
    const jobs: ForwardJob[] = [];
    let nextDueAt: number | null = null;
    for (const target of [...queues.keys()].sort()) {
      const queue = (queues.get(target) ?? []).sort((a, b) => a.queueSeq - b.queueSeq);
      const picked = selectSendableJobs({
        queue,
        inFlight: this.#inFlight,
        now: options.now,
        maxInFlight: options.maxInFlightPerTarget,
      });
      for (const job of picked.send) {
        this.#inFlight.add(job.id);
        jobs.push(publicJob(job));
      }
      if (picked.nextDueAt !== null && (nextDueAt === null || picked.nextDueAt < nextDueAt))
        nextDueAt = picked.nextDueAt;
    }
    return { jobs, nextDueAt };
  }

  async recordForwardAttempt(attempt: NewForwardAttempt): Promise<ForwardAttempt> {
    if (attempt.jobId !== null) {
      const job = this.#jobsById.get(attempt.jobId);
      if (job) {
        job.attempts += 1;
        job.attemptsInPlan += 1;
        job.state = attempt.outcome === 'retry' ? 'pending' : attempt.outcome;
        if (attempt.nextAttemptAt !== null) job.dueAt = attempt.nextAttemptAt;
        job.lastError = attempt.outcome === 'delivered' ? null : (attempt.reason ?? attempt.error);
        job.finishedAt = job.state === 'pending' ? null : attempt.startedAt;
      }
      this.#inFlight.delete(attempt.jobId);
    }
    const { nextAttemptAt, ...rest } = attempt;
    const stored: ForwardAttempt = {
      ...rest,
      responseExcerpt: attempt.responseExcerpt ? copyBytes(attempt.responseExcerpt) : null,
      seq: this.#nextAttemptSeq++,
      nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
    };
    this.#forwardAttempts.push(stored);
    return structuredClone(stored);
  }

  async listForwardAttempts(eventId: string): Promise<ForwardAttempt[]> {
    return this.#forwardAttempts.filter((a) => a.eventId === eventId).map((a) => structuredClone(a));
  }

  async listForwardJobs(eventId: string): Promise<ForwardJob[]> {
    return this.#forwardJobs.filter((job) => job.eventId === eventId).map(publicJob);
  }

  async listFailedForwards(options: { limit?: number } = {}): Promise<ForwardJob[]> {
    return this.#forwardJobs
      .filter((job) => job.state === 'failed')
      .sort((a, b) =>
        (a.finishedAt ?? '') < (b.finishedAt ?? '') ? 1 : a.finishedAt === b.finishedAt ? b.id - a.id : -1,
      )
      .slice(0, normaliseLimit(options.limit))
      .map(publicJob);
  }

  async retryFailedForward(jobId: number, now: number): Promise<ForwardJob | undefined> {
    const job = this.#jobsById.get(jobId);
    if (job?.state !== 'failed') return undefined;
    job.state = 'pending';
    job.attemptsInPlan = 0;
    job.dueAt = now;
    job.finishedAt = null;
    job.queueSeq = this.#nextQueueSeq++;
    return publicJob(job);
  }

  async pruneEvents(request: PruneRequest): Promise<PruneResult> {
    const limit = Math.max(1, Math.floor(request.limit));
    const excess = request.keepNewest === undefined ? 0 : this.#events.length - request.keepNewest;
    const beyondSeq = excess > 0 ? (this.#events[excess - 1]?.seq ?? 0) : 0;
    const removed = new Set<string>();
    let next: number | null = null;
    for (const event of this.#events) {
      if (event.seq <= (request.after ?? 0)) continue;
      const outside =
        event.seq <= beyondSeq || (request.receivedBefore !== undefined && event.receivedAt < request.receivedBefore);
      if (!outside) break;
      const waiting = this.#forwardJobs.some(
        (job) => job.eventId === event.eventId && (job.state === 'held' || job.state === 'pending'),
      );
      if (waiting) continue;
      removed.add(event.eventId);
      if (removed.size >= limit) {
        next = event.seq;
        break;
      }
    }
    if (removed.size === 0) return { removed: [], next };
    this.#events = this.#events.filter((event) => !removed.has(event.eventId));
    for (const id of removed) this.#byId.delete(id);
    this.#forwardJobs = this.#forwardJobs.filter((job) => {
      if (!removed.has(job.eventId)) return true;
      this.#jobsById.delete(job.id);
      return false;
    });
    this.#forwardAttempts = this.#forwardAttempts.filter((attempt) => !removed.has(attempt.eventId));
    return { removed: [...removed], next };
  }

  async close(): Promise<void> {}
}
