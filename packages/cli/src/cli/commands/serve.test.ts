import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalTunnelProvider } from '../../adapters/tunnel/local-tunnel.js';
import { explainNgrokError } from '../../adapters/tunnel/ngrok-errors.js';
import type { TunnelProvider } from '../../core/tunnel.js';
import { eventBody } from '../../testing/delivery-fixtures.js';
import { parseServeConfig, runCli } from '../../testing/run-cli.js';
import { CapturedOutput, temporaryDirectory } from '../../testing/test-server.js';
import type { Env } from '../dotenv.js';
import { main } from '../main.js';

const PAGE = 'https://dashboard.omise.co/test/webhooks';

/** Runs `serve` until its banner is printed, then stops it; returns what it printed. */
async function serveBanner(argv: string[], options: { env?: Env; tunnelProvider?: TunnelProvider } = {}) {
  const cwd = temporaryDirectory();
  const controller = new AbortController();
  const stderr = new CapturedOutput();
  const running = main({
    argv: ['serve', '--port', '0', '--log-dir', join(cwd, 'log'), ...argv],
    env: options.env ?? {},
    cwd,
    stdout: new CapturedOutput(),
    stderr,
    signal: controller.signal,
    ...(options.tunnelProvider ? { tunnelProvider: options.tunnelProvider } : {}),
  });
  await Promise.race([stderr.waitFor(/Ctrl-C to stop\./), running]);
  controller.abort();
  assert.equal(await running, 0, stderr.text);
  return stderr.text;
}

describe('serve: tunnel options', () => {
  it('reads --tunnel, --tunnel-domain and --public-url from flags or the environment, and NGROK_AUTHTOKEN from the environment', () => {
    assert.equal(parseServeConfig([]).tunnel, false);
    assert.equal(parseServeConfig(['--tunnel']).tunnel, true);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_TUNNEL: 'true' }).tunnel, true);
    assert.equal(parseServeConfig([], { NGROK_AUTHTOKEN: ' 2abc_tok ' }).tunnelAuthtoken, '2abc_tok');
    assert.equal(parseServeConfig([]).tunnelAuthtoken, undefined);
    assert.equal(
      parseServeConfig(['--tunnel-domain', 'https://My-App.ngrok-free.app/']).tunnelDomain,
      'my-app.ngrok-free.app',
    );
    assert.equal(
      parseServeConfig([], { OMISE_WEBHOOK_TUNNEL_DOMAIN: 'env-app.ngrok-free.app' }).tunnelDomain,
      'env-app.ngrok-free.app',
    );
    assert.equal(
      parseServeConfig(['--public-url', 'https://abcd.trycloudflare.com']).publicUrl,
      'https://abcd.trycloudflare.com/omise/webhook',
    );
    assert.equal(
      parseServeConfig(['--path', '/hooks'], { OMISE_WEBHOOK_PUBLIC_URL: 'https://abcd.trycloudflare.com/hooks' })
        .publicUrl,
      'https://abcd.trycloudflare.com/hooks',
    );
  });

  it('refuses a bad --public-url or --tunnel-domain, naming the value, and both tunnel options at once', async () => {
    const http = await runCli(['serve', '--public-url', 'http://abcd.ngrok-free.app']);
    assert.equal(http.code, 2);
    assert.equal(
      http.stderr,
      'omise-webhook: --public-url (OMISE_WEBHOOK_PUBLIC_URL) got "http://abcd.ngrok-free.app"; expected an https:// URL: Omise only delivers webhooks over HTTPS with a valid certificate (this one is http)\n',
    );
    const path = await runCli(['serve'], { env: { OMISE_WEBHOOK_PUBLIC_URL: 'https://abcd.ngrok-free.app/webhooks' } });
    assert.equal(path.code, 2);
    assert.match(
      path.stderr,
      /got "https:\/\/abcd\.ngrok-free\.app\/webhooks"; expected a URL ending with the webhook path/,
    );
    const domain = await runCli(['serve', '--tunnel', '--tunnel-domain', 'my-app.ngrok-free.app/omise/webhook']);
    assert.equal(domain.code, 2);
    assert.equal(
      domain.stderr,
      'omise-webhook: --tunnel-domain (OMISE_WEBHOOK_TUNNEL_DOMAIN) got "my-app.ngrok-free.app/omise/webhook"; expected a host name such as my-app.ngrok-free.app (no path, no port)\n',
    );
    const both = await runCli(['serve', '--tunnel', '--public-url', 'https://abcd.ngrok-free.app']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--tunnel and --public-url .* were both given; use --tunnel .* or --public-url/);
  });

  it('--help lists the tunnel flags with their variables', async () => {
    const help = await runCli(['serve', '--help']);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const [flag, env] of [
      ['--tunnel', 'OMISE_WEBHOOK_TUNNEL'],
      ['--tunnel-domain <domain>', 'OMISE_WEBHOOK_TUNNEL_DOMAIN'],
      ['--public-url <url>', 'OMISE_WEBHOOK_PUBLIC_URL'],
    ]) {
      assert.match(text, new RegExp(`${flag} [^[]*\\[env: ${env}\\]`));
    }
  });
});

describe('serve: --max-rejected-bytes', () => {
  it('reads a size from the flag or the environment, 64 MiB by default, and names a bad value', async () => {
    assert.equal(parseServeConfig([]).maxRejectedBytes, 64 * 1024 * 1024);
    assert.equal(parseServeConfig(['--max-rejected-bytes', '512KiB']).maxRejectedBytes, 512 * 1024);
    assert.equal(parseServeConfig(['--max-rejected-bytes', '2000000']).maxRejectedBytes, 2_000_000);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_MAX_REJECTED_BYTES: '8MiB' }).maxRejectedBytes, 8 * 1024 * 1024);
    const bad = await runCli(['serve', '--max-rejected-bytes', 'lots']);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'omise-webhook: --max-rejected-bytes (OMISE_WEBHOOK_MAX_REJECTED_BYTES) got "lots"; expected a size like 1048576, 512kb or 1mb\n',
    );
  });
});

