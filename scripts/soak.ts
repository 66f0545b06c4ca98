/**
 * `npm run soak -- --minutes 60`: a long run of `omise-webhook serve` as a real child process,
 * under steady signed load with a mix of bad requests, forwarding to a target that sometimes fails
 * or answers slowly. It samples the server's memory, file descriptors, event-loop delay and disk
 * use, and at the end checks that nothing acknowledged was lost, that every acknowledged event
 * reached the target, that every request got the status it should, and that memory and
 * descriptors stayed flat. Exits 1, naming each failed check, if any fails. `--help` for options.
 *
 * Everything runs on 127.0.0.1 on ports the system picks; the load is bounded (open-loop at a
 * fixed rate, a cap on requests in flight, a deadline on every wait).
 */

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { realisticDeliveries } from '../packages/cli/src/testing/realistic-events.js';
import { benchSignatureHeaders, latencySummary, log, root, startServe, stop } from './bench-kit.js';
import { LOOP_DELAY_PROBE_ARGS, type LoopDelayWindow, loopDelayWindow } from './loop-delay.js';
import { pacedLoad, postOnce } from './paced-client.js';

export interface SoakOptions {
  /** How long the load runs. */
  seconds: number;
  /** Valid signed webhooks per second. */
  rate: number;
  /** Seconds between samples of memory, descriptors and event-loop delay. */
  sampleEverySeconds: number;
  /** Seconds between rows of the time series (and progress lines). */
  reportEverySeconds: number;
  /** Extra flags for `serve` (after the soak's own). */
  serveArgs: readonly string[];
  /** Where progress lines go (default: stderr). */
  progress?: (line: string) => void;
  /** Stops the load early; the end checks still run. */
  signal?: AbortSignal;
}

/** Bad requests per second, cycling through BAD_PATTERN, independent of the valid rate. */
const BAD_RATE = 5;
const BAD_PATTERN = [
  'unsigned',
  'forged',
  'malformed',
  'duplicate',
  'forged',
  'unsigned',
  'malformed',
  'duplicate',
  'oversized',
  'forged',
  'unsigned',
  'malformed',
  'duplicate',
  'forged',
  'slow',
  'unsigned',
  'malformed',
  'duplicate',
  'forged',
  'oversized',
] as const;
type Kind = 'valid' | (typeof BAD_PATTERN)[number];

/** What each kind of request must be answered; 0 means the server closed the connection without answering. */
const EXPECTED: Record<Kind, readonly number[]> = {
  valid: [200],
  duplicate: [200],
  unsigned: [401],
  forged: [401],
  malformed: [400],
  oversized: [413],
  slow: [408, 0],
};

const MAX_BODY = '256kb';
const OVERSIZED_BYTES = 300 * 1024;
const REQUEST_TIMEOUT = '2s';
const REQUEST_TIMEOUT_MS = 2_000;
const RETRY_SCHEDULE = '100ms,200ms,500ms,1s,2s';
const FORWARD_TIMEOUT_MS = 1_000;

/** The growth rule, stated in the report: the last quarter's mean against the second quarter's. */
export const GROWTH_RULE = {
  ratio: 1.1,
  slack: { rssBytes: 16 * 1024 * 1024, fds: 5 },
  minSamples: 8,
  /**
   * Growth is judged only on a load of at least this long: in a shorter run the whole process is
   * still warming up (the page cache, SQLite's cache, the JIT, connection pools), so a rise there
   * says nothing about a leak. The 20-second run in `npm test` checks losses and statuses only.
   */
  minLoadSeconds: 300,
} as const;

export interface GrowthVerdict {
  metric: string;
  secondQuarterMean: number;
  lastQuarterMean: number;
  limit: number;
  ok: boolean;
}

/**
 * Memory or descriptors "grow without bound" when the mean of the last quarter of the samples is
 * above the second quarter's mean × ratio + slack. The first quarter is left out: a fresh process
 * warms up (JIT, caches, pools) before it is steady. Null when there are too few samples to judge.
 */
