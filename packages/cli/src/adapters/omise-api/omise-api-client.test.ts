import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startFakeOmise } from '../fake-omise/fake-omise-server.js';
import { explainOmiseApiError } from './explain-api-error.js';
import { flattenForm, OmiseApiClient, OmiseApiError } from './omise-api-client.js';

describe('OmiseApiClient: typed test-mode calls', () => {
  it('flattens nested parameters into Omise’s bracketed form fields', () => {
    assert.deepEqual(
      flattenForm({
        amount: 5000,
        capture: false,
        card: { name: 'A B', number: '4242' },
        on: { days_of_month: [1, 15] },
        skipped: undefined,
      }),
      [
        ['amount', '5000'],
        ['capture', 'false'],
        ['card[name]', 'A B'],
        ['card[number]', '4242'],
        ['on[days_of_month][]', '1'],
        ['on[days_of_month][]', '15'],
      ],
    );
  });

  it('makes tokens at the vault with the public key, and charges at the API with the secret key', async () => {
    const fake = await startFakeOmise({ secretKey: 'skey_test_5client', publicKey: 'pkey_test_5client' });
    try {
      const api = new OmiseApiClient({
        secretKey: 'skey_test_5client',
        publicKey: 'pkey_test_5client',
        baseUrl: fake.url,
        vaultUrl: fake.vaultUrl,
      });
      const token = await api.createToken({
        name: 'A',
        number: '4242424242424242',
        expiration_month: 1,
        expiration_year: 2099,
      });
      const charge = await api.createCharge({
        amount: 2000,
        currency: 'thb',
        card: token.data.id,
        metadata: { order_id: 'A1' },
      });
      assert.equal(charge.data.status, 'successful');
      assert.deepEqual(charge.data.metadata, { order_id: 'A1' });
      const event = await api.getEvent(fake.eventIds()[0] as string);
      assert.equal(event.text, fake.eventText(fake.eventIds()[0] as string));
      assert.deepEqual(fake.requests.slice(0, 2), ['POST /tokens', 'POST /charges']);

      const noPublicKey = new OmiseApiClient({ secretKey: 'skey_test_5client', baseUrl: fake.url });
      assert.throws(
        () =>
          noPublicKey.createToken({
            name: 'A',
            number: '4242424242424242',
            expiration_month: 1,
            expiration_year: 2099,
          }),
        {
          code: 'missing_public_key',
        },
      );
      await assert.rejects(api.captureCharge(charge.data.id), (error: unknown) => {
        assert.ok(error instanceof OmiseApiError);
        assert.equal(error.status, 400);
        assert.equal(error.code, 'failed_capture');
        assert.equal(
          explainOmiseApiError(error, { apiUrl: fake.url }),
          `the Omise API said: charge ${charge.data.id} was already captured (400 failed_capture).`,
        );
        return true;
      });
    } finally {
      await fake.close();
    }
  });
});
