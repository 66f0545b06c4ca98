import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applySetAssignments, parseSetAssignment } from './set-overrides.js';
import { SimulationError } from './simulation-error.js';

const event = () => ({
  object: 'event',
  key: 'charge.create',
  data: {
    object: 'charge',
    amount: 129000,
    description: 'order 3947',
    metadata: { order_id: '3947' },
    card: null as null | Record<string, unknown>,
    refunds: { data: [{ id: 'rfnd_test_5a', amount: 100 }] },
  },
});

function rejects(run: () => unknown, code: string, message: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof SimulationError);
    assert.equal(error.code, code);
    assert.equal(error.message, message);
    return true;
  });
}

describe('--set path=value', () => {
  it('parses the value as JSON when it is JSON, else as text', () => {
    assert.deepEqual(parseSetAssignment('data.amount=5000').value, 5000);
    assert.deepEqual(parseSetAssignment('data.paid=false').value, false);
    assert.deepEqual(parseSetAssignment('data.card=null').value, null);
    assert.deepEqual(parseSetAssignment('data.metadata={"a":[1,2]}').value, { a: [1, 2] });
    assert.deepEqual(parseSetAssignment('data.description="5000"').value, '5000');
    assert.deepEqual(parseSetAssignment('data.description=Gift card = 2 items').value, 'Gift card = 2 items');
    assert.deepEqual(parseSetAssignment('data.description=').value, '');
    assert.deepEqual(parseSetAssignment('data.metadata.order_id=A1').path, ['data', 'metadata', 'order_id']);
  });

  it('says how to write it when it is not path=value', () => {
    rejects(
      () => parseSetAssignment('data.amount'),
      'set_syntax',
      '--set "data.amount": expected path=value, for example --set data.amount=5000 or --set data.metadata.order_id=A1',
    );
    rejects(
      () => parseSetAssignment('data..amount=1'),
      'set_syntax',
      '--set "data..amount=1": the path "data..amount" has an empty part; write it like data.card.name',
    );
  });

  it('sets existing fields and array items on a copy', () => {
    const original = event();
    const changed = applySetAssignments(
      original,
      ['data.amount=5000', 'data.description=Gift', 'data.refunds.data.0.amount=50'].map(parseSetAssignment),
      'a charge.create event',
    );
    assert.equal(changed.data.amount, 5000);
    assert.equal(changed.data.description, 'Gift');
    assert.equal(changed.data.refunds.data[0]?.amount, 50);
    assert.equal(original.data.amount, 129000, 'the original is untouched');
  });

  it('adds new keys inside metadata, nested ones too', () => {
    const changed = applySetAssignments(
      event(),
      ['data.metadata.customer_ref=C-77', 'data.metadata.cart.items=3'].map(parseSetAssignment),
      'a charge.create event',
    );
    assert.deepEqual(changed.data.metadata, { order_id: '3947', customer_ref: 'C-77', cart: { items: 3 } });
  });

  it('refuses a path that does not exist, naming it and its nearest existing parent', () => {
    rejects(
      () => applySetAssignments(event(), [parseSetAssignment('data.amout=5000')], 'a charge.create event'),
      'set_missing_path',
      '--set data.amout=5000: data.amout does not exist in a charge.create event; the nearest existing parent is data. Did you mean data.amount? Only keys inside metadata can be added.',
    );
    rejects(
      () => applySetAssignments(event(), [parseSetAssignment('data.source.type=promptpay')], 'a charge.create event'),
      'set_missing_path',
      '--set data.source.type=promptpay: data.source does not exist in a charge.create event; the nearest existing parent is data. Only keys inside metadata can be added.',
    );
    rejects(
      () => applySetAssignments(event(), [parseSetAssignment('date.amount=1')], 'a charge.create event'),
      'set_missing_path',
      '--set date.amount=1: date does not exist in a charge.create event; the nearest existing parent is (the event itself). Did you mean data? Only keys inside metadata can be added.',
    );
    rejects(
      () => applySetAssignments(event(), [parseSetAssignment('data.refunds.data.3.amount=1')], 'a charge.create event'),
      'set_missing_path',
      '--set data.refunds.data.3.amount=1: data.refunds.data.3 does not exist in a charge.create event; the nearest existing parent is data.refunds.data. data.refunds.data is a list of 1; use an index from 0 to 0. Only keys inside metadata can be added.',
    );
  });

  it('refuses to go through a value that is not an object', () => {
    rejects(
      () => applySetAssignments(event(), [parseSetAssignment('data.amount.value=1')], 'a charge.create event'),
      'set_not_container',
      '--set data.amount.value=1: data.amount is a number, not an object, so it has no field "value"',
    );
    rejects(
      () => applySetAssignments(event(), [parseSetAssignment('data.card.name=X')], 'a charge.create event'),
      'set_not_container',
      '--set data.card.name=X: data.card is null, not an object, so it has no field "name"',
    );
  });

  it('adds __proto__ inside metadata as a field of its own, not as a prototype', () => {
    const result = applySetAssignments(
      event(),
      [parseSetAssignment('data.metadata.__proto__.x=1'), parseSetAssignment('data.metadata.constructor=2')],
      'a charge.create event',
    );
    assert.equal(JSON.stringify(result.data.metadata), '{"order_id":"3947","__proto__":{"x":1},"constructor":2}');
    assert.equal(Object.getPrototypeOf(result.data.metadata), Object.prototype);
  });
});