export function growthVerdict(metric: string, values: readonly number[], slack: number): GrowthVerdict | null {
  if (values.length < GROWTH_RULE.minSamples) return null;
  const quarter = Math.floor(values.length / 4);
  const mean = (part: readonly number[]) => part.reduce((sum, value) => sum + value, 0) / part.length;
  const secondQuarterMean = mean(values.slice(quarter, 2 * quarter));
  const lastQuarterMean = mean(values.slice(values.length - quarter));
  const limit = secondQuarterMean * GROWTH_RULE.ratio + slack;
  return { metric, secondQuarterMean, lastQuarterMean, limit, ok: lastQuarterMean <= limit };
}

interface ProcessSample {
  /** Seconds since the load started (negative before it). */
  at: number;
  rssBytes: number | null;
  fds: number | null;
  loop: LoopDelayWindow | null;
  dbBytes: number;
}

function readRssBytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function countFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function databaseBytes(logDir: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(join(logDir, `omise-webhook.sqlite${suffix}`)).size;
    } catch {
      // Not there (yet): counts as 0.
    }
  }
  return total;
}

/** The log directory's size from `du` in its own process, so 100,000 files do not stall this one's loop. */
function directoryBytes(dir: string): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('du', ['-sb', dir], { timeout: 60_000 }, (error, stdout) => {
      const bytes = error ? Number.NaN : Number(stdout.split('\t')[0]);
      resolve(Number.isFinite(bytes) ? bytes : null);
    });
  });
}

/** A number in [0, 1) fixed by the id, so the target fails the same events however often it is asked. */
function unitHash(id: string): number {
  return createHash('sha1').update(id).digest().readUInt32BE(0) / 2 ** 32;
}

/** How the flaky target treats an event on its n-th arrival (1-based). */
export type TargetAnswer = 'ok' | 'slow' | 'status503' | 'destroy' | 'hang';
export function flakyAnswer(id: string, arrival: number): TargetAnswer {
  const u = unitHash(id);
  if (u < 0.002) return arrival === 1 ? 'status503' : arrival === 2 ? 'destroy' : 'ok';
  if (arrival > 1) return 'ok';
  if (u < 0.022) return 'status503';
  if (u < 0.027) return 'destroy';
  if (u < 0.028) return 'hang';
  if (u < 0.04) return 'slow';
  return 'ok';
}

interface FlakyTarget {
  url: string;
  /** Ids the target answered 2xx, i.e. forwarding got through. */
  delivered: Set<string>;
  arrivals: Map<string, number>;
  answers: Map<TargetAnswer, number>;
  close(): Promise<void>;
}

/**
 * The developer's app, as flaky as real ones: each event fails at most twice (503, a dropped
 * connection, or no answer past --forward-timeout), about 4 % of them at least once, and about 1 %
 * are answered after 150 ms; the retry schedule outlasts that, so every event gets through.
 */
