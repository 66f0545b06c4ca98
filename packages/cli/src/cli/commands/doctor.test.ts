import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMinimalOmiseApi } from '../../testing/minimal-omise-api.js';
import { TEST_WEBHOOK_SECRET } from '../../testing/signing.js';
import { CapturedOutput, startTestServer, temporaryDirectory } from '../../testing/test-server.js';
import type { Env } from '../dotenv.js';
import { main } from '../main.js';

const KEY = 'skey_test_5xdoctorcli0001';

async function doctor(argv: string[], options: { env?: Env; cwd?: string } = {}) {
  const stdout = new CapturedOutput();
  const stderr = new CapturedOutput();
  const code = await main({
    argv: ['doctor', ...argv],
    env: options.env ?? {},
    cwd: options.cwd ?? temporaryDirectory(),
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('omise-webhook doctor', () => {
  let api: Awaited<ReturnType<typeof startMinimalOmiseApi>>;
  before(async () => {
    api = await startMinimalOmiseApi({ secretKey: KEY });
    api.events.set('evnt_test_5xdoctor1', '{"object":"event","id":"evnt_test_5xdoctor1"}');
  });
  after(() => api.close());

  it('passes a good setup line by line and exits 0', async () => {
    const cwd = temporaryDirectory();
    const port = await freePort();
    const uiPort = await freePort();
    writeFileSync(
      join(cwd, '.env'),
      `OMISE_SECRET_KEY=${KEY}\nOMISE_WEBHOOK_SECRET=${TEST_WEBHOOK_SECRET}\nOMISE_API_URL=${api.url}\nNGROK_AUTHTOKEN=2abcdefghijklmn_tok5\n`,
    );
    const result = await doctor(['--port', String(port), '--ui-port', String(uiPort), '--tunnel'], { cwd });
    assert.equal(result.code, 0, result.stdout);
    assert.equal(
      result.stdout,
      [
        `✔ .env                  read ${cwd}/.env (4 variable(s): NGROK_AUTHTOKEN, OMISE_API_URL, OMISE_SECRET_KEY, OMISE_WEBHOOK_SECRET)`,
        '✔ OMISE_SECRET_KEY      skey_test_••••0001 from OMISE_SECRET_KEY (test mode)',
        `✔ Omise API             the key works: GET ${api.url}/events?limit=1 answered (1 event(s) on the account)`,
        '✔ OMISE_WEBHOOK_SECRET  ••••YiE=: base64, 32 bytes',
        '✔ verification          signature: every delivery must carry a valid Omise-Signature',
        `✔ webhook port          127.0.0.1:${port} is free`,
        `✔ inspector port        127.0.0.1:${uiPort} is free`,
        '✔ log directory         ./log does not exist yet; it will be created (its parent is writable)',
        `✔ store                 no store yet; serve will create ${cwd}/log/omise-webhook.sqlite (SQLite works here)`,
        '✔ public URL            --tunnel: NGROK_AUTHTOKEN is set (••••tok5); ngrok checks it when serve starts',
        '',
        'Nothing blocks receiving. Start with: omise-webhook serve',
        '',
      ].join('\n'),
    );
    assert.ok(api.requests.includes('GET /events?limit=1'));
    assert.doesNotMatch(result.stdout, new RegExp(`${KEY}|${TEST_WEBHOOK_SECRET.slice(0, 10)}|2abcdefghijklmn`));
  });

  it('while serve runs: its ports are not an error; it says serve is running and checks that one', async () => {
    const cwd = temporaryDirectory();
    const running = await startTestServer({
      webhookSecrets: [TEST_WEBHOOK_SECRET],
      ui: true,
      publicUrl: 'https://abcd.ngrok-free.app/omise/webhook',
      logDir: join(cwd, 'log'),
    });
    try {
      const port = new URL(running.webhookUrl).port;
      const uiPort = new URL((running.inspector as { url: string }).url).port;
      const result = await doctor(['--port', port, '--ui-port', uiPort], {
        cwd,
        env: { OMISE_SECRET_KEY: KEY, OMISE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET, OMISE_API_URL: api.url },
      });
      assert.equal(result.code, 0, result.stdout);
      const lines = result.stdout.split('\n');
      assert.equal(
        lines[5],
        `✔ webhook port          127.0.0.1:${port}: serve is running here (it answered GET /healthz)`,
      );
      assert.equal(
        lines[6],
        `✔ inspector port        127.0.0.1:${uiPort}: serve is running here (its inspector answered)`,
      );
      assert.match(
        lines[10] ?? '',
        new RegExp(
          `^✔ running serve {9}receives at http://127\\.0\\.0\\.1:${port}/omise/webhook, verification signature, public URL https://abcd\\.ngrok-free\\.app/omise/webhook \\(the Omise dashboard`,
        ),
      );
      assert.equal(
        lines.at(-2),
        'Nothing blocks receiving. serve is already running; send it a test event with: omise-webhook trigger charge.create',
      );
    } finally {
      await running.close();
    }
  });

  it('explains each problem with what to do, and exits 1 when something blocks receiving', async () => {
    // Another program on the port: it reads what doctor sends (to ask whether it is serve) and
    // never answers, so doctor gives up after its probe's timeout and calls the port taken.
    const holder = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    const cwd = temporaryDirectory();
    writeFileSync(join(cwd, 'not-a-dir'), '');
    try {
      // The same busy port for the inspector: serve could not start it either.
      const result = await doctor(
        ['--port', String(port), '--ui-port', String(port), '--log-dir', 'not-a-dir/log', '--tunnel'],
        {
          cwd,
          env: {
            OMISE_SECRET_KEY: 'pkey_test_5xdoctorcli0001',
            OMISE_WEBHOOK_SECRET: 'not base64!',
            OMISE_API_URL: api.url,
          },
        },
      );
      assert.equal(result.code, 1);
      const lines = result.stdout.split('\n');
      assert.match(lines[0] ?? '', /^✔ \.env {18}no \.env in .*; the settings come from the environment$/);
      assert.match(
        lines[1] ?? '',
        /^✖ OMISE_SECRET_KEY {6}pkey_test_••••0001 in OMISE_SECRET_KEY is a PUBLIC key .* → replace it with the skey_test_/,
      );
      assert.match(lines[2] ?? '', /^– Omise API {13}not checked: no usable secret key$/);
      assert.match(
        lines[3] ?? '',
        /^✖ OMISE_WEBHOOK_SECRET {2}••••e64! cannot be used: the secret contains a character that is not base64 at position 4.* → set OMISE_WEBHOOK_SECRET in \.env to the secret from the Omise dashboard/,
      );
      assert.match(
        lines[5] ?? '',
        new RegExp(`^✖ webhook port {10}127\\.0\\.0\\.1:${port} is already in use .* → stop the other program`),
      );
      assert.match(
        lines[6] ?? '',
        new RegExp(
          `^✖ inspector port {8}127\\.0\\.0\\.1:${port} is already in use .* → stop the other program, or choose another port with --ui-port \\(OMISE_WEBHOOK_UI_PORT\\), or turn the inspector off with --no-ui$`,
        ),
      );
      assert.match(
        lines[7] ?? '',
        /^✖ log directory {9}not-a-dir\/log cannot be written: .*not-a-dir is a file, not a directory → choose a directory/,
      );
      assert.match(lines[8] ?? '', /^– store {17}not checked: the log directory cannot be written$/);
      assert.match(lines[9] ?? '', /^✖ public URL {12}--tunnel needs NGROK_AUTHTOKEN/);
      assert.match(
        result.stdout,
        /\n6 problems would stop webhooks from being received\. Fix the ✖ lines, then run omise-webhook doctor again\.\n$/,
      );
      assert.equal(result.stderr, '');
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('reports a refused key and a live key, and prints JSON with --json', async () => {
    const result = await doctor(['--json', '--port', '0', '--no-ui', '--store', 'memory'], {
      env: { OMISE_SECRET_KEY: 'skey_live_5xdoctorcli0001', OMISE_API_URL: api.url },
    });
    assert.equal(result.code, 1, 'a refused key blocks receiving when the API is what verifies');
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      errors: number;
      warnings: number;
      checks: Array<{ id: string; status: string; message: string; fix: string | null }>;
    };
    assert.equal(report.ok, false);
    const byId = Object.fromEntries(report.checks.map((check) => [check.id, check]));
    assert.equal(byId['secret-key']?.status, 'warn');
    assert.match(byId['secret-key']?.message ?? '', /is a LIVE secret key/);
    assert.equal(byId['omise-api']?.status, 'error');
    assert.equal(
      byId['omise-api']?.message,
      `${api.url} refused the key (HTTP 401 authentication_failure: authentication failed); events cannot be verified with it`,
    );
    assert.equal(byId.verification?.message.startsWith('Omise API:'), true);
    assert.equal(byId.store?.status, 'skip');
    assert.deepEqual(
      report.checks.map((check) => check.id),
      [
        'dotenv',
        'secret-key',
        'omise-api',
        'webhook-secret',
        'verification',
        'port',
        'ui-port',
        'log-dir',
        'store',
        'public-url',
      ],
    );
    assert.equal(byId['ui-port']?.status, 'skip');
    assert.equal(byId['ui-port']?.message, 'not checked: the inspector is off (--no-ui)');
  });

  it('says when a forced verification mode cannot work, and checks --public-url', async () => {
    const result = await doctor(
      ['--verify', 'signature', '--port', '0', '--public-url', 'https://abcd.ngrok-free.app/wrong'],
      {
        env: { OMISE_SECRET_KEY: KEY, OMISE_API_URL: api.url },
      },
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /✖ verification {10}--verify signature needs the webhook secret: set OMISE_WEBHOOK_SECRET/,
    );
    assert.match(
      result.stdout,
      /✖ public URL {12}--public-url "https:\/\/abcd\.ngrok-free\.app\/wrong" is not usable: expected a URL ending with the webhook path \/omise\/webhook/,
    );
  });

  it('warns about an unreachable API without failing, and has --help', async () => {
    const port = await freePort();
    const result = await doctor(['--port', '0'], {
      env: {
        OMISE_SECRET_KEY: KEY,
        OMISE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        OMISE_API_URL: `http://127.0.0.1:${port}`,
      },
    });
    assert.equal(result.code, 0, result.stdout);
    assert.match(
      result.stdout,
      new RegExp(
        `⚠ Omise API {13}could not reach http://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\) → check the network connection`,
      ),
    );
    const help = await doctor(['--help']);
    assert.equal(help.code, 0);
    const text = help.stdout.replace(/\s+/g, ' ');
    assert.match(text, /Usage: omise-webhook doctor \[options\]/);
    for (const [flag, env] of [
      ['--port <port>', 'PORT'],
      ['--log-dir <dir>', 'OMISE_WEBHOOK_LOG_DIR'],
      ['--tunnel', 'OMISE_WEBHOOK_TUNNEL'],
      ['--json', 'OMISE_WEBHOOK_JSON'],
    ]) {
      assert.match(text, new RegExp(`${flag} [^[]*\\[env: ${env}\\]`));
    }
  });
});
