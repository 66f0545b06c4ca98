/**
 * The forward queue shared by every instance on the database. Claims are leases: a claimed
 * job carries its instance and a time (`lease_owner`, `lease_until`); until then no other
 * instance sends it, and after it (the instance died mid-send) another one takes it over, so
 * a forward is sent at least once, and twice only when an instance dies while sending it.
 *
 * The claim decides with `selectSendableJobs`, the same rules as the other stores, with every
 * leased job (whoever holds it) counted as in flight: order per target holds across
 * instances. Claims are computed one at a time (an advisory lock), and the chosen rows are
 * then locked `FOR UPDATE SKIP LOCKED`: a row another transaction is changing right now is
 * left, with everything behind it in its target's queue, to the next claim.
 */
import { selectSendableJobs } from '../../../core/forwarding.js';
import type {
  ForwardAttempt,
  ForwardAttemptKind,
  ForwardAttemptOutcome,
  ForwardClaim,
  ForwardJob,
  ForwardJobState,
  NewForwardAttempt,
  VerificationStatus,
} from '../../../core/ports.js';
import { normaliseLimit } from '../query-helpers.js';
import type { Sql } from './connection.js';

const CLAIM_LOCK = 0x6f6d697365_0003n;

interface JobRow {
  id: string;
  event_id: string;
  target: string;
  state: string;
  queue_seq: string;
  attempts: number;
  attempts_in_plan: number;
  due_at: string;
  created_at: string;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: string | null;
}

interface AttemptRow {
  seq: string;
  job_id: string | null;
  event_id: string;
  target: string;
  kind: string;
  replay_mode: string | null;
  attempt: number;
  started_at: string;
  latency_ms: number;
  status: number | null;
  response_excerpt: Buffer | null;
  response_truncated: boolean;
  error: string | null;
  outcome: string;
  reason: string | null;
  next_attempt_at: string | null;
}

function toJob(row: JobRow): ForwardJob {
  return {
    id: Number(row.id),
    eventId: row.event_id,
    target: row.target,
    state: row.state as ForwardJobState,
    attempts: row.attempts,
    attemptsInPlan: row.attempts_in_plan,
    dueAt: Number(row.due_at),
    createdAt: row.created_at,
    lastError: row.last_error,
  };
}

function toAttempt(row: AttemptRow): ForwardAttempt {
  const attempt: ForwardAttempt = {
    seq: Number(row.seq),
    jobId: row.job_id === null ? null : Number(row.job_id),
    eventId: row.event_id,
    target: row.target,
    kind: row.kind as ForwardAttemptKind,
    attempt: row.attempt,
    startedAt: row.started_at,
    latencyMs: row.latency_ms,
    status: row.status,
    responseExcerpt: row.response_excerpt,
    responseTruncated: row.response_truncated,
    error: row.error,
    outcome: row.outcome as ForwardAttemptOutcome,
    reason: row.reason,
    nextAttemptAt: row.next_attempt_at,
  };
  if (row.replay_mode) attempt.replayMode = row.replay_mode as 'verbatim' | 'resigned';
  return attempt;
}

/** Inside the event's transaction: one job per target, in target order, behind everything queued. */
export async function insertJobs(
  tx: Sql,
  input: {
    eventId: string;
    targets: readonly string[];
    verification: VerificationStatus;
    dueAt: number;
    createdAt: string;
  },
): Promise<ForwardJob[]> {
  const state: ForwardJobState = input.verification === 'pending' ? 'held' : 'pending';
  const jobs: ForwardJob[] = [];
  for (const target of input.targets) {
    const [row] = await tx<JobRow[]>`
      INSERT INTO forward_jobs (event_id, target, state, queue_seq, due_at, created_at)
      VALUES (${input.eventId}, ${target}, ${state}, nextval('forward_queue_seq'), ${input.dueAt}, ${input.createdAt})
      RETURNING *`;
    jobs.push(toJob(row as JobRow));
  }
  return jobs;
}