async function startFlakyTarget(): Promise<FlakyTarget> {
  const delivered = new Set<string>();
  const arrivals = new Map<string, number>();
  const answers = new Map<TargetAnswer, number>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const id = String(req.headers['omise-webhook-event-id'] ?? '');
    req.resume();
    req.on('end', () => {
      const arrival = (arrivals.get(id) ?? 0) + 1;
      arrivals.set(id, arrival);
      const answer = flakyAnswer(id, arrival);
      answers.set(answer, (answers.get(answer) ?? 0) + 1);
      const ok = () => {
        res.on('finish', () => delivered.add(id));
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"ok":true}');
      };
      if (answer === 'ok') ok();
      else if (answer === 'slow') later(150, ok);
      else if (answer === 'status503') {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end('{"error":"flaky target"}');
      } else if (answer === 'destroy') req.socket.destroy();
      else later(FORWARD_TIMEOUT_MS + 500, () => req.socket.destroy());
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/omise/webhook`,
    delivered,
    arrivals,
    answers,
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A sender that stalls: headers promising 4,096 bytes, then 1,000 of them, then nothing. Resolves
 * with the status the server answered before closing (0 if it closed without one), or -2 if the
 * connection was still open REQUEST_TIMEOUT + 10 s later (the server never cut it off).
 */
function sendStalled(url: URL, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    let settled = false;
    const settle = (status: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      socket.destroy();
      resolve(status);
    };
    const giveUp = setTimeout(() => settle(-2), REQUEST_TIMEOUT_MS + 10_000);
    socket.on('connect', () => {
      const head = [
        `POST ${url.pathname} HTTP/1.1`,
        `Host: ${url.host}`,
        'Content-Type: application/json',
        'Content-Length: 4096',
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        '',
        '',
      ].join('\r\n');
      socket.write(head);
      socket.write(body.subarray(0, 1000));
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      settle(match ? Number(match[1]) : 0);
    });
  });
}

interface ReportRow {
  at: number;
  valid: number;
  acknowledged: number;
  p50: number;
  p99: number;
  max: number;
  rssBytes: number | null;
  fds: number | null;
  loopP99: number | null;
  loopMax: number | null;
  dbBytes: number;
  dirBytes: number | null;
}

export interface SoakResult {
  failures: string[];
  report: string;
  acknowledged: number;
  stored: number;
  forwarded: number;
  statuses: Record<string, Record<string, number>>;
  rows: ReportRow[];
  samples: ProcessSample[];
}

const MiB = 1024 * 1024;
const mib = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / MiB).toFixed(1)} MiB`);
const ms = (value: number | null | undefined) =>
  value === null || value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(value < 10 ? 1 : 0);

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const progress = options.progress ?? log;
  const logDir = mkdtempSync(join(tmpdir(), 'omise-webhook-soak-'));
  const probeFile = join(logDir, 'loop-delay.ndjson');
  const target = await startFlakyTarget();
  const serveArgs = [
    '--max-body',
    MAX_BODY,
    '--request-timeout',
    REQUEST_TIMEOUT,
    '--forward-to',
    target.url,
    '--retry-schedule',
    RETRY_SCHEDULE,
    '--forward-timeout',
    `${FORWARD_TIMEOUT_MS}ms`,
    ...options.serveArgs,
  ];
  mkdirSync(join(logDir, 'log'));
  const serve = await startServe({
    logDir: join(logDir, 'log'),
    args: serveArgs,
    nodeArgs: LOOP_DELAY_PROBE_ARGS,
    env: { LOOP_DELAY_PROBE_FILE: probeFile },
  });
  const pid = serve.child.pid as number;
  let serveExit: number | null = null;
  serve.child.once('exit', (code, signal) => {
    serveExit = code ?? (signal ? 128 : 1);
  });
  const webhookUrl = new URL(serve.webhookUrl);
  progress(`soak: serve (pid ${pid}) at ${serve.webhookUrl}, forwarding to ${target.url}; store in ${logDir}/log`);
  progress(
    `soak: ${options.rate} valid webhooks/s and ${BAD_RATE} bad requests/s for ${options.seconds} s; sample every ${options.sampleEverySeconds} s, report every ${options.reportEverySeconds} s`,
  );

  const tag = randomBytes(3).toString('hex');
  const events = realisticDeliveries({ count: Number.POSITIVE_INFINITY, seed: 7, idTag: `s${tag}` });
  const ids: string[] = [];
  const acknowledged = new Set<string>();
  const refusedIds = new Set<string>();
  // Bodies of valid requests in flight (bounded by the client's cap), and a few acknowledged ones
  // to deliver again as duplicates.
  const inFlightBodies = new Map<number, Buffer>();
  const duplicateSource: Buffer[] = [];
  const duplicates: string[] = [];
  const statuses = new Map<Kind, Map<number, number>>();
  const countStatus = (kind: Kind, status: number) => {
    const byStatus = statuses.get(kind) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    statuses.set(kind, byStatus);
  };
  const latencies: number[] = [];
  let windowLatencies: number[] = [];
  let windowValid = 0;
  let windowAcknowledged = 0;

  const nextBody = () => Buffer.from((events.next().value as { body: Uint8Array }).body);
  const idOf = (body: Buffer) => (JSON.parse(body.toString('utf8')) as { id: string }).id;

  // Samples: before the load, during it (for the growth rule), and after it.
  const dbFile = join(logDir, 'log');
  const sample = async (at: number): Promise<ProcessSample> => ({
    at,
    rssBytes: readRssBytes(pid),
    fds: countFds(pid),
    loop: await loopDelayWindow(pid, probeFile),
    dbBytes: databaseBytes(dbFile),
  });
  const startSample = await sample(0);
  const startDirBytes = await directoryBytes(dbFile);
  const samples: ProcessSample[] = [];
  const rows: ReportRow[] = [];

  const loadStart = performance.now();
  const elapsed = () => (performance.now() - loadStart) / 1000;
  const durationMs = options.seconds * 1000;
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });

  const validLoad = pacedLoad({
    url: serve.webhookUrl,
    rate: options.rate,
    durationMs,
    connections: 50,
    signal: controller.signal,
    makeRequest: (index) => {
      const body = nextBody();
      ids[index] = idOf(body);
      inFlightBodies.set(index, body);
      return { body, headers: { 'Content-Type': 'application/json', ...benchSignatureHeaders(body.toString('utf8')) } };
    },
    onResult: (result) => {
      countStatus('valid', result.status);
      latencies.push(result.latencyMs);
      windowLatencies.push(result.latencyMs);
      windowValid += 1;
      if (result.status >= 200 && result.status < 300) {
        windowAcknowledged += 1;
        const id = ids[result.index] as string;
        acknowledged.add(id);
        const body = inFlightBodies.get(result.index);
        if (body && duplicateSource.length < 20 && result.index % 10 === 0) duplicateSource.push(body);
      }
      inFlightBodies.delete(result.index);
    },
  });

  const sendBad = async (kind: Kind): Promise<number | null> => {
    switch (kind) {
      case 'unsigned': {
        const body = nextBody();
        refusedIds.add(idOf(body));
        return postOnce(webhookUrl, body, {});
      }
      case 'forged': {
        const body = nextBody();
        refusedIds.add(idOf(body));
        return postOnce(webhookUrl, body, {
          'Omise-Signature': randomBytes(32).toString('hex'),
          'Omise-Signature-Timestamp': String(Math.floor(Date.now() / 1000)),
        });
      }
      case 'malformed': {
        const text = nextBody().toString('utf8');
        const body = Buffer.from(text.slice(0, Math.floor(text.length / 2)));
        return postOnce(webhookUrl, body, benchSignatureHeaders(body.toString('utf8')));
      }
      case 'oversized': {
        const body = Buffer.alloc(OVERSIZED_BYTES, 0x20);
        return postOnce(webhookUrl, body, benchSignatureHeaders(body.toString('utf8')));
      }
      case 'slow': {
        const body = nextBody();
        refusedIds.add(idOf(body));
        return sendStalled(webhookUrl, body, benchSignatureHeaders(body.toString('utf8')));
      }
      case 'duplicate': {
        // The exact bytes of an event the main load got acknowledged, signed again.
        const body = duplicateSource.shift();
        if (body === undefined) return null; // none acknowledged yet: nothing to repeat
        duplicates.push(idOf(body));
        return postOnce(webhookUrl, body, benchSignatureHeaders(body.toString('utf8')));
      }
      default:
        throw new Error(`unknown kind ${kind}`);
    }
  };
  // The bad requests: their own paced loop, each on its own connection, bounded in flight.
  let badInFlight = 0;
  const badLoad = (async () => {
    const intervalMs = 1000 / BAD_RATE;
    const total = Math.floor((durationMs / 1000) * BAD_RATE);
    const pending = new Set<Promise<void>>();
    for (let i = 0; i < total && !controller.signal.aborted; i += 1) {
      const wait = loadStart + i * intervalMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (badInFlight >= 200) {
        countStatus(BAD_PATTERN[i % BAD_PATTERN.length] as Kind, -1);
        continue;
      }
      const kind = BAD_PATTERN[i % BAD_PATTERN.length] as Kind;
      badInFlight += 1;
      const sent = sendBad(kind).then((status) => {
        badInFlight -= 1;
        if (status !== null) countStatus(kind, status);
        pending.delete(sent);
      });
      pending.add(sent);
    }
    await Promise.all(pending);
  })();

  // Sampling and the time series run beside the load until it is done.
  let loadDone = false;
  const sampler = (async () => {
    let nextSample = options.sampleEverySeconds;
    let nextReport = options.reportEverySeconds;
    let windowSamples: ProcessSample[] = [];
    while (!loadDone) {
      const wait = loadStart + nextSample * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 250)));
      if (loadDone) break;
      if (performance.now() < loadStart + nextSample * 1000) continue;
      nextSample += options.sampleEverySeconds;
      const s = await sample(elapsed());
      samples.push(s);
      windowSamples.push(s);
      if (elapsed() >= nextReport) {
        nextReport += options.reportEverySeconds;
        const loops = windowSamples.map((w) => w.loop).filter((w): w is LoopDelayWindow => w !== null);
        const row: ReportRow = {
          at: Math.round(elapsed()),
          valid: windowValid,
          acknowledged: windowAcknowledged,
          ...latencySummary(windowLatencies, 3),
          rssBytes: s.rssBytes,
          fds: s.fds,
          loopP99: loops.length ? Math.max(...loops.map((w) => w.p99)) : null,
          loopMax: loops.length ? Math.max(...loops.map((w) => w.max)) : null,
          dbBytes: s.dbBytes,
          dirBytes: await directoryBytes(dbFile),
        };
        rows.push(row);
        windowLatencies = [];
        windowValid = 0;
        windowAcknowledged = 0;
        windowSamples = [];
        progress(
          `soak ${new Date().toISOString().slice(11, 19)} [${(row.at / 60).toFixed(1)}/${(options.seconds / 60).toFixed(1)} min] ` +
            `valid ${row.valid} (2xx ${row.acknowledged}) p50 ${ms(row.p50)} p99 ${ms(row.p99)} max ${ms(row.max)} ms | ` +
            `rss ${mib(row.rssBytes)} fds ${row.fds ?? 'n/a'} | loop p99 ${ms(row.loopP99)} max ${ms(row.loopMax)} ms | ` +
            `db ${mib(row.dbBytes)} dir ${mib(row.dirBytes)}`,
        );
      }
    }
  })();

  await Promise.all([validLoad, badLoad]);
  loadDone = true;
  await sampler;
  const loadSeconds = elapsed();

  // Forwarding: wait until the target has answered 2xx for every acknowledged event, or give up
  // after the retry schedule has had time to run out twice (and at least 60 s).
  const failures: string[] = [];
  const forwardDeadline = performance.now() + Math.max(60_000, 2 * (100 + 200 + 500 + 1000 + 2000 + 5 * 1000));
  const notForwarded = () => [...acknowledged].filter((id) => !target.delivered.has(id));
  while (performance.now() < forwardDeadline && notForwarded().length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const endSample = await sample(elapsed());
  const endDirBytes = await directoryBytes(dbFile);
  const missingAtTarget = notForwarded();

  await stop(serve.child);
  await target.close();
  if (serveExit !== 0) failures.push(`serve exited with ${serveExit} on SIGTERM (expected 0)`);

  // The store, read-only, after serve has stopped: every 2xx must be there, nothing refused must be.
  const storeFile = join(dbFile, 'omise-webhook.sqlite');
  let stored = new Set<string>();
  let deliveries = 0;
  let forwardStates: Array<{ state: string; n: number }> = [];
  let rejections = 0;
  if (existsSync(storeFile)) {
    const db = new Database(storeFile, { readonly: true });
    stored = new Set(db.prepare('SELECT event_id FROM events').pluck().all() as string[]);
    deliveries = db.prepare('SELECT COALESCE(SUM(delivery_count), 0) FROM events').pluck().get() as number;
    forwardStates = db.prepare('SELECT state, COUNT(*) AS n FROM forward_jobs GROUP BY state').all() as Array<{
      state: string;
      n: number;
    }>;
    rejections = db.prepare('SELECT COUNT(*) FROM rejections').pluck().get() as number;
    db.close();
  } else {
    failures.push(
      `${storeFile} does not exist, so nothing could be checked against the store (was --store memory given?)`,
    );
  }
  const lost = [...acknowledged].filter((id) => !stored.has(id));
  const storedRefused = [...refusedIds].filter((id) => stored.has(id));
  if (lost.length > 0)
    failures.push(`${lost.length} acknowledged events are not in the store (first: ${lost.slice(0, 3).join(', ')})`);
  if (storedRefused.length > 0)
    failures.push(
      `${storedRefused.length} refused events were stored (first: ${storedRefused.slice(0, 3).join(', ')})`,
    );
  if (missingAtTarget.length > 0)
    failures.push(
      `${missingAtTarget.length} acknowledged events never got a 2xx from the forward target (first: ${missingAtTarget.slice(0, 3).join(', ')})`,
    );

  // Statuses: each kind only what it should get, and never a 5xx.
  const statusRecord: Record<string, Record<string, number>> = {};
  for (const [kind, byStatus] of statuses) {
    statusRecord[kind] = Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => [String(s), n]));
    for (const [status, n] of byStatus) {
      if (!EXPECTED[kind].includes(status)) {
        const what = status === -1 ? 'not sent (too many in flight)' : status === -2 ? 'never cut off' : `${status}`;
        failures.push(`${n} ${kind} request(s) got ${what}; expected ${EXPECTED[kind].join(' or ')}`);
      }
    }
  }

  // Growth: samples taken while the load ran.
  const verdicts = [
    growthVerdict(
      'RSS',
      samples.map((s) => s.rssBytes).filter((v): v is number => v !== null),
      GROWTH_RULE.slack.rssBytes,
    ),
    growthVerdict(
      'open file descriptors',
      samples.map((s) => s.fds).filter((v): v is number => v !== null),
      GROWTH_RULE.slack.fds,
    ),
  ];
  const judgeGrowth = loadSeconds >= GROWTH_RULE.minLoadSeconds;
  for (const verdict of verdicts) {
    if (judgeGrowth && verdict && !verdict.ok) {
      const show = (v: number) => (verdict.metric === 'RSS' ? mib(v) : v.toFixed(1));
      failures.push(
        `${verdict.metric} grew: last quarter's mean ${show(verdict.lastQuarterMean)} > ${show(verdict.limit)} (second quarter's ${show(verdict.secondQuarterMean)} × ${GROWTH_RULE.ratio} + ${show(verdict.metric === 'RSS' ? GROWTH_RULE.slack.rssBytes : GROWTH_RULE.slack.fds)})`,
      );
    }
  }

  const loops = samples.map((s) => s.loop).filter((w): w is LoopDelayWindow => w !== null);
  const overall = latencySummary(latencies, 3);
  const lines = [
    `## Soak: ${(loadSeconds / 60).toFixed(1)} min at ${options.rate} valid webhooks/s + ${BAD_RATE} bad requests/s`,
    '',
    `serve ${['--verify (signature)', ...serveArgs].join(' ')}; UI on; a flaky forward target (about 4 % of events fail once or twice, 1 % slow).`,
    '',
    '| | start | end |',
    '|---|---:|---:|',
    `| RSS | ${mib(startSample.rssBytes)} | ${mib(endSample.rssBytes)} |`,
    `| open file descriptors | ${startSample.fds ?? 'n/a'} | ${endSample.fds ?? 'n/a'} |`,
    `| event-loop delay p50 / p99 / max, ms (first and last sample window) | ${ms(loops[0]?.p50)} / ${ms(loops[0]?.p99)} / ${ms(loops[0]?.max)} | ${ms(loops.at(-1)?.p50)} / ${ms(loops.at(-1)?.p99)} / ${ms(loops.at(-1)?.max)} |`,
    `| database (with WAL) | ${mib(startSample.dbBytes)} | ${mib(endSample.dbBytes)} |`,
    `| log directory | ${mib(startDirBytes)} | ${mib(endDirBytes)} |`,
    '',
    `Time series (each row covers the ${options.reportEverySeconds} s before it; latency from each request's scheduled time; loop delay is the worst ${options.sampleEverySeconds} s window's):`,
    '',
    '| min | valid | 2xx | p50 ms | p99 ms | max ms | RSS | fds | loop p99 ms | loop max ms | database | log dir |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${(r.at / 60).toFixed(1)} | ${r.valid} | ${r.acknowledged} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${mib(r.rssBytes)} | ${r.fds ?? 'n/a'} | ${ms(r.loopP99)} | ${ms(r.loopMax)} | ${mib(r.dbBytes)} | ${mib(r.dirBytes)} |`,
    ),
    '',
    `- valid requests: ${latencies.length}, latency p50 ${ms(overall.p50)} ms, p99 ${ms(overall.p99)} ms, max ${ms(overall.max)} ms`,
    `- event-loop delay over all ${loops.length} windows: worst p99 ${ms(loops.length ? Math.max(...loops.map((w) => w.p99)) : null)} ms, worst max ${ms(loops.length ? Math.max(...loops.map((w) => w.max)) : null)} ms`,
    `- statuses: ${Object.entries(statusRecord)
      .map(([kind, byStatus]) => `${kind} ${JSON.stringify(byStatus)}`)
      .join('; ')} (0 = closed without an answer)`,
    `- acknowledged ${acknowledged.size}, stored ${stored.size} (deliveries counted ${deliveries}, ${duplicates.length} duplicates sent), lost ${lost.length}; refused ids stored ${storedRefused.length}; rejections kept ${rejections}`,
    `- forwarding: the target answered 2xx for ${acknowledged.size - missingAtTarget.length} of ${acknowledged.size} acknowledged events; its answers ${JSON.stringify(Object.fromEntries(target.answers))}; forward jobs ${JSON.stringify(Object.fromEntries(forwardStates.map((r) => [r.state, r.n])))}`,
    `- growth rule: the mean of the last quarter of the ${samples.length} samples must not exceed the second quarter's mean × ${GROWTH_RULE.ratio} + ${mib(GROWTH_RULE.slack.rssBytes)} (RSS) or + ${GROWTH_RULE.slack.fds} (descriptors); the first quarter is warm-up. ${verdicts
      .map((v, i) =>
        v === null
          ? `${i === 0 ? 'RSS' : 'open file descriptors'}: too few samples (${GROWTH_RULE.minSamples} needed) to judge`
          : `${v.metric}: ${v.metric === 'RSS' ? mib(v.secondQuarterMean) : v.secondQuarterMean.toFixed(1)} → ${v.metric === 'RSS' ? mib(v.lastQuarterMean) : v.lastQuarterMean.toFixed(1)} (${v.ok ? 'flat' : 'GROWING'})`,
      )
      .join(
        '; ',
      )}${judgeGrowth ? '' : ` (shown, not judged: a load under ${GROWTH_RULE.minLoadSeconds / 60} minutes is warm-up)`}`,
    '',
    failures.length === 0
      ? 'soak: all checks passed'
      : `soak: ${failures.length} check(s) FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`,
    '',
  ];
  rmSync(logDir, { recursive: true, force: true });
  return {
    failures,
    report: lines.join('\n'),
    acknowledged: acknowledged.size,
    stored: stored.size,
    forwarded: acknowledged.size - missingAtTarget.length,
    statuses: statusRecord,
    rows,
    samples,
  };
}

