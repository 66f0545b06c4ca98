import type { Command } from 'commander';
import { DEFAULT_OMISE_API_URL } from '../adapters/omise-api/omise-api-client.js';
import { formatDuration } from '../core/format-duration.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, type ForwardRoute, forwardRoutesOf } from '../core/forwarding.js';
import { isPostgresUrl, parseStoreLocation, type StoreLocation } from '../core/store-location.js';
import type { Env } from './dotenv.js';
import {
  parseDuration,
  parseForwardRoute,
  parsePositiveInt,
  parseTargetUrl,
  UsageError,
  type ValueSource,
} from './option-parsers.js';
import { type OptionSpec, optionOrigin, repeatableFromEnv } from './option-spec.js';

/** `--log-dir` (OMISE_WEBHOOK_LOG_DIR): every command that reads or writes the store. */
export function logDirOption(description = 'where `serve` keeps its store'): OptionSpec {
  return { name: 'logDir', flags: '--log-dir <dir>', env: 'OMISE_WEBHOOK_LOG_DIR', description, default: './log' };
}

/** `--api-url` (OMISE_API_URL): every command that talks to the Omise API. */
export const API_URL_OPTION: OptionSpec = {
  name: 'apiUrl',
  flags: '--api-url <url>',
  env: 'OMISE_API_URL',
  description: 'Omise API base URL (point it at `omise-webhook fake-omise` for offline work)',
  default: DEFAULT_OMISE_API_URL,
};

/** `--forward-to` (OMISE_WEBHOOK_FORWARD_TO): `serve` forwards every event there; `replay` sends there by default. */
export const FORWARD_TO_OPTION: OptionSpec<string> = {
  name: 'forwardTo',
  flags: '--forward-to <url>',
  env: 'OMISE_WEBHOOK_FORWARD_TO',
  description:
    'forward every accepted event to this URL, byte for byte (repeatable; the variable takes a comma/space list)',
  repeatable: true,
  parse: parseTargetUrl,
};

/** `--forward <pattern=url>` (OMISE_WEBHOOK_FORWARD): routes by event key, read by `serve` and `replay`. */
export const FORWARD_OPTION: OptionSpec<ForwardRoute> = {
  name: 'forward',
  flags: '--forward <pattern=url>',
  env: 'OMISE_WEBHOOK_FORWARD',
  description:
    "forward events whose key matches, e.g. 'charge.*=http://localhost:8080/omise' (repeatable; the variable takes a space/semicolon list)",
  repeatable: true,
  envSeparator: /[\s;]+/,
  parse: parseForwardRoute,
};

/** `--forward-timeout` (OMISE_WEBHOOK_FORWARD_TIMEOUT), with the one default `serve` and `replay` share. */
export function forwardTimeoutOption(options: { name: string; description: string }): OptionSpec<number> {
  const { name, description } = options;
  return {
    name,
    flags: '--forward-timeout <duration>',
    env: 'OMISE_WEBHOOK_FORWARD_TIMEOUT',
    description,
    default: DEFAULT_FORWARD_TIMEOUT_MS,
    defaultDescription: formatDuration(DEFAULT_FORWARD_TIMEOUT_MS),
    parse: parseDuration,
  };
}

/** The forward routes `serve` would use, from the environment (and `.env`) alone. */
export function configuredForwardRoutes(env: Env): ForwardRoute[] {
  return forwardRoutesOf({
    forwardTo: repeatableFromEnv(FORWARD_TO_OPTION, env),
    forward: repeatableFromEnv(FORWARD_OPTION, env),
  });
}

/**
 * `--store <where>` (OMISE_WEBHOOK_STORE): sqlite, memory (`serve` only) or a postgres:// URL.
 * The value may hold a password, so errors print it masked (see parseStoreLocation).
 */
