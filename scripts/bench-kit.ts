/**
 * What every benchmark section shares: the webhook secret, progress lines, waiting for a child
 * process to say it is ready, starting `omise-webhook serve` and the bare node:http server,
 * stopping children, and reading CPU times from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;
export const BENCH_SECRET = Buffer.from('benchmark webhook secret 32 bytes').toString('base64');
export const BENCH_SECRET_KEY = Buffer.from(BENCH_SECRET, 'base64');

/** Progress goes to stderr; the report goes to stdout. */
export function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

/**
 * Resolves with the matches once every pattern has appeared in the child's output. Afterwards the
 * output is still drained (and dropped), so a chatty child never blocks on a full pipe.
 */
export function waitForLines(
  child: ChildProcess,
  patterns: readonly RegExp[],
  what: string,
): Promise<RegExpExecArray[]> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let ready = false;
    const onData = (chunk: Buffer) => {
      if (ready) return;
      seen += chunk.toString('utf8');
      const matches = patterns.map((pattern) => pattern.exec(seen));
      if (matches.every((match) => match !== null)) {
        ready = true;
        resolve(matches as RegExpExecArray[]);
      }
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`${what} exited with ${code} before it was ready:\n${seen}`));
    });
  });
}

export async function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  const [match] = await waitForLines(child, [pattern], what);
  return match as RegExpExecArray;
}

/** The reference every section measures against: node:http answering `{}` once the body is drained. */
const BARE_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.writeHead(200, {'Content-Type': 'application/json'}); res.end('{}'); }); });
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/**
 * The bare server plus the least that a durable acknowledgement costs: each body written into a
 * preallocated file (BARE_DURABLE_FILE, 8 MiB, reused from the start when full) and synced with
 * fdatasync on the main thread before the `{}`. No verification, no parsing, no database: whatever
 * design a receiver has, it pays at least this much, so it is the floor under `serve`'s
 * latency on this machine's disk. (Synced through the thread pool instead, the way `serve` syncs,
 * it was no faster: README, "Paced latency".)
 */
