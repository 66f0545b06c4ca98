// Fault injection: a full disk under `serve`, at start-up, and a failed log sync.
// A real full disk needs a small tmpfs (`mount -t tmpfs`, root only). Where mounting is not
// allowed those tests are skipped with the reason, and the injected faults below still run:
// a sync that fails with ENOSPC at the store's boundary, and events already stored whose
// files cannot be written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fdatasync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventFileMirror, eventFilePath } from '../adapters/files/event-file-mirror.js';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import { SqliteEventStore } from '../adapters/store/sqlite-event-store.js';
import type { StoredEvent } from '../core/ports.js';
import { isStorageUnavailable, StorageHealth, storageFaultCodeOf } from '../core/storage-health.js';
import { eventBody, makeDelivery } from '../testing/delivery-fixtures.js';
import { rawRequest } from '../testing/http.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { startTestServer, type TestServer, temporaryDirectory } from '../testing/test-server.js';

let sequence = 0;
function nextEventId(): string {
  sequence += 1;
  return `evnt_test_5xdisk${Date.now().toString(36)}${sequence}`;
}

function signedHeaders(body: string): Array<[string, string]> {
  const timestamp = Math.floor(Date.now() / 1000);
  return [
    ['Content-Type', 'application/json'],
    ['Omise-Signature-Timestamp', String(timestamp)],
    ['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, timestamp, body)],
  ];
}

/** A signed event with `padding` bytes in its description, so a few fill a small disk. */
async function postEvent(server: TestServer, padding = 0) {
  const eventId = nextEventId();
  const body = eventBody({ eventId, extra: 'x'.repeat(padding) });
  const response = await rawRequest({ url: server.webhookUrl, headers: signedHeaders(body), body });
  return { eventId, status: response.status, json: JSON.parse(response.body) as Record<string, unknown> };
}

async function healthz(server: TestServer) {
  const response = await rawRequest({ url: server.webhookUrl.replace('/omise/webhook', '/healthz'), method: 'GET' });
  return { status: response.status, json: JSON.parse(response.body) as Record<string, unknown> };
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Fills the file system holding `dir` to the last byte; returns the ballast file. */
function fillDisk(dir: string): string {
  const ballast = join(dir, `ballast-${sequence++}`);
  const fd = openSync(ballast, 'w');
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return ballast;
}

/** Mounts a tmpfs of `size` at a new directory, or returns why it cannot. */
function mountTmpfs(size: string): { dir: string } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'tmpfs needs Linux' };
  const dir = mkdtempSync(join(tmpdir(), 'omise-webhook-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here (${(mounted.stderr || String(mounted.error)).trim()})` };
  }
  process.once('exit', () => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir };
}

const disk = mountTmpfs('12m');
const noDisk = 'skip' in disk ? disk.skip : false;
const diskDir = 'dir' in disk ? disk.dir : '';

describe('serve on a disk that fills up (a real full tmpfs)', { skip: noDisk }, () => {
  const logDir = join(diskDir, 'log');
  let server: TestServer;
  const acknowledged: string[] = [];

  before(async () => {
    mkdirSync(logDir, { recursive: true });
    server = await startTestServer({ logDir, webhookSecrets: [TEST_WEBHOOK_SECRET], ui: true });
  });
  after(async () => {
    await server?.close();
  });

  it('answers 503 disk_full to every webhook while the disk is full, stays up and says why once', async () => {
    for (let i = 0; i < 5; i += 1) {
      const posted = await postEvent(server, 2_000);
      assert.equal(posted.status, 200);
      acknowledged.push(posted.eventId);
    }
    const ballast = fillDisk(diskDir);
    // The log may still have room for a few; the first refusal comes within a few events.
    let refused: Awaited<ReturnType<typeof postEvent>> | null = null;
    for (let i = 0; i < 400 && refused === null; i += 1) {
      const posted = await postEvent(server, 20_000);
      if (posted.status === 200) acknowledged.push(posted.eventId);
      else refused = posted;
    }
    assert.ok(refused, 'a webhook was refused once the disk was full');
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error, 'disk_full');
    assert.match(String(refused.json.message), /^the event was not stored, so it is not acknowledged; .*is full \(/);

    // Every webhook now: 503, never a 2xx.
    for (let i = 0; i < 10; i += 1) {
      const posted = await postEvent(server, 100);
      assert.equal(posted.status, 503, `webhook ${i} during the fault`);
      assert.equal(posted.json.error, 'disk_full');
    }
    // A bad request keeps its own answer: a full disk is no reason for a 5xx.
    const forged = eventBody({ eventId: nextEventId() });
    const unsigned = await rawRequest({
      url: server.webhookUrl,
      headers: [
        ['Omise-Signature-Timestamp', String(Math.floor(Date.now() / 1000))],
        ['Omise-Signature', 'ab'.repeat(32)],
      ],
      body: forged,
    });
    assert.equal(unsigned.status, 401);

    const health = await healthz(server);
    assert.equal(health.status, 503);
    assert.equal(health.json.ok, false);
    assert.equal(health.json.service, 'omise-webhook serve', 'doctor still knows a degraded serve');
    assert.equal(health.json.error, 'disk_full');
    assert.match(String(health.json.message), /the disk holding the event store .* is full/);

    // The inspector keeps answering reads.
    const listing = await rawRequest({ url: `${server.inspector?.url}api/events?limit=100`, method: 'GET' });
    assert.equal(listing.status, 200);
    const listed = (JSON.parse(listing.body) as { items: Array<{ id: string }> }).items.map((item) => item.id);
    for (const eventId of acknowledged) assert.ok(listed.includes(eventId), `${eventId} listed`);

    // Background work runs through the fault (text index after 250 ms, file retries): wait past it.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const faultLines = server.stderr.lines.filter((line) => /the disk holding the event store .* is full/.test(line));
    assert.equal(faultLines.length, 1, server.stderr.text);

    rmSync(ballast);
    await until('healthz 200', async () => ((await healthz(server)).status === 200 ? true : null));
    assert.deepEqual((await healthz(server)).json, { ok: true, service: 'omise-webhook serve' });
    const after = await postEvent(server, 100);
    assert.equal(after.status, 200);
    acknowledged.push(after.eventId);
    assert.match(server.stderr.text, /the event store can be written again/);

    // Nothing acknowledged is lost: in the store, then in files.
    for (const eventId of acknowledged) assert.ok(await server.store.getEvent(eventId), `${eventId} stored`);
    await server.mirror?.idle();
    for (const eventId of acknowledged) {
      assert.ok(existsSync(eventFilePath(logDir, eventId) as string), `${eventId}.json written`);
    }
  });

  it('starts on a full disk: says why, answers 503, and recovers once space is freed', async () => {
    await server.close();
    const ballast = fillDisk(diskDir);
    server = await startTestServer({ logDir, webhookSecrets: [TEST_WEBHOOK_SECRET] });
    assert.match(server.stderr.text, /the disk holding the event store .* is full \((ENOSPC|SQLITE_IOERR_SHMSIZE)\)/);
    const refused = await postEvent(server, 100);
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error, 'disk_full');
    assert.equal((await healthz(server)).status, 503);

    rmSync(ballast);
    await until('healthz 200', async () => ((await healthz(server)).status === 200 ? true : null));
    const accepted = await postEvent(server, 100);
    assert.equal(accepted.status, 200);
    await server.mirror?.idle();
    assert.ok(existsSync(eventFilePath(logDir, accepted.eventId) as string));
    for (const eventId of acknowledged) assert.ok(await server.store.getEvent(eventId), `${eventId} kept`);
  });
});

