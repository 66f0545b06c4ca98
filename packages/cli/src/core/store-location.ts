/**
 * Where the event store lives, parsed once from `--store` (OMISE_WEBHOOK_STORE, or DATABASE_URL
 * when that is a PostgreSQL URL): the SQLite file in the log directory (one developer), memory
 * (`serve` only, forgotten on exit) or a PostgreSQL database (several instances, team mode).
 */
import { maskDatabaseUrl } from './mask-database-url.js';

export type StoreLocation =
  | { kind: 'sqlite' }
  | { kind: 'memory' }
  /** `url` holds the password: print `masked`, never `url`. */
  /** `from`: set when the URL came from `DATABASE_URL` (maybe meant for the user's own app). */
  | { kind: 'postgres'; url: string; masked: string; from?: 'DATABASE_URL' };

export type StoreLocationResult = { ok: true; location: StoreLocation } | { ok: false; problem: string };

const EXPECTED = 'sqlite, memory, or a postgres://user:password@host:5432/database URL';

/**
 * @example
 * parseStoreLocation('postgres://app:pw@db:5432/webhooks')
 * // { ok: true, location: { kind: 'postgres', url: '...', masked: 'postgres://app:****@db:5432/webhooks' } }
 */
export function parseStoreLocation(value: string): StoreLocationResult {
  const trimmed = value.trim();
  if (trimmed === 'sqlite' || trimmed === 'memory') return { ok: true, location: { kind: trimmed } };
  const masked = maskDatabaseUrl(trimmed);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return { ok: false, problem: `got ${JSON.stringify(masked)}; expected ${EXPECTED}` };
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    return {
      ok: false,
      problem: `got a ${scheme}: URL (${masked}); only PostgreSQL is supported as a shared store: expected ${EXPECTED}`,
    };
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, problem: `got ${JSON.stringify(masked)}, which is not a valid URL; expected ${EXPECTED}` };
  }
  // postgres://user@/db?host=/var/run/postgresql is a Unix socket: the host is in the query.
  if (url.hostname === '' && !url.searchParams.has('host')) {
    return {
      ok: false,
      problem: `got ${JSON.stringify(masked)}, which names no host; expected ${EXPECTED} (for a local server: postgres://user:password@localhost:5432/database)`,
    };
  }
  if (url.port !== '' && Number(url.port) === 0) {
    return { ok: false, problem: `got ${JSON.stringify(masked)}, whose port is 0; expected a port from 1 to 65535` };
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    return {
      ok: false,
      problem: `got ${JSON.stringify(masked)}, which names ${database === '' ? 'no database' : `the path /${database}, not one database`}; expected ${EXPECTED}`,
    };
  }
  return { ok: true, location: { kind: 'postgres', url: trimmed, masked } };
}

/** True for a value `DATABASE_URL` may hold that selects PostgreSQL (other schemes belong to other tools). */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value.trim());
}

/** How the banner and `doctor` name the store. */
export function describeStoreLocation(location: StoreLocation, logDir: string): string {
  switch (location.kind) {
    case 'sqlite':
      return `${logDir}/omise-webhook.sqlite`;
    case 'memory':
      return 'memory (forgotten on exit)';
    case 'postgres':
      return location.masked;
  }
}
