/**
 * What every benchmark section shares: the webhook secret, progress lines, waiting for a child
 * process to say it is ready, starting `omise-webhook serve`, and stopping children.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;
export const BENCH_SECRET = Buffer.from('benchmark webhook secret 32 bytes').toString('base64');
export const BENCH_SECRET_KEY = Buffer.from(BENCH_SECRET, 'base64');

/** Progress goes to stderr; the report goes to stdout. */
export function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

/**
 * Resolves with the matches once every pattern has appeared in the child's output. Afterwards the
 * output is still drained (and dropped), so a chatty child never blocks on a full pipe.
 */
export function waitForLines(
  child: ChildProcess,
  patterns: readonly RegExp[],
  what: string,
): Promise<RegExpExecArray[]> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let ready = false;
    const onData = (chunk: Buffer) => {
      if (ready) return;
      seen += chunk.toString('utf8');
      const matches = patterns.map((pattern) => pattern.exec(seen));
      if (matches.every((match) => match !== null)) {
        ready = true;
        resolve(matches as RegExpExecArray[]);
      }
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`${what} exited with ${code} before it was ready:\n${seen}`));
    });
  });
}

export async function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  const [match] = await waitForLines(child, [pattern], what);
  return match as RegExpExecArray;
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Starts `omise-webhook serve` on port 0 with signature verification (BENCH_SECRET), the given
 * log directory and extra flags; resolves once its banner names the webhook URL (and, unless
 * `--no-ui` is among the flags, the inspector URL). BENCH_NODE_ARGS adds node flags (e.g.
 * `--cpu-prof`).
 */
export async function startServe(options: { logDir: string; args?: readonly string[] }): Promise<{
  child: ChildProcess;
  webhookUrl: string;
  inspectorUrl: string | null;
}> {
  const args = options.args ?? [];
  const withUi = !args.includes('--no-ui');
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      join(root, 'packages/cli/bin/omise-webhook.js'),
      'serve',
      '--port',
      '0',
      ...(withUi ? ['--ui-port', '0'] : []),
      '--log-dir',
      options.logDir,
      '--json',
      ...args,
    ],
    {
      cwd: options.logDir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, OMISE_WEBHOOK_SECRET: BENCH_SECRET, NO_COLOR: '1' },
    },
  );
  const patterns = [/POST (http:\/\/\S+)/, ...(withUi ? [/inspector: (http:\/\/\S+\/)/] : [])];
  const [webhook, inspector] = await waitForLines(child, patterns, 'omise-webhook serve');
  return { child, webhookUrl: webhook?.[1] as string, inspectorUrl: inspector?.[1] ?? null };
}

/**
 * A realistic webhook body, pretty-printed like Omise's (unicode, `\/` escapes, an empty array
 * as `[\n\n  ]`), for the event `id`; the object ids are derived from it so every one is unique.
 */
export function benchEventBody(id: string): string {
  const suffix = id.replace(/^evnt_test_/, '');
  return `{
  "object": "event",
  "id": "${id}",
  "livemode": false,
  "location": "\\/events\\/${id}",
  "webhook_deliveries": [

  ],
  "data": {
    "object": "charge",
    "id": "chrg_test_${suffix}",
    "livemode": false,
    "location": "\\/charges\\/chrg_test_${suffix}",
    "amount": 100000,
    "currency": "thb",
    "description": "ค่าสินค้า order ${suffix}",
    "status": "successful",
    "capture": true,
    "authorized": true,
    "paid": true,
    "transaction": "trxn_test_${suffix}",
    "card": {
      "object": "card",
      "id": "card_test_${suffix}",
      "livemode": false,
      "brand": "Visa",
      "last_digits": "4242",
      "name": "JOHN DOE"
    },
    "metadata": {
      "order_id": "A${suffix}"
    },
    "created_at": "2026-11-26T07:00:00Z"
  },
  "key": "charge.create",
  "created_at": "2026-11-26T07:00:00Z"
}`;
}

/** The p-th percentile (0-100) of the values, by the nearest rank below; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
