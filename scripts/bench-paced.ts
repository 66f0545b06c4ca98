/**
 * `BENCH_ONLY=paced npm run bench`: what a sender feels at the rates webhooks really arrive
 * (issue 16). An open-loop client sends each signed webhook at its scheduled time over 50
 * keep-alive connections and counts latency from that time, so a stall shows on every request
 * due during it (no coordinated omission). Rates BENCH_PACED_RATES (default 50,1000,2000) for
 * BENCH_DURATION seconds each, against `serve` with its defaults (signature verification, the
 * durable SQLite store, files, the inspector) and, in the same run, a bare node:http server that
 * only drains the body, and `serve --store memory --no-files`: the same receiver with nothing
 * written to disk, which shows how much of serve's latency is storage and how much is the rest (HTTP,
 * verification, parsing, the console, files and inspector) on this machine. At 50/s also the
 * durable floor: the bare server syncing each body to a file before answering (bench-kit's
 * DURABLE_BARE_SERVER), the least that acknowledging only what is on disk costs on this disk.
 *
 * Where the time goes, from scripts/loop-delay-probe.mjs preloaded into both servers: the
 * event-loop delay (perf_hooks.monitorEventLoopDelay, sampled every 2 ms) and, for serve, each
 * fs.fdatasync of the write-ahead log that acknowledgements wait for (count, p50/p99/max), and
 * how busy the main thread was (event-loop utilization). The
 * store's transaction time and the file mirror's batches run inside the app and cannot be timed
 * from outside without editing it; their cost shows in the event-loop delay.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchEventBody,
  benchSignatureHeaders,
  latencySummary,
  log,
  percentile,
  root,
  startBareServer,
  startServe,
  stop,
} from './bench-kit.js';
import { LOOP_DELAY_PROBE_ARGS, type LoopDelayWindow, loopDelayWindow } from './loop-delay.js';
import { pacedLoad } from './paced-client.js';

const durationMs = Number(process.env.BENCH_DURATION ?? 10) * 1000;
/**
 * Before each rate's measured window, this many seconds at that rate are sent and reported
 * apart (BENCH_PACED_RAMP, default 2): the first second after a change of rate is a transition
 * (V8 compiling the hot path for the new mix, the write-ahead log growing to its working size,
 * the pool opening its connections), not what a sender feels from a server that has been
 * receiving at that rate. Its p99 and max are shown beside the steady window's.
 */
const rampMs = Number(process.env.BENCH_PACED_RAMP ?? 2) * 1000;
const rates = (process.env.BENCH_PACED_RATES ?? '50,1000,2000').split(',').map(Number);
const CONNECTIONS = 50;
const PROBE_RESOLUTION_MS = '2';

export interface PacedRun {
  target: 'serve' | 'memory' | 'bare' | 'floor';
  rate: number;
  sent: number;
  ok: number;
  /** Requests not answered 2xx (0: no answer within 10 s; -1: not sent, too many in flight). */
  other: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  /** 2xx answers per second from the first due time to the last answer: below the rate, the server fell behind. */
  answeredPerSec: number;
  /** How late the client itself sent (send time − scheduled time), p99 in ms: a busy loader shows here. */
  clientLateP99: number;
  loop: LoopDelayWindow | null;
  /** The uncounted seconds at this rate just before the measured window (see rampMs). */
  ramp?: { p99: number; max: number; notOk: number };
}

const TARGET_NAMES: Record<PacedRun['target'], string> = {
  serve: 'omise-webhook serve',
  memory: 'omise-webhook serve --store memory --no-files',
  bare: 'bare node:http',
  floor: 'bare node:http syncing each body (the durable floor)',
};

/**
 * The durable floor runs at this rate only: it syncs once per webhook with no grouping, so at
 * 1,000/s and more it would measure a queue, and the goal it explains is the one at 50/s.
 */
const FLOOR_RATE = 50;

const round = (value: number) => Math.round(value * 100) / 100;

async function runRate(options: {
  target: PacedRun['target'];
  url: string;
  pid: number;
  probeFile: string;
  rate: number;
  durationMs: number;
  idPrefix: string;
}): Promise<PacedRun> {
  const latencies: number[] = [];
  const late: number[] = [];
  const other: Record<string, number> = {};
  let ok = 0;
  let firstDue = Infinity;
  let lastDone = 0;
  await loopDelayWindow(options.pid, options.probeFile);
  const sent = await pacedLoad({
    url: options.url,
    rate: options.rate,
    durationMs: options.durationMs,
    connections: CONNECTIONS,
    timeoutMs: 10_000,
    makeRequest: (index) => {
      const body = benchEventBody(`evnt_test_${options.idPrefix}${index.toString(36)}`);
      return { body, headers: { 'Content-Type': 'application/json', ...benchSignatureHeaders(body) } };
    },
    onResult: (result) => {
      latencies.push(result.latencyMs);
      late.push(result.sentAt - result.dueAt);
      firstDue = Math.min(firstDue, result.dueAt);
      lastDone = Math.max(lastDone, result.doneAt);
      if (result.status >= 200 && result.status < 300) ok += 1;
      else other[String(result.status)] = (other[String(result.status)] ?? 0) + 1;
    },
  });
  const loop = await loopDelayWindow(options.pid, options.probeFile, 30_000);
  return {
    target: options.target,
    rate: options.rate,
    sent,
    ok,
    other,
    ...latencySummary(latencies),
    answeredPerSec: Math.round((ok * 1000) / Math.max(1, lastDone - firstDue)),
    clientLateP99: round(percentile(late, 99)),
    loop,
  };
}

