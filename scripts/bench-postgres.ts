/**
 * `npm run bench -- --store postgres` (or BENCH_STORE=postgres): team mode's numbers, on a
 * throwaway PostgreSQL cluster this starts (fsync on, PostgreSQL's default durability).
 *
 * - ingest at concurrency 50 (BENCH_PG_CONNECTIONS): bare node:http, one `serve` on the
 *   database, and two `serve` instances on one database with the load split between them, all in
 *   this run; requests/s, latency, and where the time goes: CPU per request of serve(s), of
 *   PostgreSQL (the postmaster and its backends) and of the load generator, and the database's
 *   transactions that wrote, WAL bytes and WAL syncs per acknowledged event;
 * - forwarding on PostgreSQL (the forwarding section, its serves on a fresh database);
 * - listen from a PostgreSQL serve to a local app (the listen section, on a fresh database).
 * Every run checks that each acknowledged event is stored. Goals: one instance at least 0.25 of
 * bare node:http; two instances not slower than one; listen's p50 under 20 ms.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { forwardingSection } from './bench-forwarding.js';
import {
  benchEventBody,
  benchSignatureHeaders,
  log,
  postgresServerCpuUs,
  processCpuUs,
  root,
  startBareServer,
  startServe,
  stop,
} from './bench-kit.js';
import { listenSection } from './bench-listen.js';
import { type PostgresCluster, startPostgresCluster } from './postgres-cluster.mjs';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_PG_CONNECTIONS ?? 50);
const GOAL_ONE_OF_BARE = 0.25;

/**
 * The cluster's counters now (it is this bench's alone): the transaction id counter (each
 * transaction that writes takes one; this read takes one too), WAL bytes written, and WAL
 * syncs (from the statistics, which backends report within about a second of going idle).
 */
async function databaseCounters(adminUrl: string): Promise<{ xid: number; walBytes: number; walSyncs: number }> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<Array<{ xid: string; wal_bytes: string; wal_syncs: string }>>`
      SELECT pg_current_xact_id()::text AS xid, (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS wal_bytes,
             (SELECT wal_sync FROM pg_stat_wal)::text AS wal_syncs`;
    return { xid: Number(row?.xid ?? 0), walBytes: Number(row?.wal_bytes ?? 0), walSyncs: Number(row?.wal_syncs ?? 0) };
  } finally {
    await sql.end();
  }
}

