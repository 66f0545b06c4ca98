/**
 * `omise-webhook serve` (and `listen`) as real child processes of the built bin, for the team-mode
 * tests: several instances on one database, SIGKILL, a database that goes away. The bin runs
 * dist/, which `npm test` builds first (`npm run build -w omise-webhook` before a targeted run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { omiseHeaders } from './forwarding.js';
import { TEST_WEBHOOK_SECRET } from './signing.js';
import { temporaryDirectory } from './test-server.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const BIN = join(ROOT, 'packages/cli/bin/omise-webhook.js');

export interface CliProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  /** Resolves with the match once the output matches; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, then waits for the exit: nothing runs after it (no lease release, no flush). */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the built CLI with `args` and only the given environment (plus PATH and HOME). */
export function startCli(args: string[], env: Record<string, string> = {}, cwd = temporaryDirectory()): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters: Array<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }> = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(text);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const end = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    child,
    exited,
    output: () => text,
    waitFor: (pattern) => {
      const match = pattern.exec(text);
      if (match) return Promise.resolve(match);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(({ code, signal }) =>
          reject(new Error(`${args[0]} exited (${code ?? signal}) before printing ${pattern}:\n${text}`)),
        );
      });
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

export interface ServeProcess extends CliProcess {
  webhookUrl: string;
  /** The inspector's base URL, ending in `/`. */
  inspectorUrl: string;
}

/**
 * Starts `serve --store <store>` on free ports with signature verification (TEST_WEBHOOK_SECRET);
 * resolves once its banner names the webhook and inspector URLs.
 */
export async function startServeProcess(options: {
  store: string;
  args?: readonly string[];
  env?: Record<string, string>;
}): Promise<ServeProcess> {
  const logDir = temporaryDirectory();
  const cli = startCli(
    [
      'serve',
      '--store',
      options.store,
      '--port',
      '0',
      '--ui-port',
      '0',
      '--log-dir',
      logDir,
      '--json',
      ...(options.args ?? []),
    ],
    { OMISE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET, ...options.env },
    logDir,
  );
  const webhook = await cli.waitFor(/POST (http:\/\/127\.0\.0\.1:\d+\/omise\/webhook)/);
  const inspector = await cli.waitFor(/inspector: (http:\/\/127\.0\.0\.1:\d+\/)/);
  return { ...cli, webhookUrl: webhook[1] as string, inspectorUrl: inspector[1] as string };
}

/** A keep-alive agent with `connections` sockets: load over several connections, as Omise's would be. */
export function loadAgent(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections });
}

/**
 * Posts a body signed now, as Omise does, and resolves with the status, or 0 when no answer came
 * (connection refused or reset: the sender would retry, nothing was acknowledged).
 */
export function postSigned(url: string, body: string, agent?: Agent): Promise<{ status: number; text: string }> {
  const headers = omiseHeaders(body, Math.floor(Date.now() / 1000));
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: Object.fromEntries([...headers, ['Content-Length', String(Buffer.byteLength(body))]]),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, text: '' }));
      },
    );
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(body);
  });
}

/**
 * Runs `work(item)` over the items with `concurrency` workers, in order of the items, and
 * resolves with the results in the same order.
 */
export async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
