/**
 * The PostgreSQL store's write path on its own, without HTTP: `recordDelivery` at a fixed
 * concurrency, with one store and with two stores (each in its own process, as two `serve`
 * instances would be) on one database. It starts its own throwaway cluster with the server's
 * default durability (fsync on) and stops it at the end.
 *
 *   node --import tsx scripts/postgres-store-bench.ts [--seconds 5] [--concurrency 50] [--runs 3] [--stores 1,2]
 *     [--groups-in-flight 1] [--max-group-size 200]
 *
 * Prints one line per run (deliveries/s, p50/p99 ms) and the spread over the runs.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openPostgresStore } from '../packages/cli/src/adapters/store/postgres/index.js';
import { makeDelivery } from '../packages/cli/src/testing/delivery-fixtures.js';
import { latencySummary, log, postgresServerCpuUs } from './bench-kit.js';
import { startPostgresCluster } from './postgres-cluster.mjs';

interface ChildResult {
  deliveries: number;
  /** This store process's CPU (user + system) over the timed run, in µs. */
  cpuUs: number;
  /** Writes that failed (a 503 over HTTP): counted, not timed, and the run goes on. */
  failures: number;
  firstFailure?: string;
  seconds: number;
  latenciesMs: number[];
}

type ToChild = { go: true; seconds: number; concurrency: number };
type FromChild = { ready: true } | { done: ChildResult } | { failed: string };

/** One store in this process: waits for "go", writes for `seconds`, sends back what it did. */
async function runChild(url: string, tuning: { groupsInFlight: number; maxGroupSize: number }): Promise<void> {
  const store = await openPostgresStore({ url, ...tuning });
  const send = (message: FromChild) => process.send?.(message);
  process.once('message', async (message: ToChild) => {
    try {
      const prefix = randomBytes(4).toString('hex');
      let n = 0;
      const latenciesMs: number[] = [];
      let failures = 0;
      let firstFailure: string | undefined;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const until = started + message.seconds * 1000;
      const worker = async () => {
        while (performance.now() < until) {
          n += 1;
          const delivery = makeDelivery({ eventId: `evnt_test_${prefix}${n}`, objectId: `chrg_test_${prefix}${n}` });
          const t0 = performance.now();
          try {
            await store.recordDelivery(delivery);
            latenciesMs.push(performance.now() - t0);
          } catch (error) {
            failures += 1;
            firstFailure ??= error instanceof Error ? error.message : String(error);
          }
        }
      };
      await Promise.all(Array.from({ length: message.concurrency }, worker));
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      send({
        done: {
          cpuUs: cpu.user + cpu.system,
          deliveries: latenciesMs.length,
          failures,
          firstFailure,
          seconds,
          latenciesMs,
        },
      });
    } catch (error) {
      send({ failed: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    } finally {
      await store.close();
    }
  });
  send({ ready: true });
}

/** `stores` child processes writing at once; the throughput is their sum over the longest run. */
async function runOnce(options: {
  dataDir: string;
  url: string;
  stores: number;
  seconds: number;
  concurrency: number;
  tuning: string[];
}) {
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: options.stores }, () =>
    fork(script, ['--child', options.url, ...options.tuning], { execArgv: process.execArgv, stdio: 'inherit' }),
  );
  const results = children.map(
    (child) =>
      new Promise<ChildResult>((resolve, reject) => {
        child.on('message', (message: FromChild) => {
          if ('done' in message) resolve(message.done);
          if ('failed' in message) reject(new Error(message.failed));
        });
        child.once('exit', (code) => reject(new Error(`a bench child exited with ${code} before reporting`)));
      }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) =>
          child.on('message', (message: FromChild) => {
            if ('ready' in message) resolve();
          }),
        ),
    ),
  );
  const serverBefore = postgresServerCpuUs(options.dataDir);
  for (const child of children) child.send({ go: true, seconds: options.seconds, concurrency: options.concurrency });
  const done = await Promise.all(results);
  // After the stores closed, so their backends have ended and been counted.
  await Promise.all(
    children.map(
      (child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null))),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  const serverUs = postgresServerCpuUs(options.dataDir) - serverBefore;
  const deliveries = done.reduce((sum, r) => sum + r.deliveries, 0);
  const seconds = Math.max(...done.map((r) => r.seconds));
  const latency = latencySummary(done.flatMap((r) => r.latenciesMs));
  const failures = done.reduce((sum, r) => sum + r.failures, 0);
  const firstFailure = done.find((r) => r.firstFailure)?.firstFailure;
  const per = (us: number) => Math.round(us / Math.max(1, deliveries));
  return {
    perSecond: Math.round(deliveries / seconds),
    ...latency,
    failures,
    firstFailure,
    storeCpuUs: per(done.reduce((sum, r) => sum + r.cpuUs, 0)),
    serverCpuUs: per(serverUs),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '50' },
      runs: { type: 'string', default: '3' },
      stores: { type: 'string', default: '1,2' },
      'groups-in-flight': { type: 'string', default: '1' },
      'max-group-size': { type: 'string', default: '200' },
    },
  });
  const tuning = [values['groups-in-flight'], values['max-group-size']];
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const runs = Number(values.runs);
  const storeCounts = values.stores.split(',').map(Number);
  // The server's defaults (fsync on, synchronous_commit on): what a real deployment pays per commit.
  const cluster = await startPostgresCluster();
  try {
    // Migrate once here, so the children's timed runs start on a ready schema.
    await (await openPostgresStore({ url: cluster.url })).close();
    log(
      `PostgreSQL store: recordDelivery at c=${concurrency} per store, ${seconds} s per run, fsync on, ` +
        `groups in flight ${tuning[0]}, at most ${tuning[1]} per group`,
    );
    for (const stores of storeCounts) {
      const rates: number[] = [];
      for (let run = 1; run <= runs; run++) {
        const result = await runOnce({
          dataDir: cluster.dataDir,
          url: cluster.url,
          stores,
          seconds,
          concurrency,
          tuning,
        });
        rates.push(result.perSecond);
        log(
          `  ${stores} store${stores > 1 ? 's' : ' '} run ${run}: ${result.perSecond}/s  p50 ${result.p50} ms  p99 ${result.p99} ms  max ${result.max} ms` +
            `  CPU per delivery: store ${result.storeCpuUs} µs, PostgreSQL ${result.serverCpuUs} µs` +
            (result.failures > 0 ? `  ${result.failures} failed (${result.firstFailure})` : ''),
        );
      }
      log(
        `  ${stores} store${stores > 1 ? 's' : ' '}: ${Math.min(...rates)}-${Math.max(...rates)}/s over ${runs} runs`,
      );
    }
  } finally {
    await cluster.stop();
  }
}

if (process.argv[2] === '--child') {
  const [url, groupsInFlight, maxGroupSize] = process.argv.slice(3);
  await runChild(url as string, { groupsInFlight: Number(groupsInFlight), maxGroupSize: Number(maxGroupSize) });
} else await main();
