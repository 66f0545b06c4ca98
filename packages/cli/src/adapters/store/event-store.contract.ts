import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EventStore } from '../../core/ports.js';
import { makeDelivery, makeRejection } from '../../testing/delivery-fixtures.js';
import { describeEventLogContract } from './event-log.contract.js';
import { describeForwardQueueContract } from './forward-queue.contract.js';
import { describeRejectionLogContract } from './rejection-log.contract.js';
import type { StoreFactory } from './store-contract-kit.js';

export type { StoreFactory } from './store-contract-kit.js';

/**
 * The one behaviour every `EventStore` must have: the contract of each of its ports
 * (`EventLog`, `RejectionLog`, `ForwardQueue`), and what the whole store keeps across a restart.
 * Each implementation runs this suite, so the inspector, forwarder and CLI can rely on any of them alike.
 */
export function describeEventStoreContract(name: string, factory: StoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    after(async () => {
      await factory.cleanup?.();
    });
    // The store is cleaned up once, after every suite has run.
    const parts: StoreFactory = { open: factory.open.bind(factory) };
    if (factory.reopen) parts.reopen = factory.reopen.bind(factory);
    describeEventLogContract(name, parts);
    describeRejectionLogContract(name, parts);
    describeForwardQueueContract(name, parts);

    if (factory.reopen) {
      const reopen = factory.reopen.bind(factory);
      describe('durability', () => {
        let ids: string[] = [];
        let store: EventStore;
        before(async () => {
          store = await factory.open();
          const deliveries = Array.from({ length: 40 }, () => makeDelivery());
          ids = deliveries.map((d) => d.eventId);
          // Concurrent writes, as under load: they share commits but each must be kept.
          await Promise.all(deliveries.map((d) => store.recordDelivery(d)));
          await store.recordRejection(makeRejection());
        });

        it('keeps every acknowledged write after a restart', async () => {
          store = await reopen(store);
          for (const id of ids) assert.ok(await store.getEvent(id), `${id} survived the restart`);
          assert.deepEqual(await store.stats(), {
            total: 40,
            byKey: { 'charge.create': 40 },
            byVerification: { verified: 40 },
            rejected: 1,
          });
          assert.equal((await store.listRejections()).items.length, 1);
          await store.close();
        });
      });
    }
  });
}
