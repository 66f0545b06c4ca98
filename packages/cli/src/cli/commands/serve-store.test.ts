import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventBody } from '../../testing/delivery-fixtures.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../../testing/postgres.js';
import { parseServeConfig, runCli } from '../../testing/run-cli.js';
import { CapturedOutput, temporaryDirectory } from '../../testing/test-server.js';
import { main } from '../main.js';

const PG = 'postgres://team:s3cret-pw@db.example.com:5432/webhooks';

describe('serve --store', () => {
  it('selects sqlite by default, memory, or a postgres:// URL from the flag, OMISE_WEBHOOK_STORE or DATABASE_URL', () => {
    assert.equal(parseServeConfig([]).store, 'sqlite');
    assert.equal(parseServeConfig(['--store', 'memory']).store, 'memory');
    const flag = parseServeConfig(['--store', PG]);
    assert.deepEqual([flag.store, flag.databaseUrl], ['postgres', PG]);
    const env = parseServeConfig([], { OMISE_WEBHOOK_STORE: PG });
    assert.deepEqual([env.store, env.databaseUrl], ['postgres', PG]);
    const fallback = parseServeConfig([], { DATABASE_URL: PG });
    assert.deepEqual(
      [fallback.store, fallback.databaseUrl, fallback.databaseUrlFrom],
      ['postgres', PG, 'DATABASE_URL'],
    );
    assert.equal(env.databaseUrlFrom, undefined);
    assert.equal(flag.databaseUrlFrom, undefined);
    // OMISE_WEBHOOK_STORE wins over DATABASE_URL, and a DATABASE_URL for another database is another tool's.
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_STORE: 'sqlite', DATABASE_URL: PG }).store, 'sqlite');
    assert.equal(parseServeConfig([], { DATABASE_URL: 'mysql://root:pw@db/app' }).store, 'sqlite');
  });

  it('turns the event files off by default with PostgreSQL only, and --files / --no-files / the variable decide', () => {
    assert.equal(parseServeConfig([]).files, true);
    assert.equal(parseServeConfig(['--no-files']).files, false);
    assert.equal(parseServeConfig([], { OMISE_WEBHOOK_FILES: 'false' }).files, false);
    assert.equal(parseServeConfig(['--store', PG]).files, false);
    assert.equal(parseServeConfig(['--store', PG, '--files']).files, true);
    assert.equal(parseServeConfig(['--store', PG], { OMISE_WEBHOOK_FILES: 'true' }).files, true);
  });

  it('reads --store-pool and --forward-lease, and refuses a lease not longer than the forward timeout', () => {
    const defaults = parseServeConfig(['--store', PG]);
    assert.deepEqual([defaults.storePool, defaults.forwardLeaseMs], [10, 60_000]);
    const set = parseServeConfig(['--store', PG, '--store-pool', '3'], { OMISE_WEBHOOK_FORWARD_LEASE: '20s' });
    assert.deepEqual([set.storePool, set.forwardLeaseMs], [3, 20_000]);
    assert.throws(() => parseServeConfig(['--store', PG, '--forward-lease', '5s', '--forward-timeout', '10s']), {
      name: 'UsageError',
      message:
        '--forward-lease (OMISE_WEBHOOK_FORWARD_LEASE) is 5s but --forward-timeout is 10s; the lease must be longer than the timeout, or another instance could send a forward that is still being sent: raise --forward-lease or lower --forward-timeout',
    });
    // SQLite has no leases: a long timeout there is fine.
    assert.equal(parseServeConfig(['--forward-lease', '5s', '--forward-timeout', '10s']).store, 'sqlite');
  });

  it('refuses anything else naming the flag, never printing the password', async () => {
    const bad = await runCli(['serve', '--store', 'mysql://root:hunter2@db/app']);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr.trim().split('\n')[0],
      'omise-webhook: --store (OMISE_WEBHOOK_STORE) got a mysql: URL (mysql://root:****@db/app); only PostgreSQL is supported as a shared store: expected sqlite, memory, or a postgres://user:password@host:5432/database URL',
    );
    const noHost = await runCli(['serve'], { env: { DATABASE_URL: 'postgres://u:hunter2@:5432/x' } });
    assert.equal(noHost.code, 2);
    assert.match(noHost.stderr, /^omise-webhook: --store \(DATABASE_URL\) got "postgres:\/\/u:\*\*\*\*@:5432\/x"/);
    assert.doesNotMatch(bad.stderr + noHost.stderr, /hunter2/);
  });

  it('stops with exit 2 and what to do when the database cannot be reached at start, the password masked', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    for (const argv of [
      ['serve', '--port', '0', '--no-ui'],
      ['events', 'list'],
    ]) {
      const run = await runCli([...argv, '--store', `postgres://team:hunter2@127.0.0.1:${port}/webhooks`], {
        cwd: temporaryDirectory(),
      });
      assert.equal(run.code, 2, argv[0]);
      assert.equal(
        run.stderr,
        `omise-webhook: could not open the PostgreSQL store: nothing answers at postgres://team:****@127.0.0.1:${port}/webhooks (connection refused): start PostgreSQL there, or fix the host and port in --store\n`,
      );
    }
  });

  it('shows sqlite as the default in --help, and the new flags with their variables', async () => {
    const help = (await runCli(['serve', '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(
      help,
      /--store <where> sqlite \(kept in the log dir\), memory .*\[env: OMISE_WEBHOOK_STORE\] \(default: sqlite\)/,
    );
    assert.match(help, /--store-pool <n> .*\[env: OMISE_WEBHOOK_STORE_POOL\] \(default: 10\)/);
    assert.match(help, /--forward-lease <duration> .*\[env: OMISE_WEBHOOK_FORWARD_LEASE\] \(default: 1m\)/);
    assert.match(help, /--files write log\/api\/event\/<id>\.json files/);
    assert.match(help, /--no-files do not write the event files/);
  });
});