export async function enqueueForwards(tx: Sql, eventId: string, targets: readonly string[], now: number) {
  const [event] = await tx`SELECT 1 FROM events WHERE event_id = ${eventId}`;
  if (!event) throw new Error(`no stored event has id ${eventId}; nothing to forward`);
  return insertJobs(tx, {
    eventId,
    targets,
    verification: 'verified',
    dueAt: now,
    createdAt: new Date(now).toISOString(),
  });
}

/** Inside the verification update's transaction: held jobs go (verified) or are cancelled (failed). */
export async function verificationChanged(tx: Sql, eventId: string, status: VerificationStatus): Promise<void> {
  if (status === 'verified') {
    await tx`UPDATE forward_jobs SET state = 'pending', due_at = 0 WHERE event_id = ${eventId} AND state = 'held'`;
  } else if (status === 'failed') {
    await tx`UPDATE forward_jobs SET state = 'cancelled' WHERE event_id = ${eventId} AND state = 'held'`;
  }
}

export async function claimDueForwards(
  tx: Sql,
  options: { now: number; maxInFlightPerTarget: number; targets?: readonly string[]; owner: string; leaseMs: number },
): Promise<ForwardClaim> {
  const { now, owner, leaseMs } = options;
  const window = Math.max(1, Math.trunc(options.maxInFlightPerTarget));
  await tx`SELECT pg_advisory_xact_lock(${CLAIM_LOCK.toString()}::bigint)`;
  // Each pending target by index seeks, then the front of its queue: at most `window` jobs
  // are looked at (in flight or sent), plus one to see when the next is due.
  const rows = await tx<JobRow[]>`
    WITH RECURSIVE t(target) AS (
      SELECT min(target) FROM forward_jobs WHERE state = 'pending'
      UNION ALL
      SELECT (SELECT min(target) FROM forward_jobs WHERE state = 'pending' AND target > t.target)
      FROM t WHERE t.target IS NOT NULL
    )
    SELECT j.* FROM t CROSS JOIN LATERAL (
      SELECT * FROM forward_jobs f WHERE f.state = 'pending' AND f.target = t.target ORDER BY f.queue_seq LIMIT ${window + 1}
    ) j
    WHERE t.target IS NOT NULL ${options.targets ? tx`AND t.target = ANY(${[...options.targets]}::text[])` : tx``}
    ORDER BY j.target, j.queue_seq`;
  const queues = new Map<string, JobRow[]>();
  for (const row of rows) {
    const queue = queues.get(row.target) ?? [];
    queue.push(row);
    queues.set(row.target, queue);
  }
  const inFlight = new Set(
    rows.filter((row) => row.lease_until !== null && Number(row.lease_until) > now).map((row) => Number(row.id)),
  );
  const chosen: JobRow[][] = [];
  let nextDueAt: number | null = null;
  for (const queue of queues.values()) {
    const picked = selectSendableJobs({
      queue: queue.map((row) => ({ ...toJob(row), row })),
      inFlight,
      now,
      maxInFlight: window,
    });
    if (picked.send.length > 0) chosen.push(picked.send.map((job) => job.row));
    if (picked.nextDueAt !== null && (nextDueAt === null || picked.nextDueAt < nextDueAt)) nextDueAt = picked.nextDueAt;
  }
  const ids = chosen.flat().map((row) => row.id);
  if (ids.length === 0) return { jobs: [], nextDueAt };
  const locked = new Set(
    (
      await tx<{ id: string }[]>`
      SELECT id FROM forward_jobs WHERE id = ANY(${ids}::bigint[]) AND state = 'pending' FOR UPDATE SKIP LOCKED`
    ).map((row) => row.id),
  );
  // A row busy elsewhere stops its target's claim there, so nothing overtakes it.
  const granted: string[] = [];
  for (const send of chosen) {
    for (const row of send) {
      if (!locked.has(row.id)) break;
      granted.push(row.id);
    }
  }
  if (granted.length === 0) return { jobs: [], nextDueAt };
  const leased = await tx<JobRow[]>`
    UPDATE forward_jobs SET lease_owner = ${owner}, lease_until = ${now + leaseMs}
    WHERE id = ANY(${granted}::bigint[]) RETURNING *`;
  const byId = new Map(leased.map((row) => [row.id, row]));
  return { jobs: granted.map((id) => toJob(byId.get(id) as JobRow)), nextDueAt };
}

