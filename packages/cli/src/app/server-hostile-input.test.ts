import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventBody } from '../testing/delivery-fixtures.js';
import { rawRequest } from '../testing/http.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

// Regression tests for issue 12's hostile requests: each asserts the exact answer and that a
// valid event right after is still accepted.

let sequence = 0;
function nextEventId(): string {
  sequence += 1;
  return `evnt_test_5xhostile${sequence}`;
}

function signedHeaders(body: string | Buffer, secret = TEST_WEBHOOK_SECRET): Array<[string, string]> {
  const timestamp = Math.floor(Date.now() / 1000);
  return [
    ['Content-Type', 'application/json'],
    ['Omise-Signature-Timestamp', String(timestamp)],
    ['Omise-Signature', signForTest(secret, timestamp, body)],
  ];
}

const FORGED_SECRET = Buffer.from('not the receiver secret at all!!').toString('base64');

async function post(server: TestServer, body: string | Buffer, headers: Array<[string, string]>) {
  const response = await rawRequest({ url: server.webhookUrl, headers, body });
  return { ...response, json: JSON.parse(response.body) as Record<string, unknown> };
}

async function assertValidEventAccepted(server: TestServer): Promise<void> {
  const eventId = nextEventId();
  const body = eventBody({ eventId });
  const response = await post(server, body, signedHeaders(body));
  assert.equal(response.status, 200, response.body);
  assert.equal(response.json.id, eventId);
}

/** An event whose `data` holds `levels` nested arrays. */
function deeplyNested(eventId: string, levels: number): string {
  return eventBody({ eventId }).replace('"amount": 100000', `"amount": ${'['.repeat(levels)}${']'.repeat(levels)}`);
}

describe('serve: hostile requests (signature mode)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
  });
  after(() => server.close());

  it('answers 401, not 503, to 100,000 levels of [ inside data with a forged signature', async () => {
    const eventId = nextEventId();
    const body = deeplyNested(eventId, 100_000);
    const response = await post(server, body, signedHeaders(body, FORGED_SECRET));
    assert.equal(response.status, 401, response.body);
    assert.equal(response.json.error, 'no_signature_matched');
    const rejection = (await server.store.listRejections({ limit: 1 })).items[0];
    assert.equal(rejection?.status, 401);
    assert.equal(rejection?.eventId, eventId, 'the id is still found in the first 4 KiB');
    await assertValidEventAccepted(server);
  });

  it('answers 401 to a small deeply nested body with a forged signature, without diagnosing it', async () => {
    // 30,000 levels fit under the 64 KiB diagnosis cut: re-serialising them would overflow the stack.
    const body = deeplyNested(nextEventId(), 30_000);
    const response = await post(server, body, signedHeaders(body, FORGED_SECRET));
    assert.equal(response.status, 401, response.body);
    assert.equal(response.json.error, 'no_signature_matched');
    assert.match(String(response.json.hint), /^the body is not an Omise event either \(too_deep\): body nests/);
    await assertValidEventAccepted(server);
  });

  it('answers 422 too_deep to a validly signed body nested past 256 levels, naming the limit', async () => {
    const body = deeplyNested(nextEventId(), 100_000);
    const response = await post(server, body, signedHeaders(body));
    assert.equal(response.status, 422, response.body);
    assert.equal(response.json.error, 'too_deep');
    assert.match(String(response.json.message), /^body nests arrays and objects more than 256 levels deep/);
    await assertValidEventAccepted(server);
  });

  it('accepts a signed event nested 256 levels deep', async () => {
    // The event is level 1, data level 2, so 254 arrays make 256.
    const eventId = nextEventId();
    const body = deeplyNested(eventId, 254);
    const response = await post(server, body, signedHeaders(body));
    assert.equal(response.status, 200, response.body);
    assert.equal(response.json.id, eventId);
  });

  it('answers 422 to a signed event whose id is longer than 64 characters, and keeps no event', async () => {
    const eventId = `evnt_test_${'a'.repeat(290)}`;
    const body = eventBody({ eventId });
    const response = await post(server, body, signedHeaders(body));
    assert.equal(response.status, 422, response.body);
    assert.equal(response.json.error, 'invalid_event');
    assert.match(String(response.json.message), /^"id" is 300 characters long .* at most 64 are accepted\.$/);
    assert.equal(await server.store.getEvent(eventId), undefined);
    const rejection = (await server.store.listRejections({ limit: 1 })).items[0];
    assert.equal(rejection?.status, 422);
    assert.equal(rejection?.eventId, null, 'an over-long id is not taken as the rejection’s event id');
    await assertValidEventAccepted(server);
  });

  it('stores an event whose data holds over-long ids, without indexing them', async () => {
    const eventId = nextEventId();
    const longId = `chrg_test_${'a'.repeat(1_000)}`;
    const body = eventBody({ eventId, objectId: longId }).replace(
      '"currency": "thb"',
      `"currency": "thb", "customer": "cust_test_${'b'.repeat(500)}", "card": "card_test_5xshort1"`,
    );
    const response = await post(server, body, signedHeaders(body));
    assert.equal(response.status, 200, response.body);
    const stored = await server.store.getEvent(eventId);
    assert.equal(stored?.objectId, null);
    assert.deepEqual(
      (await server.store.eventsForObject('card_test_5xshort1')).map((event) => event.eventId),
      [eventId],
    );
    assert.deepEqual(await server.store.eventsForObject(longId), []);
  });

  it('checks the signature before parsing: an unsigned body that is not JSON is a 401 that says so', async () => {
    const body = '{"object": "event", "id": "evnt_test_5xnotjson1", "key": }';
    const response = await post(server, body, [['Content-Type', 'application/json']]);
    assert.equal(response.status, 401);
    assert.equal(response.json.error, 'missing_signature');
    assert.match(
      String(response.json.hint),
      /^the body is not an Omise event either \(invalid_json\): body is not valid JSON: .* at line 1, column 58\./,
    );
    const rejection = (await server.store.listRejections({ limit: 1 })).items[0];
    assert.equal(rejection?.eventId, 'evnt_test_5xnotjson1');
    await assertValidEventAccepted(server);
  });

  it('keeps the diagnosis for a small re-serialised body', async () => {
    const body = eventBody({ eventId: nextEventId() });
    const compact = JSON.stringify(JSON.parse(body));
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await post(server, compact, [
      ['Omise-Signature-Timestamp', String(timestamp)],
      ['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, timestamp, body)],
    ]);
    assert.equal(response.status, 401);
    assert.equal(response.json.error, 'no_signature_matched');
    assert.match(String(response.json.hint), /re-serialised/);
  });
});
