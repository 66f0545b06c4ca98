import { systemTimers, type Timers } from '../core/ports.js';
import {
  type BackoffPolicy,
  backoffDelay,
  DEFAULT_TUNNEL_BACKOFF,
  OMISE_TEST_WEBHOOKS_PAGE,
  type OpenTunnel,
  TunnelError,
  type TunnelProvider,
  type TunnelStatusChange,
  webhookUrlFor,
} from '../core/tunnel.js';

/**
 * - `opening`: an attempt to open is in flight.
 * - `open`: `webhookUrl` reaches the receiver.
 * - `reconnecting`: it was open and was lost; it is coming back (by the provider itself, or by a
 *   new tunnel in `retryInMs`).
 * - `failed`: it could not open; `retryInMs` is when it tries again, or null when it will not
 *   (a configuration problem: `fix` says what to change).
 * - `closed`: the server is stopping.
 */
export type TunnelState = 'opening' | 'open' | 'reconnecting' | 'failed' | 'closed';

/** What the inspector and the console show about the tunnel; plain data, safe to serialise. */
export interface TunnelStatus {
  provider: string;
  state: TunnelState;
  /** The exact URL to paste into the Omise dashboard, while the tunnel is open; else null. */
  webhookUrl: string | null;
  /** The last URL that worked, to say what is being reconnected. */
  lastWebhookUrl: string | null;
  /** Why it is not open (reconnecting / failed). */
  reason: string | null;
  /** What to do about it (failed). */
  fix: string | null;
  /** Stable code of the last failure (`invalid_authtoken`, `unreachable`, ...). */
  code: string | null;
  /** Milliseconds until the next attempt, or null when none is scheduled. */
  retryInMs: number | null;
  /** Attempts since the tunnel was last open. */
  attempt: number;
}

export interface TunnelSupervisorOptions {
  provider: TunnelProvider;
  /** The webhook listener's address: the only thing the tunnel may reach. */
  host: string;
  port: number;
  /** The webhook path, appended to the tunnel's URL for the URL to paste. */
  path: string;
  domain?: string;
  authtoken?: string;
  /** The local webhook URL, for "still receiving locally at ...". */
  localUrl: string;
  /** Where plain-words status lines go (stderr), once `start()` has resolved. */
  report(line: string): void;
  /** Timers for the reconnect backoff; tests pass a FakeClock. */
  timers?: Timers;
  backoff?: BackoffPolicy;
  /** An open attempt that has not settled by then counts as a (retryable) failure. Default 20 s. */
  openTimeoutMs?: number;
}

export type TunnelStatusListener = (status: TunnelStatus) => void;

/**
 * Keeps a public URL pointing at the webhook listener: opens the tunnel, reopens it with
 * backoff when it drops or cannot open for a passing reason, and says what happened in
 * plain words. It never throws: whatever happens to the tunnel, the receiver keeps running
 * locally.
 */
export class TunnelSupervisor {
  readonly #options: TunnelSupervisorOptions;
  readonly #timers: Timers;
  readonly #backoff: BackoffPolicy;
  readonly #listeners = new Set<TunnelStatusListener>();
  #status: TunnelStatus;
  #tunnel: OpenTunnel | undefined;
  #generation = 0;
  #failures = 0;
  #retryTimer: unknown;
  #announce = false;
  #closed = false;

