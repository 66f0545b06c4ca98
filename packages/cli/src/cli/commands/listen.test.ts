/**
 * `omise-webhook listen` against a real team `serve` (its inspector with a token) and a real
 * local app (a node:http target): the bytes, the signature, the key filter, the token, a
 * server restart, and a SIGKILL of listen itself while events keep arriving.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyOmiseSignature } from '@omise-webhook/events';
import { eventBody } from '../../testing/delivery-fixtures.js';
import { omiseHeaders, postWebhook } from '../../testing/forwarding.js';
import { TEST_WEBHOOK_SECRET } from '../../testing/signing.js';
import { headerValue, startTargetServer } from '../../testing/target-server.js';
import { CapturedOutput, startTestServer, type TestServer, temporaryDirectory } from '../../testing/test-server.js';
import { main } from '../main.js';

const TOKEN = 'team-token-0123456789abcdef';

async function teamServer(overrides: { logDir?: string; uiPort?: number } = {}): Promise<TestServer> {
  return startTestServer({
    ui: true,
    uiToken: TOKEN,
    webhookSecrets: [TEST_WEBHOOK_SECRET],
    files: false,
    ...overrides,
  });
}

function inspectorUrl(server: TestServer): string {
  return `http://127.0.0.1:${server.inspector?.port}/`;
}

/** `--from`, `--token` and `--forward-to` for a listen that follows `server` into `target`. */
function teamArgs(server: TestServer, target: { url: string }): string[] {
  return ['--from', inspectorUrl(server), '--token', TOKEN, '--forward-to', target.url];
}

let counter = 0;
/** Posts a signed event to the team server, as Omise would, and returns its id and exact body. */
async function postEvent(server: TestServer, key = 'charge.create'): Promise<{ id: string; body: string }> {
  counter += 1;
  const id = `evnt_test_5listen${process.pid}x${String(counter).padStart(4, '0')}`;
  const body = eventBody({ eventId: id, key });
  const answer = await postWebhook(server, body, omiseHeaders(body, Math.floor(Date.now() / 1000)));
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return { id, body };
}

interface RunningListen {
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  exited: Promise<number>;
  stop(): Promise<number>;
}

/** Runs `listen` in process until stopped (the abort is Ctrl-C), with captured output. */
function startListen(argv: string[], env: Record<string, string> = {}): RunningListen {
  const stdout = new CapturedOutput();
  const stderr = new CapturedOutput();
  const controller = new AbortController();
  const exited = main({
    argv: ['listen', ...argv],
    env: { USER: 'ana', ...env },
    cwd: temporaryDirectory(),
    stdout,
    stderr,
    signal: controller.signal,
  });
  return {
    stdout,
    stderr,
    exited,
    stop: () => {
      controller.abort();
      return exited;
    },
  };
}

function idOf(request: { headers: Array<[string, string]>; body: Buffer }): string {
  return (JSON.parse(request.body.toString('utf8')) as { id: string }).id;
}

