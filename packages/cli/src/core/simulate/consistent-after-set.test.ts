import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consistentAfterSet } from './consistent-after-set.js';
import { buildSimulatedEvent } from './event-builders.js';
import { seededIdSource } from './ids.js';
import { applySetAssignments, parseSetAssignment } from './set-overrides.js';

const NOW = Date.parse('2026-11-26T07:00:00Z');

function chargeWith(...sets: string[]) {
  const assignments = sets.map(parseSetAssignment);
  const built = buildSimulatedEvent({ key: 'charge.create', ids: seededIdSource('c'), now: NOW, currency: 'THB' });
  const overridden = applySetAssignments(built as unknown as Record<string, unknown>, assignments, 'a charge.create');
  const result = consistentAfterSet(overridden, assignments, { ids: seededIdSource('r'), now: NOW, currency: 'THB' });
  return { ...result, data: result.event.data as Record<string, unknown> };
}

describe('--set data.status keeps a charge consistent', () => {
  it('failed: not paid, not authorized, nothing captured, a decline named; every change listed', () => {
    const { data, adjusted, warnings } = chargeWith('data.status=failed');
    assert.equal(data.status, 'failed');
    assert.equal(data.paid, false);
    assert.equal(data.authorized, false);
    assert.equal(data.refundable, false);
    assert.equal(data.captured_amount, 0);
    assert.equal(data.transaction, null);
    assert.equal(data.paid_at, null);
    assert.equal(data.failure_code, 'payment_rejected');
    assert.equal(data.failure_message, 'the payment was rejected by the issuer');
    assert.deepEqual(adjusted, [
      'data.authorized=false',
      'data.paid=false',
      'data.disputable=false',
      'data.refundable=false',
      'data.authorized_amount=0',
      'data.captured_amount=0',
      'data.transaction=null',
      'data.fee=0',
      'data.fee_vat=0',
      'data.net=0',
      'data.failure_code="payment_rejected"',
      'data.failure_message="the payment was rejected by the issuer"',
      'data.paid_at=null',
    ]);
    assert.deepEqual(warnings, []);
  });

  it('what the user set explicitly wins, and a contradiction left by it is warned about', () => {
    const { data, adjusted, warnings } = chargeWith(
      'data.status=failed',
      'data.failure_code=insufficient_fund',
      'data.paid=true',
    );
    assert.equal(data.failure_code, 'insufficient_fund');
    assert.equal(data.failure_message, 'the payment was rejected by the issuer');
    assert.equal(data.paid, true);
    assert.equal(data.authorized, false);
    assert.ok(!adjusted.some((field) => field.startsWith('data.paid=')));
    assert.deepEqual(warnings, [
      'the charge is failed but data.paid=true; Omise never sends that combination (drop the --set that makes it, or set both to agree)',
    ]);
  });

  it('successful after a failed story step: paid, authorized, captured, no failure left', () => {
    const { data } = chargeWith('data.status=successful', 'data.paid=false', 'data.status=successful');
    assert.equal(data.paid, false, 'explicitly set');
    const clean = chargeWith('data.failure_code=payment_rejected', 'data.status=successful');
    assert.equal(clean.data.paid, true);
    assert.equal(clean.data.authorized, true);
    assert.equal(clean.data.failure_code, 'payment_rejected', 'set explicitly, so kept');
  });

  it('no rule for pending: a paid pending charge is warned about, not changed', () => {
    const { data, adjusted, warnings } = chargeWith('data.status=pending');
    assert.equal(data.paid, true);
    assert.deepEqual(adjusted, []);
    assert.deepEqual(warnings, [
      'the charge is pending but data.paid=true; Omise never sends that combination (drop the --set that makes it, or set both to agree)',
    ]);
  });

  it('leaves other objects, and charges without --set, alone', () => {
    const plain = chargeWith();
    assert.deepEqual([plain.adjusted, plain.warnings], [[], []]);
    const built = buildSimulatedEvent({ key: 'refund.create', ids: seededIdSource('f'), now: NOW, currency: 'THB' });
    const assignments = [parseSetAssignment('data.status=failed')];
    const refund = consistentAfterSet(
      applySetAssignments(built as unknown as Record<string, unknown>, assignments, 'a refund.create'),
      assignments,
      { ids: seededIdSource('r'), now: NOW, currency: 'THB' },
    );
    assert.deepEqual([refund.adjusted, refund.warnings], [[], []]);
  });
});