async function freshDatabase(cluster: PostgresCluster, name: string): Promise<string> {
  const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** How many of `ids` the database does not hold. */
async function missingEvents(url: string, ids: readonly string[]): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM unnest(${ids as string[]}::text[]) AS sent(id)
      WHERE NOT EXISTS (SELECT 1 FROM events WHERE event_id = sent.id)`;
    return row?.n ?? -1;
  } finally {
    await sql.end();
  }
}

interface LoadResult {
  requestsPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Ids answered 2xx, to check against the database. */
  acknowledged: string[];
}

/**
 * Autocannon at `url` with `conns` connections, every request a new signed event. Each
 * connection has one request at a time, so its context carries the id from setup to answer.
 */
async function load(url: string, conns: number, runId: string): Promise<LoadResult> {
  let n = 0;
  const acknowledged: string[] = [];
  const result = await autocannon({
    url,
    connections: conns,
    duration,
    method: 'POST',
    requests: [
      {
        setupRequest: (request: Record<string, unknown>, context: Record<string, unknown>) => {
          const id = `evnt_test_${runId}${(n++).toString(36)}`;
          context.id = id;
          const body = benchEventBody(id);
          return {
            ...request,
            method: 'POST',
            body,
            headers: { 'Content-Type': 'application/json', ...benchSignatureHeaders(body) },
          };
        },
        onResponse: (status: number, _body: string, context: Record<string, unknown>) => {
          if (status >= 200 && status < 300) acknowledged.push(context.id as string);
        },
      },
    ],
  });
  return {
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    acknowledged,
  };
}

interface IngestRow {
  target: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  serveCpuUsPerReq: number | null;
  pgCpuUsPerReq: number | null;
  loaderCpuUsPerReq: number;
  /** Transactions that wrote, per acknowledged event (the counter's own read left out). */
  writeTransactionsPerEvent: number | null;
  walBytesPerEvent: number | null;
  walSyncsPerEvent: number | null;
  machineBusyPercent: number;
  /** Acknowledged (2xx) but not in the database. */
  lost: number | null;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

/** Measures one ingest run: `drive` loads the servers; CPU and database counters around it. */
async function measure(options: {
  target: string;
  cluster: PostgresCluster | null;
  servePids: number[];
  drive: () => Promise<LoadResult[]>;
  /** How many of the acknowledged ids the database lacks. */
  lostCount?: (acknowledged: string[]) => Promise<number>;
}): Promise<IngestRow> {
  const { cluster, servePids } = options;
  const counters = cluster ? await databaseCounters(cluster.url) : null;
  const serveBefore = servePids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
  const pgBefore = cluster ? postgresServerCpuUs(cluster.dataDir) : 0;
  const loaderBefore = process.cpuUsage();
  const machineBefore = machineTicks();
  const results = await options.drive();
  const machineAfter = machineTicks();
  const loaderAfter = process.cpuUsage();
  const serveAfter = servePids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
  const pgAfter = cluster ? postgresServerCpuUs(cluster.dataDir) : 0;
  // PostgreSQL's statistics reach the shared counters within about a second of going idle.
  if (cluster) await new Promise((resolve) => setTimeout(resolve, 1500));
  const countersAfter = cluster ? await databaseCounters(cluster.url) : null;
  const ok = results.reduce((sum, r) => sum + r.ok, 0);
  const answered = ok + results.reduce((sum, r) => sum + r.non2xx, 0);
  const per = (us: number) => Math.round(us / Math.max(1, answered));
  const perEvent = (count: number) => Math.round((count / Math.max(1, ok)) * 100) / 100;
  return {
    target: options.target,
    requestsPerSec: results.reduce((sum, r) => sum + r.requestsPerSec, 0),
    // Two instances: the slower side's latency.
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    ok,
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    serveCpuUsPerReq: servePids.length > 0 ? per(serveAfter - serveBefore) : null,
    pgCpuUsPerReq: cluster ? per(pgAfter - pgBefore) : null,
    loaderCpuUsPerReq: per(loaderAfter.user + loaderAfter.system - loaderBefore.user - loaderBefore.system),
    writeTransactionsPerEvent: counters && countersAfter ? perEvent(countersAfter.xid - counters.xid - 1) : null,
    walBytesPerEvent:
      counters && countersAfter ? Math.round((countersAfter.walBytes - counters.walBytes) / Math.max(1, ok)) : null,
    walSyncsPerEvent: counters && countersAfter ? perEvent(countersAfter.walSyncs - counters.walSyncs) : null,
    machineBusyPercent: Math.round(
      (100 * (machineAfter.busy - machineBefore.busy)) / Math.max(1, machineAfter.total - machineBefore.total),
    ),
    lost: options.lostCount ? await options.lostCount(results.flatMap((r) => r.acknowledged)) : null,
  };
}

async function ingestSection(cluster: PostgresCluster): Promise<IngestRow[]> {
  const rows: IngestRow[] = [];
  const { child: bare, port: barePort } = await startBareServer();
  log(`bench postgres: bare node:http, ${connections} connections, ${duration}s...`);
  rows.push(
    await measure({
      target: 'bare node:http',
      cluster: null,
      servePids: [bare.pid as number],
      drive: async () => [await load(`http://127.0.0.1:${barePort}/omise/webhook`, connections, 'bare')],
    }),
  );
  await stop(bare);

  const oneUrl = await freshDatabase(cluster, 'bench_one');
  const oneDir = mkdtempSync(join(tmpdir(), 'omise-webhook-bench-pg-'));
  const one = await startServe({ logDir: oneDir, args: ['--no-ui', '--store', oneUrl] });
  log(
    `bench postgres: one serve on ${cluster.url.replace(/\/[^/]*$/, '/bench_one')}, ${connections} connections, ${duration}s...`,
  );
  rows.push(
    await measure({
      target: 'serve ×1 on PostgreSQL',
      cluster,
      servePids: [one.child.pid as number],
      drive: async () => [await load(one.webhookUrl, connections, 'one')],
      lostCount: (ids) => missingEvents(oneUrl, ids),
    }),
  );
  await stop(one.child);
  rmSync(oneDir, { recursive: true, force: true });

  const twoUrl = await freshDatabase(cluster, 'bench_two');
  const twoDirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'omise-webhook-bench-pg-')));
  const two: Array<Awaited<ReturnType<typeof startServe>>> = [];
  for (const dir of twoDirs) two.push(await startServe({ logDir: dir, args: ['--no-ui', '--store', twoUrl] }));
  const half = Math.floor(connections / 2);
  log(`bench postgres: two serves on one database, ${half} + ${connections - half} connections, ${duration}s...`);
  rows.push(
    await measure({
      target: 'serve ×2 on one PostgreSQL',
      cluster,
      servePids: two.map((s) => s.child.pid as number),
      drive: () =>
        Promise.all([
          load((two[0] as (typeof two)[number]).webhookUrl, half, 'twoa'),
          load((two[1] as (typeof two)[number]).webhookUrl, connections - half, 'twob'),
        ]),
      lostCount: (ids) => missingEvents(twoUrl, ids),
    }),
  );
  for (const serve of two) await stop(serve.child);
  for (const dir of twoDirs) rmSync(dir, { recursive: true, force: true });
  return rows;
}

