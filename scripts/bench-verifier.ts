/**
 * `BENCH_ONLY=verifier npm run bench` (or `node --import tsx scripts/bench-verifier.ts` alone): the
 * library's `verifyOmiseSignature` against `@octokit/webhooks-methods`' `verify`, in this process,
 * on the same real 3 KB Omise payload (packages/events/test/fixtures/charge.complete.json, as
 * received: a string). Each verifier is awaited one call at a time, as a receiver does; the two take
 * turns in short rounds (BENCH_VERIFIER_ROUNDS, default 15, of BENCH_VERIFIER_ROUND_MS, default
 * 300 ms each) so a busy machine slows both alike, and the ratio is taken per round pair.
 *
 * It also prices a forged request: a valid envelope padded to 1 MiB with small objects and a random
 * signature, the body a stranger can send to make the failure diagnosis work hardest, in CPU ms per
 * request (process.cpuUsage), next to the same body correctly signed.
 *
 * The library is imported from its source, so the numbers are for the code in this checkout.
 */

import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { verifyOmiseSignature } from '../packages/events/src/omise-signature.js';
import { log, percentile, root } from './bench-kit.js';

const rounds = Number(process.env.BENCH_VERIFIER_ROUNDS ?? 15);
const roundMs = Number(process.env.BENCH_VERIFIER_ROUND_MS ?? 300);
const TARGET_RATIO = 0.9;

const SECRET = randomBytes(32).toString('base64');
const SECRET_KEY = Buffer.from(SECRET, 'base64');
const PAYLOAD = readFileSync(join(root, 'packages/events/test/fixtures/charge.complete.json'), 'utf8');

const omiseSign = (timestamp: string, body: string) =>
  createHmac('sha256', SECRET_KEY).update(`${timestamp}.${body}`).digest('hex');

/** Calls per second of `call`, awaited one at a time, for about `ms` milliseconds. */
async function opsPerSecond(call: () => Promise<unknown>, ms: number): Promise<number> {
  const start = performance.now();
  let calls = 0;
  let elapsed = 0;
  do {
    // Batches of 100 keep the clock reads out of the measurement.
    for (let i = 0; i < 100; i++) await call();
    calls += 100;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (calls / elapsed) * 1000;
}

export interface VerifierSpeed {
  payloadBytes: number;
  ours: number[];
  octokit: number[];
  ratios: number[];
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
  await opsPerSecond(ours, 500);
  await opsPerSecond(octokit, 500);
  const speed: VerifierSpeed = { payloadBytes: Buffer.byteLength(PAYLOAD), ours: [], octokit: [], ratios: [] };
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so neither always runs right after the other's garbage.
    const first = round % 2 === 0;
    const a = first ? await opsPerSecond(ours, roundMs) : 0;
    const b = await opsPerSecond(octokit, roundMs);
    const c = first ? a : await opsPerSecond(ours, roundMs);
    speed.ours.push(c);
    speed.octokit.push(b);
    speed.ratios.push(c / b);
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
  bodyBytes: number;
  forgedCpuMs: number;
  validCpuMs: number;
  forgedDiagnosis: string;
}

/** CPU ms per request for the padded body with a random signature, and correctly signed. */
export async function measureForgedCost(requests = 5): Promise<ForgedCost> {
  const body = paddedEnvelope(1024 * 1024);
  JSON.parse(body); // it must be a valid envelope, or the diagnosis would stop early
  const timestamp = String(Math.floor(Date.now() / 1000));
  const forged = randomBytes(32).toString('hex');
  const valid = omiseSign(timestamp, body);
  const cpuMs = async (signature: string) => {
    let last = '';
    const before = process.cpuUsage();
    for (let i = 0; i < requests; i++) {
      const result = await verifyOmiseSignature({ payload: body, signature, timestamp, secret: SECRET });
      last = result.ok ? 'ok' : `${result.code}${result.diagnosis ? ` (${result.diagnosis})` : ''}`;
    }
    const used = process.cpuUsage(before);
    return { ms: (used.user + used.system) / 1000 / requests, last };
  };
  await cpuMs(valid); // warm-up
  const validRun = await cpuMs(valid);
  const forgedRun = await cpuMs(forged);
  return {
    bodyBytes: Buffer.byteLength(body),
    forgedCpuMs: forgedRun.ms,
    validCpuMs: validRun.ms,
    forgedDiagnosis: forgedRun.last,
  };
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
    '| round | verifyOmiseSignature | octokit verify | ratio |',
    '|---:|---:|---:|---:|',
    ...speed.ratios.map(
      (r, i) => `| ${i + 1} | ${k(speed.ours[i] as number)} | ${k(speed.octokit[i] as number)} | ${r.toFixed(2)} |`,
    ),
    '',
    `- median ${k(median(speed.ours))} against ${k(median(speed.octokit))}; ratio median ${ratio.toFixed(2)}, ` +
      `rounds ${Math.min(...speed.ratios).toFixed(2)}-${Math.max(...speed.ratios).toFixed(2)}`,
    `- a forged ${forged.bodyBytes}-byte padded envelope costs ${forged.forgedCpuMs.toFixed(1)} ms of CPU ` +
      `(${forged.forgedDiagnosis}); correctly signed, ${forged.validCpuMs.toFixed(1)} ms`,
    `target (ratio >= ${TARGET_RATIO}): ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await verifierSection();
