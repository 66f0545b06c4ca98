import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OMISE_EVENT_KEYS, parseOmiseEvent } from '@omise-webhook/events';
import { seededIdSource } from '../../core/simulate/ids.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { rawRequest } from '../../testing/http.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../../testing/signing.js';
import { startTestServer, type TestServer, temporaryDirectory } from '../../testing/test-server.js';
import { type RunningFakeOmise, startFakeOmise } from './fake-omise-server.js';

const SECRET_KEY = 'skey_test_5fakeomisecontract';
const PUBLIC_KEY = 'pkey_test_5fakeomisecontract';
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

function basic(key: string): [string, string] {
  return ['Authorization', `Basic ${Buffer.from(`${key}:`).toString('base64')}`];
}

async function call(
  fake: RunningFakeOmise,
  method: string,
  path: string,
  options: { key?: string | null; form?: Record<string, string>; json?: unknown } = {},
) {
  const headers: Array<[string, string]> = [];
  const key = options.key === undefined ? SECRET_KEY : options.key;
  if (key !== null) headers.push(basic(key));
  let body: string | undefined;
  if (options.form) {
    body = new URLSearchParams(options.form).toString();
    headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  } else if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers.push(['Content-Type', 'application/json']);
  }
  const response = await rawRequest({
    url: `${fake.url}${path}`,
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read response bodies field by field in assertions.
  return { status: response.status, text: response.body, json: JSON.parse(response.body) as Record<string, any> };
}

const errorText = (code: string, message: string) =>
  `{\n  "object": "error",\n  "location": "https:\\/\\/www.omise.co\\/api-errors#${code.replaceAll('_', '-')}",\n  "code": "${code}",\n  "message": "${message}"\n}`;

describe('fake Omise API: authentication and errors', () => {
  let fake: RunningFakeOmise;
  before(async () => {
    fake = await startFakeOmise({ secretKey: SECRET_KEY, publicKey: PUBLIC_KEY, clock: new FakeClock(NOW) });
  });
  after(() => fake.close());

  it('answers 401 authentication_failure in Omise’s error shape without a key, with a wrong, live or public key', async () => {
    for (const key of [null, 'skey_test_5someoneelse', 'skey_live_5fakeomisecontract', PUBLIC_KEY]) {
      const response = await call(fake, 'GET', '/events', { key });
      assert.equal(response.status, 401, String(key));
      assert.equal(response.text, errorText('authentication_failure', 'authentication failed'));
    }
  });

  it('tokens take the public key, not the secret key', async () => {
    const form = {
      'card[name]': 'A',
      'card[number]': '4242424242424242',
      'card[expiration_month]': '12',
      'card[expiration_year]': '2030',
    };
    assert.equal((await call(fake, 'POST', '/tokens', { key: SECRET_KEY, form })).status, 401);
    assert.equal((await call(fake, 'POST', '/tokens', { key: PUBLIC_KEY, form })).status, 200);
  });

  it('answers 404 not_found for an unknown event and an unknown path; 405 for a wrong method', async () => {
    const missing = await call(fake, 'GET', '/events/evnt_test_5nosuchevent');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, errorText('not_found', 'event evnt_test_5nosuchevent was not found'));
    const charge = await call(fake, 'GET', '/charges/chrg_test_5nosuchcharge');
    assert.equal(charge.json.message, 'charge chrg_test_5nosuchcharge was not found');
    const path = await call(fake, 'GET', '/balance');
    assert.equal(path.status, 404);
    assert.equal(path.json.code, 'not_found');
    const method = await call(fake, 'DELETE', '/events');
    assert.equal(method.status, 405);
  });

  it('accepts any skey_test_ key when none is configured', async () => {
    const open = await startFakeOmise({ clock: new FakeClock(NOW) });
    try {
      assert.equal((await call(open, 'GET', '/events', { key: 'skey_test_5anything' })).status, 200);
      assert.equal((await call(open, 'GET', '/events', { key: 'skey_live_5anything' })).status, 401);
    } finally {
      await open.close();
    }
  });
});

