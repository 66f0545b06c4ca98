/**
 * `serve` as users start it, in a child process: through the built bin, and through the root
 * `npm start`. One SIGTERM stops it within a second once idle, with exit code 0, the received
 * event kept (its file written, the store closed cleanly), and nothing left running.
 * Runs the build that `npm test` makes first.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { eventBody } from '../testing/delivery-fixtures.js';
import { runCli } from '../testing/run-cli.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { temporaryDirectory } from '../testing/test-server.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'packages/cli/bin/omise-webhook.js');
const EVENT_ID = 'evnt_test_5stopsignal01';

interface Started {
  child: ChildProcess;
  output: () => string;
  webhookUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function start(command: string, args: string[], cwd: string): Promise<Started> {
  const child = spawn(command, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NO_COLOR: '1',
      OMISE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /POST (http:\/\/127\.0\.0\.1:\d+\/omise\/webhook)/.exec(output)?.[1];
      if (url) {
        child.stderr?.off('data', onData);
        child.stderr?.on('data', (more: Buffer) => {
          output += more.toString();
        });
        resolve({ child, output: () => output, webhookUrl: url, exited });
      }
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', onData);
    void exited.then(({ code }) => reject(new Error(`serve exited (${code}) before it listened:\n${output}`)));
  });
}

async function postEvent(url: string): Promise<Response> {
  const body = eventBody({ eventId: EVENT_ID });
  const timestamp = Math.floor(Date.now() / 1000);
  return fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Omise-Signature-Timestamp': String(timestamp),
      'Omise-Signature': signForTest(TEST_WEBHOOK_SECRET, timestamp, body),
    },
    body,
  });
}

/** Waits (polling the file system, bounded) until the event's file is written: serve is then idle. */
async function untilWritten(path: string): Promise<void> {
  for (let waited = 0; !existsSync(path); waited += 20) {
    if (waited > 15_000) throw new Error(`${path} was not written within 15 s`);
    await delay(20);
  }
}

async function stopsCleanly(started: Started, logDir: string, withinMs: number): Promise<void> {
  const answer = await postEvent(started.webhookUrl);
  assert.equal(answer.status, 200, started.output());
  await untilWritten(join(logDir, 'api/event', `${EVENT_ID}.json`));

  const signalled = performance.now();
  started.child.kill('SIGTERM');
  const { code, signal, at } = await started.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, started.output());
  assert.ok(at - signalled < withinMs, `took ${Math.round(at - signalled)} ms to stop (goal: < ${withinMs} ms)`);
  assert.match(started.output(), /omise-webhook: stopping; finishing writes\.\.\.\n/);

  // Nothing left listening (no orphaned server), the store closed cleanly, the event in it.
  await assert.rejects(fetch(started.webhookUrl, { method: 'POST' }), { message: 'fetch failed' });
  assert.equal(existsSync(join(logDir, 'omise-webhook.sqlite-wal')), false, 'the store was not closed (WAL left)');
  const listed = await runCli(['events', 'list', '--json', '--log-dir', logDir]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    listed.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id),
    [EVENT_ID],
  );
}

describe('serve stops on SIGTERM', () => {
  it('through the bin: within 1 s once idle, exit 0, the event kept', async () => {
    const directory = temporaryDirectory();
    const logDir = join(directory, 'log');
    const started = await start(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--ui-port', '0', '--log-dir', logDir],
      directory,
    );
    await stopsCleanly(started, logDir, 1000);
  });

  it('through `npm start`: npm passes the signal on, so no server is left running', async () => {
    // npm stops its child when signalled; the script's `exec` makes that child the server
    // itself, not a shell that would die and leave the server orphaned.
    const logDir = join(temporaryDirectory(), 'log');
    const started = await start(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['start', '--silent', '--', '--port', '0', '--ui-port', '0', '--log-dir', logDir],
      ROOT,
    );
    // npm's own exit after the server's adds its own time on a busy machine.
    await stopsCleanly(started, logDir, 2000);
  });
});
