import type Database from 'better-sqlite3';
import { selectSendableJobs } from '../../core/forwarding.js';
import type {
  ForwardAttempt,
  ForwardAttemptKind,
  ForwardAttemptOutcome,
  ForwardClaim,
  ForwardJob,
  ForwardJobState,
  NewForwardAttempt,
  VerificationStatus,
} from '../../core/ports.js';
import { normaliseLimit } from './query-helpers.js';

/** A claim that skips the queue (nothing known to wait) still reads it at least this often. */
const FULL_CLAIM_EVERY_MS = 1_000;

interface TargetClaims {
  ids: Set<number>;
  lastSeq: number;
  retries: number;
}

/** A job just inserted, with its place in the queue. */
export type FreshJob = ForwardJob & { queueSeq: number };

/** Added to existing stores on open: CREATE ... IF NOT EXISTS only, so older files upgrade in place. */
const FORWARD_SCHEMA = `
CREATE TABLE IF NOT EXISTS forward_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  target TEXT NOT NULL,
  state TEXT NOT NULL,
  queue_seq INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  attempts_in_plan INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  last_error TEXT,
  finished_at TEXT
);
CREATE INDEX IF NOT EXISTS forward_jobs_queue ON forward_jobs (state, target, queue_seq);
CREATE INDEX IF NOT EXISTS forward_jobs_by_event ON forward_jobs (event_id);
CREATE INDEX IF NOT EXISTS forward_jobs_by_queue_seq ON forward_jobs (queue_seq);
CREATE TABLE IF NOT EXISTS forward_attempts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER,
  event_id TEXT NOT NULL,
  target TEXT NOT NULL,
  kind TEXT NOT NULL,
  replay_mode TEXT,
  attempt INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  status INTEGER,
  response_excerpt BLOB,
  response_truncated INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  outcome TEXT NOT NULL,
  reason TEXT,
  next_attempt_at TEXT
);
CREATE INDEX IF NOT EXISTS forward_attempts_by_event ON forward_attempts (event_id, seq);
`;

interface JobRow {
  id: number;
  event_id: string;
  target: string;
  state: string;
  queue_seq: number;
  attempts: number;
  attempts_in_plan: number;
  due_at: number;
  created_at: string;
  last_error: string | null;
}

interface AttemptRow {
  seq: number;
  job_id: number | null;
  event_id: string;
  target: string;
  kind: string;
  replay_mode: string | null;
  attempt: number;
  started_at: string;
  latency_ms: number;
  status: number | null;
  response_excerpt: Buffer | null;
  response_truncated: number;
  error: string | null;
  outcome: string;
  reason: string | null;
  next_attempt_at: string | null;
}

function toJob(row: JobRow): ForwardJob {
  return {
    id: row.id,
    eventId: row.event_id,
    target: row.target,
    state: row.state as ForwardJobState,
    attempts: row.attempts,
    attemptsInPlan: row.attempts_in_plan,
    dueAt: row.due_at,
    createdAt: row.created_at,
    lastError: row.last_error,
  };
}

function toAttempt(row: AttemptRow): ForwardAttempt {
  const attempt: ForwardAttempt = {
    seq: row.seq,
    jobId: row.job_id,
    eventId: row.event_id,
    target: row.target,
    kind: row.kind as ForwardAttemptKind,
    attempt: row.attempt,
    startedAt: row.started_at,
    latencyMs: row.latency_ms,
    status: row.status,
    responseExcerpt: row.response_excerpt,
    responseTruncated: row.response_truncated === 1,
    error: row.error,
    outcome: row.outcome as ForwardAttemptOutcome,
    reason: row.reason,
    nextAttemptAt: row.next_attempt_at,
  };
  if (row.replay_mode) attempt.replayMode = row.replay_mode as 'verbatim' | 'resigned';
  return attempt;
}

/**
 * The forward queue's tables and statements inside the SQLite store. Writes here are called
 * from inside the store's group-committed transactions, so a job is queued in the same commit
 * as its event, and an attempt is recorded in the same commit as its job's new state.
 */