const HELP = `Usage: npm run soak -- [options]

Runs \`omise-webhook serve\` under steady signed load with bad requests mixed in and forwarding to a
flaky local target; samples RSS, open file descriptors, event-loop delay and disk use; then checks
that every acknowledged event is stored and reached the target, that every request got its
expected status, and that memory and descriptors stayed flat. Exits 1 if a check fails.

Options:
  --minutes <n>       how long the load runs [env: OMISE_WEBHOOK_SOAK_MINUTES] (default: 10)
  --seconds <n>       the same in seconds, for short runs; wins over --minutes
                      [env: OMISE_WEBHOOK_SOAK_SECONDS]
  --rate <n>          valid signed webhooks per second [env: OMISE_WEBHOOK_SOAK_RATE] (default: 50)
  --sample-every <s>  seconds between samples [env: OMISE_WEBHOOK_SOAK_SAMPLE_EVERY]
                      (default: the run / 40, a whole number from 1 to 10)
  --report-every <s>  seconds between time-series rows and progress lines
                      [env: OMISE_WEBHOOK_SOAK_REPORT_EVERY] (default: about the run / 12, in whole samples, at least 5)
  --serve-args <a>    extra flags for serve, space-separated, e.g. "--no-files"
                      [env: OMISE_WEBHOOK_SOAK_SERVE_ARGS]
  -h, --help          show this
`;