export function storeOption(options: { memory: boolean }): OptionSpec<StoreLocation> {
  return {
    name: 'store',
    flags: '--store <where>',
    env: 'OMISE_WEBHOOK_STORE',
    description: options.memory
      ? 'sqlite (kept in the log dir), memory (forgotten on exit), or a postgres://user:password@host/db URL that several instances share; DATABASE_URL is used when it is a postgres:// URL and this is not set'
      : 'sqlite (kept in the log dir) or the postgres://user:password@host/db URL `serve` uses; DATABASE_URL is used when it is a postgres:// URL and this is not set',
    default: { kind: 'sqlite' },
    defaultDescription: 'sqlite',
    parse: (value, source) => parseStoreValue(value, source, options.memory),
  };
}

function parseStoreValue(value: string, source: ValueSource, memoryAllowed: boolean): StoreLocation {
  const parsed = parseStoreLocation(value);
  if (!parsed.ok) throw new UsageError(`${source.flag} (${source.env}) ${parsed.problem}`);
  if (parsed.location.kind === 'memory' && !memoryAllowed) {
    throw new UsageError(
      `${source.flag} (${source.env}) got "memory", which only \`serve\` has (it is forgotten on exit); use sqlite or the postgres:// URL that \`serve\` uses`,
    );
  }
  return parsed.location;
}

/**
 * The store a command uses: `--store`, else OMISE_WEBHOOK_STORE, else DATABASE_URL when it is a
 * postgres:// URL (a DATABASE_URL for another database belongs to another tool and is ignored),
 * else SQLite in the log dir.
 */
export function resolveStoreLocation(
  command: Command,
  env: Env,
  resolved: StoreLocation,
  options: { memory: boolean },
): StoreLocation {
  const spec = storeOption(options);
  const fallback = env.DATABASE_URL;
  if (optionOrigin(command, spec, env) !== 'default' || fallback === undefined || !isPostgresUrl(fallback)) {
    return resolved;
  }
  const location = parseStoreValue(fallback, { flag: '--store', env: 'DATABASE_URL' }, options.memory);
  return location.kind === 'postgres' ? { ...location, from: 'DATABASE_URL' } : location;
}

/** Where a command other than `serve` finds the store: its `--log-dir` and `--store`, resolved. */
export interface StoreWhere {
  logDir: string;
  store: StoreLocation;
}

/** The `StoreWhere` of a command whose options include `logDirOption()` and `storeOption({ memory: false })`. */
export function storeWhere(command: Command, env: Env, options: { logDir: string; store: StoreLocation }): StoreWhere {
  return { logDir: options.logDir, store: resolveStoreLocation(command, env, options.store, { memory: false }) };
}

/** `--store-pool` (OMISE_WEBHOOK_STORE_POOL): at most this many PostgreSQL connections per process. */
export const STORE_POOL_OPTION: OptionSpec<number> = {
  name: 'storePool',
  flags: '--store-pool <n>',
  env: 'OMISE_WEBHOOK_STORE_POOL',
  description:
    'with a postgres:// store: at most this many database connections (plus one that listens for new events)',
  default: 10,
  parse: parsePositiveInt,
};

/** The PostgreSQL store's own default (kept apart so `--help` does not load the adapter). */
const DEFAULT_FORWARD_LEASE_MS = 60_000;

/** `--forward-lease` (OMISE_WEBHOOK_FORWARD_LEASE): how long a claimed forward is one instance's. */
export const FORWARD_LEASE_OPTION: OptionSpec<number> = {
  name: 'forwardLeaseMs',
  flags: '--forward-lease <duration>',
  env: 'OMISE_WEBHOOK_FORWARD_LEASE',
  description:
    'with a postgres:// store: a forward an instance claimed is taken over by another after this long if the first one died; must exceed --forward-timeout',
  default: DEFAULT_FORWARD_LEASE_MS,
  defaultDescription: formatDuration(DEFAULT_FORWARD_LEASE_MS),
  parse: parseDuration,
};