describe('serve: the public URL in the banner', () => {
  it('prints the exact URL to paste and the dashboard page when the tunnel opens', async () => {
    const provider = new LocalTunnelProvider();
    const banner = await serveBanner(['--tunnel', '--tunnel-domain', 'my-app.ngrok-free.app'], {
      env: { NGROK_AUTHTOKEN: '2abcdefghijklmnopqrstuvwxyz_secret' },
      tunnelProvider: provider,
    });
    assert.equal(provider.opened[0]?.authtoken, '2abcdefghijklmnopqrstuvwxyz_secret');
    const port = provider.opened[0]?.target.port;
    assert.match(
      banner,
      new RegExp(
        `public URL \\(local stand-in tunnel for my-app\\.ngrok-free\\.app to port ${port} only\\): https://my-app\\.ngrok-free\\.app/omise/webhook\\n` +
          `  Paste https://my-app\\.ngrok-free\\.app/omise/webhook into the Omise dashboard → Webhooks \\(test mode\\): ${PAGE}\\n`,
      ),
    );
    assert.doesNotMatch(banner, /2abcdefghijklmnopqrstuvwxyz_secret/);
    assert.equal(provider.opened[0]?.closed, true, 'Ctrl-C closes the tunnel');
  });

  it('says why the tunnel could not open and how to fix it, and keeps receiving locally', async () => {
    const provider = new LocalTunnelProvider();
    provider.failNextOpen(explainNgrokError(new Error('authentication failed\n\nERR_NGROK_107')));
    const banner = await serveBanner(['--tunnel'], { env: { NGROK_AUTHTOKEN: 'old' }, tunnelProvider: provider });
    assert.match(banner, /omise-webhook is receiving Omise webhooks at POST http:\/\/127\.0\.0\.1:\d+\/omise\/webhook/);
    assert.match(
      banner,
      /tunnel: could not open the local stand-in tunnel: NGROK_AUTHTOKEN is well formed but ngrok no longer accepts it \(reset, revoked, or from a team you left\)\.\n {2}To fix: copy your authtoken from https:\/\/dashboard\.ngrok\.com\/get-started\/your-authtoken into \.env as NGROK_AUTHTOKEN=\.\.\. \(check it matches the one shown there now\)\.\n {2}Receiving locally only; restart once fixed\.\n/,
    );
  });

  it('with the real ngrok and no NGROK_AUTHTOKEN, says to set it', async () => {
    const banner = await serveBanner(['--tunnel']);
    assert.match(
      banner,
      /tunnel: could not open the ngrok tunnel: NGROK_AUTHTOKEN is not set, and ngrok needs an account and its authtoken\.\n {2}To fix: sign up at https:\/\/dashboard\.ngrok\.com\/signup \(free\), then copy your authtoken from https:\/\/dashboard\.ngrok\.com\/get-started\/your-authtoken into \.env as NGROK_AUTHTOKEN=\.\.\.\n/,
    );
  });

  it('prints --public-url as the URL to paste, and without any says how to get one', async () => {
    const own = await serveBanner(['--public-url', 'https://abcd.trycloudflare.com']);
    assert.match(
      own,
      new RegExp(
        `public URL \\(--public-url, your own tunnel to port \\d+\\): https://abcd\\.trycloudflare\\.com/omise/webhook\\n  Paste https://abcd\\.trycloudflare\\.com/omise/webhook into the Omise dashboard → Webhooks \\(test mode\\): ${PAGE}\\n`,
      ),
    );
    const none = await serveBanner([]);
    assert.match(none, /Omise only delivers to public HTTPS URLs: run with --tunnel \(ngrok, needs NGROK_AUTHTOKEN\)/);
    assert.match(
      none,
      new RegExp(`→ Webhooks \\(test mode\\): ${PAGE} \\(tell omise-webhook the URL with --public-url\\)\\.`),
    );
  });
});

describe('serve: stopping with event files still waiting', () => {
  it('says how many it writes first, writes every one, and exits 0', async () => {
    const cwd = temporaryDirectory();
    const controller = new AbortController();
    const stderr = new CapturedOutput();
    const running = main({
      argv: ['serve', '--port', '0', '--no-ui', '--verify', 'none', '--log-dir', join(cwd, 'log')],
      env: {},
      cwd,
      stdout: new CapturedOutput(),
      stderr,
      signal: controller.signal,
      // Time stands still, so the files' quiet moment never comes, however slow the machine:
      // they are all still waiting when serve is stopped.
      clock: { now: () => Date.parse('2026-11-26T07:00:00.000Z') },
    });
    await Promise.race([stderr.waitFor(/Ctrl-C to stop\./), running]);
    const url = /POST (http:\/\/\S+)/.exec(stderr.text)?.[1] as string;
    const ids = Array.from({ length: 150 }, (_, i) => `evnt_test_5xstop${i.toString().padStart(3, '0')}`);
    const answers = await Promise.all(
      ids.map((eventId) => fetch(url, { method: 'POST', body: eventBody({ eventId }) })),
    );
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
    controller.abort();
    assert.equal(await running, 0, stderr.text);
    assert.match(
      stderr.text,
      /omise-webhook: writing about 150 event files first \(Ctrl-C again to skip them; the next start rebuilds them\)\n/,
    );
    const written = readdirSync(join(cwd, 'log', 'api', 'event')).filter((name) => name.endsWith('.json'));
    assert.deepEqual(written.sort(), ids.map((id) => `${id}.json`).sort());
  });
});