/** Reads a positive number from a flag or its variable; the error names both. */
function positive(flag: string, variable: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`${flag} (or ${variable}) got "${value}"; expected a number above 0, e.g. ${flag} 10`);
  }
  return n;
}

export function soakOptionsFrom(argv: readonly string[], env: NodeJS.ProcessEnv): SoakOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string' },
      seconds: { type: 'string' },
      rate: { type: 'string' },
      'sample-every': { type: 'string' },
      'report-every': { type: 'string' },
      'serve-args': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const seconds =
    positive('--seconds', 'OMISE_WEBHOOK_SOAK_SECONDS', values.seconds ?? env.OMISE_WEBHOOK_SOAK_SECONDS) ??
    (positive('--minutes', 'OMISE_WEBHOOK_SOAK_MINUTES', values.minutes ?? env.OMISE_WEBHOOK_SOAK_MINUTES) ?? 10) * 60;
  const rate = positive('--rate', 'OMISE_WEBHOOK_SOAK_RATE', values.rate ?? env.OMISE_WEBHOOK_SOAK_RATE) ?? 50;
  const sampleEverySeconds =
    positive(
      '--sample-every',
      'OMISE_WEBHOOK_SOAK_SAMPLE_EVERY',
      values['sample-every'] ?? env.OMISE_WEBHOOK_SOAK_SAMPLE_EVERY,
    ) ?? Math.min(10, Math.max(1, Math.round(seconds / 40)));
  const reportEverySeconds =
    positive(
      '--report-every',
      'OMISE_WEBHOOK_SOAK_REPORT_EVERY',
      values['report-every'] ?? env.OMISE_WEBHOOK_SOAK_REPORT_EVERY,
    ) ??
    // A whole number of samples per row, so every row covers the same time.
    Math.max(5, Math.max(1, Math.round(seconds / 12 / sampleEverySeconds)) * sampleEverySeconds);
  const serveArgs = (values['serve-args'] ?? env.OMISE_WEBHOOK_SOAK_SERVE_ARGS ?? '').split(/\s+/).filter(Boolean);
  return { seconds, rate, sampleEverySeconds, reportEverySeconds, serveArgs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let options: SoakOptions | 'help';
  try {
    options = soakOptionsFrom(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`soak: ${(error as Error).message}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(HELP);
    process.exit(0);
  }
  // Ctrl-C stops the load early; the checks still run on what was sent.
  const controller = new AbortController();
  process.once('SIGINT', () => {
    log('soak: interrupted, stopping the load and checking what was sent...');
    controller.abort();
  });
  const result = await runSoak({ ...options, signal: controller.signal });
  process.stdout.write(result.report);
  // Kept for the README and for a closer look at the samples afterwards.
  mkdirSync(join(root, 'bench-output'), { recursive: true });
  writeFileSync(join(root, 'bench-output', 'soak.md'), result.report);
  writeFileSync(join(root, 'bench-output', 'soak.json'), JSON.stringify({ options, ...result }, null, 2));
  log('soak: report written to bench-output/soak.md, samples to bench-output/soak.json');
  process.exit(result.failures.length === 0 ? 0 : 1);
}
