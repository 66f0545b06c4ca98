import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { it } from 'node:test';
import { runCli } from '../../testing/run-cli.js';
import { temporaryDirectory } from '../../testing/test-server.js';

it('doctor --store postgres:// with nothing listening: a store error saying what to do, exit 1, never the password', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const url = `postgres://team:hunter2-secret@127.0.0.1:${port}/webhooks`;
  const run = await runCli(['doctor', '--json', '--port', '0', '--ui-port', '0'], {
    cwd: temporaryDirectory(),
    env: { OMISE_WEBHOOK_STORE: url },
  });
  assert.equal(run.code, 1, run.stderr);
  const report = JSON.parse(run.stdout) as {
    checks: Array<{ id: string; status: string; message: string; fix: string }>;
  };
  const store = report.checks.filter((check) => check.id.startsWith('store'));
  assert.deepEqual(
    store.map((check) => [check.id, check.status, check.message]),
    [
      [
        'store',
        'error',
        `cannot connect to postgres://team:****@127.0.0.1:${port}/webhooks: the connection was refused`,
      ],
      ['store-schema', 'skip', 'not checked: the database cannot be reached'],
      ['store-privileges', 'skip', 'not checked: the database cannot be reached'],
    ],
  );
  assert.match(store[0]?.fix ?? '', /start PostgreSQL there, or fix the host and port in --store/);
  assert.doesNotMatch(run.stdout + run.stderr, /hunter2/);
});