function ingestTable(rows: readonly IngestRow[]): string {
  const show = (value: number | null) => (value === null ? '-' : String(value));
  return [
    '| target | requests/s | p50 ms | p99 ms | 2xx | non-2xx | errors | lost | serve CPU µs/req | PostgreSQL CPU µs/req | loader CPU µs/req | write transactions/event | WAL bytes/event | WAL syncs/event | all CPUs busy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${Math.round(r.requestsPerSec)} | ${r.p50} | ${r.p99} | ${r.ok} | ${r.non2xx} | ${r.errors} | ${show(r.lost)} | ${show(r.serveCpuUsPerReq)} | ${show(r.pgCpuUsPerReq)} | ${r.loaderCpuUsPerReq} | ${show(r.writeTransactionsPerEvent)} | ${show(r.walBytesPerEvent)} | ${show(r.walSyncsPerEvent)} | ${r.machineBusyPercent} % |`,
    ),
  ].join('\n');
}

/** The PostgreSQL bench: its own cluster (fsync on), ingest, forwarding and listen on it. */
export async function postgresBench(): Promise<void> {
  log('bench postgres: starting a throwaway PostgreSQL cluster (fsync on)...');
  const cluster = await startPostgresCluster({});
  try {
    const rows = await ingestSection(cluster);
    const [bare, one, two] = rows as [IngestRow, IngestRow, IngestRow];
    const oneOfBare = one.requestsPerSec / bare.requestsPerSec;
    const twoOfOne = two.requestsPerSec / one.requestsPerSec;
    const lost = [one, two].map((r) => r.lost ?? 0);
    const report = [
      `## Team mode on PostgreSQL: ingest at concurrency ${connections}, ${duration}s each (fsync on)`,
      '',
      ingestTable(rows),
      '',
      `- one instance: ${oneOfBare.toFixed(2)} of bare node:http (goal ≥ ${GOAL_ONE_OF_BARE}); two instances: ${twoOfOne.toFixed(2)} of one (goal ≥ 1.00)`,
      `- acknowledged (2xx) but not in the database: ${lost[0]} (one instance), ${lost[1]} (two)`,
      `- CPU columns per answered request; "all CPUs busy" over all ${availableParallelism()} cores, load generator and PostgreSQL included`,
      '',
    ].join('\n');
    process.stdout.write(`${report}\n`);
    mkdirSync(join(root, 'bench-output'), { recursive: true });
    writeFileSync(join(root, 'bench-output', 'postgres-ingest.md'), report);
    writeFileSync(join(root, 'bench-output', 'postgres-ingest.json'), JSON.stringify(rows, null, 2));
    process.stdout.write(
      `target (one ≥ ${GOAL_ONE_OF_BARE} of bare, two ≥ one, nothing lost): ${
        oneOfBare >= GOAL_ONE_OF_BARE && twoOfOne >= 1 && lost.every((n) => n === 0) ? 'met' : 'NOT met'
      }\n\n`,
    );

    // The other sections start serve through startServe, which passes this environment on.
    process.env.OMISE_WEBHOOK_STORE = await freshDatabase(cluster, 'bench_forwarding');
    process.stdout.write('# Forwarding with the PostgreSQL store\n\n');
    await forwardingSection();
    process.env.OMISE_WEBHOOK_STORE = await freshDatabase(cluster, 'bench_listen');
    process.stdout.write('\n# listen from a serve on PostgreSQL\n\n');
    await listenSection();
  } finally {
    delete process.env.OMISE_WEBHOOK_STORE;
    await cluster.stop();
  }
}
