/**
 * `BENCH_ONLY=listen npm run bench`: how long an event takes from the team `serve`'s receipt to
 * a developer's local app through `omise-webhook listen` (serve's /api/feed, then listen's POST).
 *
 * serve and listen run as child processes (the built CLI); the poster and the local app are this
 * process, so one clock (performance.now) times both ends. Events are posted one at a time,
 * BENCH_LISTEN_GAP_MS apart (default 10), BENCH_LISTEN_EVENTS of them (default 300): the latency
 * of one event through an idle path, not a throughput. Two numbers per event: from the post to
 * the local app's receipt, and from serve's 2xx (the event is stored) to that receipt, the time
 * listen adds. Every event must arrive exactly once, in order.
 */

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchEventBody,
  benchSignatureHeaders,
  latencySummary,
  log,
  root,
  startServe,
  stop,
  waitForLine,
} from './bench-kit.js';

const EVENTS = Number(process.env.BENCH_LISTEN_EVENTS ?? 300);
const GAP_MS = Number(process.env.BENCH_LISTEN_GAP_MS ?? 10);
const TARGET_P50_MS = 20;

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...benchSignatureHeaders(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function listenSection(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'omise-webhook-bench-listen-'));
  const arrivals = new Map<string, number>();
  const order: string[] = [];
  let onArrival: (() => void) | null = null;
  const app = createServer((req, res) => {
    const at = performance.now();
    const id = String(req.headers['omise-webhook-event-id']);
    req.resume();
    req.on('end', () => {
      if (!arrivals.has(id)) arrivals.set(id, at);
      order.push(id);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
      onArrival?.();
    });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/omise/webhook`;
  const { child: serve, webhookUrl, inspectorUrl } = await startServe({ logDir, args: ['--no-files'] });
  const listen = spawn(
    process.execPath,
    [
      join(root, 'packages/cli/bin/omise-webhook.js'),
      'listen',
      '--from',
      inspectorUrl as string,
      '--forward-to',
      appUrl,
      '--log-dir',
      logDir,
      '--name',
      'bench',
    ],
    { cwd: logDir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  await waitForLine(listen, /listening to /, 'omise-webhook listen');
  log(`bench: listen from ${inspectorUrl} to ${appUrl}, ${EVENTS} events ${GAP_MS} ms apart...`);
  const fromPost: number[] = [];
  const fromAck: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const id = `evnt_test_listen${i.toString(36).padStart(5, '0')}`;
    ids.push(id);
    const arrived = new Promise<void>((resolve) => {
      onArrival = () => {
        if (arrivals.has(id)) resolve();
      };
    });
    const sent = performance.now();
    const status = await post(webhookUrl, benchEventBody(id));
    const acked = performance.now();
    if (status !== 200) throw new Error(`serve answered ${status} to ${id}`);
    if (!arrivals.has(id)) await arrived;
    const at = arrivals.get(id) as number;
    fromPost.push(at - sent);
    fromAck.push(at - acked);
    await new Promise((resolve) => setTimeout(resolve, GAP_MS));
  }
  await stop(listen);
  await stop(serve);
  app.close();
  rmSync(logDir, { recursive: true, force: true });
  const post50 = latencySummary(fromPost);
  const ack50 = latencySummary(fromAck);
  const exactlyOnce = order.length === ids.length && order.every((id, index) => id === ids[index]);
  const lines = [
    '## listen: from the team serve to the local app',
    '',
    `${EVENTS} events, one at a time, ${GAP_MS} ms apart; serve (${/^postgres(ql)?:/.test(process.env.OMISE_WEBHOOK_STORE ?? '') ? 'PostgreSQL' : 'SQLite'}, signature verification) and listen in their own processes.`,
    '',
    '| measured | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|',
    `| post to serve -> local app receives it | ${post50.p50} | ${post50.p99} | ${post50.max} |`,
    `| serve's 2xx -> local app receives it (what listen adds) | ${ack50.p50} | ${ack50.p99} | ${ack50.max} |`,
    '',
    `- every event exactly once, in order: ${exactlyOnce ? 'yes' : `NO (${order.length} arrivals for ${ids.length} events)`}`,
    '',
  ];
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  mkdirSync(join(root, 'bench-output'), { recursive: true });
  writeFileSync(join(root, 'bench-output', 'listen.md'), report);
  process.stdout.write(
    `target (p50 from receipt to the local app < ${TARGET_P50_MS} ms, exactly once): ${post50.p50 < TARGET_P50_MS && exactlyOnce ? 'met' : 'NOT met'}\n`,
  );
}
