import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServeConfig, runCli } from '../../testing/run-cli.js';
import type { Env } from '../dotenv.js';

describe('serve: forwarding flags', () => {
  it('defaults: no targets, 10 s timeout, 5s,30s,2m,10m,1h,6h, 4xx final', () => {
    const config = parseServeConfig([]);
    assert.deepEqual(config.forwardTo, []);
    assert.deepEqual(config.forward, []);
    assert.equal(config.forwardTimeoutMs, 10_000);
    assert.deepEqual(config.retryScheduleMs, [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000]);
    assert.equal(config.retry4xx, false);
  });

  it('takes repeated flags, and lists in the environment', () => {
    const flags = parseServeConfig([
      '--forward-to',
      'http://localhost:8080/a',
      '--forward-to',
      'https://b.example/hook',
      '--forward',
      'charge.*,refund.create=http://localhost:9000/omise?x=1',
      '--forward-timeout',
      '2s',
      '--retry-schedule',
      '1s, 10s,1m',
      '--retry-4xx',
    ]);
    assert.deepEqual(flags.forwardTo, ['http://localhost:8080/a', 'https://b.example/hook']);
    assert.deepEqual(flags.forward, [{ pattern: 'charge.*,refund.create', url: 'http://localhost:9000/omise?x=1' }]);
    assert.equal(flags.forwardTimeoutMs, 2_000);
    assert.deepEqual(flags.retryScheduleMs, [1_000, 10_000, 60_000]);
    assert.equal(flags.retry4xx, true);
    const env = parseServeConfig([], {
      OMISE_WEBHOOK_FORWARD_TO: 'http://localhost:8080/a, http://localhost:8081/b',
      OMISE_WEBHOOK_FORWARD: 'charge.*,dispute.*=http://localhost:1/c; refund.*=http://localhost:2/d',
      OMISE_WEBHOOK_RETRY_SCHEDULE: 'none',
      OMISE_WEBHOOK_RETRY_4XX: 'true',
    });
    assert.deepEqual(env.forwardTo, ['http://localhost:8080/a', 'http://localhost:8081/b']);
    assert.deepEqual(env.forward, [
      { pattern: 'charge.*,dispute.*', url: 'http://localhost:1/c' },
      { pattern: 'refund.*', url: 'http://localhost:2/d' },
    ]);
    assert.deepEqual(env.retryScheduleMs, []);
    assert.equal(env.retry4xx, true);
  });

  it('refuses bad values at start, naming them', async () => {
    const cases: Array<[string[], Env, RegExp]> = [
      [
        ['--forward-to', 'localhost:8080'],
        {},
        /--forward-to \(OMISE_WEBHOOK_FORWARD_TO\) got "localhost:8080"; expected an http\(s\) URL/,
      ],
      [[], { OMISE_WEBHOOK_FORWARD_TO: 'ws://x' }, /got "ws:\/\/x".*only http and https/],
      [
        ['--forward', 'http://localhost:8080'],
        {},
        /--forward \(OMISE_WEBHOOK_FORWARD\) got "http:\/\/localhost:8080"; expected/,
      ],
      [['--forward', 'charge.*'], {}, /expected pattern=url/],
      [
        ['--forward', 'charge.created=http://x'],
        {},
        /"charge.created" is not an Omise event key; did you mean charge.create/,
      ],
      [
        ['--retry-schedule', '5s,soon'],
        {},
        /--retry-schedule \(OMISE_WEBHOOK_RETRY_SCHEDULE\) got "5s,soon".*"soon" is not one/,
      ],
      [['--forward-timeout', 'forever'], {}, /--forward-timeout \(OMISE_WEBHOOK_FORWARD_TIMEOUT\) got "forever"/],
    ];
    for (const [argv, env, message] of cases) {
      const result = await runCli(['serve', '--port', '0', ...argv], { env });
      assert.equal(result.code, 2, argv.join(' '));
      assert.match(result.stderr, message);
    }
  });

  it('documents every forwarding and replay flag with its variable', async () => {
    const serve = (await runCli(['serve', '--help'])).stdout.replace(/\s+/g, ' ');
    for (const [flag, env] of [
      ['--forward-to', 'OMISE_WEBHOOK_FORWARD_TO'],
      ['--forward', 'OMISE_WEBHOOK_FORWARD'],
      ['--forward-timeout', 'OMISE_WEBHOOK_FORWARD_TIMEOUT'],
      ['--retry-schedule', 'OMISE_WEBHOOK_RETRY_SCHEDULE'],
      ['--retry-4xx', 'OMISE_WEBHOOK_RETRY_4XX'],
    ]) {
      assert.match(serve, new RegExp(`${flag} [^[]*\\[env: ${env}\\]`));
    }
    assert.match(serve, /default: 5s,30s,2m,10m,1h,6h/);
    const replay = (await runCli(['replay', '--help'])).stdout.replace(/\s+/g, ' ');
    for (const flag of [
      '--to',
      '--resign',
      '--secret',
      '--key',
      '--since',
      '--duplicate',
      '--shuffle',
      '--delay',
      '--log-dir',
    ]) {
      assert.match(replay, new RegExp(`${flag} [^[]*\\[env: OMISE_WEBHOOK_[A-Z_]+\\]`));
    }
  });
});