export class SqliteForwardQueue {
  /** Claimed (in flight) job ids: this process only, so a restart re-sends what was in flight. */
  readonly #inFlight = new Set<number>();
  /** Per target: the claimed job ids, the queue position of the latest claim, and how many are retries. */
  readonly #claimedByTarget = new Map<string, TargetClaims>();
  /** Claimed jobs that had been tried before (while one is out, its target gets nothing else). */
  readonly #retriesInFlight = new Set<number>();
  /** The forwarder's in-flight window, learnt from its claims; none before its first claim. */
  #window: number | null = null;
  /**
   * False only when the last claim left no pending job unclaimed and nothing has been queued,
   * retried, released or re-queued since (fresh jobs claimed at commit keep it false): then a
   * claim can answer without reading the queue.
   */
  #mayHaveUnclaimed = true;
  #lastFullClaimAt = Number.NEGATIVE_INFINITY;
  readonly #s;

  constructor(db: Database.Database) {
    db.exec(FORWARD_SCHEMA);
    this.#s = {
      insertJob: db.prepare<[string, string, string, number, string], { id: number; queue_seq: number }>(
        `INSERT INTO forward_jobs (event_id, target, state, queue_seq, due_at, created_at)
         VALUES (?, ?, ?, (SELECT COALESCE(MAX(queue_seq), 0) + 1 FROM forward_jobs), ?, ?)
         RETURNING id, queue_seq`,
      ),
      pendingForTarget: db.prepare<[string], { n: number }>(
        "SELECT COUNT(*) AS n FROM forward_jobs WHERE state = 'pending' AND target = ?",
      ),
      jobById: db.prepare<[number], JobRow>('SELECT * FROM forward_jobs WHERE id = ?'),
      jobsByEvent: db.prepare<[string], JobRow>('SELECT * FROM forward_jobs WHERE event_id = ? ORDER BY id'),
      // Distinct targets by index seeks, however long the queues are.
      pendingTargets: db.prepare<[], { target: string }>(
        `WITH RECURSIVE t(target) AS (
           SELECT MIN(target) FROM forward_jobs WHERE state = 'pending'
           UNION ALL
           SELECT (SELECT MIN(target) FROM forward_jobs WHERE state = 'pending' AND target > t.target)
             FROM t WHERE t.target IS NOT NULL
         ) SELECT target FROM t WHERE target IS NOT NULL`,
      ),
      targetQueue: db.prepare<[string, number], JobRow>(
        "SELECT * FROM forward_jobs WHERE state = 'pending' AND target = ? ORDER BY queue_seq LIMIT ?",
      ),
      targetQueueAfter: db.prepare<[string, number, number], JobRow>(
        "SELECT * FROM forward_jobs WHERE state = 'pending' AND target = ? AND queue_seq > ? ORDER BY queue_seq LIMIT ?",
      ),
      pendingUpTo: db.prepare<[string, number], { n: number }>(
        "SELECT COUNT(*) AS n FROM forward_jobs WHERE state = 'pending' AND target = ? AND queue_seq <= ?",
      ),
      release: db.prepare(
        "UPDATE forward_jobs SET state = 'pending', due_at = ? WHERE event_id = ? AND state = 'held'",
      ),
      cancel: db.prepare("UPDATE forward_jobs SET state = 'cancelled' WHERE event_id = ? AND state = 'held'"),
      updateJob: db.prepare(
        `UPDATE forward_jobs SET state = ?, attempts = attempts + 1, attempts_in_plan = attempts_in_plan + 1,
           due_at = COALESCE(?, due_at), last_error = ?, finished_at = ? WHERE id = ?`,
      ),
      insertAttempt: db.prepare(
        `INSERT INTO forward_attempts (job_id, event_id, target, kind, replay_mode, attempt, started_at, latency_ms, status,
           response_excerpt, response_truncated, error, outcome, reason, next_attempt_at)
         VALUES (@jobId, @eventId, @target, @kind, @replayMode, @attempt, @startedAt, @latencyMs, @status,
           @responseExcerpt, @responseTruncated, @error, @outcome, @reason, @nextAttemptAt)`,
      ),
      attemptsByEvent: db.prepare<[string], AttemptRow>(
        'SELECT * FROM forward_attempts WHERE event_id = ? ORDER BY seq',
      ),
      failed: db.prepare<[number], JobRow>(
        "SELECT * FROM forward_jobs WHERE state = 'failed' ORDER BY finished_at DESC, id DESC LIMIT ?",
      ),
      requeue: db.prepare(
        `UPDATE forward_jobs SET state = 'pending', attempts_in_plan = 0, due_at = ?, finished_at = NULL,
           queue_seq = (SELECT MAX(queue_seq) + 1 FROM forward_jobs) WHERE id = ? AND state = 'failed'`,
      ),
    };
  }

  /**
   * Call inside a write transaction. The jobs are unclaimed: call `claimFresh` with them once
   * committed, or `noteUnclaimed` if nobody will send them at once.
   */
  insertJobs(input: {
    eventId: string;
    targets: readonly string[];
    verification: VerificationStatus;
    dueAt: number;
    createdAt: string;
  }): FreshJob[] {
    const state: ForwardJobState = input.verification === 'pending' ? 'held' : 'pending';
    return input.targets.map((target) => {
      const row = this.#s.insertJob.get(input.eventId, target, state, input.dueAt, input.createdAt) as {
        id: number;
        queue_seq: number;
      };
      // Built from what was written rather than read back: this is on the webhook's hot path.
      return {
        queueSeq: row.queue_seq,
        id: row.id,
        eventId: input.eventId,
        target,
        state,
        attempts: 0,
        attemptsInPlan: 0,
        dueAt: input.dueAt,
        createdAt: input.createdAt,
        lastError: null,
      };
    });
  }

  /** Call inside a write transaction: held jobs follow their event's verification. */
  verificationChanged(eventId: string, status: VerificationStatus): void {
    if (status === 'verified') {
      this.#s.release.run(0, eventId);
      this.#mayHaveUnclaimed = true;
    } else if (status === 'failed') this.#s.cancel.run(eventId);
  }

  /**
   * Just-committed jobs that may be sent at once, claimed without a claim query: a job goes
   * out now when everything ahead of it in its target's queue is already in flight, the window
   * has room and no retry is probing the target (the rules of `selectSendableJobs` for a job
   * that is due and has never been tried). Others wait for the next `claim`.
   */
  claimFresh(jobs: readonly FreshJob[]): ForwardJob[] {
    const claimedNow: ForwardJob[] = [];
    for (const fresh of jobs) {
      if (fresh.state !== 'pending') continue; // held: released (and announced) by verificationChanged
      const claimed = this.#claimsFor(fresh.target);
      const sendable =
        this.#window !== null &&
        claimed.ids.size < this.#window &&
        claimed.retries === 0 &&
        (this.#s.pendingUpTo.get(fresh.target, fresh.queueSeq - 1) as { n: number }).n === claimed.ids.size;
      if (!sendable) {
        this.#mayHaveUnclaimed = true;
        continue;
      }
      const { queueSeq, ...job } = fresh;
      this.#inFlight.add(job.id);
      claimed.ids.add(job.id);
      claimed.lastSeq = Math.max(claimed.lastSeq, queueSeq);
      claimedNow.push(job);
    }
    return claimedNow;
  }

  /** Jobs were queued that nobody sends at once: the next claim must look. */
  noteUnclaimed(): void {
    this.#mayHaveUnclaimed = true;
  }

  claim(options: { now: number; maxInFlightPerTarget: number; targets?: readonly string[] }): ForwardClaim {
    const { now, maxInFlightPerTarget, targets } = options;
    this.#window = maxInFlightPerTarget;
    // Nothing is known to wait: skip the queries, but still look now and then, for jobs that
    // another process (`forwards retry`) put back in the queue.
    if (!this.#mayHaveUnclaimed && now - this.#lastFullClaimAt < FULL_CLAIM_EVERY_MS && now >= this.#lastFullClaimAt)
      return { jobs: [], nextDueAt: null };
    this.#lastFullClaimAt = now;
    const jobs: ForwardJob[] = [];
    let nextDueAt: number | null = null;
    let leftBehind = false;
    for (const { target } of this.#s.pendingTargets.all()) {
      if (targets && !targets.includes(target)) {
        // Not looked at, so not known to be empty (jobs for a target no longer configured keep
        // every claim reading the queue, as before).
        leftBehind = true;
        continue;
      }
      const picked = this.#pick(target, now, maxInFlightPerTarget);
      const claimed = this.#claimsFor(target);
      for (const row of picked.send) {
        this.#inFlight.add(row.id);
        claimed.ids.add(row.id);
        if (row.attempts_in_plan > 0) {
          claimed.retries += 1;
          this.#retriesInFlight.add(row.id);
        }
        claimed.lastSeq = Math.max(claimed.lastSeq, row.queue_seq);
        jobs.push(toJob(row));
      }
      if (picked.nextDueAt !== null && (nextDueAt === null || picked.nextDueAt < nextDueAt))
        nextDueAt = picked.nextDueAt;
      if ((this.#s.pendingForTarget.get(target) as { n: number }).n > claimed.ids.size) leftBehind = true;
    }
    this.#mayHaveUnclaimed = leftBehind;
    return { jobs, nextDueAt };
  }

  #claimsFor(target: string): TargetClaims {
    let claimed = this.#claimedByTarget.get(target);
    if (!claimed) {
      claimed = { ids: new Set(), lastSeq: 0, retries: 0 };
      this.#claimedByTarget.set(target, claimed);
    }
    return claimed;
  }

  /**
   * The target's sendable jobs. Under load most of a queue's front is in flight; rather than
   * reading it back on every claim, read only what lies behind the latest claim, as long as
   * everything before it is in flight (no retry waiting in between).
   */
  #pick(target: string, now: number, window: number): { send: JobRow[]; nextDueAt: number | null } {
    const claimed = this.#claimedByTarget.get(target);
    const busy = claimed?.ids.size ?? 0;
    const view = (row: JobRow) => ({ ...row, attemptsInPlan: row.attempts_in_plan, dueAt: row.due_at });
    if (claimed && busy > 0 && this.#s.pendingUpTo.get(target, claimed.lastSeq)?.n === busy) {
      // Everything up to the latest claim is in flight: with the window full, nothing can go.
      if (busy >= window) return { send: [], nextDueAt: null };
      const [head] = this.#s.targetQueue.all(target, 1);
      if (!head) return { send: [], nextDueAt: null };
      const behind = this.#s.targetQueueAfter.all(target, claimed.lastSeq, window - busy);
      return selectSendableJobs({
        queue: [head, ...behind].map(view),
        inFlight: this.#inFlight,
        now,
        maxInFlight: window - busy + 1,
      });
    }
    const queue = this.#s.targetQueue.all(target, busy + window + 1).map(view);
    return selectSendableJobs({ queue, inFlight: this.#inFlight, now, maxInFlight: window });
  }

  #release(jobId: number): void {
    this.#inFlight.delete(jobId);
    const wasRetry = this.#retriesInFlight.delete(jobId);
    for (const claimed of this.#claimedByTarget.values()) {
      if (claimed.ids.delete(jobId)) {
        if (wasRetry) claimed.retries -= 1;
        return;
      }
    }
  }

  /** Call inside a write transaction. */
  recordAttempt(attempt: NewForwardAttempt): ForwardAttempt {
    const nextAttemptAt = attempt.nextAttemptAt === null ? null : new Date(attempt.nextAttemptAt).toISOString();
    if (attempt.jobId !== null) {
      const state: ForwardJobState =
        attempt.outcome === 'delivered' ? 'delivered' : attempt.outcome === 'failed' ? 'failed' : 'pending';
      // Back in the queue for a later try: the next claim must look at it.
      if (state === 'pending') this.#mayHaveUnclaimed = true;
      this.#s.updateJob.run(
        state,
        attempt.nextAttemptAt,
        attempt.outcome === 'delivered' ? null : (attempt.reason ?? attempt.error),
        state === 'pending' ? null : attempt.startedAt,
        attempt.jobId,
      );
      this.#release(attempt.jobId);
    }
    const excerpt = attempt.responseExcerpt;
    const info = this.#s.insertAttempt.run({
      ...attempt,
      replayMode: attempt.replayMode ?? null,
      responseExcerpt: excerpt ? Buffer.from(excerpt.buffer, excerpt.byteOffset, excerpt.byteLength) : null,
      responseTruncated: attempt.responseTruncated ? 1 : 0,
      nextAttemptAt,
    });
    const { nextAttemptAt: _ms, ...rest } = attempt;
    const stored: ForwardAttempt = { ...rest, seq: Number(info.lastInsertRowid), nextAttemptAt };
    if (!attempt.replayMode) delete stored.replayMode;
    return stored;
  }

  /** Forgets a claim without recording anything (the write that would have failed). */
  releaseClaim(jobId: number): void {
    this.#release(jobId);
    this.#mayHaveUnclaimed = true;
  }

  listAttempts(eventId: string): ForwardAttempt[] {
    return this.#s.attemptsByEvent.all(eventId).map(toAttempt);
  }

  listJobs(eventId: string): ForwardJob[] {
    return this.#s.jobsByEvent.all(eventId).map(toJob);
  }

  listFailed(limit: number | undefined): ForwardJob[] {
    return this.#s.failed.all(normaliseLimit(limit)).map(toJob);
  }

  /** Call inside a write transaction. */
  requeue(jobId: number, now: number): ForwardJob | undefined {
    const changed = this.#s.requeue.run(now, jobId).changes;
    if (changed === 0) return undefined;
    this.#mayHaveUnclaimed = true;
    return toJob(this.#s.jobById.get(jobId) as JobRow);
  }
}