describe('omise-webhook listen', () => {
  it('documents every flag with its variable, and names the bad value and the flag on bad usage', async () => {
    const help = startListen(['--help']);
    assert.equal(await help.exited, 0);
    const text = help.stdout.text.replace(/\s+/g, ' ');
    const flags: Array<[string, string]> = [
      ['--from <url>', 'OMISE_WEBHOOK_LISTEN_FROM'],
      ['--token <token>', 'OMISE_WEBHOOK_LISTEN_TOKEN'],
      ['--forward-to <url>', 'OMISE_WEBHOOK_FORWARD_TO'],
      ['--events <pattern>', 'OMISE_WEBHOOK_LISTEN_EVENTS'],
      ['--name <who>', 'OMISE_WEBHOOK_LISTEN_NAME'],
      ['--since <time>', 'OMISE_WEBHOOK_LISTEN_SINCE'],
      ['--log-dir <dir>', 'OMISE_WEBHOOK_LOG_DIR'],
      ['--forward-timeout <duration>', 'OMISE_WEBHOOK_FORWARD_TIMEOUT'],
    ];
    for (const [flag, env] of flags) {
      assert.match(text, new RegExp(`${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} [^[]*\\[env: ${env}\\]`));
    }
    assert.match(text, /--name <who> .*\(default: "ana"\)/);
    assert.match(
      text,
      /Exit status: 0 stopped \(Ctrl-C, SIGTERM\), 1 failed, 2 bad usage, 3 token missing or refused, 4 refused \(403\)\./,
    );

    const noFrom = startListen(['--forward-to', 'http://localhost:8080/hook']);
    assert.equal(await noFrom.exited, 2);
    assert.equal(
      noFrom.stderr.text,
      "omise-webhook: listen needs the team server: --from https://hooks.example.com/ (OMISE_WEBHOOK_LISTEN_FROM), its inspector's URL\n",
    );
    const badName = startListen(
      ['--from', 'https://hooks.example.com/', '--forward-to', 'http://localhost:8080/hook'],
      {
        OMISE_WEBHOOK_LISTEN_NAME: '../etc',
      },
    );
    assert.equal(await badName.exited, 2);
    assert.equal(
      badName.stderr.text,
      'omise-webhook: --name (OMISE_WEBHOOK_LISTEN_NAME) got "../etc"; expected a name of letters, digits, . _ and - (at most 64, not starting with a dot), such as your user name\n',
    );
    const badEvents = startListen([
      '--from',
      'https://hooks.example.com/',
      '--forward-to',
      'http://localhost:8080/hook',
      '--events',
      'charge.craete',
    ]);
    assert.equal(await badEvents.exited, 2);
    assert.match(
      badEvents.stderr.text,
      /--events \(OMISE_WEBHOOK_LISTEN_EVENTS\) got "charge\.craete"; .*did you mean charge\.create/,
    );
  });

  it('forwards each event byte for byte with its headers, so the Omise signature verifies at the local app', async () => {
    const server = await teamServer();
    const target = await startTargetServer();
    const logDir = temporaryDirectory();
    const listen = startListen([...teamArgs(server, target), '--log-dir', logDir]);
    await listen.stderr.waitFor(/listening to /);
    const sent = [await postEvent(server), await postEvent(server, 'refund.create')];
    const received = await target.waitForRequests(2);
    for (const [index, request] of received.entries()) {
      const event = sent[index] as { id: string; body: string };
      assert.equal(request.body.toString('utf8'), event.body);
      const verified = await verifyOmiseSignature({
        payload: request.body,
        signature: headerValue(request, 'Omise-Signature') ?? '',
        timestamp: headerValue(request, 'Omise-Signature-Timestamp') ?? '',
        secret: TEST_WEBHOOK_SECRET,
      });
      assert.equal(verified.ok, true, JSON.stringify(verified));
      // The stored headers in their order, hop-by-hop ones out (Connection), Host and
      // Content-Length set for the new request, ours at the end; Node's agent adds its Connection.
      assert.deepEqual(request.headers, [
        ['Host', `127.0.0.1:${target.port}`],
        ['Content-Type', 'application/json; charset=utf-8'],
        ['User-Agent', 'Omise/2019-05-29'],
        ['Omise-Signature-Timestamp', headerValue(request, 'Omise-Signature-Timestamp')],
        ['Omise-Signature', headerValue(request, 'Omise-Signature')],
        ['Content-Length', String(Buffer.byteLength(event.body))],
        ['Omise-Webhook-Forwarded-By', 'omise-webhook'],
        ['Omise-Webhook-Attempt', '1'],
        ['Omise-Webhook-Event-Id', event.id],
        ['Connection', 'keep-alive'],
      ]);
      const stored = await server.store.getEvent(event.id);
      assert.deepEqual(
        stored?.headers.map(([name]) => name),
        [
          'Host',
          'Content-Type',
          'User-Agent',
          'Omise-Signature-Timestamp',
          'Omise-Signature',
          'Content-Length',
          'Connection',
        ],
      );
      assert.equal(headerValue(request, 'Host'), `127.0.0.1:${target.port}`);
      assert.equal(headerValue(request, 'Omise-Webhook-Event-Id'), event.id);
    }
    await listen.stdout.waitFor(/refund\.create/);
    const lines = listen.stdout.lines;
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] as string,
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  charge\\.create {8}${sent[0]?.id}  → 200  \\d+ ms$`),
    );
    assert.equal(await listen.stop(), 0);
    const saved = JSON.parse(readFileSync(join(logDir, 'listen', 'ana.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(saved.cursor, await server.store.eventFeedHead());
    assert.equal(saved.from, inspectorUrl(server));
    assert.match(listen.stderr.text, /stopped; the next start resumes after position \d+/);
    // The token is shown masked, never whole.
    assert.ok(!listen.stderr.text.includes(TOKEN));
    await target.close();
    await server.close();
  });

  it('sends only the events --events names, and still moves its position past the others', async () => {
    const server = await teamServer();
    const target = await startTargetServer();
    const logDir = temporaryDirectory();
    const listen = startListen([
      ...teamArgs(server, target),
      '--events',
      'charge.*,refund.create',
      '--log-dir',
      logDir,
      '--name',
      'bo',
    ]);
    await listen.stderr.waitFor(/listening to .* \(charge\.\*,refund\.create, from now\)/);
    const charge = await postEvent(server, 'charge.capture');
    await postEvent(server, 'customer.create');
    const refund = await postEvent(server, 'refund.create');
    await postEvent(server, 'transfer.create');
    await target.waitForRequests(2);
    const head = await server.store.eventFeedHead();
    // The last event is left out: its position still reaches the file.
    const file = join(logDir, 'listen', 'bo.json');
    await untilPositionIs(file, head);
    assert.deepEqual(target.requests.map(idOf), [charge.id, refund.id]);
    assert.equal(await listen.stop(), 0);
    await target.close();
    await server.close();
  });

  it('starts at --since instead of now, and a later start without it resumes from the saved position', async () => {
    const server = await teamServer();
    const target = await startTargetServer();
    const logDir = temporaryDirectory();
    const before = [await postEvent(server), await postEvent(server)];
    const argv = ['--from', inspectorUrl(server), '--token', TOKEN, '--forward-to', target.url, '--log-dir', logDir];
    const first = startListen([...argv, '--since', '10m']);
    await target.waitForRequests(2);
    assert.equal(await first.stop(), 0);
    assert.match(first.stderr.text, /listening to .* \(every event, from \d{4}-\d\d-\d\dT[\d:.]+Z\)/);
    const whileStopped = await postEvent(server);
    const second = startListen(argv);
    await target.waitForRequests(3);
    assert.equal(await second.stop(), 0);
    assert.match(second.stderr.text, /listening to .* \(every event, after position \d+\)/);
    assert.deepEqual(target.requests.map(idOf), [...before.map((e) => e.id), whileStopped.id]);
    await target.close();
    await server.close();
  });

  it('exits 3 with what to do when the token is wrong or missing', async () => {
    const server = await teamServer();
    const target = await startTargetServer();
    const from = inspectorUrl(server);
    const wrong = startListen(['--from', from, '--forward-to', target.url, '--log-dir', temporaryDirectory()], {
      OMISE_WEBHOOK_LISTEN_TOKEN: 'not-the-team-token-0123',
    });
    assert.equal(await wrong.exited, 3);
    assert.match(
      wrong.stderr.text,
      new RegExp(
        `omise-webhook: ${from.replace(/[.]/g, '\\.')} refused the token \\(401\\): the Authorization header does not carry this inspector's token; .* Pass the team server's --ui-token with --token \\(OMISE_WEBHOOK_LISTEN_TOKEN\\)\\n$`,
      ),
    );
    assert.match(wrong.stderr.text, /token ••••0123/);
    assert.ok(!wrong.stderr.text.includes('not-the-team-token-0123'));
    const missing = startListen(['--from', from, '--forward-to', target.url, '--log-dir', temporaryDirectory()]);
    assert.equal(await missing.exited, 3);
    assert.match(missing.stderr.text, /requires a token \(401\): .*Pass the team server's --ui-token with --token/);
    assert.equal(target.requests.length, 0);
    await target.close();
    await server.close();
  });

  it('reconnects after the team server restarts and resumes with no gap and no repeat', async () => {
    const logDir = temporaryDirectory();
    let server = await teamServer({ logDir });
    const uiPort = server.inspector?.port as number;
    const target = await startTargetServer();
    const listen = startListen([...teamArgs(server, target), '--log-dir', temporaryDirectory()]);
    await listen.stderr.waitFor(/listening to /);
    const first = await postEvent(server);
    await target.waitForRequests(1);
    await server.close();
    await listen.stderr.waitFor(/closed the stream; reconnecting in 500 ms|cannot reach .*; reconnecting in/);
    server = await teamServer({ logDir, uiPort });
    // Stored before listen is back: it must come from the saved position, not from "now".
    const second = await postEvent(server);
    await listen.stderr.waitFor(/reconnected to /);
    const third = await postEvent(server);
    await target.waitForRequests(3);
    assert.deepEqual(target.requests.map(idOf), [first.id, second.id, third.id]);
    assert.equal(await listen.stop(), 0);
    assert.equal(target.requests.length, 3);
    await target.close();
    await server.close();
  });

  it('killed with SIGKILL mid-delivery and started again while events keep arriving: no gap, no repeat', async () => {
    const server = await teamServer();
    const target = await startTargetServer();
    const logDir = temporaryDirectory();
    const argv = ['listen', ...teamArgs(server, target), '--log-dir', logDir, '--name', 'cy'];
    const KILL_AT = 12;
    const TOTAL = 60;
    // The request in flight when listen is killed is never answered: the local app did not
    // handle it, so it must come again, once; every answered one exactly once, in order.
    const answered: string[] = [];
    target.respond = (request, index) => {
      if (index === KILL_AT) return 'hang';
      answered.push(idOf(request));
      return { status: 200 };
    };
    let child = startChild(argv);
    await child.output(/listening to /);
    const posted: string[] = [];
    let posting = true;
    const poster = (async () => {
      while (posting && posted.length < TOTAL) posted.push((await postEvent(server)).id);
    })();
    await target.waitForRequests(KILL_AT + 1);
    child.process.kill('SIGKILL');
    await child.exited;
    const postedAtKill = posted.length;
    // Let a few events arrive while listen is dead (waiting on the posts, not on a clock).
    while (posted.length < postedAtKill + 5) await new Promise((resolve) => setImmediate(resolve));
    child = startChild(argv);
    await child.output(/listening to .*after position \d+/);
    await poster;
    posting = false;
    assert.equal(posted.length, TOTAL);
    // Once listen's saved position is the newest event, it has handled everything it will.
    await untilPositionIs(join(logDir, 'listen', 'cy.json'), await server.store.eventFeedHead());
    assert.deepEqual(answered, posted);
    assert.equal(target.requests.length, TOTAL + 1);
    assert.equal(idOf(target.requests[KILL_AT] as { headers: Array<[string, string]>; body: Buffer }), posted[KILL_AT]);
    assert.equal(
      idOf(target.requests[KILL_AT + 1] as { headers: Array<[string, string]>; body: Buffer }),
      posted[KILL_AT],
    );
    child.process.kill('SIGTERM');
    assert.equal((await child.exited).code, 0);
    await target.close();
    await server.close();
  });
});

/** Resolves once the position file holds `position`, woken by the file's renames (no polling clock). */
function untilPositionIs(file: string, position: string | null): Promise<void> {
  const read = () => {
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { cursor: string }).cursor;
    } catch {
      return null;
    }
  };
  return new Promise((resolve) => {
    // Watching starts before the first read, so no save can fall between them.
    const watcher = watch(dirname(file), () => {
      if (read() !== position) return;
      watcher.close();
      resolve();
    });
    if (read() === position) {
      watcher.close();
      resolve();
    }
  });
}

const ENTRY = new URL('../entry.ts', import.meta.url).href;

interface Child {
  process: ChildProcess;
  output(pattern: RegExp): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `listen` in its own process from the sources (as bin/omise-webhook.js runs the build): SIGINT/SIGTERM stop it. */
function startChild(argv: string[]): Child {
  const script = `
    const { main } = await import(${JSON.stringify(ENTRY)});
    const controller = new AbortController();
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => controller.abort());
    process.exitCode = await main({ argv: ${JSON.stringify(argv)}, env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(text)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    exited,
    output: (pattern) =>
      pattern.test(text)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ pattern, resolve });
            void exited.then(() => reject(new Error(`listen exited before ${pattern}:\n${text}`)));
          }),
  };
}
