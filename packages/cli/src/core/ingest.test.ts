import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventBody } from '../testing/delivery-fixtures.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { type IngestDecision, type IngestPolicy, ingestWebhook } from './ingest.js';
import type { HeaderList, OmiseEventLookup, OmiseEventsLookup } from './ports.js';

const NOW = Date.parse('2026-11-26T07:00:10.000Z');
const FETCHED_AT = Date.parse('2026-11-26T07:00:11.000Z');
const EVENT_ID = 'evnt_test_5xingest0001';
const OTHER_SECRET = Buffer.from('another secret, thirty-two bytes').toString('base64');

function policy(overrides: Partial<IngestPolicy> = {}): IngestPolicy {
  return {
    mode: 'none',
    modeSource: 'configured',
    webhookSecrets: [],
    toleranceSec: 300,
    allowLive: false,
    ...overrides,
  };
}

function signed(body: string, secret = TEST_WEBHOOK_SECRET): HeaderList {
  const timestamp = Math.floor(NOW / 1000);
  return [
    ['Content-Type', 'application/json'],
    ['Omise-Signature', signForTest(secret, timestamp, body)],
    ['Omise-Signature-Timestamp', String(timestamp)],
  ];
}

/** A fake Events API lookup that answers from a script and records what it was asked. */
class FakeLookup implements OmiseEventsLookup {
  readonly asked: string[] = [];
  constructor(private readonly answer: (eventId: string) => OmiseEventLookup) {}
  async lookupEvent(eventId: string): Promise<OmiseEventLookup> {
    this.asked.push(eventId);
    return this.answer(eventId);
  }
}

function ingest(
  body: string,
  options: { headers?: HeaderList; policy?: IngestPolicy; api?: OmiseEventsLookup } = {},
): Promise<IngestDecision> {
  return ingestWebhook(
    {
      body: Buffer.from(body),
      headers: options.headers ?? [['Content-Type', 'application/json']],
      receivedAt: new Date(NOW),
    },
    options.policy ?? policy(),
    { clock: { now: () => FETCHED_AT }, ...(options.api ? { omiseApi: options.api } : {}) },
  );
}

function accepted(decision: IngestDecision) {
  assert.equal(decision.kind, 'accept', JSON.stringify(decision));
  return (decision as Extract<IngestDecision, { kind: 'accept' }>).delivery;
}

function rejected(decision: IngestDecision) {
  assert.equal(decision.kind, 'reject', JSON.stringify(decision));
  const { status, code, eventId } = decision as Extract<IngestDecision, { kind: 'reject' }>;
  return { status, code, eventId };
}

const body = eventBody({ eventId: EVENT_ID });
/** A live-mode event: live ids have no `test_`, and the object is live too. */
const LIVE_ID = 'evnt_5xingestlive1';
const live = eventBody({ eventId: LIVE_ID, objectId: 'chrg_5xingestlive1' }).replaceAll(
  '"livemode": false',
  '"livemode": true',
);

describe('ingestWebhook: accepted', () => {
  it('unverified when nothing is configured, with the code that says so', async () => {
    const delivery = accepted(await ingest(body));
    assert.deepEqual(delivery.verification, {
      mode: 'none',
      status: 'unverified',
      reason: 'nothing to verify with: set OMISE_WEBHOOK_SECRET (signature) or OMISE_SECRET_KEY (Omise API)',
      reasonCode: 'nothing_to_verify_with',
    });
    assert.equal(delivery.eventId, EVENT_ID);
    assert.equal(delivery.key, 'charge.create');
    assert.equal(delivery.objectId, 'chrg_test_5xfixture0001');
    assert.equal(delivery.receivedAt, '2026-11-26T07:00:10.000Z');
    assert.equal(delivery.origin, 'webhook');
    assert.equal(Buffer.from(delivery.body).toString('utf8'), body, 'the exact bytes');
  });

  it('unverified with verification_off under --verify none', async () => {
    const delivery = accepted(await ingest(body, { policy: policy({ modeSource: 'forced' }) }));
    assert.equal(delivery.verification.reason, 'verification is turned off (--verify none)');
    assert.equal(delivery.verification.reasonCode, 'verification_off');
  });

  it('verified by signature, naming which secret matched when there are several', async () => {
    const one = accepted(
      await ingest(body, {
        headers: signed(body),
        policy: policy({ mode: 'signature', webhookSecrets: [TEST_WEBHOOK_SECRET] }),
      }),
    );
    assert.deepEqual(one.verification, {
      mode: 'signature',
      status: 'verified',
      reason: 'signature matched the webhook secret',
    });
    const rolled = accepted(
      await ingest(body, {
        headers: signed(body),
        policy: policy({ mode: 'signature', webhookSecrets: [OTHER_SECRET, TEST_WEBHOOK_SECRET] }),
      }),
    );
    assert.equal(rolled.verification.reason, 'signature matched secret #2');
  });

  it("verified by the API, keeping Omise's copy fetched at the clock's time", async () => {
    const api = new FakeLookup(() => ({ kind: 'found', body }));
    const delivery = accepted(await ingest(body, { policy: policy({ mode: 'api' }), api }));
    assert.deepEqual(api.asked, [EVENT_ID]);
    assert.deepEqual(delivery.verification, { mode: 'api', status: 'verified', reason: 'Omise API has this event' });
    assert.deepEqual(delivery.omiseCopy, { body, fetchedAt: '2026-11-26T07:00:11.000Z', differences: [] });
  });

  it("names the differences when Omise's copy differs", async () => {
    const copy = eventBody({ eventId: EVENT_ID, extra: '9999' });
    const delivery = accepted(
      await ingest(body, {
        policy: policy({ mode: 'api' }),
        api: new FakeLookup(() => ({ kind: 'found', body: copy })),
      }),
    );
    assert.deepEqual(delivery.omiseCopy?.differences, ['data.description']);
    assert.equal(delivery.verification.reason, 'Omise API has this event, with 1 difference(s): data.description');
  });

  it('pending when the API cannot answer or refuses our key, with one attempt counted', async () => {
    for (const lookup of [
      { kind: 'unavailable', message: 'connect ECONNREFUSED' },
      { kind: 'auth_failed', message: 'the key was refused' },
    ] as const) {
      const delivery = accepted(
        await ingest(body, { policy: policy({ mode: 'api' }), api: new FakeLookup(() => lookup) }),
      );
      assert.deepEqual(delivery.verification, {
        mode: 'api',
        status: 'pending',
        reason: `could not check with the Omise API yet: ${lookup.message}; retrying in the background`,
        apiAttempts: 1,
      });
      assert.equal(delivery.omiseCopy, undefined);
    }
  });

  it('both: the signature, then the API, both named', async () => {
    const delivery = accepted(
      await ingest(body, {
        headers: signed(body),
        policy: policy({ mode: 'both', webhookSecrets: [TEST_WEBHOOK_SECRET] }),
        api: new FakeLookup(() => ({ kind: 'found', body })),
      }),
    );
    assert.deepEqual(delivery.verification, {
      mode: 'both',
      status: 'verified',
      reason: 'signature matched the webhook secret; Omise API has this event',
    });
  });

  it("a live event when --allow-live is set, and origin 'trigger' from the simulation header", async () => {
    assert.equal(accepted(await ingest(live, { policy: policy({ allowLive: true }) })).livemode, true);
    const simulated = accepted(await ingest(body, { headers: [['omise-webhook-origin', ' trigger ']] }));
    assert.equal(simulated.origin, 'trigger');
  });
});

