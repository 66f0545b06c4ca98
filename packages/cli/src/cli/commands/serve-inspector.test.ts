import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../../app/server.js';
import { parseServeConfig, runCli, testCliContext } from '../../testing/run-cli.js';
import { CapturedOutput, temporaryDirectory, testServerConfig } from '../../testing/test-server.js';
import { main } from '../main.js';
import { startupBanner } from './serve.js';

describe('serve: inspector options', () => {
  it('documents each inspector flag with its variable and default', async () => {
    const stdout = new CapturedOutput();
    const code = await main({ argv: ['serve', '--help'], env: {}, cwd: temporaryDirectory(), stdout, stderr: stdout });
    assert.equal(code, 0);
    const help = stdout.text.replace(/\s+/g, ' ');
    assert.match(help, /--no-ui do not start the inspector \(web page and API\) .*\[env: OMISE_WEBHOOK_UI\]/);
    assert.match(
      help,
      /--ui-host <host> address the inspector binds to; .*\[env: OMISE_WEBHOOK_UI_HOST\] \(default: "127\.0\.0\.1"\)/,
    );
    assert.match(help, /--ui-port <port> port of the inspector .*\[env: OMISE_WEBHOOK_UI_PORT\] \(default: 3001\)/);
    assert.match(help, /--ui-token <token> token the inspector requires .*\[env: OMISE_WEBHOOK_UI_TOKEN\]/);
  });

  it('reads flags, then the environment, then defaults', () => {
    const defaults = parseServeConfig([]);
    assert.deepEqual(
      [defaults.ui, defaults.uiHost, defaults.uiPort, defaults.uiToken],
      [true, '127.0.0.1', 3001, undefined],
    );
    assert.equal(parseServeConfig(['--no-ui']).ui, false);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_UI: 'false' }).ui, false);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_UI_PORT: '4001' }).uiPort, 4001);
    assert.equal(parseServeConfig(['--ui-port', '5001'], { OMISE_WEBHOOK_UI_PORT: '4001' }).uiPort, 5001);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_UI_HOST: '0.0.0.0' }).uiHost, '0.0.0.0');
    assert.equal(
      parseServeConfig([], { OMISE_WEBHOOK_UI_TOKEN: 'env-token-0123456789abcdef' }).uiToken,
      'env-token-0123456789abcdef',
    );
  });

  it('refuses a bad port or a weak token, naming the flag and never echoing the token', async () => {
    const port = await runCli(['serve', '--ui-port', 'web']);
    assert.equal(port.code, 2);
    assert.equal(
      port.stderr,
      'omise-webhook: --ui-port (OMISE_WEBHOOK_UI_PORT) got "web"; expected a port number from 0 to 65535\n',
    );
    const short = await runCli(['serve'], { env: { OMISE_WEBHOOK_UI_TOKEN: 'hunter2' } });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--ui-token \(OMISE_WEBHOOK_UI_TOKEN\) is 7 characters long; use at least 16/);
    assert.doesNotMatch(short.stderr, /hunter2/);
    const odd = await runCli(['serve', '--ui-token', 'has spaces and ; semicolons']);
    assert.equal(odd.code, 2);
    assert.match(odd.stderr, /--ui-token \(OMISE_WEBHOOK_UI_TOKEN\) has characters other than/);
    assert.doesNotMatch(odd.stderr, /semicolons/);
  });
});

describe('serve: the banner says where the inspector is', () => {
  const banner = async (overrides: Parameters<typeof testServerConfig>[0]) => {
    const server = await startServer(testServerConfig(overrides), {
      stdout: new CapturedOutput(),
      stderr: new CapturedOutput(),
    });
    try {
      return { text: startupBanner(server, testCliContext()), server };
    } finally {
      await server.close();
    }
  };

  it('prints the URL for a loopback inspector', async () => {
    const { text, server } = await banner({ ui: true });
    assert.match(
      text,
      new RegExp(
        `\\ninspector: http://127\\.0\\.0\\.1:${server.inspector?.port}/ \\(live list, search, details; this machine only\\)\\n`,
      ),
    );
  });

  it('prints a generated token once, in the URL to open', async () => {
    const { text, server } = await banner({ ui: true, uiHost: '0.0.0.0' });
    const token = server.inspector?.token as string;
    assert.ok(token);
    assert.ok(
      text.includes(
        `inspector: http://127.0.0.1:${server.inspector?.port}/?token=${token} (listening on 0.0.0.0: reachable from other machines)\n` +
          '  the token was generated for this run; set --ui-token (OMISE_WEBHOOK_UI_TOKEN) to keep one across restarts\n',
      ),
      text,
    );
  });

  it('masks a token the user chose', async () => {
    const chosen = 'my-own-token-0123456789-wxyz';
    const { text } = await banner({ ui: true, uiToken: chosen });
    assert.doesNotMatch(text, new RegExp(chosen));
    assert.match(text, /it requires the token from --ui-token \/ OMISE_WEBHOOK_UI_TOKEN \(••••wxyz\)/);
  });

  it('says when it is off', async () => {
    const { text } = await banner({ ui: false });
    assert.match(text, /\ninspector: off \(--no-ui\)\n/);
  });
});

describe('serve: the inspector knows the public URL to paste', () => {
  it('gives the page the --public-url exactly, once, without adding the path again', async () => {
    const server = await startServer(
      testServerConfig({ ui: true, publicUrl: 'https://abcd.ngrok-free.app/omise/webhook' }),
      { stdout: new CapturedOutput(), stderr: new CapturedOutput() },
    );
    try {
      const response = await fetch(`${server.inspector?.url}api/status`);
      assert.equal(response.status, 200);
      const status = (await response.json()) as { publicUrl: string | null; webhookUrl: string };
      assert.equal(status.publicUrl, 'https://abcd.ngrok-free.app/omise/webhook');
      assert.equal(status.webhookUrl, server.listener.url);
    } finally {
      await server.close();
    }
  });
});