describe('fake Omise API: GET /events', () => {
  let fake: RunningFakeOmise;
  let ids: string[];
  before(async () => {
    fake = await startFakeOmise({ secretKey: SECRET_KEY, clock: new FakeClock(NOW), ids: seededIdSource('events') });
    ids = fake.seedEvents(45);
  });
  after(() => fake.close());

  it('answers Omise’s list envelope with the documented defaults', async () => {
    const response = await call(fake, 'GET', '/events');
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(response.json), [
      'object',
      'data',
      'limit',
      'offset',
      'total',
      'location',
      'order',
      'from',
      'to',
    ]);
    const { data, ...envelope } = response.json;
    assert.deepEqual(envelope, {
      object: 'list',
      limit: 20,
      offset: 0,
      total: 45,
      location: '/events',
      order: 'chronological',
      from: '1970-01-01T00:00:00Z',
      to: '2026-03-01T12:00:00Z',
    });
    assert.deepEqual(
      (data as Array<{ id: string }>).map((event) => event.id),
      ids.slice(0, 20),
    );
    assert.ok(response.text.startsWith('{\n  "object": "list",\n  "data": [\n    {\n      "object": "event",'));
  });

  it('pages with offset and limit (up to 100), in either order', async () => {
    const page = await call(fake, 'GET', '/events?offset=40&limit=10');
    assert.deepEqual(
      page.json.data.map((event: { id: string }) => event.id),
      ids.slice(40),
    );
    assert.equal(page.json.offset, 40);
    assert.equal(page.json.limit, 10);
    const all = await call(fake, 'GET', '/events?limit=100&order=reverse_chronological');
    assert.deepEqual(
      all.json.data.map((event: { id: string }) => event.id),
      [...ids].reverse(),
    );
    assert.equal(all.json.order, 'reverse_chronological');
    // Omise's curl examples send the parameters with -d, even on a GET.
    const form = await call(fake, 'GET', '/events', { form: { limit: '5', offset: '1' } });
    assert.deepEqual(
      form.json.data.map((event: { id: string }) => event.id),
      ids.slice(1, 6),
    );
  });

  it('filters by created time with from and to, both inclusive', async () => {
    // Seeded events are one minute apart, the last one a minute before now.
    const response = await call(fake, 'GET', '/events?from=2026-03-01T11:20:00Z&to=2026-03-01T11:30:00Z&limit=100');
    assert.equal(response.json.total, 11);
    assert.equal(response.json.from, '2026-03-01T11:20:00Z');
    assert.equal(response.json.data[0].created_at, '2026-03-01T11:20:00Z');
    assert.equal(response.json.data[10].created_at, '2026-03-01T11:30:00Z');
  });

  it('refuses bad filters with 400 invalid_filter, naming the value', async () => {
    const cases: Array<[string, string]> = [
      ['limit=101', 'limit must be between 1 and 100, got 101'],
      ['limit=0', 'limit must be between 1 and 100, got 0'],
      ['limit=ten', 'limit must be a whole number, got \\"ten\\"'],
      ['offset=-1', 'offset must be a whole number, got \\"-1\\"'],
      ['order=newest', 'order must be chronological or reverse_chronological, got \\"newest\\"'],
      ['from=yesterday', 'from is not a valid ISO 8601 time: \\"yesterday\\"'],
      ['from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from must not be later than to'],
    ];
    for (const [query, message] of cases) {
      const response = await call(fake, 'GET', `/events?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(response.text, errorText('invalid_filter', message), query);
    }
  });

  it('GET /events/:id answers the event as in the list, pretty-printed like Omise', async () => {
    const id = ids[7] as string;
    const response = await call(fake, 'GET', `/events/${id}`);
    assert.equal(response.status, 200);
    assert.equal(response.text, fake.eventText(id));
    const event = parseOmiseEvent(response.text);
    assert.equal(event.key, OMISE_EVENT_KEYS[7]);
    const listed = await call(fake, 'GET', '/events?offset=7&limit=1');
    assert.deepEqual(listed.json.data[0], response.json);
  });

  it('seeded events carry delivery logs: delivered 200, failed 500, never delivered, in turn', async () => {
    const logs = ids.slice(0, 3).map((id) => JSON.parse(fake.eventText(id) as string).webhook_deliveries);
    assert.equal(logs[0][0].status, 200);
    assert.equal(logs[1][0].status, 500);
    assert.deepEqual(logs[2], []);
    assert.match(logs[0][0].id, /^whdl_test_/);
    assert.match(logs[0][0].created_at, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    // The payload is the exact body that was sent: the event with no deliveries recorded yet.
    assert.equal(parseOmiseEvent(logs[0][0].payload).id, ids[0]);
  });
});

describe('fake Omise API: test-mode calls cause events, delivered signed', () => {
  let receiver: TestServer;
  let fake: RunningFakeOmise;
  const clock = new FakeClock(Date.now());
  before(async () => {
    receiver = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
    fake = await startFakeOmise({
      clock,
      webhookUrl: receiver.webhookUrl,
      webhookSecret: TEST_WEBHOOK_SECRET,
    });
  });
  after(async () => {
    await fake.close();
    await receiver.close();
  });

  async function token(number = '4242424242424242') {
    const response = await call(fake, 'POST', '/tokens', {
      key: PUBLIC_KEY,
      form: {
        'card[name]': 'SOMCHAI PRASERT',
        'card[number]': number,
        'card[expiration_month]': '12',
        'card[expiration_year]': '2031',
      },
    });
    assert.equal(response.status, 200, response.text);
    return response.json;
  }

  it('a token, a charge with capture=false, then capture: charge.create and charge.capture, delivered and verified', async () => {
    const card = await token();
    assert.match(card.id, /^tokn_test_/);
    assert.equal(card.card.last_digits, '4242');
    assert.equal(card.used, false);
    const created = await call(fake, 'POST', '/charges', {
      form: { amount: '129000', currency: 'thb', card: card.id, capture: 'false', 'metadata[order_id]': 'A1' },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.status, 'pending');
    assert.equal(created.json.authorized, true);
    assert.equal(created.json.currency, 'THB');
    assert.deepEqual(created.json.metadata, { order_id: 'A1' });
    const captured = await call(fake, 'POST', `/charges/${created.json.id}/capture`);
    assert.equal(captured.json.status, 'successful');
    await fake.deliveriesSettled();

    const events = fake.eventIds().map((id) => JSON.parse(fake.eventText(id) as string));
    const [create, capture] = events.slice(-2);
    assert.equal(create.key, 'charge.create');
    assert.equal(capture.key, 'charge.capture');
    assert.deepEqual(capture.data, captured.json);
    for (const event of [create, capture]) {
      const stored = await receiver.store.getEvent(event.id);
      assert.ok(stored, `${event.key} reached the receiver`);
      assert.equal(stored.verification.status, 'verified');
      const [delivery] = event.webhook_deliveries;
      assert.equal(delivery.status, 200);
      assert.equal(delivery.uri, receiver.webhookUrl);
      assert.equal(delivery.error, null);
      assert.equal(Buffer.from(stored.body).toString('utf8'), delivery.payload, 'the payload is the exact body sent');
      const headers = new Map(stored.headers.map(([name, value]) => [name.toLowerCase(), value]));
      const timestamp = headers.get('omise-signature-timestamp') as string;
      assert.equal(headers.get('omise-signature'), signForTest(TEST_WEBHOOK_SECRET, timestamp, delivery.payload));
    }
  });

  it('refuses what Omise refuses, with Omise’s error codes', async () => {
    const card = await token();
    const charge = await call(fake, 'POST', '/charges', { form: { amount: '5000', currency: 'THB', card: card.id } });
    const reused = await call(fake, 'POST', '/charges', { form: { amount: '5000', currency: 'THB', card: card.id } });
    assert.equal(reused.status, 400);
    assert.equal(reused.text, errorText('used_token', 'token was already used'));
    const again = await call(fake, 'POST', `/charges/${charge.json.id}/capture`);
    assert.equal(again.text, errorText('failed_capture', `charge ${charge.json.id} was already captured`));
    const tooMuch = await call(fake, 'POST', `/charges/${charge.json.id}/refunds`, { form: { amount: '6000' } });
    assert.equal(tooMuch.json.code, 'failed_refund');
    assert.equal(
      tooMuch.json.message,
      `amount must be between 1 and 5000, what is left to refund of charge ${charge.json.id}`,
    );
    const noCard = await call(fake, 'POST', '/charges', { form: { amount: '5000', currency: 'THB' } });
    assert.equal(noCard.json.code, 'missing_card');
    const small = await call(fake, 'POST', '/charges', {
      form: { amount: '100', currency: 'THB', card: (await token()).id },
    });
    assert.equal(small.text, errorText('invalid_charge', 'amount must be at least 2000'));
    const badNumber = await call(fake, 'POST', '/tokens', {
      key: PUBLIC_KEY,
      form: {
        'card[name]': 'X',
        'card[number]': '4242424242424241',
        'card[expiration_month]': '1',
        'card[expiration_year]': '2031',
      },
    });
    assert.equal(badNumber.text, errorText('invalid_card', 'number is invalid'));
  });

  it('a declining test card makes a failed charge, still with a charge.create event', async () => {
    const card = await token('4111111111140011');
    const charge = await call(fake, 'POST', '/charges', { json: { amount: 5000, currency: 'thb', card: card.id } });
    assert.equal(charge.json.status, 'failed');
    assert.equal(charge.json.failure_code, 'insufficient_fund');
    const last = JSON.parse(fake.eventText(fake.eventIds().at(-1) as string) as string);
    assert.equal(last.key, 'charge.create');
    assert.equal(last.data.id, charge.json.id);
  });

  it('customers, cards, recipients, transfers, schedules and links each cause their event', async () => {
    const before = fake.eventIds().length;
    const customer = await call(fake, 'POST', '/customers', {
      form: { email: 'a@example.com', card: (await token()).id },
    });
    const cardId = customer.json.default_card;
    assert.equal(customer.json.cards.data[0].location, `/customers/${customer.json.id}/cards/${cardId}`);
    await call(fake, 'PATCH', `/customers/${customer.json.id}`, { form: { description: 'VIP' } });
    await call(fake, 'PATCH', `/customers/${customer.json.id}`, {
      form: { card: (await token('5555555555554444')).id },
    });
    await call(fake, 'PATCH', `/customers/${customer.json.id}/cards/${cardId}`, { form: { name: 'NEW NAME' } });
    const schedule = await call(fake, 'POST', '/schedules', {
      form: {
        every: '1',
        period: 'month',
        'on[days_of_month][]': '15',
        end_date: '2027-01-15',
        'charge[customer]': customer.json.id,
        'charge[amount]': '59900',
      },
    });
    assert.equal(schedule.status, 200, schedule.text);
    assert.deepEqual(schedule.json.on, { days_of_month: [15] });
    await call(fake, 'DELETE', `/schedules/${schedule.json.id}`);
    await call(fake, 'DELETE', `/customers/${customer.json.id}/cards/${cardId}`);
    const destroyed = await call(fake, 'DELETE', `/customers/${customer.json.id}`);
    assert.deepEqual(destroyed.json, { object: 'customer', id: customer.json.id, livemode: false, deleted: true });
    assert.equal((await call(fake, 'GET', `/customers/${customer.json.id}`)).status, 404);

    const recipient = await call(fake, 'POST', '/recipients', {
      form: {
        name: 'Somchai',
        type: 'individual',
        'bank_account[brand]': 'bbl',
        'bank_account[number]': '1234567890',
        'bank_account[name]': 'Somchai',
      },
    });
    await call(fake, 'PATCH', `/recipients/${recipient.json.id}`, { form: { email: 'b@example.com' } });
    await call(fake, 'PATCH', `/recipients/${recipient.json.id}/verify`);
    await call(fake, 'DELETE', `/recipients/${recipient.json.id}`);
    const transfer = await call(fake, 'POST', '/transfers', { form: { amount: '100000' } });
    assert.equal(transfer.status, 200, transfer.text);
    await call(fake, 'PATCH', `/transfers/${transfer.json.id}`, { form: { amount: '90000' } });
    await call(fake, 'POST', `/transfers/${transfer.json.id}/mark_as_sent`);
    const paid = await call(fake, 'POST', `/transfers/${transfer.json.id}/mark_as_paid`);
    assert.equal(paid.json.paid, true);
    const doomed = await call(fake, 'POST', '/transfers', { form: { amount: '100000' } });
    await call(fake, 'DELETE', `/transfers/${doomed.json.id}`);
    await call(fake, 'POST', '/links', {
      form: { amount: '35000', currency: 'THB', title: 'Lunch', description: 'Two plates' },
    });
    const promptpay = await call(fake, 'POST', '/charges', {
      form: { amount: '5000', currency: 'THB', 'source[type]': 'promptpay' },
    });
    assert.equal(promptpay.json.status, 'pending');
    await call(fake, 'POST', `/charges/${promptpay.json.id}/mark_as_paid`);
    const expiring = await call(fake, 'POST', '/charges', {
      form: { amount: '5000', currency: 'THB', 'source[type]': 'promptpay' },
    });
    await call(fake, 'POST', `/charges/${expiring.json.id}/expire`);

    const keys = fake
      .eventIds()
      .slice(before)
      .map((id) => JSON.parse(fake.eventText(id) as string).key);
    assert.deepEqual(keys, [
      'customer.create',
      'customer.update',
      'customer.update.card',
      'card.update',
      'schedule.create',
      'schedule.destroy',
      'card.destroy',
      'customer.destroy',
      'recipient.create',
      'recipient.update',
      'recipient.verify',
      'recipient.destroy',
      'transfer.create',
      'transfer.update',
      'transfer.send',
      'transfer.pay',
      'transfer.create',
      'transfer.destroy',
      'link.create',
      'charge.create',
      'charge.complete',
      'charge.create',
      'charge.expire',
    ]);
    await fake.deliveriesSettled();
    for (const id of fake.eventIds().slice(before)) assert.ok(await receiver.store.getEvent(id), `${id} was delivered`);
  });
});

describe('fake Omise API: delivery failures and state on disk', () => {
  it('records a refused delivery with its status and an unreachable one as status 0 with the error', async () => {
    const refusing = createServer((_req, res) => {
      res.writeHead(500);
      res.end('down for maintenance');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/hook`;
    const fake = await startFakeOmise({ webhookUrl: refusingUrl });
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const closedPort = await startFakeOmise({ webhookUrl: `http://127.0.0.1:${freePort}/hook` });
    try {
      const refused = fake.simulateEvent('dispute.create');
      const unreachable = closedPort.simulateEvent('transfer.fail');
      await fake.deliveriesSettled();
      await closedPort.deliveriesSettled();
      const [first] = JSON.parse(fake.eventText(refused) as string).webhook_deliveries;
      assert.equal(first.status, 500);
      assert.equal(first.uri, refusingUrl);
      const [second] = JSON.parse(closedPort.eventText(unreachable) as string).webhook_deliveries;
      assert.equal(second.status, 0);
      assert.match(second.error, /^could not deliver: .*ECONNREFUSED/);
    } finally {
      await fake.close();
      await closedPort.close();
      refusing.close();
    }
  });

  it('with a state file, a restarted fake still has its objects and events', async () => {
    const stateFile = join(temporaryDirectory(), 'fake-omise.json');
    const first = await startFakeOmise({ stateFile });
    const [seeded] = first.seedEvents(3);
    const customer = await call(first, 'POST', '/customers', { form: { email: 'kept@example.com' } });
    await first.close();
    const second = await startFakeOmise({ stateFile });
    try {
      assert.equal(second.eventIds().length, 4);
      assert.equal((await call(second, 'GET', `/events/${seeded}`)).status, 200);
      assert.equal((await call(second, 'GET', `/customers/${customer.json.id}`)).json.email, 'kept@example.com');
    } finally {
      await second.close();
    }
  });
});