describe('event files on a full disk (a real full tmpfs)', { skip: noDisk }, () => {
  it('says so once, keeps the files waiting, and writes every one once space is freed', async () => {
    const logDir = join(diskDir, 'files-only');
    const store = new MemoryEventStore();
    const events: StoredEvent[] = [];
    for (let i = 0; i < 20; i += 1) events.push((await store.recordDelivery(makeDelivery())).event);
    const faults: Array<string | null> = [];
    const errors: string[] = [];
    const mirror = new EventFileMirror({
      logDir,
      store,
      quietMs: 10,
      retryMs: 50,
      onError: (error, id) => errors.push(`${id}: ${String(error)}`),
      onStorageFault: (fault) => faults.push(fault ? String((fault as NodeJS.ErrnoException).code) : null),
    });
    mkdirSync(join(logDir, 'api', 'event'), { recursive: true });
    const ballast = fillDisk(diskDir);
    for (const event of events) mirror.enqueue(event);
    await until('the fault is noticed', async () => (faults.length > 0 ? true : null));
    // Several retries while still full: still said once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(faults, ['ENOSPC']);
    assert.deepEqual(errors, []);
    rmSync(ballast);
    await mirror.idle();
    assert.deepEqual(faults, ['ENOSPC', null]);
    for (const event of events) assert.ok(existsSync(eventFilePath(logDir, event.eventId) as string), event.eventId);
    await mirror.close();
  });
});

