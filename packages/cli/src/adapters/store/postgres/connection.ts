/**
 * The connection pool, and how its failures become a storage fault: a database that cannot be
 * reached (stopped, restarting, network gone) is `database_unavailable`, answered 503 until a
 * probe (once a second) gets through again.
 */
import postgres from 'postgres';
import { maskDatabaseUrl } from '../../../core/mask-database-url.js';
import { type StorageFaultCode, StorageHealth, StorageUnavailableError } from '../../../core/storage-health.js';

/** A pool or a transaction: what the query helpers run on. */
export type Sql = postgres.ISql;

/** Errors that mean "the database is not there right now", not "the query was wrong". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'OPERATION_TIMEOUT',
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down)
  '57P01',
  '57P02',
  '57P03',
]);

/** Which errors of this adapter are storage faults (the rest are bugs or constraints). */
export function postgresFaultOf(error: unknown): { code: StorageFaultCode; cause: string } | null {
  const raw = (error as { code?: unknown } | null)?.code;
  if (typeof raw !== 'string') return null;
  if (raw === '53100') return { code: 'disk_full', cause: `${raw} disk_full` };
  // A failover can leave the URL pointing at a read-only standby.
  if (raw === '25006') return { code: 'read_only', cause: `${raw} read_only_sql_transaction` };
  // Class 08: connection exceptions.
  if (UNREACHABLE.has(raw) || raw.startsWith('08')) return { code: 'database_unavailable', cause: raw };
  return null;
}

export interface ConnectionOptions {
  url: string;
  maxConnections: number;
  connectTimeoutSeconds: number;
  /** Shown in pg_stat_activity, so a DBA can tell the instances apart. */
  applicationName: string;
}

export function checkDatabaseUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(
      `the store URL ${JSON.stringify(maskDatabaseUrl(url))} is not a PostgreSQL URL; expected postgres://user:password@host:5432/database (--store)`,
    );
  }
}

export function openPool(options: ConnectionOptions): postgres.Sql {
  checkDatabaseUrl(options.url);
  return postgres(options.url, {
    max: options.maxConnections,
    connect_timeout: options.connectTimeoutSeconds,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: options.applicationName.slice(0, 63) },
  });
}

/**
 * Stops the pool from fetching the array types again on each new connection, once a connection
 * has fetched them (call it after the pool's first query). postgres@3.4.9 fetches them at every
 * connect from a promise nothing handles, so a database that goes away during that fetch left an
 * unhandled rejection (`write CONNECTION_CLOSED`: in about half the runs of the database-outage
 * test, once the pool reconnected). The parsers and serializers the first fetch registered are
 * the pool's, shared by all its connections, so arrays keep working after a reconnect; the
 * types of a database are fixed for as long as a store has it open. Returns whether it stopped.
 */
export function keepFetchedTypes(sql: postgres.Sql): boolean {
  const options = sql.options as typeof sql.options & { shared?: { typeArrayMap?: Record<number, number> } };
  // Nothing fetched yet (no connection has opened): leave it on, or arrays would not serialize.
  if (Object.keys(options.shared?.typeArrayMap ?? {}).length === 0) return false;
  options.fetch_types = false;
  return true;
}

/** An error whose `code` says an operation did not finish in time (a network that went silent). */
export function operationTimeout(ms: number): Error {
  return Object.assign(new Error(`the database did not answer within ${ms} ms`), { code: 'OPERATION_TIMEOUT' });
}

/** Rejects with `operationTimeout(ms)` when `promise` has not settled in time (it still runs). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(operationTimeout(ms)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs operations against the pool and keeps `health` true: a connection failure faults it
 * (writes then fail at once), and a probe each `probeEveryMs` clears it when the database is back.
 */
export class GuardedPool {
  readonly health: StorageHealth;
  readonly #sql: postgres.Sql;
  readonly #operationTimeoutMs: number;
  readonly #probeEveryMs: number;
  #probe: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: { sql: postgres.Sql; where: string; operationTimeoutMs: number; probeEveryMs?: number }) {
    this.#sql = options.sql;
    this.#operationTimeoutMs = options.operationTimeoutMs;
    this.#probeEveryMs = options.probeEveryMs ?? 1_000;
    this.health = new StorageHealth({ where: options.where, classify: postgresFaultOf });
  }

  get sql(): postgres.Sql {
    return this.#sql;
  }

  /** A write: refused at once while the database is known to be gone. */
  async write<T>(operation: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    const refused = this.health.unavailable();
    if (refused) throw refused;
    return this.#guard(operation);
  }

  /** A read: tried even while faulted (it is how a reader learns the database is back). */
  async read<T>(operation: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    return this.#guard(operation);
  }

  async #guard<T>(operation: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    try {
      const result = await withTimeout(operation(this.#sql), this.#operationTimeoutMs);
      return result;
    } catch (error) {
      const unavailable = this.health.fail(error);
      if (unavailable === null) throw error;
      this.#startProbing();
      throw unavailable;
    }
  }

  /**
   * A connection error that reached no caller (see `PostgresEventStore`'s stray-rejection
   * guard): fault the store as any failed operation would, so it answers 503 and probes.
   */
  noteLost(error: unknown): void {
    if (this.health.fail(error) !== null) this.#startProbing();
  }

  #startProbing(): void {
    if (this.#probe !== null || this.#closed) return;
    const tick = async () => {
      try {
        await withTimeout(this.#sql`SELECT 1`, this.#operationTimeoutMs);
        this.health.recover();
        this.#probe = null;
      } catch {
        if (!this.#closed) {
          this.#probe = setTimeout(tick, this.#probeEveryMs);
          this.#probe.unref();
        }
      }
    };
    this.#probe = setTimeout(tick, this.#probeEveryMs);
    this.#probe.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#probe) clearTimeout(this.#probe);
    this.#probe = null;
    await this.#sql.end({ timeout: 5 });
  }
}

/** What went wrong reaching the database, and what to do, naming it by its masked URL. */
export function explainConnectionError(error: unknown, where: string, timeoutMs: number): string {
  const code =
    error instanceof StorageUnavailableError
      ? error.fault.cause
      : String((error as { code?: unknown } | null)?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED')
    return `nothing answers at ${where} (connection refused): start PostgreSQL there, or fix the host and port in --store`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `the host in ${where} cannot be resolved (${code}): check the host name in --store`;
  if (code === 'CONNECT_TIMEOUT' || code === 'OPERATION_TIMEOUT' || code === 'ETIMEDOUT')
    return `${where} did not answer within ${timeoutMs} ms: check that the database is up and that a firewall lets this machine reach it`;
  if (code === '28P01' || code === '28000')
    return `${where} refused the user name or password (${code}): check the credentials in --store (OMISE_WEBHOOK_STORE)`;
  if (code === '3D000')
    return `the database named in ${where} does not exist (${code}): create it (CREATE DATABASE) or fix the name in --store`;
  if (code === '42501')
    return `the user in ${where} lacks a privilege (${code}: ${message}): grant it, or use the database's owner`;
  return `${where} could not be inspected (${code || 'error'}: ${message.replaceAll(where, '<url>')})`;
}
