/**
 * `npm run bench`: load the receiver and, in the same run, a bare node:http server, from
 * this process (the load generator) against servers in child processes on 127.0.0.1.
 *
 * Prints requests/s, p50/p99 latency, the ratio of the two, and checks that every 2xx the
 * receiver gave is a stored event. Options: BENCH_DURATION (seconds per run, default 10),
 * BENCH_CONNECTIONS (default "10,50"), BENCH_ONLY (comma list of sections: ingest, forwarding, inspector,
 * verifier, forged-flood, paced, startup). forged-flood (scripts/bench-forged.ts): valid webhooks at 50/s while forged ones
 * flood in. paced (scripts/bench-paced.ts): open-loop at 50, 1,000 and 2,000/s (BENCH_PACED_RATES), serve
 * against bare node:http, with the server's event-loop delay and syncs. startup (scripts/bench-startup.ts):
 * how long the CLI takes to start, against bare node. listen (scripts/bench-listen.ts): the time from serve's
 * receipt to a local app through `omise-webhook listen`, p50/p99 over a few hundred events.
 * The inspector section (scripts/bench-inspector.ts) fills a store with 100,000 events and
 * times the inspector API and the live stream; BENCH_INSPECTOR_EVENTS changes the count.
 * `--store postgres` (or BENCH_STORE=postgres) runs team mode's bench instead (scripts/bench-postgres.ts):
 * its own PostgreSQL cluster, ingest with one and two serve instances against bare node:http, forwarding
 * and listen on PostgreSQL.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { forgedFloodSection } from './bench-forged.js';
import { forwardingSection } from './bench-forwarding.js';
import { reportInspectorBench } from './bench-inspector.js';
import {
  benchEventBody,
  benchSignatureHeaders,
  type CpuPerRequest,
  cpuPerRequest,
  cpuSnapshot,
  log,
  root,
  startBareServer,
  startServe,
  stop,
} from './bench-kit.js';
import { listenSection } from './bench-listen.js';
import { pacedSection } from './bench-paced.js';
import { postgresBench } from './bench-postgres.js';
import { startupSection } from './bench-startup.js';
import { verifierSection } from './bench-verifier.js';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connectionsList = (process.env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);

interface RunResult {
  target: string;
  connections: number;
  requestsPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Where the CPU went: the server's and the load generator's per request, and the machine's use. */
  cpu: CpuPerRequest;
}

async function load(
  url: string,
  connections: number,
  target: string,
  runId: string,
  serverPid: number | undefined,
): Promise<RunResult> {
  let n = 0;
  const before = cpuSnapshot(serverPid);
  const result = await autocannon({
    url,
    connections,
    duration,
    method: 'POST',
    requests: [
      {
        setupRequest: (request: Record<string, unknown>) => {
          const body = benchEventBody(`evnt_test_${runId}${(n++).toString(36)}`);
          return {
            ...request,
            method: 'POST',
            body,
            headers: { 'Content-Type': 'application/json', ...benchSignatureHeaders(body) },
          };
        },
      },
    ],
  });
  const after = cpuSnapshot(serverPid);
  return {
    target,
    connections,
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpu: cpuPerRequest(before, after, result['2xx'] + result.non2xx),
  };
}

async function benchIngest(): Promise<{
  results: RunResult[];
  lostEvents: number;
  storedEvents: number;
  acknowledged: number;
}> {
  const logDir = mkdtempSync(join(tmpdir(), 'omise-webhook-bench-'));
  const results: RunResult[] = [];
  // The bare server runs first and alone: serve keeps working after a run (its event files lag
  // behind under load), which would otherwise take CPU from the bare server's runs.
  const { child: bare, port: barePort } = await startBareServer();
  for (const connections of connectionsList) {
    log(`bench: bare node:http, ${connections} connections, ${duration}s...`);
    results.push(
      await load(
        `http://127.0.0.1:${barePort}/omise/webhook`,
        connections,
        'bare node:http',
        `bare${connections}x`,
        bare.pid,
      ),
    );
  }
  await stop(bare);

  const { child: serve, webhookUrl: serveUrl } = await startServe({ logDir });
  log(`bench: receiver at ${serveUrl} (signature verification, SQLite store in ${logDir})`);
  let acknowledged = 0;
  for (const connections of connectionsList) {
    log(`bench: omise-webhook serve, ${connections} connections, ${duration}s...`);
    const run = await load(serveUrl, connections, 'omise-webhook serve', `c${connections}x`, serve.pid);
    acknowledged += run.ok;
    results.push(run);
  }
  await stop(serve);
  const db = new Database(join(logDir, 'omise-webhook.sqlite'), { readonly: true });
  const storedEvents = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  db.close();
  rmSync(logDir, { recursive: true, force: true });
  return { results, storedEvents, acknowledged, lostEvents: Math.max(0, acknowledged - storedEvents) };
}

