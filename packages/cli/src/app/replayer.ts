import { signOmisePayload } from '@omise-webhook/events';
import {
  buildForwardHeaders,
  type ForwardRoute,
  problemWithTargetUrl,
  replaceSignatureHeaders,
  targetsForKey,
} from '../core/forwarding.js';
import type { Notifier } from '../core/notifier.js';
import type {
  Clock,
  EventLog,
  ForwardAttempt,
  ForwardQueue,
  HeaderList,
  HttpSender,
  StoredEvent,
} from '../core/ports.js';
import { WEBHOOK_SECRET_ADVICE } from '../core/secret-advice.js';

export type ReplayErrorCode = 'unknown_event' | 'no_secret' | 'no_target' | 'bad_target' | 'bad_secret';

/** A replay that cannot start; the message says what to do. */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(
    readonly code: ReplayErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ReplayOptions {
  /** Sign the same bytes again with a fresh timestamp (replacing Omise-Signature and -Timestamp). */
  resign?: boolean;
  /** Where to send; by default the configured forward targets whose pattern matches the event. */
  to?: string | readonly string[];
  /** The webhook secret for `resign`; by default the configured one. */
  secret?: string;
}

export interface ReplayerOptions {
  /** Where the event is read from and each attempt recorded. */
  store: Pick<EventLog, 'getEvent'> & Pick<ForwardQueue, 'recordForwardAttempt'>;
  sender: HttpSender;
  clock: Clock;
  timeoutMs: number;
  /** The configured forward routes: the default destinations. */
  routes: readonly ForwardRoute[];
  /** The configured webhook secrets (the first signs re-signed replays). */
  webhookSecrets: readonly string[];
  /** Told about each send, when the replay runs inside `serve`. */
  notifier?: Notifier;
  /** Where the user sets the secret / targets, for messages (`OMISE_WEBHOOK_SECRET in .env or --secret`). */
  secretHint?: string;
  targetHint?: string;
}

/** One send of a replay, prepared: exactly what goes on the wire. */
export interface PreparedReplay {
  event: StoredEvent;
  target: string;
  headers: Array<[string, string]>;
  mode: 'verbatim' | 'resigned';
}

/**
 * Sends stored events again: verbatim (the stored bytes and headers, minus hop-by-hop ones) or
 * re-signed (the same bytes, a fresh `Omise-Signature-Timestamp` and the signature over it), so
 * a receiver that checks the timestamp's age accepts an old capture. Each send is recorded with
 * the event as a `replay` attempt.
 */
export class Replayer {
  readonly #options: ReplayerOptions;

  constructor(options: ReplayerOptions) {
    this.#options = options;
  }

  /** The stored event, or a ReplayError naming the id. */
  async loadEvent(eventId: string): Promise<StoredEvent> {
    const event = await this.#options.store.getEvent(eventId);
    if (!event) {
      throw new ReplayError(
        'unknown_event',
        `no stored event has id ${eventId}; \`omise-webhook events list\` shows the ids that are stored`,
      );
    }
    return event;
  }

  /** Where an event goes: `to`, or the configured targets whose pattern matches its key. */
  targetsFor(event: StoredEvent, to: ReplayOptions['to']): string[] {
    const explicit = to === undefined ? [] : typeof to === 'string' ? [to] : [...to];
    for (const url of explicit) {
      const problem = problemWithTargetUrl(url);
      if (problem) throw new ReplayError('bad_target', `cannot replay to ${JSON.stringify(url)}: ${problem}`);
    }
    if (explicit.length > 0) return explicit;
    if (this.#options.routes.length === 0) {
      throw new ReplayError(
        'no_target',
        `nowhere to send ${event.eventId}: ${this.#options.targetHint ?? 'pass a target URL (to), or configure forward targets'}`,
      );
    }
    const targets = targetsForKey(event.key, this.#options.routes);
    if (targets.length === 0) {
      throw new ReplayError(
        'no_target',
        `no forward route matches ${event.key} (${event.eventId}); ${this.#options.targetHint ?? 'pass a target URL (to)'}`,
      );
    }
    return targets;
  }

  /** The secret a re-signed replay uses, or a ReplayError saying where to set one. */
  secretFor(options: ReplayOptions): string {
    const secret = options.secret ?? this.#options.webhookSecrets[0];
    if (!secret) {
      throw new ReplayError(
        'no_secret',
        `re-signing needs the webhook secret: ${this.#options.secretHint ?? WEBHOOK_SECRET_ADVICE}`,
      );
    }
    return secret;
  }

  /** Builds the request for one send; signs now when re-signing. */
  async prepare(
    event: StoredEvent,
    target: string,
    options: { resign?: boolean; secret?: string; copy?: number },
  ): Promise<PreparedReplay> {
    let original: HeaderList = event.headers;
    if (options.resign) {
      const secret = this.secretFor(options);
      try {
        const signed = await signOmisePayload({
          payload: event.body,
          secret,
          timestamp: Math.floor(this.#options.clock.now() / 1000),
        });
        original = replaceSignatureHeaders(event.headers, signed);
      } catch (error) {
        throw new ReplayError(
          'bad_secret',
          `cannot re-sign with that secret: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    const mode = options.resign ? 'resigned' : 'verbatim';
    const headers = buildForwardHeaders({
      original,
      target,
      bodyLength: event.body.byteLength,
      eventId: event.eventId,
      attempt: options.copy ?? 1,
      replay: mode,
    });
    return { event, target, headers, mode };
  }

  /** Sends one prepared request and records it with the event. */
  async send(prepared: PreparedReplay, copy = 1): Promise<ForwardAttempt> {
    const { event, target, headers, mode } = prepared;
    const startedAt = new Date(this.#options.clock.now()).toISOString();
    const result = await this.#options.sender.send({
      url: target,
      headers,
      body: event.body,
      timeoutMs: this.#options.timeoutMs,
    });
    const delivered = result.kind === 'response' && result.status >= 200 && result.status < 300;
    const attempt = await this.#options.store.recordForwardAttempt({
      jobId: null,
      eventId: event.eventId,
      target,
      kind: 'replay',
      replayMode: mode,
      attempt: copy,
      startedAt,
      latencyMs: result.latencyMs,
      status: result.kind === 'response' ? result.status : null,
      responseExcerpt: result.kind === 'response' ? result.excerpt : null,
      responseTruncated: result.kind === 'response' && result.truncated,
      error: result.kind === 'error' ? result.message : null,
      outcome: delivered ? 'delivered' : 'failed',
      reason: delivered ? null : result.kind === 'error' ? result.message : `${result.status} from the target`,
      nextAttemptAt: null,
    });
    this.#options.notifier?.publish({ type: 'forward.attempted', attempt });
    return attempt;
  }

  /**
   * Replays one stored event to each of its targets, one after the other.
   *
   * @example
   * const [attempt] = await replayer.replay('evnt_test_5xyz', { resign: true, to: 'http://localhost:8080/omise' });
   * attempt.status; // 200
   */
  async replay(eventId: string, options: ReplayOptions = {}): Promise<ForwardAttempt[]> {
    const event = await this.loadEvent(eventId);
    const targets = this.targetsFor(event, options.to);
    if (options.resign) this.secretFor(options);
    const attempts: ForwardAttempt[] = [];
    for (const target of targets) attempts.push(await this.send(await this.prepare(event, target, options)));
    return attempts;
  }
}
