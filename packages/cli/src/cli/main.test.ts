import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../app/server.js';
import { eventBody } from '../testing/delivery-fixtures.js';
import { rawRequest } from '../testing/http.js';
import { parseServeConfig, runCli, testCliContext } from '../testing/run-cli.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { CapturedOutput, temporaryDirectory, testServerConfig } from '../testing/test-server.js';
import { buildProgram, main } from './main.js';

describe('cli', () => {
  it('--help lists the commands and exits 0', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: omise-webhook/);
    assert.match(result.stdout, /serve/);
    assert.match(result.stdout, /events/);
  });

  it('every flag of every command has an environment variable, and its --help shows it', async () => {
    const program = buildProgram(testCliContext({ cwd: temporaryDirectory() }));
    const commands = [program, ...program.commands, ...program.commands.flatMap((command) => command.commands)];
    let checked = 0;
    for (const command of commands) {
      const path =
        command === program
          ? []
          : command.parent === program
            ? [command.name()]
            : [command.parent?.name() ?? '', command.name()];
      const help = (await runCli([...path, '--help'])).stdout.replace(/\s+/g, ' ');
      for (const option of command.options) {
        if (option.long === '--version') continue;
        const env = /\[env: ([A-Z][A-Z0-9_]*)\]$/.exec(option.description)?.[1];
        assert.ok(env, `${path.join(' ') || 'omise-webhook'} ${option.flags} names no environment variable`);
        assert.match(help, new RegExp(`${option.long} [^[]*\\[env: ${env}\\]`), `${path.join(' ')} --help`);
        checked += 1;
      }
    }
    assert.ok(checked > 60, `only ${checked} flags found`);
  });

  it('serve --help shows every flag with its environment variable and default', async () => {
    const result = await runCli(['serve', '--help']);
    assert.equal(result.code, 0);
    // Help wraps at the terminal width; compare with the whitespace folded.
    result.stdout = result.stdout.replace(/\s+/g, ' ');
    for (const [flag, env] of [
      ['--host', 'HOST'],
      ['--port', 'PORT'],
      ['--verify', 'OMISE_WEBHOOK_VERIFY'],
      ['--max-body', 'OMISE_WEBHOOK_MAX_BODY'],
      ['--allow-live', 'OMISE_WEBHOOK_ALLOW_LIVE'],
      ['--log-dir', 'OMISE_WEBHOOK_LOG_DIR'],
    ]) {
      assert.match(result.stdout, new RegExp(`${flag} [^[]*\\[env: ${env}\\]`));
    }
    assert.match(result.stdout, /default: "127\.0\.0\.1"/);
    assert.match(result.stdout, /default: 1mb/);
  });

  it('takes flags over the environment over defaults', () => {
    assert.equal(parseServeConfig([]).port, 3000);
    assert.equal(parseServeConfig([], { PORT: '4000' }).port, 4000);
    assert.equal(parseServeConfig(['--port', '5000'], { PORT: '4000' }).port, 5000);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_MAX_BODY: '512kb' }).maxBodyBytes, 512 * 1024);
    assert.equal(parseServeConfig(['--request-timeout', '250ms']).requestTimeoutMs, 250);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_ALLOW_LIVE: 'true' }).allowLive, true);
    assert.equal(parseServeConfig(['--allow-live']).allowLive, true);
    assert.equal(parseServeConfig([]).allowLive, false);
    assert.equal(parseServeConfig([]).files, true);
    assert.equal(parseServeConfig(['--no-files']).files, false);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_FILES: 'false' }).files, false);
    assert.deepEqual(parseServeConfig([], { OMISE_WEBHOOK_SECRET: 'b2xk, bmV3' }).webhookSecrets, ['b2xk', 'bmV3']);
    assert.equal(parseServeConfig([], { OMISE_TEST_SECRET_KEY: 'skey_test_orig' }).secretKey, 'skey_test_orig');
    assert.equal(
      parseServeConfig([], { OMISE_SECRET_KEY: 'skey_test_new', OMISE_TEST_SECRET_KEY: 'skey_test_orig' }).secretKey,
      'skey_test_new',
    );
  });

  it('names the bad value, its flag and its variable, and exits 2', async () => {
    const badPort = await runCli(['serve', '--port', 'eighty']);
    assert.equal(badPort.code, 2);
    assert.equal(badPort.stderr, 'omise-webhook: --port (PORT) got "eighty"; expected a port number from 0 to 65535\n');
    const badVerify = await runCli(['serve'], { env: { OMISE_WEBHOOK_VERIFY: 'maybe' } });
    assert.equal(badVerify.code, 2);
    assert.match(
      badVerify.stderr,
      /--verify \(OMISE_WEBHOOK_VERIFY\) got "maybe"; expected one of auto, signature, api, both, none/,
    );
    // A switch set through the environment to neither true nor false is refused, not taken as false.
    const badSwitch = await runCli(['serve'], { env: { OMISE_WEBHOOK_ALLOW_LIVE: 'ture' } });
    assert.equal(badSwitch.code, 2);
    assert.equal(
      badSwitch.stderr,
      'omise-webhook: --allow-live (OMISE_WEBHOOK_ALLOW_LIVE) got "ture"; expected true or false\n',
    );
    const badSyncSwitch = await runCli(['sync'], { env: { OMISE_WEBHOOK_ALLOW_LIVE: 'ture' } });
    assert.equal(badSyncSwitch.code, 2);
    assert.match(badSyncSwitch.stderr, /--allow-live \(OMISE_WEBHOOK_ALLOW_LIVE\) got "ture"; expected true or false/);
    const forced = await runCli(['serve', '--verify', 'signature', '--port', '0']);
    assert.equal(forced.code, 2);
    assert.match(forced.stderr, /--verify signature needs the webhook secret: set OMISE_WEBHOOK_SECRET/);
    const unknown = await runCli(['serv']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'serv'/);
  });

  it('reads .env from the working directory; the environment wins; secrets are never printed', async () => {
    const cwd = temporaryDirectory();
    const secretKey = 'skey_test_5xdotenvsecretkey9';
    writeFileSync(
      join(cwd, '.env'),
      `# from the dashboard\nOMISE_TEST_SECRET_KEY=${secretKey}\nOMISE_WEBHOOK_SECRET="${TEST_WEBHOOK_SECRET}"\nPORT=1\n`,
    );
    const controller = new AbortController();
    const stderr = new CapturedOutput();
    const stdout = new CapturedOutput();
    const running = main({
      argv: ['serve', '--log-dir', join(cwd, 'log')],
      env: { PORT: '0', OMISE_WEBHOOK_UI_PORT: '0' },
      cwd,
      stdout,
      stderr,
      signal: controller.signal,
    });
    // Wait for the banner, then send a signed event to the port it names.
    // Or serve stopped (a bad start): then the assertion below shows what it said.
    const banner = await Promise.race([stderr.waitFor(/POST (http:\/\/\S+)/), running.then(() => null)]);
    const url = banner?.[1];
    assert.ok(url, `banner printed: ${stderr.text}`);
    assert.match(stderr.text, /verification: signature \(OMISE_WEBHOOK_SECRET ••••/);
    assert.match(stderr.text, /read 3 variable\(s\) from .*\.env/);
    const body = eventBody({ eventId: 'evnt_test_5xdotenv1' });
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await rawRequest({
      url,
      headers: [
        ['Omise-Signature-Timestamp', String(timestamp)],
        ['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, timestamp, body)],
      ],
      body,
    });
    assert.equal(response.status, 200);
    controller.abort();
    assert.equal(await running, 0);
    assert.match(
      stdout.text,
      /charge\.create\s+evnt_test_5xdotenv1\s+chrg_test_5xfixture0001\s+✔ verified \(signature\)/,
    );
    assert.doesNotMatch(stdout.text + stderr.text, new RegExp(`${secretKey}|${TEST_WEBHOOK_SECRET.slice(0, 12)}`));

    // The default --log-dir (./log) is found relative to the command's working directory.
    const list = await runCli(['events', 'list'], { cwd });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /charge\.create\s+evnt_test_5xdotenv1/);
    const raw = await runCli(['events', 'show', 'evnt_test_5xdotenv1', '--raw', '--log-dir', 'log'], { cwd });
    assert.equal(raw.stdout, body);
    const missing = await runCli(['events', 'show', 'evnt_test_nope', '--log-dir', join(cwd, 'log')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no stored event has id evnt_test_nope/);
  });

  it('events list filters by key and prints JSON lines', async () => {
    const config = testServerConfig();
    const server = await startServer(config, { stdout: new CapturedOutput(), stderr: new CapturedOutput() });
    for (const [id, key] of [
      ['evnt_test_5xlist1', 'charge.create'],
      ['evnt_test_5xlist2', 'refund.create'],
      ['evnt_test_5xlist3', 'charge.complete'],
    ] as const) {
      await rawRequest({ url: server.listener.url, body: eventBody({ eventId: id, key }) });
    }
    await server.close();
    const result = await runCli(['events', 'list', '--key', 'charge.*', '--json'], {
      env: { OMISE_WEBHOOK_LOG_DIR: config.logDir },
    });
    assert.equal(result.code, 0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; key: string });
    assert.deepEqual(
      lines.map((l) => [l.id, l.key]),
      [
        ['evnt_test_5xlist3', 'charge.complete'],
        ['evnt_test_5xlist1', 'charge.create'],
      ],
    );
    const none = await runCli(['events', 'list', '--log-dir', join(temporaryDirectory(), 'nowhere')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no store at .*omise-webhook\.sqlite; run `omise-webhook serve` first/);
  });
});
