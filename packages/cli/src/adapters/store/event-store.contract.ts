import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { EventStore, ForwardJob, RecordDeliveryResult } from '../../core/ports.js';
import { makeDelivery, makeForwardAttempt, makeRejection } from '../../testing/delivery-fixtures.js';

export interface StoreFactory {
  /** A new, empty store. */
  open(options?: { maxRejections?: number; maxRejectedBytes?: number }): Promise<EventStore>;
  /** Close and open the same store again, as a restart would (omit for stores that forget). */
  reopen?(store: EventStore): Promise<EventStore>;
  cleanup?(): Promise<void>;
}

function bytes(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function sha256(value: Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A body of `size` bytes that differs from every other one made with another `seed`. */
function bigBody(size: number, seed: number): Buffer {
  const body = Buffer.alloc(size, 0x61 + (seed % 26));
  body.write(`{"seed": ${seed}, "pad": "`, 0);
  return body;
}

/**
 * The one behaviour every `EventStore` must have. Each implementation runs this suite,
 * so the inspector, forwarder and CLI can rely on any of them alike.
 */
export function describeEventStoreContract(name: string, factory: StoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    after(async () => {
      await factory.cleanup?.();
    });

    describePruneContract(factory);

    it('keeps the exact bytes, the headers in order and the verification outcome', async () => {
      const store = await factory.open();
      const delivery = makeDelivery({
        headers: [
          ['Host', 'x'],
          ['omise-signature', 'b'.repeat(64)],
          ['Content-Type', 'application/json'],
          ['X-Dup', '1'],
          ['X-Dup', '2'],
        ],
      });
      const { event, duplicate } = await store.recordDelivery(delivery);
      assert.equal(duplicate, false);
      assert.equal(event.deliveryCount, 1);
      const stored = await store.getEvent(delivery.eventId);
      assert.ok(stored);
      assert.ok(bytes(stored.body).equals(bytes(delivery.body)));
      assert.deepEqual(stored.headers, delivery.headers);
      assert.deepEqual(stored.verification, delivery.verification);
      assert.equal(stored.key, 'charge.create');
      assert.equal(stored.objectId, delivery.objectId);
      assert.equal(stored.receivedAt, delivery.receivedAt);
      assert.equal(stored.origin, 'webhook');
      assert.equal(stored.omiseCopy, null);
      await store.close();
    });

    it('keeps why an event is unverified as a code, for both reasons', async () => {
      const store = await factory.open();
      const off = makeDelivery({
        verification: {
          mode: 'none',
          status: 'unverified',
          reason: 'verification is turned off (--verify none)',
          reasonCode: 'verification_off',
        },
      });
      const nothing = makeDelivery({
        verification: {
          mode: 'none',
          status: 'unverified',
          reason: 'nothing to verify with',
          reasonCode: 'nothing_to_verify_with',
        },
      });
      await store.recordDelivery(off);
      await store.recordDelivery(nothing);
      assert.equal((await store.getEvent(off.eventId))?.verification.reasonCode, 'verification_off');
      assert.equal((await store.getEvent(nothing.eventId))?.verification.reasonCode, 'nothing_to_verify_with');
      await store.close();
    });

    it('counts a duplicate id as another delivery and never stores it twice', async () => {
      const store = await factory.open();
      const first = makeDelivery();
      await store.recordDelivery(first);
      const again = await store.recordDelivery({ ...first, receivedAt: '2026-11-26T08:00:00.000Z' });
      assert.equal(again.duplicate, true);
      assert.equal(again.event.deliveryCount, 2);
      assert.equal(again.event.lastReceivedAt, '2026-11-26T08:00:00.000Z');
      assert.equal(again.event.receivedAt, first.receivedAt);
      const page = await store.listEvents({ q: first.eventId });
      assert.equal(page.items.length, 1);
      assert.equal((await store.stats()).total, 1);
      await store.close();
    });

    it('tells onCommitted once per delivery, with its result, before the write resolves', async () => {
      const store = await factory.open();
      const delivery = makeDelivery();
      const order: string[] = [];
      const onCommitted = (result: RecordDeliveryResult) =>
        order.push(`committed ${result.event.eventId} duplicate=${result.duplicate} n=${result.event.deliveryCount}`);
      await store.recordDelivery(delivery, { onCommitted }).then(() => order.push('resolved first'));
      await store
        .recordDelivery({ ...delivery, receivedAt: '2026-11-26T08:00:00.000Z' }, { onCommitted })
        .then(() => order.push('resolved again'));
      assert.deepEqual(order, [
        `committed ${delivery.eventId} duplicate=false n=1`,
        'resolved first',
        `committed ${delivery.eventId} duplicate=true n=2`,
        'resolved again',
      ]);
      await store.close();
    });

    it('counts concurrent duplicates correctly', async () => {
      const store = await factory.open();
      const delivery = makeDelivery();
      const results = await Promise.all(Array.from({ length: 5 }, () => store.recordDelivery(delivery)));
      assert.deepEqual(
        results.map((r) => r.duplicate),
        [false, true, true, true, true],
      );
      assert.equal((await store.getEvent(delivery.eventId))?.deliveryCount, 5);
      await store.close();
    });

    it('lists newest first with cursor pagination that misses nothing', async () => {
      const store = await factory.open();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const d = makeDelivery();
        ids.push(d.eventId);
        await store.recordDelivery(d);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listEvents({ limit: 3, ...(cursor ? { cursor } : {}) });
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((e) => e.eventId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, [...ids].reverse());
      await store.close();
    });

    it('feeds every event once, oldest first, page by page, from a position or a time', async () => {
      const store = await factory.open();
      assert.equal(await store.eventFeedHead(), null);
      assert.deepEqual(await store.eventFeed({ after: null, limit: 10 }), { items: [], cursor: null });
      const deliveries = [0, 1, 2, 3, 4].map((i) => makeDelivery({ receivedAt: `2026-11-26T07:00:0${i}.000Z` }));
      for (const delivery of deliveries.slice(0, 3)) await store.recordDelivery(delivery);
      // A duplicate is another delivery of a fed event, not a new place in the feed.
      await store.recordDelivery({
        ...(deliveries[0] as (typeof deliveries)[0]),
        receivedAt: '2026-11-26T07:00:09.000Z',
      });
      const first = await store.eventFeed({ after: null, limit: 2 });
      assert.deepEqual(
        first.items.map((e) => e.eventId),
        deliveries.slice(0, 2).map((d) => d.eventId),
      );
      assert.ok(
        bytes((first.items[0] as { body: Uint8Array }).body).equals(
          bytes((deliveries[0] as { body: Uint8Array }).body),
        ),
      );
      const head = await store.eventFeedHead();
      const second = await store.eventFeed({ after: first.cursor, limit: 2 });
      assert.deepEqual(
        second.items.map((e) => e.eventId),
        [deliveries[2]?.eventId],
      );
      assert.equal(second.cursor, head);
      const empty = await store.eventFeed({ after: second.cursor, limit: 2 });
      assert.deepEqual(empty, { items: [], cursor: second.cursor });
      for (const delivery of deliveries.slice(3)) await store.recordDelivery(delivery);
      const rest = await store.eventFeed({ after: head, limit: 10 });
      assert.deepEqual(
        rest.items.map((e) => e.eventId),
        deliveries.slice(3).map((d) => d.eventId),
      );
      const since = await store.eventFeed({ after: null, limit: 10, receivedSince: '2026-11-26T07:00:02.000Z' });
      assert.deepEqual(
        since.items.map((e) => e.eventId),
        deliveries.slice(2).map((d) => d.eventId),
      );
      await assert.rejects(store.eventFeed({ after: 'not-a-position', limit: 1 }), {
        name: 'InvalidFeedCursorError',
      });
      await store.close();
    });

    it('filters by key pattern, object type, verification and any id', async () => {
      const store = await factory.open();
      const charge = makeDelivery({ key: 'charge.create' });
      const complete = makeDelivery({ key: 'charge.complete', objectId: charge.objectId });
      const refund = makeDelivery({
        key: 'refund.create',
        objectType: 'refund',
        objectId: 'rfnd_test_5xrefund0001',
        relatedIds: [charge.objectId as string, 'trxn_test_5xtrxn0001'],
      });
      const card = makeDelivery({
        key: 'customer.update.card',
        objectType: 'customer',
        objectId: 'cust_test_5xcust0001',
        verification: { mode: 'none', status: 'unverified', reason: 'nothing to verify with' },
      });
      for (const d of [charge, complete, refund, card]) await store.recordDelivery(d);
      const keys = async (query: Parameters<EventStore['listEvents']>[0]) =>
        (await store.listEvents(query)).items.map((e) => e.key);
      assert.deepEqual(await keys({ key: 'charge.*' }), ['charge.complete', 'charge.create']);
      assert.deepEqual(await keys({ key: 'customer.*' }), ['customer.update.card']);
      assert.deepEqual(await keys({ key: 'charge.create,refund.*' }), ['refund.create', 'charge.create']);
      assert.deepEqual(await keys({ key: '*' }), [
        'customer.update.card',
        'refund.create',
        'charge.complete',
        'charge.create',
      ]);
      assert.deepEqual(await keys({ key: 'charge' }), []);
      assert.deepEqual(await keys({ objectType: 'refund' }), ['refund.create']);
      assert.deepEqual(await keys({ verification: 'unverified' }), ['customer.update.card']);
      assert.deepEqual(await keys({ q: charge.objectId as string }), [
        'refund.create',
        'charge.complete',
        'charge.create',
      ]);
      assert.deepEqual(await keys({ q: 'trxn_test_5xtrxn0001' }), ['refund.create']);
      assert.deepEqual(await keys({ q: refund.eventId }), ['refund.create']);
      assert.deepEqual(await keys({ q: 'ค่าสินค้า' }), [
        'customer.update.card',
        'refund.create',
        'charge.complete',
        'charge.create',
      ]);
      assert.deepEqual(await keys({ q: 'no such text anywhere' }), []);
      const story = await store.eventsForObject(charge.objectId as string);
      assert.deepEqual(
        story.map((e) => e.key),
        ['charge.create', 'charge.complete', 'refund.create'],
      );
      const stats = await store.stats();
      assert.deepEqual(stats.byKey, {
        'charge.complete': 1,
        'charge.create': 1,
        'customer.update.card': 1,
        'refund.create': 1,
      });
      assert.deepEqual(stats.byVerification, { unverified: 1, verified: 3 });
      assert.equal(stats.total, 4);
      await store.close();
    });

    it('searches text case-sensitively in the exact bytes, newest first, page by page', async () => {
      const store = await factory.open();
      const deliveries = ['Somchai', 'somchai', 'SOMCHAI', 'Somchai Prasert', 'Somchai'].map((name, i) =>
        makeDelivery({
          key: i % 2 === 0 ? 'charge.create' : 'customer.create',
          body: Buffer.from(`{"object": "event", "data": {"name": "${name}", "location": "\\/charges\\/${i}"}}`),
        }),
      );
      for (const d of deliveries) await store.recordDelivery(d);
      const ids = async (query: Parameters<EventStore['listEvents']>[0]) =>
        (await store.listEvents(query)).items.map((e) => deliveries.findIndex((d) => d.eventId === e.eventId));
      assert.deepEqual(await ids({ q: 'Somchai' }), [4, 3, 0]);
      assert.deepEqual(await ids({ q: '  Somchai  ' }), [4, 3, 0], 'the text is trimmed');
      assert.deepEqual(await ids({ q: 'SOMCHAI' }), [2]);
      assert.deepEqual(await ids({ q: 'ai P' }), [3], 'any substring, spaces included');
      assert.deepEqual(await ids({ q: 'mc' }), [4, 3, 1, 0], 'text shorter than three characters');
      assert.deepEqual(await ids({ q: '\\/charges\\/2' }), [2], 'escapes are searched as they were sent');
      assert.deepEqual(await ids({ q: 'Somchai', key: 'charge.*' }), [4, 0]);
      const first = await store.listEvents({ q: 'Somchai', limit: 2 });
      assert.equal(first.items.length, 2);
      const rest = await store.listEvents({ q: 'Somchai', limit: 2, cursor: first.nextCursor ?? undefined });
      assert.deepEqual(
        rest.items.map((e) => e.eventId),
        [deliveries[0]?.eventId],
      );
      assert.equal(rest.nextCursor, null);
      await store.close();
    });

    it('combines every filter with a cursor and says when there is no next page', async () => {
      const store = await factory.open();
      const deliveries = Array.from({ length: 12 }, (_, i) =>
        makeDelivery({
          key: ['charge.create', 'charge.complete', 'refund.create'][i % 3] as string,
          verification:
            i % 4 === 0
              ? { mode: 'none', status: 'unverified', reason: 'nothing to verify with' }
              : { mode: 'signature', status: 'verified', reason: 'signature matched the webhook secret' },
        }),
      );
      for (const d of deliveries) await store.recordDelivery(d);
      const expected = deliveries
        .map((d, i) => ({ d, i }))
        .filter(({ d }) => d.key.startsWith('charge.') && d.verification.status === 'verified')
        .map(({ i }) => i)
        .reverse();
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listEvents({
          key: 'charge.*',
          objectType: 'charge',
          verification: 'verified',
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        pages += 1;
        seen.push(...page.items.map((e) => deliveries.findIndex((d) => d.eventId === e.eventId)));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, expected);
      assert.equal(pages, Math.ceil(expected.length / 2));
      assert.deepEqual((await store.listEvents({ key: 'dispute.*', verification: 'failed' })).items, []);
      await store.close();
    });

    it('updates a pending verification and keeps Omise’s copy', async () => {
      const store = await factory.open();
      const delivery = makeDelivery({
        verification: { mode: 'api', status: 'pending', reason: 'could not reach the Omise API', apiAttempts: 1 },
      });
      await store.recordDelivery(delivery);
      assert.deepEqual(
        (await store.pendingVerifications()).map((e) => e.eventId),
        [delivery.eventId],
      );
      assert.deepEqual((await store.stats()).byVerification, { pending: 1 });
      const copy = { body: '{"object":"event"}', fetchedAt: '2026-11-26T07:01:00.000Z', differences: ['data.status'] };
      await store.updateVerification(
        delivery.eventId,
        { mode: 'api', status: 'verified', reason: 'Omise API has this event', apiAttempts: 2 },
        copy,
      );
      const stored = await store.getEvent(delivery.eventId);
      assert.equal(stored?.verification.status, 'verified');
      assert.equal(stored?.verification.apiAttempts, 2);
      assert.deepEqual(stored?.omiseCopy, copy);
      assert.deepEqual(await store.pendingVerifications(), []);
      assert.deepEqual((await store.stats()).byVerification, { verified: 1 }, 'the counts follow the update');
      await store.updateVerification('evnt_test_5xnosuchevent', { mode: 'api', status: 'failed', reason: 'x' });
      assert.deepEqual((await store.stats()).byVerification, { verified: 1 }, 'an unknown id changes nothing');
      await store.close();
    });

    it('keeps rejections with their bytes, newest first, bounded in number', async () => {
      const store = await factory.open({ maxRejections: 3 });
      const reasons: string[] = [];
      for (let i = 0; i < 5; i++) {
        const reason = `reason ${i}`;
        reasons.push(reason);
        await store.recordRejection(makeRejection({ reason, body: Buffer.from(`{"n": ${i}, "ข้อความ": "\\/"}`) }));
      }
      const page = await store.listRejections();
      assert.deepEqual(
        page.items.map((r) => r.reason),
        ['reason 4', 'reason 3', 'reason 2'],
      );
      const newest = page.items[0];
      assert.ok(newest);
      const fetched = await store.getRejection(newest.seq);
      assert.equal(bytes(fetched?.body as Uint8Array).toString('utf8'), '{"n": 4, "ข้อความ": "\\/"}');
      assert.equal(fetched?.status, 400);
      assert.equal(fetched?.code, 'invalid_json');
      assert.deepEqual(fetched?.headers, [['Content-Type', 'application/json']]);
      assert.equal((await store.stats()).rejected, 3);
      const second = await store.listRejections({ limit: 2 });
      assert.equal(second.items.length, 2);
      const rest = await store.listRejections({ limit: 2, cursor: second.nextCursor ?? undefined });
      assert.deepEqual(
        rest.items.map((r) => r.reason),
        ['reason 2'],
      );
      await store.close();
    });

    it('keeps only the first 64 KiB of a refused body, with its whole size and hash', async () => {
      const store = await factory.open();
      const big = bigBody(200 * 1024, 1);
      const kept = await store.recordRejection(makeRejection({ body: big, bodySize: big.byteLength }));
      const small = await store.recordRejection(makeRejection());
      const unread = await store.recordRejection(
        makeRejection({ body: new Uint8Array(0), bodySize: 2 * 1024 * 1024, status: 413, code: 'body_too_large' }),
      );
      for (const rejection of [kept, await store.getRejection(kept.seq)]) {
        assert.equal(rejection?.bodyTruncated, true);
        assert.equal(rejection?.bodySize, 200 * 1024);
        assert.equal(rejection?.bodySha256, sha256(big));
        assert.ok(bytes(rejection?.body as Uint8Array).equals(big.subarray(0, 64 * 1024)));
      }
      const smallStored = await store.getRejection(small.seq);
      assert.equal(smallStored?.bodyTruncated, false);
      assert.equal(smallStored?.bodySha256, sha256(Buffer.from('{"object": "event", "id": "evnt_test_bad"')));
      assert.equal((await store.getRejection(unread.seq))?.bodySha256, null, 'nothing was read, so nothing is hashed');
      await store.close();
    });

    it('keeps rejections within a byte bound, oldest deleted first, and never an accepted event', async () => {
      // Each refusal keeps 64 KiB of body plus its headers, path and reason: four fit in 300 KiB.
      const store = await factory.open({ maxRejections: 1000, maxRejectedBytes: 300 * 1024 });
      const accepted = makeDelivery();
      await store.recordDelivery(accepted);
      const seqs: number[] = [];
      for (let i = 0; i < 30; i++) {
        const body = bigBody(1024 * 1024, i);
        seqs.push((await store.recordRejection(makeRejection({ body, bodySize: body.byteLength }))).seq);
      }
      const kept = await store.listRejections();
      assert.deepEqual(
        kept.items.map((r) => r.seq),
        seqs.slice(-4).reverse(),
      );
      assert.equal((await store.stats()).rejected, 4);
      assert.equal((await store.stats()).total, 1);
      assert.ok(await store.getEvent(accepted.eventId), 'the accepted event is still there');
      await store.close();
    });

    it('keeps a later body that differs from the first copy, bounded, and flags the duplicate', async () => {
      const store = await factory.open();
      const first = makeDelivery();
      await store.recordDelivery(first);
      const same = await store.recordDelivery({ ...first, receivedAt: '2026-11-26T08:00:00.000Z' });
      assert.equal(same.bodyDiffers, false, 'byte-identical redeliveries stay plain duplicates');
      assert.equal(same.event.differingDeliveries, 0);
      assert.deepEqual(await store.listDifferingBodies(first.eventId), []);

      const changed = Buffer.from(bytes(first.body).toString('utf8').replace('"amount": 100000', '"amount": 1'));
      const other = await store.recordDelivery({
        ...first,
        body: changed,
        headers: [['Omise-Signature', 'c'.repeat(64)]],
        receivedAt: '2026-11-26T08:01:00.000Z',
      });
      assert.equal(other.duplicate, true);
      assert.equal(other.bodyDiffers, true);
      assert.equal(other.event.differingDeliveries, 1);
      assert.ok(bytes(other.event.body).equals(bytes(first.body)), 'the first copy stays the event');
      await store.recordDelivery({ ...first, body: changed, receivedAt: '2026-11-26T08:02:00.000Z' });
      // Omise's API copy fetched by sync always differs (its delivery log): not flagged.
      const synced = await store.recordDelivery({ ...first, body: Buffer.from('{"api": "copy"}'), origin: 'sync' });
      assert.equal(synced.bodyDiffers, false);
      for (let i = 0; i < 6; i++) {
        await store.recordDelivery({ ...first, body: bigBody(i === 0 ? 100 * 1024 : 10, i) });
      }
      const event = await store.getEvent(first.eventId);
      assert.equal(event?.deliveryCount, 11);
      assert.equal(event?.differingDeliveries, 8);
      const kept = await store.listDifferingBodies(first.eventId);
      assert.equal(kept.length, 5, 'at most 5 distinct differing bodies are kept');
      assert.deepEqual(
        { ...kept[0], excerpt: bytes(kept[0]?.excerpt as Uint8Array).toString('utf8') },
        {
          sha256: sha256(changed),
          size: changed.byteLength,
          excerpt: changed.toString('utf8'),
          truncated: false,
          headers: [['Omise-Signature', 'c'.repeat(64)]],
          origin: 'webhook',
          firstReceivedAt: '2026-11-26T08:01:00.000Z',
          lastReceivedAt: '2026-11-26T08:02:00.000Z',
          deliveries: 2,
        },
      );
      const large = kept[1];
      assert.equal(large?.truncated, true);
      assert.equal(large?.size, 100 * 1024);
      assert.equal(large?.sha256, sha256(bigBody(100 * 1024, 0)));
      assert.equal(large?.excerpt.byteLength, 64 * 1024);
      assert.equal((await store.listEvents()).items[0]?.differingDeliveries, 8);
      assert.deepEqual(await store.listDifferingBodies('evnt_test_5xnosuchevent'), []);
      await store.close();
    });

    describeForwardQueueContract(factory);

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

/** Retention: the oldest events go, with everything that hangs off them; waiting forwards keep theirs. */
function describePruneContract(factory: StoreFactory): void {
  describe('pruning (retention)', () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 26, 7, minute, 0)).toISOString();
    const prune = async (store: EventStore, request: Parameters<NonNullable<EventStore['pruneEvents']>>[0]) => {
      assert.ok(store.pruneEvents, 'the store can prune');
      return store.pruneEvents(request);
    };

    it('removes events received before the cut-off, oldest first, in batches of at most `limit`', async () => {
      const store = await factory.open();
      const ids: string[] = [];
      for (let minute = 0; minute < 10; minute += 1) {
        const delivery = makeDelivery({ receivedAt: at(minute), relatedIds: ['cust_test_5xprune0001'] });
        ids.push(delivery.eventId);
        await store.recordDelivery(delivery);
      }
      await store.recordDelivery(makeDelivery({ eventId: ids[1] as string, receivedAt: at(11) }));
      // A redelivery of the first event with another body: kept beside it, and removed with it.
      const firstDelivery = makeDelivery({ eventId: ids[0] as string, receivedAt: at(0) });
      const changed = Buffer.from(
        bytes(firstDelivery.body).toString('utf8').replace('"amount": 100000', '"amount": 1'),
      );
      assert.equal(
        (await store.recordDelivery({ ...firstDelivery, body: changed, receivedAt: at(1) })).bodyDiffers,
        true,
      );
      const first = await prune(store, { receivedBefore: at(6), limit: 4 });
      assert.deepEqual(first.removed, ids.slice(0, 4));
      assert.notEqual(first.next, null);
      const second = await prune(store, { receivedBefore: at(6), limit: 4, after: first.next as number });
      assert.deepEqual(second.removed, ids.slice(4, 6));
      assert.equal(second.next, null);
      assert.deepEqual(await prune(store, { receivedBefore: at(6), limit: 4 }), { removed: [], next: null });
      assert.equal(await store.getEvent(ids[0] as string), undefined);
      assert.ok(await store.getEvent(ids[6] as string));
      const stats = await store.stats();
      assert.equal(stats.total, 4);
      assert.deepEqual(stats.byKey, { 'charge.create': 4 });
      const byCustomer = await store.eventsForObject('cust_test_5xprune0001');
      assert.deepEqual(
        byCustomer.map((event) => event.eventId),
        ids.slice(6),
      );
      assert.deepEqual(
        (await store.listEvents({ q: 'cust_test_5xprune0001' })).items.map((event) => event.eventId),
        ids.slice(6).reverse(),
      );
      assert.deepEqual(
        (await store.listEvents({ q: 'order 3947' })).items.map((event) => event.eventId),
        ids.slice(6).reverse(),
      );
      // A pruned id arriving again is a new event.
      const again = await store.recordDelivery(makeDelivery({ eventId: ids[0] as string, receivedAt: at(12) }));
      assert.equal(again.duplicate, false);
      assert.equal(again.event.deliveryCount, 1);
      assert.equal(again.event.differingDeliveries, 0);
      assert.deepEqual(await store.listDifferingBodies(ids[0] as string), []);
      await store.close();
    });

    it('keeps the newest `keepNewest` events, and any event whose forward still waits', async () => {
      const store = await factory.open();
      const ids: string[] = [];
      for (let minute = 0; minute < 6; minute += 1) {
        const delivery = makeDelivery({
          receivedAt: at(minute),
          ...(minute < 2 ? { forwardTargets: [A] } : {}),
        });
        ids.push(delivery.eventId);
        await store.recordDelivery(delivery);
      }
      // The first event's forward is delivered (finished); the second's still waits.
      const claimed = await store.claimDueForwards({ now: Date.parse(at(10)), maxInFlightPerTarget: 1 });
      const job = claimed.jobs[0] as ForwardJob;
      assert.equal(job.eventId, ids[0]);
      await store.recordForwardAttempt(makeForwardAttempt(job));
      const result = await prune(store, { keepNewest: 2, limit: 10 });
      assert.deepEqual(result.removed, [ids[0], ids[2], ids[3]]);
      assert.equal(result.next, null);
      assert.deepEqual(await store.listForwardAttempts(ids[0] as string), []);
      assert.deepEqual(await store.listForwardJobs(ids[0] as string), []);
      assert.equal((await store.listForwardJobs(ids[1] as string)).length, 1);
      assert.deepEqual(
        (await store.listEvents()).items.map((event) => event.eventId),
        [ids[5], ids[4], ids[1]],
      );
      assert.equal((await store.stats()).total, 3);
      await store.close();
    });
  });
}

const T0 = Date.UTC(2026, 10, 26, 7, 0, 0);
const A = 'http://127.0.0.1:8081/a';
const B = 'http://127.0.0.1:8082/b';

/** The forward queue: jobs queued with their event, claimed in order per target, retried, failed, re-queued. */
function describeForwardQueueContract(factory: StoreFactory): void {
  describe('forward queue', () => {
    const claim = (store: EventStore, now = T0, maxInFlightPerTarget = 10) =>
      store.claimDueForwards({ now, maxInFlightPerTarget });
    const ids = (jobs: Array<{ eventId: string; target: string }>) => jobs.map((j) => `${j.eventId}>${j.target}`);

    it('queues jobs in the same write as a new event, never for a duplicate, and claims them in order', async () => {
      const store = await factory.open();
      const deliveries = [0, 1, 2].map(() =>
        makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A, B] }),
      );
      for (const d of deliveries) await store.recordDelivery(d);
      await store.recordDelivery(deliveries[0] as (typeof deliveries)[number]);
      const [first, second, third] = deliveries.map((d) => d.eventId) as [string, string, string];
      assert.deepEqual(
        (await store.listForwardJobs(first)).map((j) => [j.target, j.state, j.attempts]),
        [
          [A, 'pending', 0],
          [B, 'pending', 0],
        ],
      );
      const claimed = await claim(store, T0, 2);
      assert.deepEqual(ids(claimed.jobs), [`${first}>${A}`, `${second}>${A}`, `${first}>${B}`, `${second}>${B}`]);
      assert.equal(claimed.nextDueAt, null);
      // In flight: not claimed twice; the window is full until one is recorded.
      assert.deepEqual((await claim(store, T0, 2)).jobs, []);
      const firstA = claimed.jobs[0] as (typeof claimed.jobs)[number];
      const recorded = await store.recordForwardAttempt(makeForwardAttempt(firstA));
      assert.equal(recorded.outcome, 'delivered');
      assert.deepEqual(ids((await claim(store, T0, 2)).jobs), [`${third}>${A}`]);
      assert.equal((await store.listForwardJobs(first))[0]?.state, 'delivered');
      await store.close();
    });

    it('does not let later events overtake one that waits for a retry, then probes with it alone', async () => {
      const store = await factory.open();
      const deliveries = [0, 1, 2].map(() =>
        makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] }),
      );
      for (const d of deliveries) await store.recordDelivery(d);
      const other = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [B] });
      await store.recordDelivery(other);
      const [head] = (await claim(store, T0, 1)).jobs;
      assert.ok(head && head.target === A);
      const retry = await store.recordForwardAttempt(
        makeForwardAttempt(head, {
          status: 503,
          outcome: 'retry',
          reason: '503 from the target',
          nextAttemptAt: T0 + 5000,
          responseExcerpt: Buffer.from('down for maintenance'),
        }),
      );
      assert.equal(retry.nextAttemptAt, new Date(T0 + 5000).toISOString());
      const blocked = await claim(store, T0 + 1000, 10);
      assert.deepEqual(
        ids(blocked.jobs).filter((id) => id.endsWith(A)),
        [],
        'nothing goes to A before its head is due',
      );
      assert.equal(blocked.nextDueAt, T0 + 5000);
      const probe = await claim(store, T0 + 5000, 10);
      assert.deepEqual(ids(probe.jobs), [`${deliveries[0]?.eventId}>${A}`], 'the failed one alone, as a probe');
      const probeJob = probe.jobs[0] as (typeof probe.jobs)[number];
      assert.equal(probeJob.attempts, 1);
      assert.equal(probeJob.attemptsInPlan, 1);
      await store.recordForwardAttempt(makeForwardAttempt(probeJob));
      assert.deepEqual(ids((await claim(store, T0 + 5000, 10)).jobs), [
        `${deliveries[1]?.eventId}>${A}`,
        `${deliveries[2]?.eventId}>${A}`,
      ]);
      const attempts = await store.listForwardAttempts(deliveries[0]?.eventId as string);
      assert.deepEqual(
        attempts.map((a) => [a.attempt, a.status, a.outcome]),
        [
          [1, 503, 'retry'],
          [2, 200, 'delivered'],
        ],
      );
      assert.equal(Buffer.from(attempts[0]?.responseExcerpt as Uint8Array).toString(), 'down for maintenance');
      await store.close();
    });

    it('lets nothing overtake a job that failed while later ones were in flight', async () => {
      const store = await factory.open();
      const queue = [0, 1, 2].map(() => makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] }));
      for (const d of queue) await store.recordDelivery(d);
      const [first, second, third] = (await claim(store, T0, 3)).jobs;
      assert.ok(first && second && third);
      await store.recordForwardAttempt(
        makeForwardAttempt(first, { status: 503, outcome: 'retry', reason: '503', nextAttemptAt: T0 + 5000 }),
      );
      const late = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] });
      await store.recordDelivery(late);
      assert.deepEqual(await claim(store, T0, 3), { jobs: [], nextDueAt: T0 + 5000 });
      await store.recordForwardAttempt(makeForwardAttempt(second));
      await store.recordForwardAttempt(makeForwardAttempt(third));
      assert.deepEqual(await claim(store, T0 + 4999, 3), { jobs: [], nextDueAt: T0 + 5000 });
      assert.deepEqual(ids((await claim(store, T0 + 5000, 3)).jobs), [`${queue[0]?.eventId}>${A}`]);
      await store.close();
    });

    it('keeps failed jobs in a list and re-queues one at the back with a fresh plan', async () => {
      const store = await factory.open();
      const d1 = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] });
      const d2 = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] });
      await store.recordDelivery(d1);
      await store.recordDelivery(d2);
      const [job] = (await claim(store, T0, 1)).jobs;
      assert.ok(job);
      await store.recordForwardAttempt(
        makeForwardAttempt(job, {
          status: null,
          responseExcerpt: null,
          error: 'connect ECONNREFUSED 127.0.0.1:8081',
          outcome: 'failed',
          reason: 'connect ECONNREFUSED 127.0.0.1:8081; gave up after 1 attempt (--retry-schedule)',
        }),
      );
      const failed = await store.listFailedForwards();
      assert.deepEqual(
        failed.map((j) => [j.eventId, j.state, j.attempts, j.lastError]),
        [[d1.eventId, 'failed', 1, 'connect ECONNREFUSED 127.0.0.1:8081; gave up after 1 attempt (--retry-schedule)']],
      );
      assert.equal(await store.retryFailedForward(job.id + 1000, T0), undefined, 'unknown job');
      const requeued = await store.retryFailedForward(job.id, T0 + 60_000);
      assert.equal(requeued?.state, 'pending');
      assert.equal(requeued?.attempts, 1);
      assert.equal(requeued?.attemptsInPlan, 0);
      assert.deepEqual(await store.listFailedForwards(), []);
      assert.equal(await store.retryFailedForward(job.id, T0), undefined, 'only a failed job can be re-queued');
      // Behind d2, which was queued after it originally.
      assert.deepEqual(ids((await claim(store, T0 + 60_000)).jobs), [`${d2.eventId}>${A}`, `${d1.eventId}>${A}`]);
      await store.close();
    });

    describe('jobs handed over at commit (claimedForwards)', () => {
      /** Records with an onCommitted listener, as serve does, and returns what it was handed. */
      const recordWithListener = async (store: EventStore, targets: string[]) => {
        const delivery = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: targets });
        let handed: ForwardJob[] | undefined;
        await store.recordDelivery(delivery, { onCommitted: (result) => (handed = result.claimedForwards) });
        return { eventId: delivery.eventId, handed: handed ?? [] };
      };

      it('are never claimed again; the rest are claimed as usual, each job exactly once', async () => {
        const store = await factory.open();
        assert.deepEqual((await claim(store)).jobs, [], 'the forwarder starts with a claim');
        const first = await recordWithListener(store, [A, B]);
        const second = await recordWithListener(store, [A]);
        const claimed = await claim(store);
        const all = [...ids(first.handed), ...ids(second.handed), ...ids(claimed.jobs)].sort();
        assert.deepEqual(all, [`${first.eventId}>${A}`, `${first.eventId}>${B}`, `${second.eventId}>${A}`].sort());
        assert.deepEqual((await claim(store)).jobs, []);
        await store.close();
      });

      it('never overtake a job waiting for its retry, nor exceed the window', async () => {
        const store = await factory.open();
        await claim(store, T0, 1);
        const first = await recordWithListener(store, [A]);
        const [job] = first.handed.length > 0 ? first.handed : (await claim(store, T0, 1)).jobs;
        assert.ok(job);
        const full = await recordWithListener(store, [A]);
        assert.deepEqual(full.handed, [], 'the window of 1 is taken by the first job');
        await store.recordForwardAttempt(
          makeForwardAttempt(job, { status: 503, outcome: 'retry', reason: '503', nextAttemptAt: T0 + 5_000 }),
        );
        const behindRetry = await recordWithListener(store, [A]);
        assert.deepEqual(behindRetry.handed, [], 'nothing overtakes the job waiting for its retry');
        assert.deepEqual((await claim(store, T0 + 1_000, 1)).jobs, [], 'not due yet, and nothing overtakes it');
        assert.deepEqual(ids((await claim(store, T0 + 5_000, 1)).jobs), [`${first.eventId}>${A}`]);
        await store.close();
      });
    });

    it('holds jobs of a pending event until it is verified, and cancels them when it fails', async () => {
      const store = await factory.open();
      const pending = { mode: 'api' as const, status: 'pending' as const, reason: 'API down', apiAttempts: 1 };
      const good = makeDelivery({ forwardTargets: [A], verification: pending });
      const bad = makeDelivery({ forwardTargets: [A], verification: pending });
      await store.recordDelivery(good);
      await store.recordDelivery(bad);
      assert.equal((await store.listForwardJobs(good.eventId))[0]?.state, 'held');
      assert.deepEqual((await claim(store)).jobs, []);
      await store.updateVerification(good.eventId, { mode: 'api', status: 'verified', reason: 'ok', apiAttempts: 2 });
      await store.updateVerification(bad.eventId, { mode: 'api', status: 'failed', reason: 'unknown', apiAttempts: 2 });
      assert.equal((await store.listForwardJobs(bad.eventId))[0]?.state, 'cancelled');
      assert.deepEqual(
        (await store.claimDueForwards({ now: T0, maxInFlightPerTarget: 10, targets: [B] })).jobs,
        [],
        'only the targets asked for',
      );
      assert.deepEqual(ids((await claim(store)).jobs), [`${good.eventId}>${A}`]);
      await store.close();
    });

    it('queues a stored event by hand and records replays without a job', async () => {
      const store = await factory.open();
      const d = makeDelivery();
      await store.recordDelivery(d);
      await assert.rejects(store.enqueueForwards('evnt_test_nosuchevent', [A], T0), /evnt_test_nosuchevent/);
      const [job] = await store.enqueueForwards(d.eventId, [B], T0);
      assert.equal(job?.state, 'pending');
      assert.deepEqual(ids((await claim(store)).jobs), [`${d.eventId}>${B}`]);
      const replay = await store.recordForwardAttempt({
        ...makeForwardAttempt({ id: 0, eventId: d.eventId, target: A, attempts: 0 }),
        jobId: null,
        kind: 'replay',
        replayMode: 'resigned',
        status: 401,
        outcome: 'failed',
        responseTruncated: true,
      });
      assert.equal(replay.jobId, null);
      const [stored] = await store.listForwardAttempts(d.eventId);
      assert.equal(stored?.kind, 'replay');
      assert.equal(stored?.replayMode, 'resigned');
      assert.equal(stored?.responseTruncated, true);
      assert.equal(stored?.latencyMs, 1.5);
      assert.equal(stored?.seq, replay.seq);
      await store.close();
    });

    if (factory.reopen) {
      const reopen = factory.reopen.bind(factory);
      it('keeps jobs and attempts across a restart, and re-sends what was in flight', async () => {
        let store = await factory.open();
        const d1 = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] });
        const d2 = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [B] });
        await store.recordDelivery(d1);
        await store.recordDelivery(d2);
        const claimed = (await claim(store)).jobs;
        const jobA = claimed.find((j) => j.target === A);
        assert.ok(jobA);
        await store.recordForwardAttempt(
          makeForwardAttempt(jobA, { status: 500, outcome: 'retry', reason: '500', nextAttemptAt: T0 + 30_000 }),
        );
        store = await reopen(store);
        const after = await claim(store, T0 + 1);
        assert.deepEqual(ids(after.jobs), [`${d2.eventId}>${B}`], 'the in-flight job to B is claimable again');
        assert.equal(after.nextDueAt, T0 + 30_000);
        assert.deepEqual(
          (await store.listForwardAttempts(d1.eventId)).map((a) => [a.attempt, a.status, a.nextAttemptAt]),
          [[1, 500, new Date(T0 + 30_000).toISOString()]],
        );
        await store.close();
      });
    }
  });
}