  constructor(options: TunnelSupervisorOptions) {
    this.#options = options;
    this.#timers = options.timers ?? systemTimers;
    this.#backoff = options.backoff ?? DEFAULT_TUNNEL_BACKOFF;
    this.#status = {
      provider: options.provider.name,
      state: 'opening',
      webhookUrl: null,
      lastWebhookUrl: null,
      reason: null,
      fix: null,
      code: null,
      retryInMs: null,
      attempt: 0,
    };
  }

  get status(): TunnelStatus {
    return { ...this.#status };
  }

  /** The URL to paste into the dashboard while the tunnel is open; null otherwise. */
  get publicUrl(): string | null {
    return this.#status.webhookUrl;
  }

  /** Called with every change of status; returns the unsubscribe function. */
  subscribe(listener: TunnelStatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Makes the first attempt and resolves once it has an outcome (open, failed, or timed
   * out); never rejects. Later changes are reported as they happen.
   */
  async start(): Promise<void> {
    await this.#attempt();
    this.#announce = true;
  }

  /** Closes the tunnel and stops reconnecting. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation += 1;
    if (this.#retryTimer !== undefined) this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const tunnel = this.#tunnel;
    this.#tunnel = undefined;
    this.#update({ state: 'closed', webhookUrl: null, retryInMs: null });
    await tunnel?.close().catch(() => {});
  }

  async #attempt(): Promise<void> {
    if (this.#closed) return;
    this.#retryTimer = undefined;
    const generation = ++this.#generation;
    const attempt = this.#status.attempt + 1;
    const wasOpenBefore = this.#status.lastWebhookUrl !== null;
    this.#update({ state: wasOpenBefore ? 'reconnecting' : 'opening', attempt, retryInMs: null });
    let tunnel: OpenTunnel;
    try {
      tunnel = await this.#openWithTimeout(generation);
    } catch (error) {
      if (generation !== this.#generation || this.#closed) return;
      this.#failed(error instanceof TunnelError ? error : this.#unexpected(error), wasOpenBefore);
      return;
    }
    if (generation !== this.#generation || this.#closed) {
      // Opened after a timeout or after close(): nobody wants it any more.
      await tunnel.close().catch(() => {});
      return;
    }
    this.#tunnel = tunnel;
    this.#failures = 0;
    const webhookUrl = webhookUrlFor(tunnel.url, this.#options.path);
    const previous = this.#markOpen(webhookUrl);
    if (previous === null) this.#say(`tunnel: open. ${pasteInstructions(webhookUrl)}`);
    else if (previous !== webhookUrl) this.#say(`tunnel: open again, at a NEW URL. ${pasteInstructions(webhookUrl)}`);
    else this.#say(`tunnel: open again at ${webhookUrl}`);
  }

  #openWithTimeout(generation: number): Promise<OpenTunnel> {
    const timeoutMs = this.#options.openTimeoutMs ?? 20_000;
    return new Promise<OpenTunnel>((resolve, reject) => {
      let settled = false;
      const timer = this.#timers.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(
          new TunnelError({
            code: 'timeout',
            message: `${this.#options.provider.name} did not answer within ${Math.round(timeoutMs / 1000)}s`,
            fix: 'check the internet connection, and that a firewall or proxy allows outgoing connections to it',
            retryable: true,
          }),
        );
      }, timeoutMs);
      this.#options.provider
        .open({
          host: this.#options.host,
          port: this.#options.port,
          ...(this.#options.domain ? { domain: this.#options.domain } : {}),
          ...(this.#options.authtoken ? { authtoken: this.#options.authtoken } : {}),
          onStatus: (change) => this.#onStatus(generation, change),
        })
        .then(
          (tunnel) => {
            if (settled) {
              // Too late: the attempt already counted as failed.
              void tunnel.close().catch(() => {});
              return;
            }
            settled = true;
            this.#timers.clearTimeout(timer);
            resolve(tunnel);
          },
          (error: unknown) => {
            if (settled) return;
            settled = true;
            this.#timers.clearTimeout(timer);
            reject(error);
          },
        );
    });
  }

  #onStatus(generation: number, change: TunnelStatusChange): void {
    if (generation !== this.#generation || this.#closed) return;
    switch (change.state) {
      case 'reconnecting':
        this.#update({ state: 'reconnecting', webhookUrl: null, reason: change.reason, retryInMs: null });
        this.#say(
          `tunnel: lost the connection (${change.reason}); ${this.#options.provider.name} is reconnecting. ` +
            `Still receiving locally at ${this.#options.localUrl}.`,
        );
        return;
      case 'connected': {
        const webhookUrl = change.url ? webhookUrlFor(change.url, this.#options.path) : this.#status.lastWebhookUrl;
        const previous = this.#markOpen(webhookUrl);
        if (webhookUrl && previous !== webhookUrl)
          this.#say(`tunnel: reconnected, at a NEW URL. ${pasteInstructions(webhookUrl)}`);
        else this.#say(`tunnel: reconnected: ${webhookUrl}`);
        return;
      }
      case 'closed': {
        const dead = this.#tunnel;
        this.#tunnel = undefined;
        void dead?.close().catch(() => {});
        this.#generation += 1;
        if (!change.retry) {
          this.#update({ state: 'failed', webhookUrl: null, reason: change.reason, retryInMs: null, code: 'closed' });
          this.#say(
            `tunnel: closed (${change.reason}); not reopening it. Still receiving locally at ${this.#options.localUrl}.`,
          );
          return;
        }
        this.#failures += 1;
        const delay = backoffDelay(this.#failures, this.#backoff);
        this.#update({ state: 'reconnecting', webhookUrl: null, reason: change.reason, retryInMs: delay });
        this.#say(
          `tunnel: dropped (${change.reason}); opening a new one in ${formatDelay(delay)}. ` +
            `Still receiving locally at ${this.#options.localUrl}.`,
        );
        this.#schedule(delay);
        return;
      }
    }
  }

  #failed(error: TunnelError, wasOpenBefore: boolean): void {
    const base = {
      webhookUrl: null,
      reason: error.message,
      fix: error.fix,
      code: error.code,
    };
    const local = `Still receiving locally at ${this.#options.localUrl}`;
    if (!error.retryable) {
      this.#update({ ...base, state: 'failed', retryInMs: null });
      this.#say(
        `tunnel: could not open: ${error.message}. To fix: ${sentence(error.fix)} ${local}; restart once fixed.`,
      );
      return;
    }
    this.#failures += 1;
    const delay = backoffDelay(this.#failures, this.#backoff);
    const sameAsBefore = this.#status.code === error.code;
    this.#update({ ...base, state: wasOpenBefore ? 'reconnecting' : 'failed', retryInMs: delay });
    // The fix was already said for this failure; repeating it on every retry only adds noise.
    if (sameAsBefore) this.#say(`tunnel: still cannot open (${error.message}); trying again in ${formatDelay(delay)}.`);
    else
      this.#say(
        `tunnel: could not open: ${error.message}; ${sentence(error.fix)} ${local}; trying again in ${formatDelay(delay)}.`,
      );
    this.#schedule(delay);
  }

  #schedule(delay: number): void {
    if (this.#closed) return;
    this.#retryTimer = this.#timers.setTimeout(() => {
      void this.#attempt();
    }, delay);
  }

  #unexpected(error: unknown): TunnelError {
    return new TunnelError({
      code: 'unexpected',
      message: error instanceof Error ? error.message : String(error),
      fix: 'try again; if it keeps happening, report it with this message',
      retryable: true,
    });
  }

  /** The tunnel is up at `webhookUrl`: clears the last failure; returns the URL it had before. */
  #markOpen(webhookUrl: string | null): string | null {
    const previous = this.#status.lastWebhookUrl;
    this.#update({
      state: 'open',
      webhookUrl,
      lastWebhookUrl: webhookUrl,
      reason: null,
      fix: null,
      code: null,
      retryInMs: null,
      attempt: 0,
    });
    return previous;
  }

  #update(patch: Partial<TunnelStatus>): void {
    this.#status = { ...this.#status, ...patch };
    const snapshot = this.status;
    for (const listener of this.#listeners) {
      try {
        listener(snapshot);
      } catch {
        // A failing listener (the inspector's stream) must not break the tunnel.
      }
    }
  }

  #say(line: string): void {
    if (this.#announce && !this.#closed) this.#options.report(line);
  }
}

/** What to do with a public webhook URL, in one sentence (the console and the banner). */
export function pasteInstructions(webhookUrl: string): string {
  return `Paste ${webhookUrl} into the Omise dashboard → Webhooks (test mode): ${OMISE_TEST_WEBHOOKS_PAGE}`;
}

/** Ends a phrase with a full stop unless it already has one. */
export function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** A backoff delay (jittered, so rarely whole seconds) to a tenth of a second. */
function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Math.round(ms / 100) / 10}s`;
}
