import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../core/ports.js';
import { makeDelivery } from '../../testing/delivery-fixtures.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { temporaryDirectory } from '../../testing/test-server.js';
import { MemoryEventStore } from '../store/memory-event-store.js';
import { SqliteEventStore } from '../store/sqlite-event-store.js';
import { EventFileMirror, eventFileContent, eventFilePath, FILE_MIRROR_SLICE } from './event-file-mirror.js';

const T0 = Date.parse('2026-11-26T07:00:00.000Z');

async function storedEvents(count: number): Promise<{ store: MemoryEventStore; events: StoredEvent[] }> {
  const store = new MemoryEventStore();
  const events: StoredEvent[] = [];
  for (let i = 0; i < count; i += 1) events.push((await store.recordDelivery(makeDelivery())).event);
  return { store, events };
}

function filesIn(logDir: string): string[] {
  const dir = join(logDir, 'api', 'event');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.json')) : [];
}

function assertFileOf(logDir: string, event: StoredEvent): void {
  const path = eventFilePath(logDir, event.eventId) as string;
  assert.equal(readFileSync(path, 'utf8'), eventFileContent(event), `${event.eventId}.json`);
}

describe('EventFileMirror: files wait for a quiet moment', () => {
  it('writes nothing while events keep arriving, then every file once they stop', async () => {
    const logDir = temporaryDirectory();
    const { events } = await storedEvents(20);
    const clock = new FakeClock(T0);
    const mirror = new EventFileMirror({ logDir, quietMs: 400, clock, timers: clock });
    // Events 10 ms apart for 190 ms: never a quiet 400 ms.
    for (const [i, event] of events.entries()) {
      clock.set(T0 + i * 10);
      mirror.enqueue(event);
    }
    assert.equal(mirror.waiting, 20);
    // The last arrived at T0 + 190: quiet from T0 + 590 on, not a millisecond before.
    clock.set(T0 + 589);
    assert.equal(mirror.waiting, 20, 'nothing taken before the quiet time');
    assert.deepEqual(filesIn(logDir), [], 'no file during the burst');
    clock.set(T0 + 590);
    assert.equal(mirror.waiting, 0, 'the quiet moment started the write');
    await mirror.idle();
    for (const event of events) assertFileOf(logDir, event);
    await mirror.close();
  });

  it('writes anyway once the oldest event has waited maxLagMs, while events still arrive', async () => {
    const logDir = temporaryDirectory();
    const { events } = await storedEvents(11);
    const clock = new FakeClock(T0);
    const mirror = new EventFileMirror({ logDir, quietMs: 60_000, maxLagMs: 100, clock, timers: clock });
    // An event every 10 ms, never quiet: at T0 + 90 ten wait, and none has waited 100 ms.
    for (const [i, event] of events.slice(0, 10).entries()) {
      clock.set(T0 + i * 10);
      mirror.enqueue(event);
    }
    clock.set(T0 + 99);
    assert.equal(mirror.waiting, 10, 'the oldest has waited 99 ms: still waiting');
    clock.set(T0 + 100);
    assert.equal(mirror.waiting, 0, 'the oldest has waited 100 ms: written although events keep coming');
    mirror.enqueue(events[10] as StoredEvent);
    await mirror.idle();
    for (const event of events.slice(0, 11)) assertFileOf(logDir, event);
    await mirror.close();
  });

  it('reads events back from the store past maxWaitingInMemory, and writes the newest version', async () => {
    const logDir = temporaryDirectory();
    const { store, events } = await storedEvents(30);
    const mirror = new EventFileMirror({ logDir, store, quietMs: 10_000, maxWaitingInMemory: 5 });
    for (const event of events) mirror.enqueue(event);
    assert.equal(mirror.waiting, 6, 'five kept in memory, the rest as one range of the store');
    assert.equal(mirror.waitingFiles, 30);
    // Changed in the store after it was noted: the file has the store's version.
    const changed = events[20] as StoredEvent;
    await store.updateVerification(changed.eventId, { mode: 'api', status: 'verified', reason: 'confirmed' });
    await mirror.idle();
    assert.equal(filesIn(logDir).length, 30);
    for (const event of events) assertFileOf(logDir, (await store.getEvent(event.eventId)) as StoredEvent);
    await mirror.close();
  });

  it('reads the store back in slices of FILE_MIRROR_SLICE events, so the event loop is never held long', async () => {
    const logDir = temporaryDirectory();
    const { store, events } = await storedEvents(200);
    const limits: number[] = [];
    const counting = {
      listEvents: (query: Parameters<MemoryEventStore['listEvents']>[0]) => {
        limits.push(query?.limit ?? Number.POSITIVE_INFINITY);
        return store.listEvents(query);
      },
    };
    // Nothing kept in memory: every file comes from a page read back from the store.
    const mirror = new EventFileMirror({ logDir, store: counting, quietMs: 60_000, maxWaitingInMemory: 0 });
    for (const event of events) mirror.enqueue(event);
    await mirror.idle();
    assert.equal(FILE_MIRROR_SLICE, 64);
    assert.ok(limits.length >= Math.ceil(200 / 64), `read in pages: ${limits.join(', ')}`);
    assert.ok(
      limits.every((limit) => limit <= FILE_MIRROR_SLICE),
      `every page at most ${FILE_MIRROR_SLICE}: ${limits.join(', ')}`,
    );
    assert.equal(filesIn(logDir).length, 200);
    await mirror.close();
  });

  it('writes every waiting file at once when asked (idle), and then nothing is left', async () => {
    const logDir = temporaryDirectory();
    const { events } = await storedEvents(3);
    const mirror = new EventFileMirror({ logDir, quietMs: 60_000 });
    for (const event of events) mirror.enqueue(event);
    await mirror.idle();
    for (const event of events) assertFileOf(logDir, event);
    assert.equal(mirror.waiting, 0);
    await mirror.close();
  });

  it('never queues an event whose id is not safe in a path', async () => {
    const logDir = temporaryDirectory();
    const { events } = await storedEvents(1);
    const mirror = new EventFileMirror({ logDir, quietMs: 60_000 });
    mirror.enqueue({ ...(events[0] as StoredEvent), eventId: 'evnt_test_x/../../escape' });
    assert.equal(mirror.waiting, 0);
    await mirror.idle();
    assert.deepEqual(filesIn(logDir), []);
    assert.equal(existsSync(join(logDir, 'escape.json')), false);
    await mirror.close();
  });
});