describeWithPostgres('serve --store postgres://', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  it('says when the database came from DATABASE_URL, which may be meant for your own app', async () => {
    const cwd = temporaryDirectory();
    const controller = new AbortController();
    const stderr = new CapturedOutput();
    const running = main({
      argv: ['serve', '--port', '0', '--no-ui', '--log-dir', join(cwd, 'log')],
      env: { DATABASE_URL: database.url },
      cwd,
      stdout: new CapturedOutput(),
      stderr,
      signal: controller.signal,
    });
    await stderr.waitFor(/Ctrl-C to stop\./);
    controller.abort();
    assert.equal(await running, 0, stderr.text);
    assert.match(
      stderr.text,
      / \(from DATABASE_URL; --store or OMISE_WEBHOOK_STORE chooses another, --store sqlite keeps events in the log dir\) \(instance \S+;/,
    );
  });

  it('prints the masked URL and the instance id, writes no event files, and stores in the database', async () => {
    const withPassword = new URL(database.url);
    const cwd = temporaryDirectory();
    const controller = new AbortController();
    const stderr = new CapturedOutput();
    const stdout = new CapturedOutput();
    const running = main({
      argv: ['serve', '--port', '0', '--no-ui', '--log-dir', join(cwd, 'log'), '--store', database.url],
      env: {},
      cwd,
      stdout,
      stderr,
      signal: controller.signal,
    });
    const url = (await stderr.waitFor(/POST (http:\/\/\S+)/))[1] as string;
    await stderr.waitFor(/Ctrl-C to stop\./);
    let status = 0;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: eventBody({ eventId: 'evnt_test_pgserve1' }),
      });
      status = response.status;
      if (status === 200) await stdout.waitFor(/evnt_test_pgserve1/);
    } finally {
      controller.abort();
    }
    assert.equal(status, 200);
    assert.equal(await running, 0, stderr.text);
    const masked = withPassword.password ? database.url.replace(`:${withPassword.password}@`, ':****@') : database.url;
    assert.match(
      stderr.text,
      new RegExp(
        `store: ${masked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(instance \\S+; forwards leased for 1m\\)\n`,
      ),
    );
    if (withPassword.password) assert.doesNotMatch(stderr.text + stdout.text, new RegExp(withPassword.password));
    assert.doesNotMatch(stderr.text, /files:/);
    const list = await runCli(['events', 'list', '--json', '--store', database.url], { cwd });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      list.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).id),
      ['evnt_test_pgserve1'],
    );
  });
});
