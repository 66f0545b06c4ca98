import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { makeDelivery, makeRejection } from '../../testing/delivery-fixtures.js';
import { bigBody, bytes, type StoreFactory, sha256 } from './store-contract-kit.js';

/** What every `RejectionLog` must do: keep refused requests, newest first, within both bounds. */
export function describeRejectionLogContract(name: string, factory: StoreFactory): void {
  describe(`RejectionLog contract: ${name}`, () => {
    after(async () => {
      await factory.cleanup?.();
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
  });
}
