import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  if (bare.startsWith('::ffff:')) return isLoopbackHost(bare.slice(7));
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** A fresh token for an inspector reachable from other machines: 192 random bits, URL-safe. */
export function generateUiToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Compares in constant time (both sides hashed first, so their lengths say nothing either). */
export function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Cookies ignore ports, so the name carries it: two inspectors on one host keep their own. */
export function tokenCookieName(port: number): string {
  return `omise_webhook_ui_${port}`;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index !== -1 && part.slice(0, index).trim() === name) return decodeURIComponent(part.slice(index + 1).trim());
  }
  return undefined;
}

/** The host name from a `Host` header (`[::1]:3001` -> `::1`, `localhost:3001` -> `localhost`). */
export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(1, hostHeader.indexOf(']'));
  const colon = hostHeader.lastIndexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}

export interface AccessRules {
  /** When set, every request must carry it (header, cookie, or `?token=` on a page). */
  token: string | null;
  /** The listener is bound to loopback: requests must name a loopback host (DNS-rebinding defence). */
  loopbackOnly: boolean;
  cookieName: string;
}

export type AccessDecision =
  | { kind: 'allow' }
  /** A page opened with the right `?token=`: set the cookie and redirect to the URL without it. */
  | { kind: 'set_cookie_and_redirect'; location: string }
  | { kind: 'deny'; status: 401 | 403; code: string; message: string };

export interface AccessRequest {
  method: string;
  url: URL;
  headers: { get(name: string): string | null };
  /** A page (HTML) request rather than an API call or an asset. */
  isPage: boolean;
}

const TOKEN_HELP =
  'open the inspector URL printed by `omise-webhook serve` (it ends in ?token=...), or send the token as Authorization: Bearer <token> (--ui-token / OMISE_WEBHOOK_UI_TOKEN)';

/**
 * Who may use the inspector. Bound to loopback without a token: only requests addressed to
 * localhost (a web page that rebinds its own DNS name to 127.0.0.1 is refused). With a token:
 * `Authorization: Bearer`, the HttpOnly cookie, or `?token=` on a page load, which sets the
 * cookie. Writes must be JSON from this origin, so another site cannot replay events.
 */
export function decideAccess(request: AccessRequest, rules: AccessRules): AccessDecision {
  const host = request.headers.get('host') ?? '';
  if (rules.loopbackOnly && rules.token === null && !isLoopbackHost(hostnameOf(host))) {
    return {
      kind: 'deny',
      status: 403,
      code: 'forbidden_host',
      message: `this inspector answers only to localhost, 127.0.0.1 or [::1]; the request was addressed to ${JSON.stringify(host)}. To reach it from another machine, start serve with --ui-host 0.0.0.0 (a token is then required)`,
    };
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    const origin = request.headers.get('origin');
    // The page's own origin: http directly, https when a TLS proxy in front keeps the Host header
    // (a team server behind HTTPS); any other origin is another site.
    const sameOrigin = origin === `http://${host}` || origin === `https://${host}`;
    if (request.headers.get('sec-fetch-site') === 'cross-site' || (origin && !sameOrigin)) {
      return {
        kind: 'deny',
        status: 403,
        code: 'cross_origin',
        message: `requests that change something must come from the inspector page itself; this one came from ${origin ?? 'another site'}`,
      };
    }
  }
  if (rules.token === null) return { kind: 'allow' };

  const authorization = request.headers.get('authorization');
  if (authorization !== null) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (bearer !== undefined && sameToken(bearer, rules.token)) return { kind: 'allow' };
    return {
      kind: 'deny',
      status: 401,
      code: 'unauthorized',
      message: `the Authorization header does not carry this inspector's token; ${TOKEN_HELP}`,
    };
  }
  const queryToken = request.url.searchParams.get('token');
  if (queryToken !== null && request.isPage && request.method === 'GET') {
    if (!sameToken(queryToken, rules.token)) {
      return {
        kind: 'deny',
        status: 401,
        code: 'unauthorized',
        message: `the ?token= in this URL is not this inspector's token; ${TOKEN_HELP}`,
      };
    }
    const clean = new URL(request.url);
    clean.searchParams.delete('token');
    return { kind: 'set_cookie_and_redirect', location: `${clean.pathname}${clean.search}` };
  }
  const cookie = readCookie(request.headers.get('cookie') ?? undefined, rules.cookieName);
  if (cookie !== undefined && sameToken(cookie, rules.token)) return { kind: 'allow' };
  return {
    kind: 'deny',
    status: 401,
    code: 'unauthorized',
    message: `this inspector needs its token; ${TOKEN_HELP}`,
  };
}
