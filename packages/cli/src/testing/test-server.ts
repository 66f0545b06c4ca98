import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, type ServerConfig, type ServerIo, startServer } from '../app/server.js';
import type { Clock } from '../core/ports.js';

/** Collects what the server prints, for assertions. */
export class CapturedOutput {
  text = '';
  #waiters: Array<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }> = [];

  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    this.#waiters = this.#waiters.filter((waiter) => {
      const match = waiter.pattern.exec(this.text);
      if (match) waiter.resolve(match);
      return !match;
    });
    return true;
  }

  /**
   * Resolves with the match once the output matches `pattern` (at once if it already does):
   * tests wait for the banner on the write itself, not by polling on a timer. The test runner's
   * own timeout bounds a wait for text that never comes.
   */
  waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    const match = pattern.exec(this.text);
    if (match) return Promise.resolve(match);
    return new Promise((resolve) => this.#waiters.push({ pattern, resolve }));
  }
  get lines(): string[] {
    return this.text.split('\n').filter(Boolean);
  }
}

const madeDirectories = new Set<string>();

/**
 * A fresh directory under the system's temporary folder, removed when the test process exits
 * (node's runner gives each test file its own process), so runs do not pile up thousands of
 * folders of event files that slow the file system down for everything else.
 */
export function temporaryDirectory(prefix = 'omise-webhook-test-'): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  if (madeDirectories.size === 0) process.once('exit', removeTemporaryDirectories);
  madeDirectories.add(directory);
  return directory;
}

function removeTemporaryDirectories(): void {
  for (const directory of madeDirectories) rmSync(directory, { recursive: true, force: true });
  madeDirectories.clear();
}

export function testServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    path: '/omise/webhook',
    logDir: temporaryDirectory(),
    store: 'sqlite',
    verify: 'auto',
    toleranceSec: 300,
    allowLive: false,
    maxBodyBytes: 1024 * 1024,
    maxRejected: 1000,
    requestTimeoutMs: 10_000,
    files: true,
    json: false,
    color: false,
    apiUrl: 'http://127.0.0.1:9',
    apiRetryIntervalMs: 60_000,
    secretKey: undefined,
    webhookSecrets: [],
    // Tests that want the inspector turn it on; port 0 then picks a free port.
    ui: false,
    uiHost: '127.0.0.1',
    uiPort: 0,
    uiToken: undefined,
    ...overrides,
  };
}

export interface TestServer extends RunningServer {
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  webhookUrl: string;
}

export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  clock?: Clock,
  io: Omit<ServerIo, 'stdout' | 'stderr' | 'clock'> = {},
): Promise<TestServer> {
  const stdout = new CapturedOutput();
  const stderr = new CapturedOutput();
  const server = await startServer(testServerConfig(overrides), {
    stdout,
    stderr,
    ...(clock ? { clock } : {}),
    ...io,
  });
  return Object.assign(server, { stdout, stderr, webhookUrl: server.listener.url });
}
