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

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250ms`, `10s`, `2m`, `1h`; a bare number is seconds. */
export function parseDuration(value: string, source: ValueSource): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) fail(source, value, 'a duration like 500ms, 10s, 2m or 1h');
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
