import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../core/ports.js';
import { makeDelivery } from '../../testing/delivery-fixtures.js';
import { temporaryDirectory } from '../../testing/test-server.js';
import { MemoryEventStore } from '../store/memory-event-store.js';
import { EventFileMirror, eventFileContent, eventFilePath } from './event-file-mirror.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    // Events 10 ms apart and a quiet time 40 times longer: a busy machine cannot fake a pause.
    const mirror = new EventFileMirror({ logDir, quietMs: 400 });
    for (const event of events) {
      mirror.enqueue(event);
      await sleep(10);
    }
    assert.deepEqual(filesIn(logDir), [], 'no file during the burst');
    assert.equal(mirror.waiting, 20);
    const deadline = Date.now() + 5_000;
    while (filesIn(logDir).length < 20 && Date.now() < deadline) await sleep(20);
    for (const event of events) assertFileOf(logDir, event);
    assert.equal(mirror.waiting, 0);
    await mirror.close();
  });

  it('writes anyway once the oldest event has waited maxLagMs, while events still arrive', async () => {
    const logDir = temporaryDirectory();
    const { events } = await storedEvents(500);
    const mirror = new EventFileMirror({ logDir, quietMs: 60_000, maxLagMs: 100 });
    const firstFile = eventFilePath(logDir, (events[0] as StoredEvent).eventId) as string;
    // Keep events coming (never quiet) until the first file appears, or the events run out.
    let sent = 0;
    const started = Date.now();
    while (sent < events.length && !existsSync(firstFile)) {
      mirror.enqueue(events[sent] as StoredEvent);
      sent += 1;
      await sleep(10);
    }
    assert.ok(sent < events.length, 'the first file appeared while events were still arriving');
    const waited = Date.now() - started;
    assert.ok(waited >= 100, `not before the oldest had waited 100 ms (it appeared after ${waited} ms)`);
    await mirror.close();
    for (const event of events.slice(0, sent)) assertFileOf(logDir, event);
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
