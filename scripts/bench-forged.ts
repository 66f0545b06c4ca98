/**
 * `BENCH_ONLY=forged-flood npm run bench`: what a flood of forged requests does to valid ones
 * (issue 12, finding 3). `serve` runs with its defaults (signature verification, the SQLite
 * store, files, the inspector); valid signed webhooks are paced open-loop at 50/s over 50
 * keep-alive connections, latency counted from each one's scheduled time. Three runs of
 * BENCH_DURATION seconds each: no flood; forged requests at 2/s of each kind; and 8 senders
 * sending forged requests back to back. The two kinds, each with a random signature:
 *   - padded: a valid envelope padded to just under 1 MiB with many small objects in `data`;
 *   - deep: 100,000 levels of `[` inside `data` (about 200 KB).
 * The target: valid p99 under 50 ms in both flood runs, and no forged request answered 2xx or 5xx.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEventBody, benchSignatureHeaders, latencySummary, log, root, startServe, stop } from './bench-kit.js';
import { LOOP_DELAY_PROBE_ARGS, type LoopDelayWindow, loopDelayWindow } from './loop-delay.js';
import { pacedLoad, postOnce } from './paced-client.js';

const durationMs = Number(process.env.BENCH_DURATION ?? 10) * 1000;
const VALID_RATE = 50;
const TARGET_P99_MS = 50;
/** A valid request not answered within this counts as a timeout (status 0). */
const VALID_TIMEOUT_MS = 10_000;

type ForgedKind = 'padded' | 'deep';

/** A valid-looking envelope whose `data` holds `{"n":i}` objects until the body is just under 1 MiB. */
function paddedBody(): Buffer {
  const base = benchEventBody('evnt_test_forgedpadded0001');
  const at = base.indexOf('"data": {') + '"data": {'.length;
  const head = `${base.slice(0, at)}\n    "padding": [`;
  const tail = `],${base.slice(at)}`;
  const limit = 1024 * 1024 - 1024;
  const items: string[] = [];
  for (let i = 0, size = head.length + tail.length; size < limit; i += 1) {
    const item = `{"n":${i}}`;
    items.push(item);
    size += item.length + 1;
  }
  return Buffer.from(`${head}${items.join(',')}${tail}`);
}

function deepBody(): Buffer {
  const depth = 100_000;
  return Buffer.from(
    `{"object":"event","id":"evnt_test_forgeddeep0001","livemode":false,"key":"charge.create",` +
      `"created_at":"2026-11-26T07:00:00Z","data":${'['.repeat(depth)}${']'.repeat(depth)}}`,
  );
}

function forgedHeaders(): Record<string, string> {
  return {
    'Omise-Signature': randomBytes(32).toString('hex'),
    'Omise-Signature-Timestamp': String(Math.floor(Date.now() / 1000)),
  };
}

export interface ForgedRunResult {
  run: string;
  validSent: number;
  validOk: number;
  /** Valid requests not answered 2xx, by status (0: no answer within 10 s). */
  validOther: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  forged: Record<ForgedKind, Record<string, number>>;
  loop: LoopDelayWindow | null;
}

