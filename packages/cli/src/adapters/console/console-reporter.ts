import pc from 'picocolors';
import type { ReceiverNotification } from '../../core/notifier.js';
import type { ForwardAttempt, VerificationStatus } from '../../core/ports.js';

export interface Writable {
  write(text: string | Uint8Array): unknown;
}

export interface ConsoleReporterOptions {
  out: Writable;
  /** One JSON object per line instead of coloured text. */
  json: boolean;
  color: boolean;
}

const BADGE: Record<VerificationStatus, string> = {
  verified: '✔ verified',
  unverified: '• unverified',
  pending: '… pending',
  failed: '✖ failed',
};

/** Longest id or key printed whole; Omise's ids are about 30 characters. */
export const MAX_PRINTED_ID = 64;

/**
 * An id (or key) as printed: whole up to {@link MAX_PRINTED_ID} characters, else cut with an
 * ellipsis, so a stored 100,000-character id (from before ids were capped) cannot flood a line.
 *
 * @example
 * printableId('evnt_test_5xyz'); // 'evnt_test_5xyz'
 */
export function printableId<T extends string | null>(id: T): T {
  if (id === null || id.length <= MAX_PRINTED_ID) return id;
  return `${id.slice(0, MAX_PRINTED_ID - 1)}…` as T;
}

function clock(iso: string): string {
  return iso.slice(11, 23);
}

/**
 * One console line per delivery and per rejection. Lines are buffered and written once per
 * turn of the event loop, so a burst of webhooks costs one write, not thousands.
 */
export class ConsoleReporter {
  readonly #out: Writable;
  readonly #json: boolean;
  readonly #c: ReturnType<typeof pc.createColors>;
  #buffer: string[] = [];
  #scheduled = false;

  constructor(options: ConsoleReporterOptions) {
    this.#out = options.out;
    this.#json = options.json;
    this.#c = pc.createColors(options.color);
  }

  /** Formats a notification as the line the console shows (without the newline). */
  format(notification: ReceiverNotification): string | null {
    const c = this.#c;
    switch (notification.type) {
      case 'event.stored': {
        const { event, duplicate, bodyDiffers = false } = notification;
        if (this.#json) {
          return JSON.stringify({
            type: 'event',
            receivedAt: event.lastReceivedAt,
            key: printableId(event.key),
            id: printableId(event.eventId),
            objectId: printableId(event.objectId),
            verification: event.verification.status,
            verificationMode: event.verification.mode,
            duplicate,
            deliveries: event.deliveryCount,
            origin: event.origin,
            ...(bodyDiffers ? { bodyDiffers: true } : {}),
          });
        }
        const status = event.verification.status;
        const badge =
          status === 'verified'
            ? c.green(BADGE[status])
            : status === 'failed'
              ? c.red(BADGE[status])
              : c.yellow(BADGE[status]);
        const dup = duplicate ? c.yellow(` duplicate, delivery #${event.deliveryCount}`) : '';
        // The same id with other content is never a plain redelivery: say so where it is seen first.
        const differs = bodyDiffers ? c.red(', body differs from the first') : '';
        const origin =
          event.origin === 'webhook' ? '' : c.magenta(event.origin === 'trigger' ? ' simulated' : ' from sync');
        return `${c.dim(clock(event.lastReceivedAt))}  ${c.bold(printableId(event.key).padEnd(20))} ${printableId(event.eventId)}  ${c.cyan(printableId(event.objectId) ?? '-')}  ${badge} ${c.dim(`(${event.verification.mode})`)}${origin}${dup}${differs}`;
      }
      case 'event.updated': {
        const { event } = notification;
        if (this.#json) {
          return JSON.stringify({
            type: 'event.updated',
            id: printableId(event.eventId),
            verification: event.verification.status,
            reason: event.verification.reason,
          });
        }
        return `${c.dim(clock(new Date().toISOString()))}  ${c.bold('verification'.padEnd(20))} ${printableId(event.eventId)}  now ${event.verification.status}: ${event.verification.reason}`;
      }
      case 'forward.attempted':
        return this.#formatAttempt(notification.attempt);
      case 'rejection.stored': {
        const { rejection } = notification;
        if (this.#json) {
          return JSON.stringify({
            type: 'rejection',
            receivedAt: rejection.receivedAt,
            status: rejection.status,
            code: rejection.code,
            reason: rejection.reason,
            hint: rejection.hint,
            id: printableId(rejection.eventId),
          });
        }
        const hint = rejection.hint ? c.dim(` (${rejection.hint})`) : '';
        return `${c.dim(clock(rejection.receivedAt))}  ${c.red(`✖ ${rejection.status} ${rejection.code}`.padEnd(20))} ${printableId(rejection.eventId) ?? ''}  ${rejection.reason}${hint}`;
      }
    }
  }

  #formatAttempt(attempt: ForwardAttempt): string {
    const c = this.#c;
    if (this.#json) {
      const { responseExcerpt, ...rest } = attempt;
      return JSON.stringify({
        type: attempt.kind === 'replay' ? 'replay' : 'forward',
        ...rest,
        eventId: printableId(attempt.eventId),
        response: responseExcerpt ? Buffer.from(responseExcerpt).toString('utf8') : null,
      });
    }
    const label = attempt.kind === 'replay' ? `↻ replay ${attempt.replayMode ?? ''}`.trim() : '→ forward';
    const result =
      attempt.status !== null ? `${attempt.status}` : `error: ${attempt.error ?? 'no answer'}`.replace(/\s+/g, ' ');
    const latency = `${Math.round(attempt.latencyMs)} ms`;
    const mark = attempt.outcome === 'delivered' ? c.green(`✔ ${result}`) : c.red(`✖ ${result}`);
    let next = '';
    if (attempt.kind === 'forward' && attempt.outcome === 'retry' && attempt.nextAttemptAt) {
      next = c.yellow(` retry at ${clock(attempt.nextAttemptAt)}`);
    } else if (attempt.kind === 'forward' && attempt.outcome === 'failed') {
      next = c.red(` gave up: ${attempt.reason ?? ''} (omise-webhook forwards failed)`);
    }
    return `${c.dim(clock(attempt.startedAt))}  ${c.bold(label.padEnd(20))} ${printableId(attempt.eventId)}  ${attempt.target}  ${mark} ${c.dim(`${latency}, attempt ${attempt.attempt}`)}${next}`;
  }

  report(notification: ReceiverNotification): void {
    const line = this.format(notification);
    if (line === null) return;
    this.#buffer.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#buffer.length === 0) return;
    const text = `${this.#buffer.join('\n')}\n`;
    this.#buffer = [];
    this.#out.write(text);
  }
}
