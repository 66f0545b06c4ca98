import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../testing/run-cli.js';
import { CapturedOutput, temporaryDirectory } from '../../testing/test-server.js';
import { main } from '../main.js';

describe('omise-webhook fake-omise', () => {
  it('prints its URL and the keys it accepts, serves seeded events, and stops on the signal', async () => {
    const controller = new AbortController();
    let announced: (text: string) => void = () => {};
    const banner = new Promise<string>((resolve) => {
      announced = resolve;
    });
    // Resolves `banner` on the first write: the command prints everything once it is listening.
    class AnnouncingOutput extends CapturedOutput {
      override write(chunk: string | Uint8Array): boolean {
        super.write(chunk);
        announced(this.text);
        return true;
      }
    }
    const stdout = new AnnouncingOutput();
    const running = main({
      argv: ['fake-omise', '--port', '0', '--seed', '40', '--webhook-url', 'http://127.0.0.1:3000/omise/webhook'],
      env: {
        OMISE_PUBLIC_KEY: 'pkey_test_5fakeomisecli',
        OMISE_WEBHOOK_SECRET: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==',
      },
      cwd: temporaryDirectory(),
      stdout,
      stderr: new CapturedOutput(),
      signal: controller.signal,
    });
    const text = await banner;
    try {
      await checkRunningFake(text);
    } finally {
      controller.abort();
    }
    assert.equal(await running, 0);
  });

  async function checkRunningFake(text: string): Promise<void> {
    const url = /^fake Omise API at (http:\/\/127\.0\.0\.1:\d+) /.exec(text)?.[1];
    assert.ok(url, text);
    assert.deepEqual(text.split('\n').slice(1), [
      '  secret key: any skey_test_... key',
      '  public key: only pkey_test_••••ecli (OMISE_PUBLIC_KEY)',
      '  webhooks:   POST http://127.0.0.1:3000/omise/webhook, signed with OMISE_WEBHOOK_SECRET (••••IQ==)',
      '  events:     40 (40 seeded)',
      `point omise-webhook at it: OMISE_API_URL=${url} OMISE_VAULT_URL=${url}`,
      'Ctrl-C to stop.',
      '',
    ]);
    const response = await fetch(`${url}/events?limit=100`, {
      headers: { Authorization: `Basic ${Buffer.from('skey_test_5any:').toString('base64')}` },
    });
    assert.equal(((await response.json()) as { total: number }).total, 40);
  }

  it('names bad values with their variable', async () => {
    const seed = await runCli(['fake-omise', '--seed', 'many']);
    assert.equal(seed.code, 2);
    assert.equal(
      seed.stderr,
      'omise-webhook: --seed (OMISE_FAKE_SEED) got "many"; expected a whole number like 0 or 300\n',
    );
    const url = await runCli(['fake-omise'], { env: { OMISE_FAKE_WEBHOOK_URL: 'localhost:3000' } });
    assert.equal(url.code, 2);
    assert.equal(
      url.stderr,
      'omise-webhook: --webhook-url (OMISE_FAKE_WEBHOOK_URL) got "localhost:3000"; expected an http:// or https:// URL\n',
    );
    const help = await runCli(['fake-omise', '--help']);
    for (const [flag, env] of [
      ['--port', 'OMISE_FAKE_PORT'],
      ['--host', 'OMISE_FAKE_HOST'],
      ['--webhook-url', 'OMISE_FAKE_WEBHOOK_URL'],
      ['--seed', 'OMISE_FAKE_SEED'],
      ['--state', 'OMISE_FAKE_STATE'],
    ]) {
      assert.match(help.stdout.replace(/\s+/g, ' '), new RegExp(`${flag} [^[]*\\[env: ${env}\\]`));
    }
  });
});