describe('EventFileMirror: one odd event never stops the others', () => {
  /** Stored directly, as rows written before ingest capped ids and depth would be. */
  async function storeWithOddEvents(logDir: string) {
    const store = new SqliteEventStore({ filename: join(logDir, 'store.sqlite'), checkpointIntervalMs: 0 });
    const longId = `evnt_test_${'a'.repeat(290)}`;
    const depth = 100_000;
    const deepBody = `{"object":"event","id":"evnt_test_5xdeep0001","key":"charge.create","data":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const before: StoredEvent[] = [];
    for (let i = 0; i < 3; i += 1) before.push((await store.recordDelivery(makeDelivery())).event);
    await store.recordDelivery(makeDelivery({ eventId: longId }));
    await store.recordDelivery(makeDelivery({ eventId: 'evnt_test_5xdeep0001', body: Buffer.from(deepBody) }));
    const afterOdd: StoredEvent[] = [];
    for (let i = 0; i < 3; i += 1) afterOdd.push((await store.recordDelivery(makeDelivery())).event);
    return { store, longId, good: [...before, ...afterOdd] };
  }

  it('the start-up rebuild reports each odd event once and writes every other file', async () => {
    const logDir = temporaryDirectory();
    const { store, longId, good } = await storeWithOddEvents(logDir);
    const errors: Array<[string, string]> = [];
    const mirror = new EventFileMirror({ logDir, onError: (error, id) => errors.push([id, String(error)]) });
    assert.equal(await mirror.reconcile(store), 6);
    for (const event of good) assertFileOf(logDir, event);
    assert.deepEqual(
      errors.map(([id]) => id),
      ['evnt_test_5xdeep0001', longId],
    );
    assert.match((errors[0] as [string, string])[1], /^RangeError: Maximum call stack size exceeded/);
    assert.match((errors[1] as [string, string])[1], /not one a file may be named after/);
    // Run again (the next start): the good files are there, the odd ones reported again, once each.
    assert.equal(await mirror.reconcile(store), 0);
    assert.equal(errors.length, 4);
    await mirror.close();
    await store.close();
  });

  it('the writer thread skips an event too deep to print and writes the rest of its batch', async () => {
    const logDir = temporaryDirectory();
    const { store, good } = await storeWithOddEvents(logDir);
    const errors: string[] = [];
    const mirror = new EventFileMirror({ logDir, quietMs: 60_000, onError: (_error, id) => errors.push(id) });
    const page = await store.listEvents({ limit: 100 });
    for (const event of page.items) mirror.enqueue(event);
    await mirror.idle();
    for (const event of good) assertFileOf(logDir, event);
    assert.deepEqual(errors, ['evnt_test_5xdeep0001']);
    assert.equal(filesIn(logDir).length, 6);
    await mirror.close();
    await store.close();
  });
});

describe('eventFilePath: no id leads outside the log directory', () => {
  it('returns null or a direct child of <logDir>/api/event for hostile and random ids', () => {
    const logDir = temporaryDirectory();
    const directory = join(logDir, 'api', 'event');
    const hostile = [
      '',
      'evnt_',
      'evnt_test_',
      '../evnt_test_1',
      'evnt_test_1/../../x',
      'evnt_test_1\\..\\x',
      'evnt_test_1\u0000',
      'evnt_test_1.json',
      'evnt_test_ABC',
      `evnt_test_${'a'.repeat(129)}`,
      'evnt_test_١٢٣',
      '/etc/passwd',
      'evnt_test_1\n',
    ];
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const alphabet = 'evnt_test_abcz0189./\\\u0000\n%:~ é';
    for (let i = 0; i < 5_000; i += 1) {
      const length = random() % 40;
      let id = random() % 2 === 0 ? 'evnt_test_' : '';
      for (let j = 0; j < length; j += 1) id += alphabet[random() % alphabet.length];
      hostile.push(id);
    }
    for (const id of hostile) {
      const path = eventFilePath(logDir, id);
      if (path === null) continue;
      assert.equal(dirname(path), directory, JSON.stringify(id));
      assert.match(basename(path), /^evnt_(test_)?[0-9a-z]{1,128}\.json$/, JSON.stringify(id));
    }
    for (const id of hostile.slice(0, 13)) assert.equal(eventFilePath(logDir, id), null, JSON.stringify(id));
    assert.equal(
      eventFilePath(logDir, `evnt_test_${'a'.repeat(128)}`),
      join(directory, `evnt_test_${'a'.repeat(128)}.json`),
    );
  });
});