describe('ingestWebhook: rejected', () => {
  const signaturePolicy = policy({ mode: 'signature', webhookSecrets: [TEST_WEBHOOK_SECRET] });

  it('401 missing_signature, with the event id found in the body', async () => {
    assert.deepEqual(rejected(await ingest(body, { policy: signaturePolicy })), {
      status: 401,
      code: 'missing_signature',
      eventId: EVENT_ID,
    });
  });

  it('401 no_signature_matched for another secret', async () => {
    assert.deepEqual(rejected(await ingest(body, { headers: signed(body, OTHER_SECRET), policy: signaturePolicy })), {
      status: 401,
      code: 'no_signature_matched',
      eventId: EVENT_ID,
    });
  });

  it('400 invalid_json, still guessing the event id from the first bytes', async () => {
    assert.deepEqual(rejected(await ingest('{"id": "evnt_test_5xbroken", "key": ')), {
      status: 400,
      code: 'invalid_json',
      eventId: 'evnt_test_5xbroken',
    });
  });

  it('422 invalid_event for JSON that is not an event', async () => {
    const decision = await ingest('{"object":"charge","id":"chrg_test_5x1"}');
    assert.deepEqual(rejected(decision), { status: 422, code: 'invalid_event', eventId: null });
  });

  it('403 livemode_refused for a live event by default', async () => {
    assert.deepEqual(rejected(await ingest(live)), { status: 403, code: 'livemode_refused', eventId: LIVE_ID });
  });

  it('401 unknown_to_omise_api when the API does not know the event', async () => {
    const api = new FakeLookup(() => ({ kind: 'not_found', message: 'not_found: event was not found' }));
    assert.deepEqual(rejected(await ingest(body, { policy: policy({ mode: 'api' }), api })), {
      status: 401,
      code: 'unknown_to_omise_api',
      eventId: EVENT_ID,
    });
  });
});

describe('ingestWebhook: the order of the checks', () => {
  it('the signature comes before parsing: a forged body that is not JSON is a 401, not a 400', async () => {
    const garbage = '{"id": "evnt_test_5xforged", ';
    const decision = await ingest(garbage, {
      policy: policy({ mode: 'signature', webhookSecrets: [TEST_WEBHOOK_SECRET] }),
    });
    assert.deepEqual(rejected(decision), { status: 401, code: 'missing_signature', eventId: 'evnt_test_5xforged' });
  });

  it('the API is asked only about a parsed, valid, allowed event', async () => {
    const api = new FakeLookup(() => ({ kind: 'found', body }));
    const apiPolicy = policy({ mode: 'api' });
    assert.equal(rejected(await ingest('not json', { policy: apiPolicy, api })).code, 'invalid_json');
    assert.equal(rejected(await ingest('{"object":"event"}', { policy: apiPolicy, api })).code, 'invalid_event');
    assert.equal(rejected(await ingest(live, { policy: apiPolicy, api })).code, 'livemode_refused');
    assert.deepEqual(api.asked, [], 'never asked');
  });

  it('in both mode a bad signature stops before the API', async () => {
    const api = new FakeLookup(() => ({ kind: 'found', body }));
    const decision = await ingest(body, {
      headers: signed(body, OTHER_SECRET),
      policy: policy({ mode: 'both', webhookSecrets: [TEST_WEBHOOK_SECRET] }),
      api,
    });
    assert.equal(rejected(decision).code, 'no_signature_matched');
    assert.deepEqual(api.asked, []);
  });
});
