import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  collectOmiseIds,
  formatOmiseJson,
  OMISE_EVENT_CATALOGUE,
  OMISE_EVENT_KEYS,
  type OmiseCharge,
  type OmiseCustomer,
  parseOmiseEvent,
} from '@omise-webhook/events';
import { buildSimulatedEvent, requireEventKey } from './event-builders.js';
import { seededIdSource } from './ids.js';
import { knownObjectsFromEventBodies } from './known-objects.js';
import { SimulationError } from './simulation-error.js';

const NOW = Date.UTC(2026, 0, 15, 9, 30, 5);
const NOW_TEXT = '2026-01-15T09:30:05Z';

describe('simulated events: all 35 keys', () => {
  for (const key of OMISE_EVENT_KEYS) {
    it(`${key}: parses, carries the right data object, test-mode ids and Omise's envelope`, () => {
      const event = buildSimulatedEvent({ key, ids: seededIdSource(key), now: NOW });
      const body = formatOmiseJson(event);
      const parsed = parseOmiseEvent(body);
      assert.equal(parsed.key, key);
      assert.deepEqual(Object.keys(parsed), [
        'object',
        'id',
        'livemode',
        'location',
        'webhook_deliveries',
        'data',
        'key',
        'created_at',
      ]);
      assert.match(parsed.id, /^evnt_test_5[0-9a-z]{18}$/);
      assert.equal(parsed.location, `/events/${parsed.id}`);
      assert.equal(parsed.created_at, NOW_TEXT);
      assert.equal(parsed.livemode, false);
      assert.deepEqual(parsed.webhook_deliveries, []);
      assert.ok(body.includes('"webhook_deliveries": [\n\n  ]'), 'empty arrays are written the way Omise writes them');
      assert.ok(body.includes(`"location": "\\/events\\/${parsed.id}"`), 'slashes are escaped like Omise');

      const data = parsed.data as unknown as Record<string, unknown>;
      assert.equal(data.object, OMISE_EVENT_CATALOGUE[key].dataObject);
      if (OMISE_EVENT_CATALOGUE[key].deletedStub) {
        assert.deepEqual(Object.keys(data), ['object', 'id', 'livemode', 'deleted']);
        assert.equal(data.deleted, true);
      } else {
        // schedule.destroy is the one deletion Omise sends in full, marked deleted.
        if (key !== 'schedule.destroy') assert.notEqual(data.deleted, true);
        assert.equal(typeof data.location, 'string');
      }
      for (const id of collectOmiseIds(parsed))
        assert.match(id, /^[a-z]+_test_5[0-9a-z]{18}$/, `${id} is a test-mode id`);
      for (const time of body.match(/"\d{4}-\d{2}-\d{2}T[^"]*"/g) ?? []) {
        assert.match(time, /^"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"$/, 'times are UTC, to the second');
      }
    });
  }

  it('is deterministic: the same seed and time give the same bytes; another seed, other ids', () => {
    const build = (seed: string) =>
      formatOmiseJson(buildSimulatedEvent({ key: 'charge.complete', ids: seededIdSource(seed), now: NOW }));
    assert.equal(build('a'), build('a'));
    assert.notEqual(build('a'), build('b'));
  });

  it('matches the stored charge.create fixture byte for byte', () => {
    const fixture = readFileSync(
      new URL('../../../test/fixtures/simulated-charge.create.json', import.meta.url),
      'utf8',
    );
    const event = buildSimulatedEvent({ key: 'charge.create', ids: seededIdSource('fixture'), now: NOW });
    assert.equal(formatOmiseJson(event), fixture.replace(/\n$/, ''));
  });
});

describe('simulated events: consistent objects', () => {
  const ids = () => seededIdSource('consistency');

  it('a charge is in THB satang, captured, with its fees and an empty refund list', () => {
    const { data } = buildSimulatedEvent({ key: 'charge.create', ids: ids(), now: NOW });
    assert.equal(data.amount, 129000);
    assert.equal(data.currency, 'THB');
    assert.equal(data.status, 'successful');
    assert.equal(data.paid, true);
    assert.equal(data.fee, 4709);
    assert.equal(data.fee_vat, 330);
    assert.equal(data.net, 129000 - 4709 - 330);
    assert.equal(data.refunds?.location, `/charges/${data.id}/refunds`);
    assert.match(String(data.transaction), /^trxn_test_/);
  });

  it('in JPY the amount is in yen', () => {
    const { data } = buildSimulatedEvent({ key: 'charge.create', ids: ids(), now: NOW, currency: 'JPY' });
    assert.equal(data.amount, 5160);
    assert.equal(data.currency, 'JPY');
    assert.equal(data.fee_vat, 0);
  });

  it('each charge key shows the state the charge is in after it', () => {
    const status = (key: 'charge.capture' | 'charge.reverse' | 'charge.complete' | 'charge.expire') =>
      buildSimulatedEvent({ key, ids: ids(), now: NOW }).data;
    assert.equal(status('charge.capture').status, 'successful');
    assert.equal(status('charge.capture').capture, false);
    assert.equal(status('charge.reverse').status, 'reversed');
    assert.equal(status('charge.reverse').reversed, true);
    assert.equal(status('charge.complete').status, 'successful');
    assert.equal(status('charge.complete').authentication, '3DS');
    assert.equal(status('charge.expire').status, 'expired');
    assert.equal(status('charge.expire').source?.type, 'promptpay');
    assert.equal(status('charge.expire').card, null);
  });

  it('a refund points at its charge; a dispute at its charge', () => {
    const refund = buildSimulatedEvent({ key: 'refund.create', ids: ids(), now: NOW }).data;
    assert.match(refund.charge, /^chrg_test_/);
    assert.equal(refund.location, `/charges/${refund.charge}/refunds/${refund.id}`);
    const dispute = buildSimulatedEvent({ key: 'dispute.create', ids: ids(), now: NOW }).data;
    assert.match(String(dispute.charge), /^chrg_test_/);
    assert.equal(dispute.status, 'open');
  });

  it('a card belongs to its customer; customer.update.card carries the customer and its card', () => {
    const card = buildSimulatedEvent({ key: 'card.update', ids: ids(), now: NOW }).data;
    assert.match(String(card.location), new RegExp(`^/customers/cust_test_[0-9a-z]+/cards/${card.id}$`));
    const customer = buildSimulatedEvent({ key: 'customer.update.card', ids: ids(), now: NOW }).data;
    assert.equal(customer.object, 'customer');
    const saved = customer.cards.data[0];
    assert.ok(saved);
    assert.equal(customer.default_card, saved.id);
    assert.equal(saved.location, `/customers/${customer.id}/cards/${saved.id}`);
  });

  it('transfers pay a recipient; schedules charge a customer', () => {
    const transfer = buildSimulatedEvent({ key: 'transfer.pay', ids: ids(), now: NOW }).data;
    assert.match(transfer.recipient, /^recp_test_/);
    assert.equal(transfer.sent, true);
    assert.equal(transfer.paid, true);
    const failed = buildSimulatedEvent({ key: 'transfer.fail', ids: ids(), now: NOW }).data;
    assert.equal(failed.failure_code, 'insufficient_balance');
    const schedule = buildSimulatedEvent({ key: 'schedule.expiring', ids: ids(), now: NOW }).data;
    assert.equal(schedule.status, 'expiring');
    assert.match(String(schedule.charge?.customer), /^cust_test_/);
    assert.equal(buildSimulatedEvent({ key: 'schedule.destroy', ids: ids(), now: NOW }).data.deleted, true);
  });
});

