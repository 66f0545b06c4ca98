/**
 * The tunnel port: how the receiver gets a public HTTPS URL that Omise can deliver to.
 *
 * A provider opens a tunnel to ONE local port (always the webhook listener's, never the
 * inspector's) and reports what happens to it afterwards. The supervisor in
 * `app/tunnel-supervisor.ts` decides what to do about drops; the provider only reports.
 * ngrok (`adapters/tunnel/ngrok-tunnel.ts`) is the real one; tests use a local stand-in.
 */

/** Where the Omise dashboard's test-mode webhook settings live (from Omise's API docs, api-webhooks). */
export const OMISE_TEST_WEBHOOKS_PAGE = 'https://dashboard.omise.co/test/webhooks';

/** What happens to an open tunnel after `open()` resolved. */
export type TunnelStatusChange =
  /** The connection to the tunnel service was lost; the provider is reconnecting by itself. */
  | { state: 'reconnecting'; reason: string }
  /** Connected again after `reconnecting`; `url` may differ from before. */
  | { state: 'connected'; url: string }
  /** The tunnel is gone and will not come back by itself; `retry: false` when reopening is pointless. */
  | { state: 'closed'; reason: string; retry: boolean };

export interface TunnelOpenOptions {
  /** The local address to forward to: the webhook listener's host and port. */
  host: string;
  port: number;
  /** A reserved domain (e.g. `my-app.ngrok-free.app`) so the URL stays the same across restarts. */
  domain?: string;
  /** The tunnel service's credential; never printed in full. */
  authtoken?: string;
  onStatus(status: TunnelStatusChange): void;
}

export interface OpenTunnel {
  /** The public base URL, e.g. `https://abcd.ngrok-free.app` (no webhook path). */
  url: string;
  close(): Promise<void>;
}

export interface TunnelProvider {
  /** Shown to the user: `ngrok`, `local stand-in`. */
  readonly name: string;
  /** Rejects with a TunnelError that says why and how to fix it. */
  open(options: TunnelOpenOptions): Promise<OpenTunnel>;
}

/** A tunnel that could not open, in plain words, with what to do about it. */
export class TunnelError extends Error {
  override readonly name = 'TunnelError';
  /** Stable code: `missing_authtoken`, `invalid_authtoken`, `domain_not_reserved`, `unreachable`, ... */
  readonly code: string;
  /** What the user should do. */
  readonly fix: string;
  /** True when trying again later can help (network trouble); false for configuration problems. */
  readonly retryable: boolean;
  /** The provider's own code when it had one, e.g. `ERR_NGROK_105`. */
  readonly providerCode: string | undefined;

  constructor(options: { code: string; message: string; fix: string; retryable: boolean; providerCode?: string }) {
    super(options.message);
    this.code = options.code;
    this.fix = options.fix;
    this.retryable = options.retryable;
    this.providerCode = options.providerCode;
  }
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_TUNNEL_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000 };

/**
 * Delay before reconnect attempt `attempt` (1-based): doubling from `initialMs`, capped at `maxMs`.
 *
 * @example
 * backoffDelay(1, { initialMs: 1000, maxMs: 30_000 }) // 1000
 * backoffDelay(3, { initialMs: 1000, maxMs: 30_000 }) // 4000
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_TUNNEL_BACKOFF): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
}

/** The full URL to paste into the dashboard: the tunnel's base URL plus the webhook path. */
export function webhookUrlFor(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

export type PublicUrlCheck = { ok: true; url: string } | { ok: false; problem: string };

const LOCAL_HOSTS = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0|\[::\])$/i;

/**
 * Checks a public URL given with `--public-url` (a tunnel the user runs themselves) and returns
 * the exact webhook URL to paste: HTTPS (Omise delivers nowhere else), a public host, and
 * ending with the webhook path (a bare origin gets the path appended).
 *
 * @example
 * checkPublicUrl('https://abcd.ngrok-free.app', '/omise/webhook')
 * // { ok: true, url: 'https://abcd.ngrok-free.app/omise/webhook' }
 */
export function checkPublicUrl(raw: string, path: string): PublicUrlCheck {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, problem: 'an https:// URL such as https://abcd.ngrok-free.app' };
  }
  if (url.protocol !== 'https:') {
    return {
      ok: false,
      problem: `an https:// URL: Omise only delivers webhooks over HTTPS with a valid certificate (this one is ${url.protocol.replace(/:$/, '')})`,
    };
  }
  if (LOCAL_HOSTS.test(url.hostname)) {
    return {
      ok: false,
      problem: `a public host: Omise cannot reach ${url.hostname}; give the URL your tunnel printed (ngrok, cloudflared)`,
    };
  }
  if (url.hash) return { ok: false, problem: 'a URL without a #fragment' };
  if (url.username || url.password) return { ok: false, problem: 'a URL without user:password@' };
  const webhookPath = path.startsWith('/') ? path : `/${path}`;
  const pathname = url.pathname.replace(/\/+$/, '');
  if (pathname === '') url.pathname = webhookPath;
  else if (!pathname.endsWith(webhookPath)) {
    return {
      ok: false,
      problem: `a URL ending with the webhook path ${webhookPath} (or no path at all), e.g. ${url.origin}${webhookPath}; this receiver answers only on ${webhookPath} (--path)`,
    };
  } else url.pathname = pathname;
  return { ok: true, url: url.toString() };
}

/**
 * Where a tunnel should forward to, for a listener bound to `host`: an address bound to
 * every interface is reached through loopback.
 */
export function tunnelTargetHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

/**
 * A reserved domain as given with `--tunnel-domain`: a bare host name. A pasted
 * `https://name.ngrok-free.app/` is accepted and reduced to the host.
 */
export function normaliseTunnelDomain(raw: string): PublicUrlCheck {
  const trimmed = raw
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '');
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(trimmed)) {
    return { ok: false, problem: 'a host name such as my-app.ngrok-free.app (no path, no port)' };
  }
  return { ok: true, url: trimmed.toLowerCase() };
}
