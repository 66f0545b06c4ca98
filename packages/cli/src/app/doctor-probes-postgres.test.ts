import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { openPostgresStore, POSTGRES_SCHEMA_VERSION } from '../adapters/store/postgres/index.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../testing/postgres.js';
import { probePostgres } from './doctor-probes.js';

function withPath(url: string, change: (url: URL) => void): string {
  const copy = new URL(url);
  change(copy);
  return copy.toString();
}

describeWithPostgres('doctor probe: PostgreSQL', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  it('reads the server version, no schema yet, and the privileges; then the schema serve wrote', async () => {
    const fresh = await probePostgres(database.url);
    assert.equal(fresh.kind, 'reachable');
    assert.match(fresh.kind === 'reachable' ? fresh.serverVersion : '', /^\d+(\.\d+)?/);
    assert.deepEqual(
      fresh.kind === 'reachable' && [fresh.schemaVersion, fresh.canCreate, fresh.canWrite, fresh.error],
      [null, true, true, undefined],
    );
    const store = await openPostgresStore({ url: database.url });
    await store.close();
    const migrated = await probePostgres(database.url);
    assert.deepEqual(migrated.kind === 'reachable' && [migrated.schemaVersion, migrated.codeSchemaVersion], [
      POSTGRES_SCHEMA_VERSION,
      POSTGRES_SCHEMA_VERSION,
    ]);
  });

  it('tells a missing database and an unknown user apart', async () => {
    const noDatabase = await probePostgres(
      withPath(database.url, (url) => (url.pathname = '/omise_webhook_no_such_db')),
    );
    assert.deepEqual(noDatabase.kind === 'unreachable' && noDatabase.problem, 'no_database');
    const noUser = await probePostgres(
      withPath(database.url, (url) => {
        url.username = 'omise_webhook_nobody';
        url.password = 'not-the-password';
      }),
    );
    assert.deepEqual(noUser.kind === 'unreachable' && noUser.problem, 'auth_failed');
    assert.doesNotMatch(noUser.kind === 'unreachable' ? noUser.message : '', /not-the-password/);
  });
});

it('doctor probe: a port where nothing listens is refused; a server that never answers times out', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const freePort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = await probePostgres(`postgres://u:pw@127.0.0.1:${freePort}/db`);
  assert.deepEqual(refused.kind === 'unreachable' && refused.problem, 'refused');

  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const port = (silent.address() as AddressInfo).port;
    const timedOut = await probePostgres(`postgres://u:pw@127.0.0.1:${port}/db`, { timeoutMs: 1_000 });
    assert.deepEqual(timedOut.kind === 'unreachable' && timedOut.problem, 'timeout', JSON.stringify(timedOut));
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