describe('simulated events: continuing an object story', () => {
  const earlier = buildSimulatedEvent({
    key: 'charge.create',
    ids: seededIdSource('story'),
    now: NOW,
    currency: 'JPY',
  });
  const chargeBody = formatOmiseJson({ ...earlier, data: { ...earlier.data, amount: 9990 } });
  const chargeId = earlier.data.id;
  const known = knownObjectsFromEventBodies([chargeBody]);

  it('charge.complete for a seen charge keeps its id, amount and currency', () => {
    const { data } = buildSimulatedEvent({
      key: 'charge.complete',
      ids: seededIdSource('x'),
      now: NOW,
      objectId: chargeId,
      known,
    });
    assert.equal(data.id, chargeId);
    assert.equal(data.amount, 9990);
    assert.equal(data.currency, 'JPY');
    assert.equal(data.status, 'successful');
  });

  it('refund.create for a seen charge refunds what it charged, in its currency', () => {
    const { data } = buildSimulatedEvent({
      key: 'refund.create',
      ids: seededIdSource('x'),
      now: NOW,
      objectId: chargeId,
      known,
    });
    assert.equal(data.charge, chargeId);
    assert.equal(data.amount, 9990);
    assert.equal(data.currency, 'JPY');
  });

  it('card.update for a seen customer updates that customer’s card', () => {
    const customer = buildSimulatedEvent({ key: 'customer.create', ids: seededIdSource('c'), now: NOW })
      .data as OmiseCustomer;
    const customers = knownObjectsFromEventBodies([formatOmiseJson({ data: customer })]);
    const card = buildSimulatedEvent({
      key: 'card.update',
      ids: seededIdSource('x'),
      now: NOW,
      objectId: customer.id,
      known: customers,
    }).data;
    assert.equal(card.id, customer.default_card);
    assert.equal(card.location, `/customers/${customer.id}/cards/${card.id}`);
    const byCardId = buildSimulatedEvent({
      key: 'card.destroy',
      ids: seededIdSource('x'),
      now: NOW,
      objectId: card.id,
      known: customers,
    }).data;
    assert.deepEqual(byCardId, { object: 'card', id: card.id, livemode: false, deleted: true });
  });

  it('an id nothing is known about starts a fresh object with that id', () => {
    const { data } = buildSimulatedEvent({
      key: 'charge.capture',
      ids: seededIdSource('x'),
      now: NOW,
      objectId: 'chrg_test_5unknown',
    });
    assert.equal((data as OmiseCharge).id, 'chrg_test_5unknown');
    assert.equal(data.location, '/charges/chrg_test_5unknown');
  });

  it('refuses an id that is neither the object nor its parent', () => {
    assert.throws(
      () =>
        buildSimulatedEvent({ key: 'refund.create', ids: seededIdSource('x'), now: NOW, objectId: 'cust_test_5abc' }),
      (error: unknown) =>
        error instanceof SimulationError &&
        error.code === 'object_mismatch' &&
        error.message ===
          '--object cust_test_5abc cannot continue a refund.create event; expected a rfnd_ id (the refund) or a chrg_ id (the refunded charge)',
    );
  });
});

describe('requireEventKey', () => {
  it('accepts the 35 keys and names the closest ones for a typo', () => {
    assert.equal(requireEventKey('customer.update.card'), 'customer.update.card');
    assert.throws(
      () => requireEventKey('charge.complet'),
      (error: unknown) =>
        error instanceof SimulationError &&
        error.code === 'unknown_key' &&
        error.message ===
          'unknown event key "charge.complet"; did you mean charge.complete, charge.create, charge.update?',
    );
    assert.throws(() => requireEventKey('hello'), {
      message: 'unknown event key "hello"; run `omise-webhook trigger --list` to see all 35 keys',
    });
  });
});
