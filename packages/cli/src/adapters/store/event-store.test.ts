import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '../../core/ports.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { MemoryEventStore } from './memory-event-store.js';
import { SqliteEventStore } from './sqlite-event-store.js';

describeEventStoreContract('memory', {
  open: async (options) => new MemoryEventStore(options),
});

const sqliteDir = mkdtempSync(join(tmpdir(), 'omise-webhook-sqlite-'));
let fileCount = 0;
const filenames = new WeakMap<EventStore, string>();

describeEventStoreContract('sqlite', {
  open: async (options) => {
    const filename = join(sqliteDir, `store-${++fileCount}.sqlite`);
    const store = new SqliteEventStore({ filename, ...options });
    filenames.set(store, filename);
    return store;
  },
  reopen: async (store) => {
    const filename = filenames.get(store) as string;
    await store.close();
    const reopened = new SqliteEventStore({ filename });
    filenames.set(reopened, filename);
    return reopened;
  },
  cleanup: async () => rmSync(sqliteDir, { recursive: true, force: true }),
});