const DURABLE_BARE_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const SIZE = 8 * 1024 * 1024;
const fd = fs.openSync(process.env.BARE_DURABLE_FILE, 'w+');
fs.writeSync(fd, Buffer.alloc(SIZE), 0, SIZE, 0);
fs.fsyncSync(fd);
let offset = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (offset + body.length > SIZE) offset = 0;
    fs.writeSync(fd, body, 0, Math.min(body.length, SIZE), offset);
    fs.fdatasyncSync(fd);
    offset += Math.ceil(body.length / 4096) * 4096;
    res.writeHead(200, {'Content-Type': 'application/json'});
    res.end('{}');
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
process.on('SIGTERM', () => server.close(() => { fs.closeSync(fd); process.exit(0); }));
`;

/**
 * Starts the bare node:http server (with `nodeArgs`, e.g. a preload, and `env`) and resolves once
 * it listens. With `durableFile`, it is the durable floor instead (see DURABLE_BARE_SERVER).
 */
export async function startBareServer(
  options: { nodeArgs?: readonly string[]; env?: Readonly<Record<string, string>>; durableFile?: string } = {},
): Promise<{ child: ChildProcess; port: number }> {
  const script = options.durableFile === undefined ? BARE_SERVER : DURABLE_BARE_SERVER;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...options.env,
      ...(options.durableFile === undefined ? {} : { BARE_DURABLE_FILE: options.durableFile }),
    },
  });
  const port = Number((await waitForLine(child, /listening on (\d+)/, 'bare server'))[1]);
  return { child, port };
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Starts `omise-webhook serve` on port 0 with signature verification (BENCH_SECRET), the given
 * log directory and extra flags; resolves once its banner names the webhook URL (and, unless
 * `--no-ui` is among the flags, the inspector URL). BENCH_NODE_ARGS adds node flags (e.g.
 * `--cpu-prof`).
 */
export async function startServe(options: {
  logDir: string;
  args?: readonly string[];
  /** Node flags before the CLI (e.g. the loop-delay probe's `--import`). */
  nodeArgs?: readonly string[];
  /** Added to the child's environment. */
  env?: Readonly<Record<string, string>>;
}): Promise<{
  child: ChildProcess;
  webhookUrl: string;
  inspectorUrl: string | null;
}> {
  const args = options.args ?? [];
  const withUi = !args.includes('--no-ui');
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ...(options.nodeArgs ?? []),
      join(root, 'packages/cli/bin/omise-webhook.js'),
      'serve',
      '--port',
      '0',
      ...(withUi ? ['--ui-port', '0'] : []),
      '--log-dir',
      options.logDir,
      '--json',
      ...args,
    ],
    {
      cwd: options.logDir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, OMISE_WEBHOOK_SECRET: BENCH_SECRET, NO_COLOR: '1', ...options.env },
    },
  );
  const patterns = [/POST (http:\/\/\S+)/, ...(withUi ? [/inspector: (http:\/\/\S+\/)/] : [])];
  const [webhook, inspector] = await waitForLines(child, patterns, 'omise-webhook serve');
  return { child, webhookUrl: webhook?.[1] as string, inspectorUrl: inspector?.[1] ?? null };
}

/**
 * A realistic webhook body, pretty-printed like Omise's (unicode, `\/` escapes, an empty array
 * as `[\n\n  ]`), for the event `id`; the object ids are derived from it so every one is unique.
 */
export function benchEventBody(id: string): string {
  const suffix = id.replace(/^evnt_test_/, '');
  return `{
  "object": "event",
  "id": "${id}",
  "livemode": false,
  "location": "\\/events\\/${id}",
  "webhook_deliveries": [

  ],
  "data": {
    "object": "charge",
    "id": "chrg_test_${suffix}",
    "livemode": false,
    "location": "\\/charges\\/chrg_test_${suffix}",
    "amount": 100000,
    "currency": "thb",
    "description": "ค่าสินค้า order ${suffix}",
    "status": "successful",
    "capture": true,
    "authorized": true,
    "paid": true,
    "transaction": "trxn_test_${suffix}",
    "card": {
      "object": "card",
      "id": "card_test_${suffix}",
      "livemode": false,
      "brand": "Visa",
      "last_digits": "4242",
      "name": "JOHN DOE"
    },
    "metadata": {
      "order_id": "A${suffix}"
    },
    "created_at": "2026-11-26T07:00:00Z"
  },
  "key": "charge.create",
  "created_at": "2026-11-26T07:00:00Z"
}`;
}

/** The p-th percentile (0-100) of the values, by the nearest rank below; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * p50, p99 and max of some latencies (NaN for none), each rounded to `decimals`. The max is found
 * with a loop: spreading an hour's 180,000 values into Math.max overflows the stack.
 */
export function latencySummary(values: readonly number[], decimals = 2): { p50: number; p99: number; max: number } {
  let max = values.length === 0 ? Number.NaN : Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  const scale = 10 ** decimals;
  const round = (value: number) => Math.round(value * scale) / scale;
  return { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)), max: round(max) };
}

/** The signature headers for a body signed now with BENCH_SECRET, as Omise sends them. */
export function benchSignatureHeaders(body: string): {
  'Omise-Signature': string;
  'Omise-Signature-Timestamp': string;
} {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    'Omise-Signature': createHmac('sha256', BENCH_SECRET_KEY).update(`${timestamp}.${body}`).digest('hex'),
    'Omise-Signature-Timestamp': timestamp,
  };
}

/** CPU time used so far by a child process, the load generator (this process) and the machine. */
export interface CpuSnapshot {
  /** The child's user + system CPU in µs, or null where /proc cannot be read (not Linux). */
  childUs: number | null;
  /** The same for the child's main thread only (its event loop), or null. */
  childMainThreadUs: number | null;
  /** When the snapshot was taken (performance.now(), ms). */
  at: number;
  /** This process's user + system CPU in µs. */
  loaderUs: number;
  /** The machine's busy and total CPU time in clock ticks (from /proc/stat), or null. */
  machine: { busy: number; total: number } | null;
}

/** The kernel's clock tick for /proc's CPU times: 100 per second on every Linux we run on. */
const CLOCK_TICKS_PER_SECOND = 100;

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * User + system CPU in µs from a /proc `stat` file, or null when it cannot be read. With
 * `reaped`, also the CPU of the children it has waited for (cutime + cstime).
 */
function procCpuUs(path: string, reaped = false): number | null {
  const stat = readProc(path);
  if (stat === null) return null;
  // Fields after the command name (which may contain spaces): utime, stime, cutime and cstime
  // are the 12th to 15th.
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const ticks = (fields[11] ?? 0) + (fields[12] ?? 0) + (reaped ? (fields[13] ?? 0) + (fields[14] ?? 0) : 0);
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

/** User + system CPU of process `pid` in µs (with `reaped`, its waited-for children's too); 0 once it is gone. */
export function processCpuUs(pid: number, options: { reaped?: boolean } = {}): number {
  return procCpuUs(`/proc/${pid}/stat`, options.reaped) ?? 0;
}

/**
 * A PostgreSQL server's CPU so far, in µs: its postmaster with every child it reaped (backends
 * that ended) plus the children still running (backends, checkpointer, WAL writer). Reaped
 * children count too, so a backend that ends between two readings is not lost from the
 * difference. Linux only; 0 elsewhere.
 */
export function postgresServerCpuUs(dataDir: string): number {
  const pidFile = readProc(join(dataDir, 'postmaster.pid'));
  if (pidFile === null) return 0;
  const postmaster = Number(pidFile.split('\n')[0]);
  let total = processCpuUs(postmaster, { reaped: true });
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    // Gone between the listing and the read: its time is in the postmaster's reaped total.
    if (stat === null) continue;
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === postmaster) total += processCpuUs(Number(name));
  }
  return total;
}

export function cpuSnapshot(childPid: number | undefined): CpuSnapshot {
  const usage = process.cpuUsage();
  const childUs = childPid === undefined ? null : procCpuUs(`/proc/${childPid}/stat`);
  const childMainThreadUs = childPid === undefined ? null : procCpuUs(`/proc/${childPid}/task/${childPid}/stat`);
  let machine: CpuSnapshot['machine'] = null;
  const cpuLine = readProc('/proc/stat')?.split('\n')[0];
  if (cpuLine?.startsWith('cpu ')) {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = cpuLine.split(/\s+/).slice(1).map(Number);
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
    machine = { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
  }
  return { childUs, childMainThreadUs, at: performance.now(), loaderUs: usage.user + usage.system, machine };
}

/** CPU per request between two snapshots, for telling a CPU-bound run from a waiting one. */
export interface CpuPerRequest {
  /** The server's CPU per request in µs (all its threads), or null. */
  serverUs: number | null;
  /** The load generator's CPU per request in µs. */
  loaderUs: number;
  /** How busy the server's main thread (which answers every request) was, in percent, or null. */
  serverMainThreadBusyPercent: number | null;
  /** How busy all of the machine's cores were, in percent, or null. */
  machineBusyPercent: number | null;
}

export function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): CpuPerRequest {
  const per = (us: number) => us / Math.max(1, requests);
  const serverUs =
    before.childUs === null || after.childUs === null ? null : Math.round(per(after.childUs - before.childUs));
  const machineBusyPercent =
    before.machine === null || after.machine === null || after.machine.total === before.machine.total
      ? null
      : Math.round((100 * (after.machine.busy - before.machine.busy)) / (after.machine.total - before.machine.total));
  const elapsedUs = (after.at - before.at) * 1000;
  const serverMainThreadBusyPercent =
    before.childMainThreadUs === null || after.childMainThreadUs === null || elapsedUs <= 0
      ? null
      : Math.round((100 * (after.childMainThreadUs - before.childMainThreadUs)) / elapsedUs);
  return {
    serverUs,
    loaderUs: Math.round(per(after.loaderUs - before.loaderUs)),
    serverMainThreadBusyPercent,
    machineBusyPercent,
  };
}
