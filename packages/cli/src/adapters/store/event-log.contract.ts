import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { EventStore, ForwardJob, RecordDeliveryResult } from '../../core/ports.js';
import { makeDelivery, makeForwardAttempt } from '../../testing/delivery-fixtures.js';
import { bigBody, bytes, type StoreFactory, sha256 } from './store-contract-kit.js';

/** A forward target, for the events whose jobs keep them from being pruned. */
const A = 'http://127.0.0.1:8081/a';

/**
 * Waits until the feed hands out `eventId`. A store may feed an event only once every
 * transaction that began before it committed has ended, so that a later commit can never sort
 * before it: on PostgreSQL that is any transaction on the server (another test's, in another
 * database), so the feed can lag a write by a moment. Memory and SQLite feed it at once.
 */
async function untilFed(store: EventStore, eventId: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    let after: string | null = null;
    for (;;) {
      const page = await store.eventFeed({ after, limit: 100 });
      if (page.items.some((event) => event.eventId === eventId)) return;
      if (page.items.length < 100) break;
      after = page.cursor;
    }
    assert.ok(Date.now() < deadline, `${eventId} was not fed within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * What every `EventLog` must do: keep the exact bytes and headers, count duplicates, list, search,
 * feed, verify and prune. Every store runs it, so the inspector, forwarder and CLI can rely on any.
 */
export function describeEventLogContract(name: string, factory: StoreFactory): void {
  describe(`EventLog contract: ${name}`, () => {
    after(async () => {
      await factory.cleanup?.();
    });

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
      await untilFed(store, deliveries[2]?.eventId as string);
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
      await untilFed(store, deliveries[4]?.eventId as string);
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

    describePruneContract(factory);
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