/** Records an attempt and the job's new state; the lease ends with it. */
export async function recordForwardAttempt(tx: Sql, attempt: NewForwardAttempt): Promise<ForwardAttempt> {
  const nextAttemptAt = attempt.nextAttemptAt === null ? null : new Date(attempt.nextAttemptAt).toISOString();
  if (attempt.jobId !== null) {
    const state: ForwardJobState =
      attempt.outcome === 'delivered' ? 'delivered' : attempt.outcome === 'failed' ? 'failed' : 'pending';
    const lastError = attempt.outcome === 'delivered' ? null : (attempt.reason ?? attempt.error);
    await tx`
      UPDATE forward_jobs SET state = ${state}, attempts = attempts + 1, attempts_in_plan = attempts_in_plan + 1,
        due_at = COALESCE(${attempt.nextAttemptAt}::bigint, due_at), last_error = ${lastError},
        finished_at = ${state === 'pending' ? null : attempt.startedAt}, lease_owner = NULL, lease_until = NULL
      WHERE id = ${attempt.jobId}`;
  }
  const excerpt = attempt.responseExcerpt;
  const [row] = await tx<{ seq: string }[]>`
    INSERT INTO forward_attempts (job_id, event_id, target, kind, replay_mode, attempt, started_at, latency_ms, status,
      response_excerpt, response_truncated, error, outcome, reason, next_attempt_at)
    VALUES (${attempt.jobId}, ${attempt.eventId}, ${attempt.target}, ${attempt.kind}, ${attempt.replayMode ?? null},
      ${attempt.attempt}, ${attempt.startedAt}, ${attempt.latencyMs}, ${attempt.status},
      ${excerpt ? Buffer.from(excerpt.buffer, excerpt.byteOffset, excerpt.byteLength) : null},
      ${attempt.responseTruncated}, ${attempt.error}, ${attempt.outcome}, ${attempt.reason}, ${nextAttemptAt})
    RETURNING seq`;
  const { nextAttemptAt: _ms, ...rest } = attempt;
  const stored: ForwardAttempt = { ...rest, seq: Number(row?.seq), nextAttemptAt };
  if (!attempt.replayMode) delete stored.replayMode;
  return stored;
}

export async function listForwardAttempts(sql: Sql, eventId: string): Promise<ForwardAttempt[]> {
  const rows = await sql<AttemptRow[]>`SELECT * FROM forward_attempts WHERE event_id = ${eventId} ORDER BY seq`;
  return rows.map(toAttempt);
}

export async function listForwardJobs(sql: Sql, eventId: string): Promise<ForwardJob[]> {
  const rows = await sql<JobRow[]>`SELECT * FROM forward_jobs WHERE event_id = ${eventId} ORDER BY id`;
  return rows.map(toJob);
}

export async function listFailedForwards(sql: Sql, limit: number | undefined): Promise<ForwardJob[]> {
  const rows = await sql<JobRow[]>`
    SELECT * FROM forward_jobs WHERE state = 'failed' ORDER BY finished_at DESC, id DESC LIMIT ${normaliseLimit(limit)}`;
  return rows.map(toJob);
}

export async function retryFailedForward(tx: Sql, jobId: number, now: number): Promise<ForwardJob | undefined> {
  if (!Number.isSafeInteger(jobId)) return undefined;
  const [row] = await tx<JobRow[]>`
    UPDATE forward_jobs SET state = 'pending', attempts_in_plan = 0, due_at = ${now}, finished_at = NULL,
      queue_seq = nextval('forward_queue_seq'), lease_owner = NULL, lease_until = NULL
    WHERE id = ${jobId} AND state = 'failed' RETURNING *`;
  return row ? toJob(row) : undefined;
}

/** On a clean shutdown: this instance's claims go back to the queue at once, not after the lease. */
export async function releaseLeases(sql: Sql, owner: string): Promise<void> {
  await sql`UPDATE forward_jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ${owner}`;
}