function table(results: RunResult[]): string {
  const lines = [
    '| target | connections | requests/s | p50 ms | p99 ms | 2xx | non-2xx | errors | server CPU µs/req | loader CPU µs/req | server main thread busy | all CPUs busy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const show = (value: number | null, unit = '') => (value === null ? 'n/a' : `${value}${unit}`);
  for (const r of results) {
    lines.push(
      `| ${r.target} | ${r.connections} | ${Math.round(r.requestsPerSec)} | ${r.p50} | ${r.p99} | ${r.ok} | ${r.non2xx} | ${r.errors} | ${show(r.cpu.serverUs)} | ${r.cpu.loaderUs} | ${show(r.cpu.serverMainThreadBusyPercent, ' %')} | ${show(r.cpu.machineBusyPercent, ' %')} |`,
    );
  }
  return lines.join('\n');
}

/** The ingest section: prints its table and whether the targets were met. */
async function ingestSection(): Promise<void> {
  const ingest = await benchIngest();
  const lines: string[] = [
    '## Ingest: signature verification + SQLite, against a bare node:http server',
    '',
    table(ingest.results),
    '',
    "CPU columns: the server's CPU (all its threads) and the load generator's (this process) per request; how busy the server's " +
      `main thread (its event loop, which answers every request) was; and how busy all ${availableParallelism()} cores were. ` +
      'A main thread near 100 % means one core is the limit; all cores near 100 % means the machine is.',
    '',
  ];
  for (const connections of connectionsList) {
    const bare = ingest.results.find((r) => r.target === 'bare node:http' && r.connections === connections);
    const ours = ingest.results.find((r) => r.target === 'omise-webhook serve' && r.connections === connections);
    if (bare && ours) {
      lines.push(
        `- concurrency ${connections}: ratio ${(ours.requestsPerSec / bare.requestsPerSec).toFixed(2)} of the bare server's throughput; p99 ${ours.p99} ms`,
      );
    }
  }
  lines.push(
    `- acknowledged (2xx) ${ingest.acknowledged}, stored ${ingest.storedEvents}, lost ${ingest.lostEvents}`,
    '',
  );
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  mkdirSync(join(root, 'bench-output'), { recursive: true });
  writeFileSync(join(root, 'bench-output', 'ingest.md'), report);
  writeFileSync(join(root, 'bench-output', 'ingest.json'), JSON.stringify(ingest, null, 2));
  const c50 = ingest.results.filter((r) => r.connections === 50);
  const ratio50 =
    (c50.find((r) => r.target === 'omise-webhook serve')?.requestsPerSec ?? 0) /
    (c50.find((r) => r.target === 'bare node:http')?.requestsPerSec ?? 1);
  const p99 = c50.find((r) => r.target === 'omise-webhook serve')?.p99 ?? Infinity;
  const pass = ratio50 >= 0.5 && p99 < 10 && ingest.lostEvents === 0;
  process.stdout.write(`target (c=50: ratio >= 0.5, p99 < 10 ms, nothing lost): ${pass ? 'met' : 'NOT met'}\n`);
}

// `npm run bench -- --store postgres` (or BENCH_STORE=postgres): team mode's bench on its own
// PostgreSQL cluster (scripts/bench-postgres.ts) instead of the SQLite sections.
const storeFlag = process.argv.indexOf('--store');
const benchStore = storeFlag >= 0 ? process.argv[storeFlag + 1] : (process.env.BENCH_STORE ?? 'sqlite');
if (benchStore !== 'sqlite' && benchStore !== 'postgres') {
  process.stderr.write(`--store (BENCH_STORE) got "${benchStore}"; expected sqlite (the default) or postgres\n`);
  process.exit(2);
}
if (benchStore === 'postgres') {
  await postgresBench();
  process.exit(0);
}

const SECTIONS = [
  'ingest',
  'forwarding',
  'inspector',
  'verifier',
  'forged-flood',
  'paced',
  'startup',
  'listen',
] as const;
const only = (process.env.BENCH_ONLY ?? SECTIONS.join(','))
  .split(',')
  .map((section) => section.trim())
  .filter(Boolean);
const unknownSection = only.find((section) => !(SECTIONS as readonly string[]).includes(section));
if (unknownSection !== undefined) {
  process.stderr.write(`BENCH_ONLY got "${unknownSection}"; the sections are ${SECTIONS.join(', ')}\n`);
  process.exit(2);
}
if (only.includes('ingest')) await ingestSection();
if (only.includes('forwarding')) await forwardingSection();
if (only.includes('inspector')) await reportInspectorBench();
if (only.includes('verifier')) await verifierSection();
if (only.includes('forged-flood')) await forgedFloodSection();
if (only.includes('paced')) await pacedSection();
if (only.includes('startup')) await startupSection();
if (only.includes('listen')) await listenSection();