async function runTarget(target: PacedRun['target'], dir: string): Promise<PacedRun[]> {
  const probeFile = join(dir, `loop-delay-${target}.ndjson`);
  const env = { LOOP_DELAY_PROBE_FILE: probeFile, LOOP_DELAY_PROBE_RESOLUTION_MS: PROBE_RESOLUTION_MS };
  let child: ChildProcess;
  let url: string;
  if (target === 'bare' || target === 'floor') {
    const bare = await startBareServer({
      nodeArgs: LOOP_DELAY_PROBE_ARGS,
      env,
      ...(target === 'floor' ? { durableFile: join(dir, 'floor.bin') } : {}),
    });
    child = bare.child;
    url = `http://127.0.0.1:${bare.port}/omise/webhook`;
  } else {
    const logDir = join(dir, `log-${target}`);
    mkdirSync(logDir);
    const started = await startServe({
      logDir,
      args: target === 'memory' ? ['--store', 'memory', '--no-files'] : [],
      nodeArgs: LOOP_DELAY_PROBE_ARGS,
      env,
    });
    child = started.child;
    url = started.webhookUrl;
  }
  const pid = child.pid as number;
  const runs: PacedRun[] = [];
  try {
    for (const rate of target === 'floor' ? rates.filter((r) => r === FLOOR_RATE) : rates) {
      log(`bench paced: ${TARGET_NAMES[target]} at ${rate}/s, ${rampMs / 1000}s ramp + ${durationMs / 1000}s...`);
      const ramp =
        rampMs > 0
          ? await runRate({ target, url, pid, probeFile, rate, durationMs: rampMs, idPrefix: `r${target}${rate}x` })
          : null;
      const run = await runRate({ target, url, pid, probeFile, rate, durationMs, idPrefix: `p${target}${rate}x` });
      if (ramp) run.ramp = { p99: ramp.p99, max: ramp.max, notOk: ramp.sent - ramp.ok };
      runs.push(run);
      // Let background work from this rate (file mirror, checkpoints) settle before the next.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  } finally {
    await stop(child);
    // What this server left in the page cache (serve's files and log) must not be written back
    // while the next one is measured: its syncs would wait behind that writeback.
    spawnSync('sync');
  }
  return runs;
}

export async function pacedSection(): Promise<PacedRun[]> {
  const dir = mkdtempSync(join(tmpdir(), 'omise-webhook-bench-paced-'));
  // Nothing an earlier section or run wrote is still waiting to be written back (see runTarget).
  spawnSync('sync');
  let runs: PacedRun[];
  try {
    // The bare server first and alone, then the two serves, each alone: serve keeps working
    // after a run (files, indexing), so the one with a disk to catch up goes last.
    // The floor right after bare, so that the two are measured minutes apart at most.
    runs = [
      ...(await runTarget('bare', dir)),
      ...(rates.includes(FLOOR_RATE) ? await runTarget('floor', dir) : []),
      ...(await runTarget('memory', dir)),
      ...(await runTarget('serve', dir)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const find = (target: PacedRun['target'], rate: number) => runs.find((r) => r.target === target && r.rate === rate);
  const show = (value: number | undefined) => (value === undefined ? 'n/a' : String(value));
  const ramp = (r: PacedRun | undefined) =>
    r?.ramp ? `${r.ramp.p99} / ${r.ramp.max}${r.ramp.notOk > 0 ? ` (${r.ramp.notOk} not 2xx)` : ''}` : 'n/a';
  const loop = (r: PacedRun | undefined) => (r?.loop ? `${r.loop.p50} / ${r.loop.p99} / ${r.loop.max}` : 'n/a');
  const notOk = (r: PacedRun | undefined) =>
    r === undefined
      ? 'n/a'
      : Object.entries(r.other)
          .map(([status, n]) => `${status} ×${n}`)
          .join(', ') || '0';
  const lines = [
    `## Paced: open-loop at fixed rates over ${CONNECTIONS} keep-alive connections, latency from the scheduled time (${durationMs / 1000}s per rate, after ${rampMs / 1000}s at that rate reported apart)`,
    '',
    '| rate | `serve` p50 ms | `serve` p99 ms | `serve` max ms | bare `node:http` p50 / p99 / max ms | `--store memory` p50 / p99 / max ms | ramp p99 / max ms (serve · memory · bare) | main thread busy (serve / memory / bare) | `serve` loop delay p50 / p99 / max ms | bare loop delay p50 / p99 / max ms | `serve` syncs: count, p50 / p99 / max ms | answered/s (serve / memory / bare) | not 2xx (serve / memory / bare) | client late p99 ms (serve / memory / bare) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const latency = (r: PacedRun | undefined) => `${show(r?.p50)} / ${show(r?.p99)} / ${show(r?.max)}`;
  const busy = (r: PacedRun | undefined) => (r?.loop ? `${Math.round(r.loop.busy * 100)} %` : 'n/a');
  for (const rate of rates) {
    const ours = find('serve', rate);
    const memory = find('memory', rate);
    const bare = find('bare', rate);
    const all = [ours, memory, bare];
    const syncs = ours?.loop?.syncs;
    lines.push(
      `| ${rate}/s | ${show(ours?.p50)} | ${show(ours?.p99)} | ${show(ours?.max)} | ${latency(bare)} | ${latency(memory)} | ${all.map(ramp).join(' · ')} | ${all.map(busy).join(' / ')} | ${loop(ours)} | ${loop(bare)} | ${syncs ? `${syncs.count} (${((ours?.ok ?? 0) / syncs.count || 0).toFixed(1)} webhooks each), ${syncs.p50} / ${syncs.p99} / ${syncs.max}` : 'n/a'} | ${all.map((r) => show(r?.answeredPerSec)).join(' / ')} | ${all.map(notOk).join(' / ')} | ${all.map((r) => show(r?.clientLateP99)).join(' / ')} |`,
    );
  }
  lines.push(
    '',
    `Ramp: the ${rampMs / 1000} s at each rate just before its measured window, not counted in it (V8 compiling the hot path for that rate, the write-ahead log growing to its working size); a stall there would show in its max. \`--store memory\`: the same serve with \`--store memory --no-files\`, nothing written to disk (no SQLite, no sync, no files), so what it adds to bare is the rest of the receiver and what serve adds to it is storage. Main thread busy: the share of the window serve's (or the bare server's) main thread was working (event-loop utilization); near saturation, every webhook queues behind the ones before it. Loop delay: how late a timer sampling every ${PROBE_RESOLUTION_MS} ms ran in the server's main thread (monitorEventLoopDelay, the resolution subtracted). Syncs: the main thread's fs.fdatasync calls (the write-ahead log), each acknowledging the webhooks committed before it. "Client late": how long after its scheduled time the load generator actually sent a request; when it is large, the machine (shared by client and server) was the limit. "Answered/s" below the rate means the server fell behind and a queue built up.`,
    '',
  );
  const bareP50 = find('bare', 50)?.p50;
  const p50Gap = (find('serve', 50)?.p50 ?? Infinity) - (bareP50 ?? 0);
  /** How far a target's p50 at 50/s is from bare's, signed. */
  const againstBare = (target: PacedRun['target']) => {
    const p50 = find(target, 50)?.p50;
    return p50 === undefined || bareP50 === undefined ? 'n/a' : `${p50 >= bareP50 ? '+' : ''}${round(p50 - bareP50)}`;
  };
  const floor = find('floor', FLOOR_RATE);
  if (floor) {
    lines.push(
      `Durable floor at ${FLOOR_RATE}/s: bare node:http writing each body into a preallocated file and syncing it (fdatasync) before its \`{}\`, with no verification, parsing or database: p50 / p99 / max ${latency(floor)} ms, ${againstBare('floor')} ms against bare. Every receiver that acknowledges only what is on disk pays about this much, or more, on this machine's disk.`,
      '',
    );
  }
  const goals = [
    {
      name: 'p50 at 50/s within 1 ms of bare node:http',
      met: p50Gap <= 1,
      // The gap is storage (the log's sync, whose time varies between runs with this disk) plus
      // what the receiver adds without any disk (the memory control): README, "Paced latency".
      // The durable floor is what no design can go under: README, "Why the 50/s goal depends on the disk".
      value: `${round(p50Gap)} ms more; serve's log fdatasync p50 ${show(find('serve', 50)?.loop?.syncs?.p50)} ms; \`--store memory\` (no disk at all) ${againstBare('memory')} ms against bare; the durable floor ${againstBare('floor')} ms against bare`,
    },
    ...[1000, 2000].map((rate) => ({
      name: `p99 under 10 ms at ${rate}/s`,
      met: (find('serve', rate)?.p99 ?? Infinity) < 10,
      value: `${show(find('serve', rate)?.p99)} ms`,
    })),
    {
      name: "serve's event-loop delay p99 under 5 ms at every rate",
      met: rates.every((rate) => (find('serve', rate)?.loop?.p99 ?? Infinity) < 5),
      value: rates.map((rate) => `${show(find('serve', rate)?.loop?.p99)} ms`).join(' / '),
    },
  ];
  for (const goal of goals) lines.push(`- goal: ${goal.name}: ${goal.met ? 'met' : 'NOT met'} (${goal.value})`);
  lines.push('');
  const report = lines.join('\n');
  process.stdout.write(report);
  mkdirSync(join(root, 'bench-output'), { recursive: true });
  writeFileSync(join(root, 'bench-output', 'paced.md'), report);
  writeFileSync(join(root, 'bench-output', 'paced.json'), JSON.stringify(runs, null, 2));
  return runs;
}
