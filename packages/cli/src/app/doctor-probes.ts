import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, constants, stat, unlink, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { HEALTHZ_SERVICE } from '../adapters/http/webhook-listener.js';
import { OmiseApiClient, OmiseApiError } from '../adapters/omise-api/omise-api-client.js';
import { SqliteEventStore } from '../adapters/store/sqlite-event-store.js';
import type {
  ApiProbeResult,
  DirectoryProbeResult,
  DoctorProbes,
  ListenerProbeResult,
  PortProbeResult,
  PostgresProbeResult,
  PostgresProblem,
  StoreProbeResult,
} from '../core/doctor-checks.js';
import { storeFile } from './server.js';

export interface DoctorProbeOptions {
  fetch?: typeof fetch;
  /** Where relative paths (the log directory) are resolved from. */
  cwd: string;
  apiTimeoutMs?: number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `GET /events?limit=1`: the cheapest call that proves a key works. */
async function probeOmiseApi(
  options: { secretKey: string; apiUrl: string },
  probeOptions: DoctorProbeOptions,
): Promise<ApiProbeResult> {
  const client = new OmiseApiClient({
    secretKey: options.secretKey,
    baseUrl: options.apiUrl,
    timeoutMs: probeOptions.apiTimeoutMs ?? 10_000,
    ...(probeOptions.fetch ? { fetch: probeOptions.fetch } : {}),
  });
  try {
    const response = await client.listEvents({ limit: 1 });
    return { kind: 'ok', total: typeof response.data.total === 'number' ? response.data.total : null };
  } catch (error) {
    if (!(error instanceof OmiseApiError)) return { kind: 'unreachable', message: errorMessage(error) };
    if (error.status === 0) {
      // The client's message already names the URL and says to check the network; keep the cause.
      const cause = /\((.*)\); check your network/.exec(error.message)?.[1];
      return { kind: 'unreachable', message: cause ?? error.message };
    }
    if (error.status === 401 || error.status === 403) {
      return { kind: 'rejected', status: error.status, code: error.code, message: error.message };
    }
    return { kind: 'error', status: error.status, code: error.code, message: error.message };
  }
}

/** Listens on host:port exactly as the webhook listener would, then lets go at once. */
function probePort(options: { host: string; port: number }): Promise<PortProbeResult> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolvePort({ kind: 'in_use' });
      else if (error.code === 'EACCES') resolvePort({ kind: 'denied' });
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') resolvePort({ kind: 'no_such_address' });
      else resolvePort({ kind: 'error', message: error.message });
    });
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
      server.close(() => resolvePort({ kind: 'free' }));
    });
  });
}

/** Where to reach a listener bound to every address: its loopback twin. */
function loopbackUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * One GET on loopback, with its own socket (no keep-alive pool), destroyed after `timeoutMs`:
 * a program that holds the port but never answers must not keep doctor, or the port, waiting.
 */
function getJson(
  url: string,
  options: { headers?: Record<string, string>; timeoutMs?: number },
): Promise<{ status: number; body: unknown } | null> {
  return new Promise((resolveGet) => {
    const request = httpGet(url, { agent: false, headers: options.headers ?? {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', () => resolveGet(null));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolveGet({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          resolveGet({ status: response.statusCode ?? 0, body: null });
        }
      });
    });
    request.setTimeout(options.timeoutMs ?? 1000, () => request.destroy(new Error('no answer')));
    request.on('error', () => resolveGet(null));
  });
}

/**
 * Asks what holds a busy port: serve's webhook listener answers `GET /healthz` with its
 * service name; its inspector answers `GET /api/status` (or 401 when it needs its token).
 */
async function probeWhoListens(options: {
  host: string;
  port: number;
  uiToken?: string;
}): Promise<ListenerProbeResult> {
  const base = loopbackUrl(options.host, options.port);
  const health = await getJson(`${base}/healthz`, {});
  if (health === null) return { kind: 'unknown' };
  if ((health.body as { service?: unknown } | null)?.service === HEALTHZ_SERVICE) return { kind: 'serve' };
  const status = await getJson(`${base}/api/status`, {
    ...(options.uiToken ? { headers: { Authorization: `Bearer ${options.uiToken}` } } : {}),
  });
  const body = status?.body as Record<string, unknown> | null | undefined;
  if (status?.status === 200 && typeof body?.verificationMode === 'string' && typeof body.webhookUrl === 'string') {
    return {
      kind: 'inspector',
      status: {
        webhookUrl: body.webhookUrl,
        publicUrl: typeof body.publicUrl === 'string' ? body.publicUrl : null,
        verificationMode: body.verificationMode,
      },
    };
  }
  if (status?.status === 401 && body?.error === 'unauthorized' && String(body.message).includes('inspector')) {
    return { kind: 'inspector_locked' };
  }
  return { kind: 'unknown' };
}

