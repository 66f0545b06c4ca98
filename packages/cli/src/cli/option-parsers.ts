import { closestEventKeys, isOmiseEventKey } from '@omise-webhook/events';
import { type ForwardRoute, problemWithTargetUrl } from '../core/forwarding.js';

/**
 * Parsers for flag and environment values. Each throws a UsageError that names the flag,
 * its environment variable and the bad value, and says what is expected.
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ValueSource {
  flag: string;
  env: string;
}

function fail(source: ValueSource, value: string, expected: string): never {
  throw new UsageError(`${source.flag} (${source.env}) got ${JSON.stringify(value)}; expected ${expected}`);
}

export function parsePort(value: string, source: ValueSource): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) fail(source, value, 'a port number from 0 to 65535');
  return Number(value);
}

export function parsePositiveInt(value: string, source: ValueSource): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) fail(source, value, 'a whole number of at least 1');
  return Number(value);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 };

/** `1048576`, `512kb`, `1mb`, `1MiB`. */
export function parseByteSize(value: string, source: ValueSource): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? SIZE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || unit === undefined) fail(source, value, 'a size like 1048576, 512kb or 1mb');
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < 1) fail(source, value, 'a size of at least 1 byte');
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250ms`, `10s`, `2m`, `1h`, `7d`; a bare number is seconds. */
export function parseDuration(value: string, source: ValueSource): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) fail(source, value, 'a duration like 500ms, 10s, 2m, 1h or 7d');
  return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] as number));
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (value: string, source: ValueSource): T => {
    if (!(choices as readonly string[]).includes(value)) fail(source, value, `one of ${choices.join(', ')}`);
    return value as T;
  };
}

export function parseBoolean(value: string, source: ValueSource): boolean {
  const normalised = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalised)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(normalised)) return false;
  return fail(source, value, 'true or false');
}

/** A forward or replay target: an absolute http(s) URL. */
export function parseTargetUrl(value: string, source: ValueSource): string {
  const problem = problemWithTargetUrl(value.trim());
  if (problem) fail(source, value, `an http(s) URL like http://localhost:8080/omise/webhook (${problem})`);
  return value.trim();
}

/** A key pattern: `*`, `charge.*`, a known key, or a comma list of those. */
export function parseKeyPattern(value: string, source: ValueSource): string {
  const parts = value.split(',').map((part) => part.trim());
  for (const part of parts) {
    if (part === '*' || /^[a-z_]+(\.[a-z_]+)*\.\*$/.test(part) || isOmiseEventKey(part)) continue;
    const near = closestEventKeys(part);
    fail(
      source,
      value,
      `event keys like charge.create, patterns like charge.* or *, comma-separated${part ? ` (${JSON.stringify(part)} is not an Omise event key${near.length ? `; did you mean ${near.join(', ')}?` : ''})` : ' (an empty part)'}`,
    );
  }
  return parts.join(',');
}

/** `charge.*=http://localhost:8080/omise`: events whose key matches go to the URL. */
export function parseForwardRoute(value: string, source: ValueSource): ForwardRoute {
  const equals = value.indexOf('=');
  if (equals === -1) fail(source, value, "pattern=url, like 'charge.*=http://localhost:8080/omise'");
  const pattern = parseKeyPattern(value.slice(0, equals), source);
  const url = parseTargetUrl(value.slice(equals + 1), source);
  return { pattern, url };
}

/** `5s,30s,2m,10m,1h,6h`: the waits before each retry; `none` for no retries. */
export function parseRetrySchedule(value: string, source: ValueSource): number[] {
  const text = value.trim();
  if (text === 'none' || text === '0') return [];
  const waits = text.split(/[\s,]+/).filter(Boolean);
  if (waits.length === 0) fail(source, value, 'a comma list of durations like 5s,30s,2m, or none');
  return waits.map((wait) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(wait);
    if (!match)
      fail(source, value, `a comma list of durations like 5s,30s,2m, or none (${JSON.stringify(wait)} is not one)`);
    return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] as number));
  });
}

/** `2026-11-26T07:00:00Z`, `2026-11-26`, or a duration ago (`30m`, `2h`, `7d`). Returns ms since the epoch. */
export function parseSince(value: string, source: ValueSource, now: number = Date.now()): number {
  const text = value.trim();
  const ago = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text);
  if (ago) return now - Math.round(Number(ago[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's']);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) return Date.parse(text);
  return fail(source, value, 'a time like 2026-11-26T07:00:00Z or 2026-11-26, or a duration ago like 30m, 2h or 7d');
}

/** A token for the inspector: long enough to resist guessing, and safe in a URL and a cookie. */
export function parseUiToken(value: string, source: ValueSource): string {
  // The value itself is a secret: the message says what is wrong without repeating it.
  if (!/^[A-Za-z0-9._~-]+$/.test(value)) {
    throw new UsageError(
      `${source.flag} (${source.env}) has characters other than letters, digits and . _ ~ -; use a random value such as the output of \`openssl rand -hex 24\``,
    );
  }
  if (value.length < 16) {
    throw new UsageError(
      `${source.flag} (${source.env}) is ${value.length} characters long; use at least 16 (for example \`openssl rand -hex 24\`)`,
    );
  }
  return value;
}
