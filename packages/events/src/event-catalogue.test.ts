import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  closestEventKeys,
  isOmiseEventKey,
  matchesEventKeyPattern,
  OMISE_EVENT_CATALOGUE,
  OMISE_EVENT_KEYS,
} from './event-catalogue.js';

describe('OMISE_EVENT_KEYS', () => {
  it('lists the 35 keys in the documented order', () => {
    assert.deepEqual(OMISE_EVENT_KEYS, [
      'charge.create',
      'charge.update',
      'charge.capture',
      'charge.reverse',
      'charge.complete',
      'charge.expire',
      'customer.create',
      'customer.update',
      'customer.destroy',
      'customer.update.card',
      'card.update',
      'card.destroy',
      'dispute.create',
      'dispute.update',
      'dispute.accept',
      'dispute.close',
      'link.create',
      'recipient.create',
      'recipient.update',
      'recipient.destroy',
      'recipient.activate',
      'recipient.deactivate',
      'recipient.verify',
      'refund.create',
      'schedule.create',
      'schedule.destroy',
      'schedule.expire',
      'schedule.expiring',
      'schedule.suspend',
      'transfer.create',
      'transfer.update',
      'transfer.destroy',
      'transfer.send',
      'transfer.pay',
      'transfer.fail',
    ]);
  });
});

describe('OMISE_EVENT_CATALOGUE', () => {
  it('has one entry per key, in key order, each naming its own key', () => {
    assert.deepEqual(Object.keys(OMISE_EVENT_CATALOGUE), [...OMISE_EVENT_KEYS]);
    for (const key of OMISE_EVENT_KEYS) assert.equal(OMISE_EVENT_CATALOGUE[key].key, key);
  });

  it('marks exactly the customer, card, recipient and transfer destroy events as deleted stubs', () => {
    const stubs = OMISE_EVENT_KEYS.filter((key) => OMISE_EVENT_CATALOGUE[key].deletedStub);
    assert.deepEqual(stubs, ['customer.destroy', 'card.destroy', 'recipient.destroy', 'transfer.destroy']);
    assert.equal(OMISE_EVENT_CATALOGUE['schedule.destroy'].deletedStub, false);
  });

  it('says the data of customer.update.card is the customer', () => {
    assert.equal(OMISE_EVENT_CATALOGUE['customer.update.card'].group, 'customer');
    assert.equal(OMISE_EVENT_CATALOGUE['customer.update.card'].dataObject, 'customer');
  });

  it('takes group and data object from the first word of the key', () => {
    for (const key of OMISE_EVENT_KEYS) {
      const info = OMISE_EVENT_CATALOGUE[key];
      assert.equal(info.group, key.split('.')[0]);
      assert.equal(info.dataObject, info.group);
    }
  });

  it('marks the 8 keys added after 2017 as newer and the other 27 as from the 2017 list', () => {
    const newer = OMISE_EVENT_KEYS.filter((key) => OMISE_EVENT_CATALOGUE[key].source === 'newer');
    assert.deepEqual(newer, [
      'charge.expire',
      'dispute.accept',
      'link.create',
      'schedule.create',
      'schedule.destroy',
      'schedule.expire',
      'schedule.expiring',
      'schedule.suspend',
    ]);
    assert.equal(OMISE_EVENT_KEYS.length - newer.length, 27);
  });

  it('describes every key in a plain sentence', () => {
    for (const key of OMISE_EVENT_KEYS) {
      assert.match(OMISE_EVENT_CATALOGUE[key].description, /^An? [a-z0-9-]/, key);
    }
    assert.equal(OMISE_EVENT_CATALOGUE['charge.create'].description, 'A charge was created');
  });

  it('is frozen, so a consumer cannot change it for everyone', () => {
    assert.ok(Object.isFrozen(OMISE_EVENT_CATALOGUE));
    assert.ok(Object.isFrozen(OMISE_EVENT_CATALOGUE['charge.create']));
  });
});

describe('isOmiseEventKey', () => {
  it('accepts every known key', () => {
    for (const key of OMISE_EVENT_KEYS) assert.equal(isOmiseEventKey(key), true);
  });

  it('rejects unknown keys, near misses, inherited names and non-strings', () => {
    for (const value of [
      'charge.failed',
      'refund.update',
      'Charge.Create',
      'charge.create ',
      '',
      'toString',
      '__proto__',
      'constructor',
      1,
      null,
      undefined,
      {},
    ]) {
      assert.equal(isOmiseEventKey(value), false, String(value));
    }
  });
});

describe('matchesEventKeyPattern', () => {
  const cases: [key: string, pattern: string, expected: boolean][] = [
    ['charge.create', '*', true],
    ['anything.new', '*', true],
    ['charge.create', 'charge.*', true],
    ['charge.complete', 'charge.*', true],
    ['customer.update.card', 'customer.*', true],
    ['customer.update.card', 'customer.update.*', true],
    ['customer.update', 'customer.update.*', false],
    ['charge', 'charge.*', false],
    ['chargeback.create', 'charge.*', false],
    ['refund.create', 'charge.*', false],
    ['charge.create', 'charge.create', true],
    ['charge.create', 'charge.creat', false],
    ['charge.create', 'charge', false],
    ['refund.create', 'charge.*,refund.create', true],
    ['refund.create', ' charge.* , refund.create ', true],
    ['transfer.fail', 'charge.*,refund.create', false],
    ['charge.create', '', false],
    ['charge.create', ',,', false],
  ];
  for (const [key, pattern, expected] of cases) {
    it(`${JSON.stringify(key)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(pattern)}`, () => {
      assert.equal(matchesEventKeyPattern(key, pattern), expected);
    });
  }
});

describe('closestEventKeys', () => {
  it('puts the nearest key first', () => {
    assert.deepEqual(closestEventKeys('charge.created'), ['charge.create', 'charge.update', 'charge.capture']);
    assert.deepEqual(closestEventKeys('transfer.paid', 1), ['transfer.pay']);
    assert.deepEqual(closestEventKeys('schedule.expired', 2), ['schedule.expire', 'schedule.expiring']);
  });

  it('suggests the real key for keys seen only in third-party code', () => {
    assert.equal(closestEventKeys('refund.update')[0], 'refund.create');
    assert.equal(closestEventKeys('charge.failed')[0], 'charge.expire');
  });

  it('ignores case and surrounding spaces', () => {
    assert.deepEqual(closestEventKeys('  Charge.Create ', 1), ['charge.create']);
  });

  it('honours the limit', () => {
    assert.equal(closestEventKeys('charge.create', 5).length, 5);
    assert.deepEqual(closestEventKeys('charge.create', 0), []);
  });

  it('suggests nothing for input that is not close to any key', () => {
    assert.deepEqual(closestEventKeys('hello'), []);
    assert.deepEqual(closestEventKeys(''), []);
  });
});