/**
 * Writes and removes a small file in the directory; for a directory that does not exist
 * yet, checks that the nearest existing parent is a writable directory (nothing is created).
 */
async function probeDirectory(path: string): Promise<DirectoryProbeResult> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return { kind: 'not_writable', message: 'it is a file, not a directory' };
    const probe = join(path, `.omise-webhook-doctor-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, '');
    await unlink(probe);
    return { kind: 'writable', exists: true };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: some parent is a file; the walk up below finds and names it.
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return { kind: 'not_writable', message: errorMessage(error) };
  }
  let parent = dirname(path);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  // existsSync is false below a file, so the loop stops at the file itself.
  try {
    const info = await stat(parent);
    if (!info.isDirectory()) return { kind: 'not_writable', message: `${parent} is a file, not a directory` };
    await access(parent, constants.W_OK);
    return { kind: 'writable', exists: false };
  } catch (error) {
    return { kind: 'not_writable', message: `${parent} is not writable (${errorMessage(error)})` };
  }
}

/** Opens the store `serve` would use; when there is none yet, proves SQLite loads at all. */
async function probeStore(logDir: string): Promise<StoreProbeResult> {
  const file = storeFile(logDir);
  if (!existsSync(file)) {
    try {
      const scratch = new SqliteEventStore({ filename: ':memory:' });
      await scratch.close();
      return { kind: 'absent', file };
    } catch (error) {
      return { kind: 'failed', file, message: `SQLite does not load here: ${errorMessage(error)}` };
    }
  }
  let store: SqliteEventStore | undefined;
  try {
    store = new SqliteEventStore({ filename: file });
    const stats = await store.stats();
    return { kind: 'opened', file, events: stats.total };
  } catch (error) {
    return { kind: 'failed', file, message: errorMessage(error) };
  } finally {
    await store?.close().catch(() => {});
  }
}

/**
 * Which of the failures doctor advises on `inspectPostgres` met. Its messages carry the cause
 * (connection refused, the SQLSTATE, the timeout) in fixed words; the test against the real
 * cluster keeps this in step with them.
 */
export function postgresProblemOf(message: string): PostgresProblem {
  if (/connection refused/.test(message)) return 'refused';
  if (/cannot be resolved/.test(message)) return 'unknown_host';
  if (/\((28P01|28000)\)/.test(message)) return 'auth_failed';
  if (/\(3D000\)/.test(message)) return 'no_database';
  if (/did not answer within/.test(message)) return 'timeout';
  return 'other';
}

/** Connects once (PostgreSQL loaded only for a postgres:// store) and reads what doctor reports. */
export async function probePostgres(url: string, options: { timeoutMs?: number } = {}): Promise<PostgresProbeResult> {
  const { inspectPostgres } = await import('../adapters/store/postgres/index.js');
  const report = await inspectPostgres(url, { timeoutMs: options.timeoutMs ?? 5_000 });
  if (!report.reachable) {
    const message = report.error ?? 'could not connect';
    return { kind: 'unreachable', problem: postgresProblemOf(message), message };
  }
  // inspectPostgres also words the schema and privilege verdicts; doctor words its own from the facts.
  const factsRead = report.schemaVersion !== undefined && report.canCreate !== undefined;
  return {
    kind: 'reachable',
    serverVersion: report.serverVersion ?? 'unknown version',
    schemaVersion: report.schemaVersion ?? null,
    codeSchemaVersion: report.codeSchemaVersion,
    canCreate: report.canCreate ?? false,
    canWrite: report.canWrite ?? false,
    ...(factsRead ? {} : { error: report.error ?? 'the schema and privileges could not be read' }),
  };
}

/**
 * The real probes behind `omise-webhook doctor`: the Omise API through OmiseApiClient, a
 * trial listen on the port, a trial write in the log directory, and the SQLite store.
 */
export function createDoctorProbes(options: DoctorProbeOptions): DoctorProbes {
  return {
    omiseApi: (api) => probeOmiseApi(api, options),
    port: probePort,
    whoListens: probeWhoListens,
    directory: (path) => probeDirectory(resolve(options.cwd, path)),
    store: (logDir) => probeStore(resolve(options.cwd, logDir)),
    postgres: (url) => probePostgres(url),
  };
}
