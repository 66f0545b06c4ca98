import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOO_DEEP_TO_SHOW } from '../../../core/compare-events.js';
import { makeDelivery } from '../../../testing/delivery-fixtures.js';
import { loopbackInspectorFor } from '../../../testing/inspector.js';
import { MemoryEventStore } from '../../store/memory-event-store.js';
import { diagnoseVerification } from './event-views.js';

const OBJECT_ID = 'chrg_test_5xdeepobject1';

/** An event of OBJECT_ID whose `data.deep` nests `levels` arrays around `leaf`. */
function deepBody(eventId: string, levels: number, leaf: string): Buffer {
  return Buffer.from(
    `{"object":"event","id":"${eventId}","livemode":false,"key":"charge.update","data":{"object":"charge","id":"${OBJECT_ID}","amount":100,"deep":${'['.repeat(levels)}${leaf}${']'.repeat(levels)}}}`,
  );
}

describe('inspector object timeline: stored events nested deeper than any request may be', () => {
  it('answers 200 for two events of one object nested 100,000 levels deep (was 500)', async () => {
    // Rows like these can be in a store from before the depth limit, so they are stored directly.
    const store = new MemoryEventStore({ maxRejections: 10 });
    for (const [eventId, leaf] of [
      ['evnt_test_5xdeep1', '1'],
      ['evnt_test_5xdeep2', '2'],
    ] as const) {
      await store.recordDelivery(
        makeDelivery({ eventId, key: 'charge.update', objectId: OBJECT_ID, body: deepBody(eventId, 100_000, leaf) }),
      );
    }
    const inspector = loopbackInspectorFor(store);
    const response = await inspector.app.request(`http://127.0.0.1:3001/api/objects/${OBJECT_ID}/events`, {
      headers: { Host: '127.0.0.1:3001' },
    });
    assert.equal(response.status, 200, await response.clone().text());
    const timeline = (await response.json()) as {
      items: Array<{ id: string; role: string; changes: Array<Record<string, unknown>> | null }>;
    };
    assert.deepEqual(
      timeline.items.map((item) => [item.id, item.role]),
      [
        ['evnt_test_5xdeep1', 'subject'],
        ['evnt_test_5xdeep2', 'subject'],
      ],
    );
    assert.deepEqual(timeline.items[1]?.changes, [
      { path: `deep${'[0]'.repeat(255)}`, kind: 'changed', before: TOO_DEEP_TO_SHOW, after: TOO_DEEP_TO_SHOW },
    ]);
    const detail = await inspector.app.request('http://127.0.0.1:3001/api/events/evnt_test_5xdeep2', {
      headers: { Host: '127.0.0.1:3001' },
    });
    assert.equal(detail.status, 200);
  });
});

describe('diagnoseVerification', () => {
  it('tells "turned off" from "nothing configured" by the reason code, not by the sentence', () => {
    // The sentences are swapped on purpose: only the code may decide.
    assert.equal(
      diagnoseVerification({ mode: 'none', status: 'unverified', reason: 'nothing', reasonCode: 'verification_off' }),
      'Not checked: verification is turned off (--verify none), so anyone who knows the URL could have sent this.',
    );
    assert.match(
      diagnoseVerification({
        mode: 'none',
        status: 'unverified',
        reason: 'verification is turned off (--verify none)',
        reasonCode: 'nothing_to_verify_with',
      }),
      /^Not checked: nothing is configured to verify with, so anyone who knows the URL could have sent this\. /,
    );
  });
});