describe('a failed log sync (ENOSPC injected at the store boundary)', () => {
  it('refuses the writes it covered, refuses every write until a probe succeeds, then recovers', async () => {
    let failSyncs = true;
    const store = new SqliteEventStore({
      filename: join(temporaryDirectory(), 'store.sqlite'),
      recoveryProbeMs: 20,
      recoveryFreeBytes: 0,
      syncFile: (fd, callback) => {
        if (failSyncs)
          callback(Object.assign(new Error('ENOSPC: no space left on device, fdatasync'), { code: 'ENOSPC' }));
        else callback(null);
        void fd;
      },
    });
    const changes: Array<string | null> = [];
    store.health?.subscribe((fault) => changes.push(fault?.code ?? null));
    const first = makeDelivery();
    await assert.rejects(
      store.recordDelivery(first),
      (error) => isStorageUnavailable(error) && error.code === 'disk_full',
    );
    assert.equal(store.health?.fault?.cause, 'ENOSPC');
    // Refused at once while faulted, whatever it is.
    await assert.rejects(store.recordDelivery(makeDelivery()), (error) => isStorageUnavailable(error));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.notEqual(store.health?.fault, null, 'still faulted: every probe failed its sync');
    failSyncs = false;
    await until('recovery', async () => (store.health?.fault === null ? true : null));
    const next = makeDelivery();
    const result = await store.recordDelivery(next);
    assert.equal(result.duplicate, false);
    assert.deepEqual(changes, ['disk_full', null]);
    await store.close();
  });
});

describe('serve with a failing log sync (ENOSPC injected; runs where tmpfs cannot be mounted too)', () => {
  it('answers 503 disk_full, healthz 503, keeps reads, then recovers and answers 200', async () => {
    let failSyncs = false;
    const server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET], ui: true }, undefined, {
      sqliteOptions: {
        recoveryProbeMs: 50,
        recoveryFreeBytes: 0,
        syncFile: (fd, callback) => {
          if (failSyncs)
            callback(Object.assign(new Error('ENOSPC: no space left on device, fdatasync'), { code: 'ENOSPC' }));
          else fdatasync(fd, callback);
        },
      },
    });
    try {
      const before = await postEvent(server, 100);
      assert.equal(before.status, 200);
      failSyncs = true;
      const refused = await postEvent(server, 100);
      assert.equal(refused.status, 503);
      assert.equal(refused.json.error, 'disk_full');
      for (let i = 0; i < 5; i += 1) assert.equal((await postEvent(server, 100)).status, 503);
      const health = await healthz(server);
      assert.equal(health.status, 503);
      assert.equal(health.json.error, 'disk_full');
      assert.equal(health.json.cause, 'ENOSPC');
      const listing = await rawRequest({ url: `${server.inspector?.url}api/events`, method: 'GET' });
      assert.equal(listing.status, 200);
      assert.equal(
        server.stderr.lines.filter((line) => line.includes('is full (ENOSPC)')).length,
        1,
        server.stderr.text,
      );

      failSyncs = false;
      await until('healthz 200', async () => ((await healthz(server)).status === 200 ? true : null));
      const after = await postEvent(server, 100);
      assert.equal(after.status, 200);
      assert.ok(await server.store.getEvent(before.eventId));
      assert.ok(await server.store.getEvent(after.eventId));
      await server.mirror?.idle();
      assert.ok(existsSync(eventFilePath(server.config.logDir, after.eventId) as string));
    } finally {
      await server.close();
    }
  });
});

describe('storage fault classification', () => {
  it('knows SQLite and file-system codes, and nothing else', () => {
    const of = (code: string) => storageFaultCodeOf(Object.assign(new Error(code), { code }))?.code ?? null;
    assert.equal(of('SQLITE_FULL'), 'disk_full');
    assert.equal(of('ENOSPC'), 'disk_full');
    assert.equal(of('EDQUOT'), 'disk_full');
    assert.equal(of('SQLITE_IOERR_FSYNC'), 'io_error');
    assert.equal(of('SQLITE_IOERR'), 'io_error');
    assert.equal(of('EIO'), 'io_error');
    assert.equal(of('SQLITE_READONLY_DBMOVED'), 'read_only');
    assert.equal(of('EROFS'), 'read_only');
    assert.equal(of('SQLITE_CONSTRAINT_UNIQUE'), null);
    assert.equal(of('ENAMETOOLONG'), null);
    assert.equal(storageFaultCodeOf(new RangeError('Maximum call stack size exceeded')), null);
  });

  it('tells its listeners once per fault, not once per failure', () => {
    const health = new StorageHealth({ where: 'x', now: () => 0 });
    const told: Array<string | null> = [];
    health.subscribe((fault) => told.push(fault?.cause ?? null));
    for (const code of ['SQLITE_FULL', 'ENOSPC', 'SQLITE_FULL']) health.fail(Object.assign(new Error(code), { code }));
    health.recover();
    health.recover();
    assert.deepEqual(told, ['SQLITE_FULL', null]);
  });
});
