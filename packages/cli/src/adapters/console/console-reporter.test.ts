import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecret } from '../../core/mask-secret.js';
import type { StoredEvent } from '../../core/ports.js';
import { makeDelivery, makeRejection } from '../../testing/delivery-fixtures.js';
import { CapturedOutput } from '../../testing/test-server.js';
import { ConsoleReporter, MAX_PRINTED_ID } from './console-reporter.js';

function storedEvent(overrides: Partial<StoredEvent> = {}): StoredEvent {
  const delivery = makeDelivery({
    eventId: 'evnt_test_5xconsole1',
    objectId: 'chrg_test_5xconsole1',
    receivedAt: '2026-11-26T07:08:09.123Z',
  });
  return {
    ...delivery,
    seq: 1,
    lastReceivedAt: delivery.receivedAt,
    deliveryCount: 1,
    omiseCopy: null,
    differingDeliveries: 0,
    ...overrides,
  };
}

describe('ConsoleReporter', () => {
  it('prints one plain line per delivery: time, key, event id, object id, verification', () => {
    const reporter = new ConsoleReporter({ out: new CapturedOutput(), json: false, color: false });
    assert.equal(
      reporter.format({ type: 'event.stored', event: storedEvent(), duplicate: false }),
      '07:08:09.123  charge.create        evnt_test_5xconsole1  chrg_test_5xconsole1  ✔ verified (signature)',
    );
    assert.equal(
      reporter.format({ type: 'event.stored', event: storedEvent({ deliveryCount: 3 }), duplicate: true }),
      '07:08:09.123  charge.create        evnt_test_5xconsole1  chrg_test_5xconsole1  ✔ verified (signature) duplicate, delivery #3',
    );
    assert.equal(
      reporter.format({
        type: 'event.stored',
        event: storedEvent({ deliveryCount: 4, differingDeliveries: 1 }),
        duplicate: true,
        bodyDiffers: true,
      }),
      '07:08:09.123  charge.create        evnt_test_5xconsole1  chrg_test_5xconsole1  ✔ verified (signature) duplicate, delivery #4, body differs from the first',
    );
    assert.equal(
      reporter.format({ type: 'event.stored', event: storedEvent({ origin: 'trigger' }), duplicate: false }),
      '07:08:09.123  charge.create        evnt_test_5xconsole1  chrg_test_5xconsole1  ✔ verified (signature) simulated',
    );
    assert.equal(
      reporter.format({
        type: 'rejection.stored',
        rejection: { ...makeRejection(), seq: 1, bodyTruncated: false, bodySha256: null },
      }),
      '07:00:00.000  ✖ 400 invalid_json     body is not valid JSON: Unexpected end of JSON input at line 1, column 42',
    );
  });

  it('cuts ids and keys longer than 64 characters with an ellipsis, in text and JSON lines', () => {
    // Such ids are refused now, but rows stored before that can still be printed.
    const longId = `evnt_test_${'a'.repeat(100_000)}`;
    const longObject = `chrg_test_${'b'.repeat(1_000)}`;
    const longKey = `charge.${'c'.repeat(500)}`;
    const event = storedEvent({ eventId: longId, objectId: longObject, key: longKey });
    const shown = (id: string) => `${id.slice(0, MAX_PRINTED_ID - 1)}…`;
    const text = new ConsoleReporter({ out: new CapturedOutput(), json: false, color: false });
    assert.equal(
      text.format({ type: 'event.stored', event, duplicate: false }),
      `07:08:09.123  ${shown(longKey)} ${shown(longId)}  ${shown(longObject)}  ✔ verified (signature)`,
    );
    assert.equal(
      text.format({
        type: 'rejection.stored',
        rejection: { ...makeRejection({ eventId: longId }), seq: 1, bodyTruncated: false, bodySha256: null },
      }),
      `07:00:00.000  ✖ 400 invalid_json   ${shown(longId)}  body is not valid JSON: Unexpected end of JSON input at line 1, column 42`,
    );
    const json = new ConsoleReporter({ out: new CapturedOutput(), json: true, color: false });
    const line = JSON.parse(json.format({ type: 'event.stored', event, duplicate: false }) ?? '') as Record<
      string,
      unknown
    >;
    assert.deepEqual([line.id, line.objectId, line.key], [shown(longId), shown(longObject), shown(longKey)]);
    assert.equal(shown(longId).length, 64);
  });

  it('colours only when asked', () => {
    const plain = new ConsoleReporter({ out: new CapturedOutput(), json: false, color: false });
    const coloured = new ConsoleReporter({ out: new CapturedOutput(), json: false, color: true });
    const notification = { type: 'event.stored', event: storedEvent(), duplicate: false } as const;
    assert.ok(!(plain.format(notification) ?? '').includes('\u001b['));
    assert.ok((coloured.format(notification) ?? '').includes('\u001b[32m✔ verified'));
  });

  it('prints NDJSON with --json, batching lines into one write per tick', async () => {
    const out = new CapturedOutput();
    let writes = 0;
    const counting = {
      write: (text: string | Uint8Array) => {
        writes += 1;
        return out.write(text);
      },
    };
    const reporter = new ConsoleReporter({ out: counting, json: true, color: false });
    reporter.report({ type: 'event.stored', event: storedEvent(), duplicate: false });
    reporter.report({
      type: 'rejection.stored',
      rejection: { ...makeRejection(), seq: 2, bodyTruncated: false, bodySha256: null },
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes, 1);
    const [event, rejection] = out.lines.map((line) => JSON.parse(line));
    assert.deepEqual(event, {
      type: 'event',
      receivedAt: '2026-11-26T07:08:09.123Z',
      key: 'charge.create',
      id: 'evnt_test_5xconsole1',
      objectId: 'chrg_test_5xconsole1',
      verification: 'verified',
      verificationMode: 'signature',
      duplicate: false,
      deliveries: 1,
      origin: 'webhook',
    });
    assert.equal(rejection.type, 'rejection');
    assert.equal(rejection.status, 400);
    assert.equal(rejection.code, 'invalid_json');
  });

  it('masks secrets, keeping only what identifies them', () => {
    assert.equal(maskSecret('skey_test_5xabcdefghijklmn'), 'skey_test_••••klmn');
    assert.equal(maskSecret('skey_live_5xabcdefghijklmn'), 'skey_live_••••klmn');
    assert.equal(maskSecret('c2hvcnQ='), '••••');
    assert.equal(maskSecret(undefined), '(not set)');
  });
});
