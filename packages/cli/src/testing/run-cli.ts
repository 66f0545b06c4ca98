import type { ServerConfig } from '../app/server.js';
import { buildServerConfig } from '../cli/commands/serve.js';
import type { CliContext } from '../cli/context.js';
import type { Env } from '../cli/dotenv.js';
import { buildProgram, main } from '../cli/main.js';
import type { Clock } from '../core/ports.js';
import { CapturedOutput, temporaryDirectory } from './test-server.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in process with everything injected, as the tests of every command do. */
export async function runCli(
  argv: string[],
  options: {
    env?: Env;
    cwd?: string;
    signal?: AbortSignal;
    fetch?: typeof fetch;
    clock?: Clock;
    stdoutIsTTY?: boolean;
    stderrIsTTY?: boolean;
  } = {},
): Promise<CliRun> {
  const stdout = Object.assign(new CapturedOutput(), { isTTY: options.stdoutIsTTY ?? false });
  const stderr = Object.assign(new CapturedOutput(), { isTTY: options.stderrIsTTY ?? false });
  const code = await main({
    argv,
    env: options.env ?? {},
    cwd: options.cwd ?? temporaryDirectory(),
    stdout,
    stderr,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A fetch that records every request (URL, method, ordered headers, exact body) before sending it. */
export function recordingFetch(): {
  fetch: typeof fetch;
  requests: Array<{ url: string; method: string; headers: Array<[string, string]>; body: string }>;
} {
  const requests: Array<{ url: string; method: string; headers: Array<[string, string]>; body: string }> = [];
  const recording: typeof fetch = async (input, init) => {
    const headers = init?.headers;
    requests.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: Array.isArray(headers)
        ? (headers as Array<[string, string]>).map(([name, value]) => [name, value])
        : Object.entries((headers ?? {}) as Record<string, string>),
      body: typeof init?.body === 'string' ? init.body : '',
    });
    return fetch(input, init);
  };
  return { fetch: recording, requests };
}

/** A CLI context with captured output and nothing from the real process. */
export function testCliContext(overrides: Partial<CliContext> = {}): CliContext {
  return {
    argv: [],
    env: {},
    cwd: '/',
    stdout: new CapturedOutput(),
    stderr: new CapturedOutput(),
    signal: new AbortController().signal,
    fetch,
    dotenv: { file: null, names: [], error: null },
    ...overrides,
  };
}

/** Parses `serve` flags the way the CLI does (flag, then environment, then default), without starting anything. */
export function parseServeConfig(argv: string[], env: Env = {}): ServerConfig {
  const context = testCliContext({ argv, env });
  const program = buildProgram(context);
  const serve = program.commands.find((command) => command.name() === 'serve');
  if (!serve) throw new Error('the CLI has no serve command');
  serve.action(() => {});
  program.parse(['serve', ...argv], { from: 'user' });
  return buildServerConfig(serve, context);
}
