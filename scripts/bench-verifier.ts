/**
 * `BENCH_ONLY=verifier npm run bench` (or `node --import tsx scripts/bench-verifier.ts` alone): the
 * library's `verifyOmiseSignature` against `@octokit/webhooks-methods`' `verify`, in this process,
 * on the same real 3 KB Omise payload (packages/events/test/fixtures/charge.complete.json, as
 * received: a string). Each verifier is awaited one call at a time, as a receiver does, and timed
 * in CPU time (process.cpuUsage), so other processes on the machine do not count. There are
 * BENCH_VERIFIER_ROUNDS rounds (default 15) of about BENCH_VERIFIER_ROUND_MS (default 400 ms of
 * CPU); in each, the two take turns every 200 calls, and the round's ratio is ours over octokit's
 * calls per CPU second. The median and the range of the rounds are shown.
 *
 * It also prices a forged request in CPU ms (process.cpuUsage): a valid envelope padded to 1 MiB with
 * small objects and a random signature, the body a stranger can send to make the failure diagnosis
 * work hardest (issue 12), next to the same body correctly signed, forged with the diagnosis bound
 * lifted (what every forged request cost before the bound), and forged just under the bound.
 *
 * The library is imported from its source, so the numbers are for the code in this checkout.
 */

import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { verifyOmiseSignature } from '../packages/events/src/omise-signature.js';
import { log, percentile, root } from './bench-kit.js';

const rounds = Number(process.env.BENCH_VERIFIER_ROUNDS ?? 15);
const roundMs = Number(process.env.BENCH_VERIFIER_ROUND_MS ?? 400);
const TARGET_RATIO = 0.9;

const SECRET = randomBytes(32).toString('base64');
const SECRET_KEY = Buffer.from(SECRET, 'base64');
const PAYLOAD = readFileSync(join(root, 'packages/events/test/fixtures/charge.complete.json'), 'utf8');

const omiseSign = (timestamp: string, body: string) =>
  createHmac('sha256', SECRET_KEY).update(`${timestamp}.${body}`).digest('hex');

/**
 * Awaits `call` `count` times, one at a time; returns the CPU milliseconds this process used
 * meanwhile, and the wall-clock milliseconds. CPU time is the measure: on a shared machine the
 * wall clock also counts the time other processes held the core, which falls on one verifier's
 * batch and not the other's. The wall-clock ratio is shown beside it.
 */
async function timeCalls(call: () => Promise<unknown>, count: number): Promise<{ cpu: number; wall: number }> {
  const before = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < count; i++) await call();
  const wall = performance.now() - start;
  const used = process.cpuUsage(before);
  return { cpu: (used.user + used.system) / 1000, wall };
}

export interface VerifierSpeed {
  payloadBytes: number;
  ours: number[];
  octokit: number[];
  ratios: number[];
  /** The same rounds timed by the wall clock. */
  wallRatios: number[];
}

/** Alternating rounds of both verifiers on the valid payload. */
export async function measureVerifierSpeed(): Promise<VerifierSpeed> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = omiseSign(timestamp, PAYLOAD);
  const octokitSignature = `sha256=${createHmac('sha256', SECRET).update(PAYLOAD).digest('hex')}`;
  const ours = async () => {
    const result = await verifyOmiseSignature({ payload: PAYLOAD, signature, timestamp, secret: SECRET });
    if (!result.ok) throw new Error(`the bench's own signature failed: ${result.message}`);
  };
  const octokit = async () => {
    if (!(await octokitVerify(SECRET, PAYLOAD, octokitSignature))) throw new Error('octokit verify failed');
  };
  // Warm both up so the first round measures optimised code, not the JIT.
  await timeCalls(ours, 50_000);
  await timeCalls(octokit, 50_000);
  const speed: VerifierSpeed = {
    payloadBytes: Buffer.byteLength(PAYLOAD),
    ours: [],
    octokit: [],
    ratios: [],
    wallRatios: [],
  };
  // Within a round the two take turns every BATCH calls (a few milliseconds), so anything that
  // slows this process for a while (a noisy neighbour's cache use, a GC) falls on both alike.
  const BATCH = 200;
  for (let round = 0; round < rounds; round++) {
    const ourTime = { cpu: 0, wall: 0 };
    const octokitTime = { cpu: 0, wall: 0 };
    const add = (total: { cpu: number; wall: number }, batch: { cpu: number; wall: number }) => {
      total.cpu += batch.cpu;
      total.wall += batch.wall;
    };
    let batches = 0;
    while (ourTime.cpu + octokitTime.cpu < roundMs) {
      if (batches % 2 === 0) {
        add(ourTime, await timeCalls(ours, BATCH));
        add(octokitTime, await timeCalls(octokit, BATCH));
      } else {
        add(octokitTime, await timeCalls(octokit, BATCH));
        add(ourTime, await timeCalls(ours, BATCH));
      }
      batches++;
    }
    const oursRate = ((batches * BATCH) / ourTime.cpu) * 1000;
    const octokitRate = ((batches * BATCH) / octokitTime.cpu) * 1000;
    speed.ours.push(oursRate);
    speed.octokit.push(octokitRate);
    speed.ratios.push(oursRate / octokitRate);
    speed.wallRatios.push(octokitTime.wall / ourTime.wall);
  }
  return speed;
}