async function floodRun(options: {
  run: string;
  url: string;
  pid: number;
  probeFile: string;
  flood: 'none' | 'paced' | 'concurrent';
  bodies: Record<ForgedKind, Buffer>;
}): Promise<ForgedRunResult> {
  log(`bench forged-flood: ${options.run}, ${durationMs / 1000}s...`);
  const target = new URL(options.url);
  const forged: Record<ForgedKind, Record<string, number>> = { padded: {}, deep: {} };
  const count = (kind: ForgedKind, status: number) => {
    forged[kind][String(status)] = (forged[kind][String(status)] ?? 0) + 1;
  };
  const send = async (kind: ForgedKind) => count(kind, await postOnce(target, options.bodies[kind], forgedHeaders()));
  await loopDelayWindow(options.pid, options.probeFile);
  const start = performance.now();
  const end = start + durationMs;
  const flood = (async () => {
    if (options.flood === 'paced') {
      // 2/s of each kind, each on its own connection, whether or not earlier ones were answered.
      const pending: Promise<void>[] = [];
      for (let i = 0; performance.now() < end; i += 1) {
        pending.push(send('padded'), send('deep'));
        const wait = start + ((i + 1) * 1000) / 2 - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      await Promise.all(pending);
    } else if (options.flood === 'concurrent') {
      // 8 senders, each sending the next forged request as soon as the last is answered.
      await Promise.all(
        Array.from({ length: 8 }, async (_, sender) => {
          for (let i = sender; performance.now() < end; i += 1) await send(i % 2 === 0 ? 'padded' : 'deep');
        }),
      );
    }
  })();
  const latencies: number[] = [];
  const validOther: Record<string, number> = {};
  let validOk = 0;
  const validSent = await pacedLoad({
    url: options.url,
    rate: VALID_RATE,
    durationMs,
    connections: 50,
    timeoutMs: VALID_TIMEOUT_MS,
    makeRequest: (index) => {
      const body = benchEventBody(`evnt_test_flood${options.flood}${index.toString(36)}`);
      return { body, headers: { 'Content-Type': 'application/json', ...benchSignatureHeaders(body) } };
    },
    onResult: (result) => {
      latencies.push(result.latencyMs);
      if (result.status >= 200 && result.status < 300) validOk += 1;
      else validOther[String(result.status)] = (validOther[String(result.status)] ?? 0) + 1;
    },
  });
  await flood;
  const loop = await loopDelayWindow(options.pid, options.probeFile, 60_000);
  return {
    run: options.run,
    validSent,
    validOk,
    validOther,
    ...latencySummary(latencies, 1),
    forged,
    loop,
  };
}

export async function forgedFloodSection(): Promise<ForgedRunResult[]> {
  const logDir = mkdtempSync(join(tmpdir(), 'omise-webhook-bench-forged-'));
  const probeFile = join(logDir, 'loop-delay.ndjson');
  const { child, webhookUrl } = await startServe({
    logDir,
    nodeArgs: LOOP_DELAY_PROBE_ARGS,
    env: { LOOP_DELAY_PROBE_FILE: probeFile },
  });
  const pid = child.pid as number;
  const bodies = { padded: paddedBody(), deep: deepBody() };
  const results: ForgedRunResult[] = [];
  try {
    for (const [run, flood] of [
      ['no flood', 'none'],
      ['forged 2/s of each kind', 'paced'],
      ['8 forged senders back to back', 'concurrent'],
    ] as const) {
      results.push(await floodRun({ run, url: webhookUrl, pid, probeFile, flood, bodies }));
    }
  } finally {
    await stop(child);
    rmSync(logDir, { recursive: true, force: true });
  }
  const statuses = (byStatus: Record<string, number>) =>
    Object.entries(byStatus)
      .map(([status, n]) => `${status === '0' ? 'no answer' : status} ×${n}`)
      .join(', ') || '-';
  const lines = [
    `## Forged-signature flood: valid webhooks at ${VALID_RATE}/s (open-loop, 50 keep-alive connections) while forged ones arrive (${durationMs / 1000}s each)`,
    '',
    `Forged bodies: padded = a valid envelope padded to ${(bodies.padded.length / 1024).toFixed(0)} KiB with small objects; deep = 100,000 levels of \`[\` in \`data\` (${(bodies.deep.length / 1024).toFixed(0)} KiB); each with a random signature, on its own connection. serve with its defaults.`,
    '',
    '| run | valid sent | valid 2xx | valid not 2xx | valid p50 ms | valid p99 ms | valid max ms | padded forged got | deep forged got | loop delay p99 / max ms |',
    '|---|---:|---:|---|---:|---:|---:|---|---|---:|',
    ...results.map(
      (r) =>
        `| ${r.run} | ${r.validSent} | ${r.validOk} | ${statuses(r.validOther)} | ${r.p50} | ${r.p99} | ${r.max} | ${statuses(r.forged.padded)} | ${statuses(r.forged.deep)} | ${r.loop ? `${r.loop.p99} / ${r.loop.max}` : 'n/a'} |`,
    ),
    '',
    `Latency is counted from each valid request's scheduled time; "no answer" means none within ${VALID_TIMEOUT_MS / 1000} s of being sent (valid; counted in the percentiles with the time until the client gave up, queueing included) or 30 s (forged).`,
    '',
  ];
  const floods = results.slice(1);
  const forgedOk = floods.every((r) =>
    Object.values(r.forged).every((byStatus) =>
      Object.keys(byStatus).every((status) => Number(status) >= 400 && Number(status) < 500),
    ),
  );
  const pass = floods.every((r) => r.p99 < TARGET_P99_MS && r.validOk === r.validSent) && forgedOk;
  lines.push(
    `target (under both floods: valid p99 < ${TARGET_P99_MS} ms and every valid webhook 2xx; every forged request 4xx): ${pass ? 'met' : 'NOT met'}`,
    '',
  );
  const report = lines.join('\n');
  process.stdout.write(report);
  mkdirSync(join(root, 'bench-output'), { recursive: true });
  writeFileSync(join(root, 'bench-output', 'forged-flood.md'), report);
  writeFileSync(join(root, 'bench-output', 'forged-flood.json'), JSON.stringify(results, null, 2));
  return results;
}
