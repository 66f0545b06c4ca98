import pc from 'picocolors';
import { buildForwardHeaders } from '../core/forwarding.js';
import {
  decodeFeedEvent,
  FeedMessageError,
  feedUrl,
  LISTEN_BACKOFF,
  LISTEN_EXIT,
  type ListenCursor,
  type ListenedEvent,
} from '../core/listen.js';
import type { HttpSender } from '../core/ports.js';
import { SseParser } from '../core/sse-parser.js';
import { backoffDelay } from '../core/tunnel.js';

export interface TeamListenerOptions {
  /** The team server's inspector URL (`https://hooks.example.com/`). */
  from: string;
  /** Sent as `Authorization: Bearer`; null for a loopback inspector without one. */
  token: string | null;
  /** The developer's local app. */
  forwardTo: string;
  /** Key pattern; the server leaves the rest out. */
  events: string | null;
  /** Start at this time (ISO 8601) instead of the saved position. */
  since: string | null;
  cursor: ListenCursor;
  sender: HttpSender;
  fetch: typeof fetch;
  /** Aborted to stop (Ctrl-C, SIGTERM): the event in hand is finished or abandoned, nothing is lost. */
  signal: AbortSignal;
  /** One line per event. */
  out: (line: string) => void;
  /** Connection news: connected, lost, reconnecting, the local app unreachable. */
  log: (line: string) => void;
  forwardTimeoutMs: number;
  color: boolean;
  /** Waits `ms` unless the signal aborts first; injectable so tests need not wait. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The team server refused to serve the feed: retrying cannot help. `exitCode` is listen's exit status. */
export class ListenRefused extends Error {
  override readonly name = 'ListenRefused';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** How long a stop (Ctrl-C, SIGTERM) waits for the local app's answer to the event in flight. */
const STOP_GRACE_MS = 2_000;

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10}s`;
}

/** A fetch failure in plain words (undici hides the socket error in `cause`). */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

async function errorMessageOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not our JSON (a proxy's page): say the status only.
  }
  return text.slice(0, 200).trim() || `HTTP ${response.status}`;
}

/**
 * Follows a team `serve`'s `/api/feed` and sends each event, in order and one at a time, to
 * the local URL with its stored headers and exact bytes (hop-by-hop headers out, as the
 * forwarder does), so the Omise signature verifies there. The position is saved only after
 * the local app answered (any HTTP status counts as delivered; it is the app's answer), so a
 * restart resumes after the last event the app saw. When the local app cannot be reached
 * (refused, reset, timed out) the same event is tried again with backoff, and nothing after
 * it is sent meanwhile. A lost connection to the team server is retried with backoff (0.5 s
 * doubling to 15 s, back to 0.5 s once connected) from the saved position.
 */
export class TeamListener {
  readonly #options: TeamListenerOptions;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #c: ReturnType<typeof pc.createColors>;
  #cursor: string | null = null;
  /** The server's clock at the first connection: where to start again when no position was known yet. */
  #startedAt: string | null = null;
  #connectedBefore = false;

  constructor(options: TeamListenerOptions) {
    this.#options = options;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#c = pc.createColors(options.color);
  }

  /** The position after the last event handled (null before the first connection on a fresh name). */
  get cursor(): string | null {
    return this.#cursor;
  }

  /** Runs until the signal aborts; throws `ListenRefused` when the server refuses (token, bad position). */
  async run(): Promise<void> {
    const { signal } = this.#options;
    this.#cursor = this.#options.since !== null ? null : await this.#options.cursor.load();
    let retry = 0;
    while (!signal.aborted) {
      const outcome = await this.#connectOnce();
      if (signal.aborted) break;
      if (outcome.connected) retry = 0;
      const waitMs = backoffDelay(retry + 1, LISTEN_BACKOFF);
      retry += 1;
      this.#options.log(`${outcome.reason}; reconnecting in ${seconds(waitMs)}`);
      await this.#sleep(waitMs, signal);
    }
  }

  /** One connection: returns why it ended (to retry), or throws when retrying cannot help. */
  async #connectOnce(): Promise<{ connected: boolean; reason: string }> {
    const { from, signal } = this.#options;
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal.addEventListener('abort', abort, { once: true });
    const since = this.#cursor === null ? (this.#options.since ?? this.#startedAt) : null;
    const url = feedUrl(from, { after: this.#cursor, since, events: this.#options.events });
    try {
      let response: Response;
      try {
        response = await this.#options.fetch(url, {
          headers: {
            Accept: 'text/event-stream',
            ...(this.#options.token !== null ? { Authorization: `Bearer ${this.#options.token}` } : {}),
          },
          signal: connection.signal,
        });
      } catch (error) {
        return { connected: false, reason: `cannot reach ${from} (${describeFetchError(error)})` };
      }
      if (response.status === 401) {
        const message = await errorMessageOf(response);
        throw new ListenRefused(
          `${from} ${this.#options.token === null ? 'requires a token' : 'refused the token'} (401): ${message}. Pass the team server's --ui-token with --token (OMISE_WEBHOOK_LISTEN_TOKEN)`,
          LISTEN_EXIT.unauthorized,
        );
      }
      if (response.status === 403) {
        throw new ListenRefused(
          `${from} refused the feed (403): ${await errorMessageOf(response)}`,
          LISTEN_EXIT.forbidden,
        );
      }
      if (response.status === 400 || response.status === 404) {
        const message = await errorMessageOf(response);
        throw new ListenRefused(
          response.status === 404
            ? `${from} has no /api/feed (404): is --from the team serve's inspector URL (its --ui-port), and is it omise-webhook 0.x with listen? ${message}`
            : `${from} refused the request (400): ${message}`,
          1,
        );
      }
      if (!response.ok || !response.body) {
        return { connected: false, reason: `${from} answered ${response.status}: ${await errorMessageOf(response)}` };
      }
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith('text/event-stream')) {
        throw new ListenRefused(
          `${from}/api/feed answered ${type || 'no content type'}, not an event stream: is --from the team serve's inspector URL?`,
          1,
        );
      }
      return await this.#follow(response.body, signal);
    } finally {
      signal.removeEventListener('abort', abort);
      connection.abort();
    }
  }

  async #follow(
    body: ReadableStream<Uint8Array>,
    signal: AbortSignal,
  ): Promise<{ connected: boolean; reason: string }> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    let connected = false;
    // Three of the server's heartbeats without a byte: a silent connection (a dead tunnel) is given up.
    let idleMs = 45_000;
    try {
      for (;;) {
        const read = await this.#readWithin(reader, idleMs);
        if (read === 'idle') {
          return { connected, reason: `no data nor heartbeat from ${this.#options.from} for ${seconds(idleMs)}` };
        }
        if (read.done) return { connected, reason: `${this.#options.from} closed the stream` };
        for (const message of parser.push(decoder.decode(read.value, { stream: true }))) {
          if (signal.aborted) return { connected, reason: 'stopped' };
          if (message.event === 'ready') {
            connected = true;
            const data = JSON.parse(message.data) as { heartbeatMs?: number; serverTime?: string };
            if (typeof data.heartbeatMs === 'number' && data.heartbeatMs > 0) idleMs = data.heartbeatMs * 3;
            this.#startedAt ??= data.serverTime ?? null;
            this.#announce();
            if (message.id !== null && message.id !== this.#cursor) await this.#save(message.id);
          } else if (message.event === 'event') {
            const event = decodeFeedEvent(message.id, message.data);
            const delivered = await this.#deliver(event);
            if (!delivered) return { connected, reason: 'stopped' };
            await this.#save(event.cursor);
          } else if (message.event === 'position' && message.id !== null) {
            await this.#save(message.id);
          }
        }
      }
    } catch (error) {
      if (signal.aborted) return { connected, reason: 'stopped' };
      // Neither a message this version cannot read nor a position it cannot save gets better by reconnecting.
      if (error instanceof FeedMessageError || error instanceof ListenRefused) throw error;
      return { connected, reason: `lost the connection to ${this.#options.from} (${describeFetchError(error)})` };
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  #readWithin(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    ms: number,
  ): Promise<ReadableStreamReadResult<Uint8Array> | 'idle'> {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<'idle'>((resolve) => {
      timer = setTimeout(() => resolve('idle'), ms);
    });
    return Promise.race([reader.read(), idle]).finally(() => clearTimeout(timer));
  }

  #announce(): void {
    const { from, forwardTo, events } = this.#options;
    if (this.#connectedBefore) {
      this.#options.log(`reconnected to ${from}; resuming after ${this.#cursor ?? 'the start'}`);
      return;
    }
    this.#connectedBefore = true;
    const start =
      this.#cursor !== null
        ? `after position ${this.#cursor}`
        : this.#options.since !== null
          ? `from ${this.#options.since}`
          : 'from now';
    this.#options.log(
      `listening to ${from} (${events ?? 'every event'}, ${start}); forwarding to ${forwardTo}. Ctrl-C to stop`,
    );
  }

  async #save(cursor: string): Promise<void> {
    this.#cursor = cursor;
    try {
      await this.#options.cursor.save(cursor);
    } catch (error) {
      throw new ListenRefused(
        `could not save the position (${error instanceof Error ? error.message : String(error)}); stopped rather than go on without one (the next start may send the last event again). Free the space or fix --log-dir, then start listen again`,
        1,
      );
    }
  }

  /** Sends until the local app answers; false when stopped first (the position is then not moved). */
  async #deliver(event: ListenedEvent): Promise<boolean> {
    const c = this.#c;
    const { forwardTo, signal } = this.#options;
    for (let attempt = 1; ; attempt++) {
      // A stop lets the request in flight finish for a moment, so the answer (and the position)
      // usually counts rather than sending the event again at the next start.
      const grace = new AbortController();
      let graceTimer: NodeJS.Timeout | undefined;
      const onStop = () => {
        graceTimer = setTimeout(() => grace.abort(), STOP_GRACE_MS);
      };
      if (signal.aborted) onStop();
      else signal.addEventListener('abort', onStop, { once: true });
      const result = await this.#options.sender
        .send({
          url: forwardTo,
          headers: buildForwardHeaders({
            original: event.headers,
            target: forwardTo,
            bodyLength: event.body.byteLength,
            eventId: event.eventId,
            attempt,
          }),
          body: event.body,
          timeoutMs: this.#options.forwardTimeoutMs,
          signal: grace.signal,
        })
        .finally(() => {
          signal.removeEventListener('abort', onStop);
          clearTimeout(graceTimer);
        });
      const time = c.dim(new Date().toISOString().slice(11, 23));
      const head = `${time}  ${c.bold(event.key.padEnd(20))} ${event.eventId}  → `;
      const latency = c.dim(`${Math.round(result.latencyMs)} ms`);
      if (result.kind === 'response') {
        const ok = result.status >= 200 && result.status < 300;
        this.#options.out(`${head}${ok ? c.green(String(result.status)) : c.red(String(result.status))}  ${latency}`);
        return true;
      }
      if (signal.aborted) return false;
      const waitMs = backoffDelay(attempt, LISTEN_BACKOFF);
      this.#options.out(
        `${head}${c.red(`✖ ${result.message}`)}  ${latency}  ${c.yellow(`trying again in ${seconds(waitMs)}, nothing after it is sent meanwhile`)}`,
      );
      await this.#sleep(waitMs, signal);
      if (signal.aborted) return false;
    }
  }
}
