import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../adapters/store/sqlite-event-store.js';
import { makeDelivery } from '../testing/delivery-fixtures.js';
import { startMinimalOmiseApi } from '../testing/minimal-omise-api.js';
import { startTestServer, temporaryDirectory } from '../testing/test-server.js';
import { createDoctorProbes } from './doctor-probes.js';

const KEY = 'skey_test_5xprobekey00001';

describe('doctor probes', () => {
  it('asks the Omise API for GET /events?limit=1 with the key, and tells works / refused / down / unreachable apart', async () => {
    const api = await startMinimalOmiseApi({ secretKey: KEY });
    api.events.set('evnt_test_5xprobe1', '{"object":"event","id":"evnt_test_5xprobe1"}');
    api.events.set('evnt_test_5xprobe2', '{"object":"event","id":"evnt_test_5xprobe2"}');
    const probes = createDoctorProbes({ cwd: '/' });
    try {
      assert.deepEqual(await probes.omiseApi({ secretKey: KEY, apiUrl: api.url }), { kind: 'ok', total: 2 });
      assert.deepEqual(api.requests, ['GET /events?limit=1']);
      assert.deepEqual(await probes.omiseApi({ secretKey: 'skey_test_5xwrongkey0001', apiUrl: api.url }), {
        kind: 'rejected',
        status: 401,
        code: 'authentication_failure',
        message: 'authentication failed',
      });
      api.setDown(true);
      assert.deepEqual(await probes.omiseApi({ secretKey: KEY, apiUrl: api.url }), {
        kind: 'error',
        status: 503,
        code: 'service_unavailable',
        message: 'down',
      });
    } finally {
      await api.close();
    }
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const unreachable = await probes.omiseApi({ secretKey: KEY, apiUrl: `http://127.0.0.1:${closedPort}` });
    assert.equal(unreachable.kind, 'unreachable');
    assert.match((unreachable as { message: string }).message, /ECONNREFUSED/);
  });

  it('finds a port free or in use', async () => {
    const probes = createDoctorProbes({ cwd: '/' });
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      assert.deepEqual(await probes.port({ host: '127.0.0.1', port }), { kind: 'in_use' });
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    assert.deepEqual(await probes.port({ host: '127.0.0.1', port }), { kind: 'free' });
    assert.deepEqual(await probes.port({ host: '192.0.2.123', port }), { kind: 'no_such_address' });
  });

  it('tells serve (its /healthz, its inspector) from another program on a busy port', async () => {
    const probes = createDoctorProbes({ cwd: '/' });
    const serve = await startTestServer({ ui: true, uiToken: 'doctor-probe-token-0001' });
    const other = createHttpServer((_request, response) => response.end('<html>not serve</html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = Number(new URL(serve.webhookUrl).port);
      const uiPort = Number(new URL((serve.inspector as { url: string }).url).port);
      assert.deepEqual(await probes.whoListens({ host: '127.0.0.1', port }), { kind: 'serve' });
      assert.deepEqual(await probes.whoListens({ host: '0.0.0.0', port }), { kind: 'serve' }, 'asked on loopback');
      assert.deepEqual(await probes.whoListens({ host: '127.0.0.1', port: uiPort }), { kind: 'inspector_locked' });
      assert.deepEqual(
        await probes.whoListens({ host: '127.0.0.1', port: uiPort, uiToken: 'doctor-probe-token-0001' }),
        { kind: 'inspector', status: { webhookUrl: serve.webhookUrl, publicUrl: null, verificationMode: 'none' } },
      );
      const otherPort = (other.address() as AddressInfo).port;
      assert.deepEqual(await probes.whoListens({ host: '127.0.0.1', port: otherPort }), { kind: 'unknown' });
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
      await serve.close();
    }
  });

  it('finds a directory writable (leaving nothing behind), creatable, or not writable', async () => {
    const cwd = temporaryDirectory();
    const probes = createDoctorProbes({ cwd });
    mkdirSync(join(cwd, 'log'));
    assert.deepEqual(await probes.directory('log'), { kind: 'writable', exists: true });
    assert.deepEqual(readdirSync(join(cwd, 'log')), [], 'the trial file is removed');
    assert.deepEqual(await probes.directory('new/deeper/log'), { kind: 'writable', exists: false });
    assert.equal(existsSync(join(cwd, 'new')), false, 'nothing is created');
    writeFileSync(join(cwd, 'a-file'), '');
    const underFile = await probes.directory('a-file/log');
    assert.equal(underFile.kind, 'not_writable');
    assert.match((underFile as { message: string }).message, /a-file is a file, not a directory/);
    assert.deepEqual(await probes.directory('a-file'), {
      kind: 'not_writable',
      message: 'it is a file, not a directory',
    });
  });

  it('opens the store and counts its events; says when there is none yet; reports a damaged file', async () => {
    const cwd = temporaryDirectory();
    const probes = createDoctorProbes({ cwd });
    const file = join(cwd, 'log', 'omise-webhook.sqlite');
    assert.deepEqual(await probes.store('log'), { kind: 'absent', file });
    assert.equal(existsSync(file), false, 'doctor does not create the store');

    const store = new SqliteEventStore({ filename: file });
    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_5xprobestore1' }));
    await store.close();
    assert.deepEqual(await probes.store('log'), { kind: 'opened', file, events: 1 });

    const damaged = join(cwd, 'damaged');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'omise-webhook.sqlite'), 'this is not a SQLite database, just text\n'.repeat(200));
    const broken = await probes.store('damaged');
    assert.equal(broken.kind, 'failed');
    assert.match((broken as { message: string }).message, /not a database/);
  });
});
