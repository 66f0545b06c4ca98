import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OmiseWebhookDelivery } from '@omise-webhook/events';
import { summarizeWebhookDeliveries } from './webhook-deliveries.js';

const attempt = (status: number, error: string | null = null): OmiseWebhookDelivery => ({
  object: 'webhook_delivery',
  id: 'whdl_test_5abc',
  uri: 'https://shop.example.com/omise/webhook',
  status,
  key: 'charge.create',
  error,
  created_at: '2026-01-15 09:30:06 UTC',
});

describe('summarizeWebhookDeliveries', () => {
  it('reads Omise’s delivery log in plain words', () => {
    assert.deepEqual(summarizeWebhookDeliveries([]), {
      outcome: 'never',
      text: 'never delivered',
      attempts: 0,
      lastStatus: null,
    });
    assert.deepEqual(summarizeWebhookDeliveries(undefined).text, 'never delivered');
    assert.deepEqual(summarizeWebhookDeliveries([attempt(200)]), {
      outcome: 'delivered',
      text: 'delivered 200',
      attempts: 1,
      lastStatus: 200,
    });
    assert.equal(summarizeWebhookDeliveries([attempt(503), attempt(204)]).text, 'delivered 204 (2 attempts)');
    assert.deepEqual(summarizeWebhookDeliveries([attempt(500)]), {
      outcome: 'failed',
      text: 'failed 500',
      attempts: 1,
      lastStatus: 500,
    });
    assert.equal(summarizeWebhookDeliveries([attempt(500), attempt(401)]).text, 'failed 401 (2 attempts)');
    assert.equal(
      summarizeWebhookDeliveries([attempt(0, 'could not deliver: connect ECONNREFUSED')]).text,
      'failed (could not deliver: connect ECONNREFUSED)',
    );
  });
});
