import {
  buildForwardHeaders,
  DEFAULT_MAX_IN_FLIGHT_PER_TARGET,
  decideAfterAttempt,
  type ForwardRoute,
  type RetryPlan,
} from '../core/forwarding.js';
import type { Notifier } from '../core/notifier.js';
import type {
  Clock,
  EventLog,
  ForwardAttempt,
  ForwardJob,
  ForwardQueue,
  HttpSender,
  NewForwardAttempt,
  RecordDeliveryResult,
  StoredEvent,
  Timers,
} from '../core/ports.js';
import { WEBHOOK_SECRET_ADVICE } from '../core/secret-advice.js';
import { Replayer, type ReplayOptions } from './replayer.js';

export interface ForwarderOptions {
  /** The queue it delivers, and the events whose bytes it sends. */
  store: ForwardQueue & Pick<EventLog, 'getEvent'>;
  notifier: Notifier;
  sender: HttpSender;
  routes: readonly ForwardRoute[];
  plan: RetryPlan;
  timeoutMs: number;
  clock: Clock;
  timers: Timers;
  /** The configured webhook secrets, for re-signed replays. */
  webhookSecrets?: readonly string[];
  maxInFlightPerTarget?: number;
  /** Look at the store this often even when nothing was announced (jobs re-queued from another process). */
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Delivers queued forward jobs: claims the due ones from the store, sends the stored bytes
 * with the original headers (minus hop-by-hop ones, plus ours), records every attempt, and
 * schedules the retry. The store is the queue, so a restart resumes where it stopped.
 *
 * It wakes when an event is committed (`eventCommitted`, before the sync that acknowledges it,
 * so the target does not wait for the disk) or updated, when a retry falls due (on the injected
 * timers), and every `pollIntervalMs`.
 * Also the inspector's entry point: `forwardAttemptsFor(eventId)` and `replay(eventId, options)`.
 */
export class Forwarder {
  readonly #options: ForwarderOptions;
  readonly #targets: string[];
  readonly #maxInFlight: number;
  readonly #replayer: Replayer;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #controllers = new Set<AbortController>();
  #unsubscribe: (() => void) | null = null;
  #pumpQueued = false;
  #settleKickQueued = false;
  #pumping = false;
  #pumpAgain = false;
  #wake: unknown = null;
  #wakeAt = Number.POSITIVE_INFINITY;
  #started = false;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#targets = [...new Set(options.routes.map((route) => route.url))];
    this.#maxInFlight = options.maxInFlightPerTarget ?? DEFAULT_MAX_IN_FLIGHT_PER_TARGET;
    this.#replayer = new Replayer({
      store: options.store,
      sender: options.sender,
      clock: options.clock,
      timeoutMs: options.timeoutMs,
      routes: options.routes,
      webhookSecrets: options.webhookSecrets ?? [],
      notifier: options.notifier,
      targetHint: 'pass a target URL, or start serve with --forward-to <url> (OMISE_WEBHOOK_FORWARD_TO)',
      secretHint: WEBHOOK_SECRET_ADVICE,
    });
  }

  /** The URLs events are forwarded to, each once. */
  get targets(): readonly string[] {
    return this.#targets;
  }

  /** Starts delivering: what is queued in the store now, and whatever is stored from here on. */
  start(): void {
    if (this.#started || this.#targets.length === 0) return;
    this.#started = true;
    // New events come only through eventCommitted (recordEvent's onCommitted), at the commit;
    // the notifier says when an event's verification changed, which may release held jobs.
    this.#unsubscribe = this.#options.notifier.subscribe((notification) => {
      if (notification.type === 'event.updated') this.kick();
    });
    this.kick();
  }

  /**
   * An event was just committed, with its forward jobs (not yet on disk, nor acknowledged):
   * start sending now rather than after the sync. Wired to recordEvent's `onCommitted`.
   */
  eventCommitted(result: RecordDeliveryResult): void {
    if (result.duplicate || this.#stopped || !this.#started) return;
    // Jobs the store could claim at commit go out now, with the event in hand; the rest wait for
    // a claim (cheap when the store knows nothing waits) and read their event back.
    for (const job of result.claimedForwards ?? []) this.#launch(job, result.event);
    this.kick();
  }

  /** Stops claiming; sends in flight are cut short and recorded (they are tried again on the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#wake !== null) this.#options.timers.clearTimeout(this.#wake);
    this.#wake = null;
    for (const controller of this.#controllers) controller.abort();
    await this.idle();
    this.#options.sender.close();
  }

  /** Resolves once nothing is in flight and no claim is running (for tests and the bench). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Looks for due jobs soon (coalesced: many calls in one turn make one claim). */
  kick(): void {
    if (this.#stopped || !this.#started || this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      void this.#pump();
    });
  }

  /** Every forward and replay attempt for the event, oldest first (for the inspector). */
  forwardAttemptsFor(eventId: string): Promise<ForwardAttempt[]> {
    return this.#options.store.listForwardAttempts(eventId);
  }

  /**
   * Sends a stored event again, now, outside the queue: verbatim or re-signed, to `to` or to the
   * configured targets that match its key. Throws a `ReplayError` (with a `code`) for an unknown
   * id, a missing secret or no target.
   */
  replay(eventId: string, options: ReplayOptions = {}): Promise<ForwardAttempt[]> {
    return this.#replayer.replay(eventId, options);
  }

  /** Puts a failed job back in its queue, due now. */
  async retryFailed(jobId: number): Promise<ForwardJob | undefined> {
    const job = await this.#options.store.retryFailedForward(jobId, this.#options.clock.now());
    this.kick();
    return job;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        if (this.#stopped) break;
        const claim = await this.#options.store.claimDueForwards({
          now: this.#options.clock.now(),
          maxInFlightPerTarget: this.#maxInFlight,
          targets: this.#targets,
        });
        // Stopped while claiming: leave them; their claims die with the process and the next start sends them.
        if (this.#stopped) break;
        for (const job of claim.jobs) this.#launch(job);
        this.#scheduleWake(claim.nextDueAt);
      } while (this.#pumpAgain);
    } catch (error) {
      this.#options.onError?.(error);
      this.#scheduleWake(null);
    } finally {
      this.#pumping = false;
      this.#notifyIdle();
    }
  }

  #scheduleWake(nextDueAt: number | null): void {
    if (this.#stopped) return;
    const now = this.#options.clock.now();
    const at = Math.min(nextDueAt ?? Number.POSITIVE_INFINITY, now + (this.#options.pollIntervalMs ?? 2_000));
    if (this.#wake !== null && this.#wakeAt <= at) return;
    if (this.#wake !== null) this.#options.timers.clearTimeout(this.#wake);
    this.#wakeAt = at;
    this.#wake = this.#options.timers.setTimeout(
      () => {
        this.#wake = null;
        this.#wakeAt = Number.POSITIVE_INFINITY;
        this.kick();
      },
      Math.max(0, at - now),
    );
  }

  #launch(job: ForwardJob, event?: StoredEvent): void {
    const delivery = this.#deliver(job, event)
      .catch((error: unknown) => this.#options.onError?.(error))
      .finally(() => {
        this.#inFlight.delete(delivery);
        this.#kickAfterSettling();
        this.#notifyIdle();
      });
    this.#inFlight.add(delivery);
  }

  /**
   * Answers arrive one I/O callback at a time; claiming after each would query the store once
   * per answer. One claim per turn of the event loop frees every slot that opened in it.
   */
  #kickAfterSettling(): void {
    if (this.#settleKickQueued) return;
    this.#settleKickQueued = true;
    setImmediate(() => {
      this.#settleKickQueued = false;
      this.kick();
      this.#notifyIdle();
    });
  }

  /** Nothing in flight, no claim running or queued: what idle() waits for. */
  #isIdle(): boolean {
    return this.#inFlight.size === 0 && !this.#pumping && !this.#pumpQueued && !this.#settleKickQueued;
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async #deliver(job: ForwardJob, known?: StoredEvent): Promise<void> {
    const { store, sender, clock, plan, notifier } = this.#options;
    const attemptNumber = job.attempts + 1;
    const base = {
      jobId: job.id,
      eventId: job.eventId,
      target: job.target,
      kind: 'forward' as const,
      attempt: attemptNumber,
      startedAt: new Date(clock.now()).toISOString(),
    };
    const event = known ?? (await store.getEvent(job.eventId));
    let record: NewForwardAttempt;
    if (!event) {
      // `base` last, not first: a spread followed by more properties gives every object its own
      // hidden class (docs/architecture.md, "Hot-path objects").
      record = {
        latencyMs: 0,
        status: null,
        responseExcerpt: null,
        responseTruncated: false,
        error: 'the event is no longer in the store',
        outcome: 'failed',
        reason: 'the event is no longer in the store',
        nextAttemptAt: null,
        ...base,
      };
    } else {
      const controller = new AbortController();
      this.#controllers.add(controller);
      const headers = buildForwardHeaders({
        original: event.headers,
        target: job.target,
        bodyLength: event.body.byteLength,
        eventId: event.eventId,
        attempt: attemptNumber,
      });
      const result = await sender.send({
        url: job.target,
        headers,
        body: event.body,
        timeoutMs: this.#options.timeoutMs,
        signal: controller.signal,
      });
      this.#controllers.delete(controller);
      const now = clock.now();
      // Cut short by stopping: nothing is known about the target, so it is due again at once on the next start.
      const decision = controller.signal.aborted
        ? { outcome: 'retry' as const, nextAttemptAt: now, reason: 'omise-webhook stopped before the target answered' }
        : decideAfterAttempt({
            outcome: result.kind === 'response' ? { kind: 'response', status: result.status } : result,
            attemptInPlan: job.attemptsInPlan + 1,
            plan,
            now,
          });
      // `base` last, as above.
      record = {
        latencyMs: result.latencyMs,
        status: result.kind === 'response' ? result.status : null,
        responseExcerpt: result.kind === 'response' ? result.excerpt : null,
        responseTruncated: result.kind === 'response' && result.truncated,
        error: result.kind === 'error' ? result.message : null,
        outcome: decision.outcome,
        reason: decision.outcome === 'delivered' ? null : decision.reason,
        nextAttemptAt: decision.outcome === 'retry' ? decision.nextAttemptAt : null,
        ...base,
      };
    }
    const attempt = await store.recordForwardAttempt(record);
    notifier.publish({ type: 'forward.attempted', attempt });
  }
}