/** A valid envelope padded to `size` bytes with many small objects, as in issue 12. */
export function paddedEnvelope(size: number): string {
  const head = `${PAYLOAD.slice(0, PAYLOAD.lastIndexOf('}')).trimEnd()},\n  "padding": [`;
  const item = '{"a":1,"b":[2]},';
  const count = Math.max(0, Math.floor((size - head.length - 4) / item.length));
  return `${head}${item.repeat(count).slice(0, -1)}]\n}`;
}

export interface ForgedCost {
  what: string;
  bodyBytes: number;
  cpuMs: number;
  outcome: string;
}

/** CPU ms per request of `requests` checks of `body` with `signature`, one at a time. */
async function cpuPerCheck(
  what: string,
  body: string,
  /** Makes the signature header for the timestamp (once, before the clock starts). */
  signature: (timestamp: string) => string,
  requests: number,
  diagnoseMaxBytes?: number,
): Promise<ForgedCost> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signatureText = signature(timestamp);
  const check = () =>
    verifyOmiseSignature({
      payload: body,
      signature: signatureText,
      timestamp,
      secret: SECRET,
      diagnoseMaxBytes,
    });
  await check(); // warm-up
  let outcome = '';
  const before = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const result = await check();
    outcome = result.ok ? 'accepted' : `${result.code}${result.diagnosis ? `, ${result.diagnosis}` : ''}`;
  }
  const used = process.cpuUsage(before);
  return { what, bodyBytes: Buffer.byteLength(body), cpuMs: (used.user + used.system) / 1000 / requests, outcome };
}

/**
 * What a request costs in CPU: the 1 MiB padded envelope (issue 12) signed, forged, and forged with
 * the diagnosis bound lifted (as before the bound); and a forged body just under the bound, the
 * most a forged request can now make the diagnosis do.
 */
export async function measureForgedCost(): Promise<ForgedCost[]> {
  const big = paddedEnvelope(1024 * 1024);
  const underBound = paddedEnvelope(64 * 1024 - 64);
  for (const body of [big, underBound]) JSON.parse(body); // valid JSON, or the diagnosis would stop early
  const forged = () => randomBytes(32).toString('hex'); // made up: no secret behind it
  return [
    await cpuPerCheck('1 MiB envelope, correctly signed', big, (timestamp) => omiseSign(timestamp, big), 10),
    await cpuPerCheck('1 MiB envelope, forged', big, forged, 10),
    await cpuPerCheck('1 MiB envelope, forged, bound lifted (as before)', big, forged, 2, Number.POSITIVE_INFINITY),
    await cpuPerCheck('64 KiB envelope, forged (the bound)', underBound, forged, 20),
  ];
}

const k = (opsPerSec: number) => `${(opsPerSec / 1000).toFixed(1)}k/s`;

/** The verifier section: prints the side-by-side speed and the forged-request cost. */
export async function verifierSection(): Promise<void> {
  log(`bench: verifier, ${rounds} alternating rounds of ${roundMs} ms each...`);
  const speed = await measureVerifierSpeed();
  const forged = await measureForgedCost();
  const median = (values: number[]) => percentile(values, 50);
  const ratio = median(speed.ratios);
  const lines = [
    `## Verifier: verifyOmiseSignature against @octokit/webhooks-methods verify (${speed.payloadBytes}-byte payload, one call at a time)`,
    '',
    '| round | verifyOmiseSignature, calls per CPU second | octokit verify | ratio | ratio by wall clock |',
    '|---:|---:|---:|---:|---:|',
    ...speed.ratios.map(
      (r, i) =>
        `| ${i + 1} | ${k(speed.ours[i] as number)} | ${k(speed.octokit[i] as number)} | ${r.toFixed(2)} | ${(speed.wallRatios[i] as number).toFixed(2)} |`,
    ),
    '',
    `- median ${k(median(speed.ours))} against ${k(median(speed.octokit))}; ratio median ${ratio.toFixed(2)}, ` +
      `rounds ${Math.min(...speed.ratios).toFixed(2)}-${Math.max(...speed.ratios).toFixed(2)} ` +
      `(by wall clock: median ${median(speed.wallRatios).toFixed(2)}, rounds ${Math.min(...speed.wallRatios).toFixed(2)}-${Math.max(...speed.wallRatios).toFixed(2)})`,
    '',
    '| request | body bytes | CPU ms per check | outcome |',
    '|---|---:|---:|---|',
    ...forged.map((f) => `| ${f.what} | ${f.bodyBytes} | ${f.cpuMs.toFixed(1)} | ${f.outcome} |`),
    '',
    `target (ratio >= ${TARGET_RATIO}): ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
    '',
  ];
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  mkdirSync(join(root, 'bench-output'), { recursive: true });
  writeFileSync(join(root, 'bench-output', 'verifier.md'), report);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await verifierSection();
