import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Receiver } from '../../../app/receiver.js';
import { Notifier } from '../../../core/notifier.js';
import type { EventStore, ForwardAttempt } from '../../../core/ports.js';
import { eventBody, makeDelivery, makeForwardAttempt } from '../../../testing/delivery-fixtures.js';
import { fixtureBody, STORY_CHARGE_ID, STORY_CREATE_EVENT_ID, storyBodies } from '../../../testing/omise-fixtures.js';
import { SseReader } from '../../../testing/sse-reader.js';
import { temporaryDirectory } from '../../../testing/test-server.js';
import { MemoryEventStore } from '../../store/memory-event-store.js';
import { createInspectorApp, type InspectorApp } from './inspector-app.js';
import type { InspectorContext, InspectorStatus } from './inspector-context.js';
import { loadStaticAssets } from './static-assets.js';

const STATUS: InspectorStatus = {
  webhookUrl: 'http://127.0.0.1:3000/omise/webhook',
  publicUrl: null,
  verificationMode: 'api',
  verificationConfigured: true,
  secretKeyMasked: 'skey_test_••••abcd',
  allowLive: false,
};

interface Harness {
  store: EventStore;
  notifier: Notifier;
  receiver: Receiver;
  inspector: InspectorApp;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  json<T = Record<string, unknown>>(path: string): Promise<T>;
  post(body: string): Promise<number>;
}

function harness(
  options: {
    token?: string | null;
    loopbackOnly?: boolean;
    ringSize?: number;
    context?: Partial<InspectorContext>;
  } = {},
): Harness {
  const store = new MemoryEventStore({ maxRejections: 50 });
  const notifier = new Notifier();
  let clock = Date.UTC(2026, 10, 26, 7, 0, 0);
  const receiver = new Receiver({
    store,
    notifier,
    clock: { now: () => (clock += 1000) },
    policy: { mode: 'none', modeSource: 'configured', webhookSecrets: [], toleranceSec: 300, allowLive: false },
  });
  const inspector = createInspectorApp(
    { store, notifier, status: () => STATUS, ...options.context },
    {
      token: options.token ?? null,
      loopbackOnly: options.loopbackOnly ?? true,
      port: 3001,
      runId: 'run1',
      ...(options.ringSize ? { ringSize: options.ringSize } : {}),
    },
  );
  const get = async (path: string, headers: Record<string, string> = {}) =>
    await inspector.app.request(`http://127.0.0.1:3001${path}`, { headers: { Host: '127.0.0.1:3001', ...headers } });
  return {
    store,
    notifier,
    receiver,
    inspector,
    get,
    json: async <T>(path: string) => {
      const response = await get(path);
      assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
      return (await response.json()) as T;
    },
    post: async (body: string) =>
      (
        await receiver.handleWebhook({
          method: 'POST',
          path: '/omise/webhook',
          headers: [['Content-Type', 'application/json']],
          body: Buffer.from(body),
          remoteAddress: '127.0.0.1',
        })
      ).status,
  };
}

type Summary = {
  id: string;
  key: string;
  objectId: string;
  amount: number | null;
  currency: string | null;
  status: string | null;
};
type ListPage = { items: Summary[]; nextCursor: string | null; lastEventId: string };

describe('inspector API: events', () => {
  const h = harness();
  before(async () => {
    for (const { body } of storyBodies()) assert.equal(await h.post(body), 200);
  });

  it('lists newest first with the fields the list shows, and no bodies', async () => {
    const page = await h.json<ListPage>('/api/events');
    assert.deepEqual(
      page.items.map((e) => e.key),
      [
        'charge.create',
        'schedule.expiring',
        'link.create',
        'transfer.fail',
        'customer.destroy',
        'customer.update.card',
        'dispute.create',
        'refund.create',
        'charge.complete',
        'charge.create',
      ],
    );
    assert.equal(page.nextCursor, null);
    assert.equal(page.lastEventId, 'run1-10');
    const complete = page.items[8] as Summary & Record<string, unknown>;
    assert.deepEqual(complete, {
      id: 'evnt_test_5ygr5yxi8vd0mvv3pxp',
      seq: 2,
      key: 'charge.complete',
      livemode: false,
      objectType: 'charge',
      objectId: STORY_CHARGE_ID,
      amount: 129000,
      currency: 'THB',
      status: 'successful',
      verification: { mode: 'none', status: 'unverified' },
      createdAt: '2024-01-18T09:41:27Z',
      receivedAt: '2026-11-26T07:00:02.000Z',
      lastReceivedAt: '2026-11-26T07:00:02.000Z',
      deliveryCount: 1,
      origin: 'webhook',
      bodyDiffers: false,
    });
    const destroyed = page.items.find((e) => e.key === 'customer.destroy');
    assert.equal(destroyed?.status, 'deleted');
    assert.equal(destroyed?.amount, null);
  });

  it('pages with a cursor until nextCursor is null, missing nothing', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ListPage = await h.json<ListPage>(`/api/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    assert.equal(pages, 4);
    assert.equal(new Set(seen).size, 10);
  });

  it('filters by key pattern, object type and verification', async () => {
    const keys = async (query: string) => (await h.json<ListPage>(`/api/events?${query}`)).items.map((e) => e.key);
    assert.deepEqual(await keys('key=charge.*'), ['charge.create', 'charge.complete', 'charge.create']);
    assert.deepEqual(await keys('key=customer.*,link.create'), [
      'link.create',
      'customer.destroy',
      'customer.update.card',
    ]);
    assert.deepEqual(await keys('object=refund'), ['refund.create']);
    assert.deepEqual(await keys('verified=unverified&key=transfer.*'), ['transfer.fail']);
    assert.deepEqual(await keys('verified=verified'), []);
    assert.deepEqual(await keys('key=charge.create&object=charge&limit=1'), ['charge.create']);
  });

  it('finds events by every kind of Omise id and by text in the body', async () => {
    const found = async (q: string) =>
      (await h.json<ListPage>(`/api/events?q=${encodeURIComponent(q)}`)).items.map((e) => e.key);
    const cases: Array<[string, string, string[]]> = [
      ['event', 'evnt_test_5ygtcm1ho9qyhg6zmsw', ['refund.create']],
      ['charge', STORY_CHARGE_ID, ['dispute.create', 'refund.create', 'charge.complete', 'charge.create']],
      ['card (in a charge)', 'card_test_5ygr5ohmwxdtqktuzt9', ['charge.complete', 'charge.create']],
      ['card (of a customer)', 'card_test_5ygqz7sdvnw9ui5zbd0', ['customer.update.card']],
      ['customer', 'cust_test_5ygqz8f4c3t2ltcjt1c', ['customer.destroy', 'customer.update.card']],
      ['refund', 'rfnd_test_5ygtclzq3e6cjqzl6wa', ['refund.create']],
      ['transaction', 'trxn_test_5ygtcm0b4xmd3cksv2l', ['refund.create']],
      ['dispute', 'dspt_test_5yh1fhvn6xk83bv0ngl', ['dispute.create']],
      ['transfer', 'trsf_test_5yhk0r1tsz6h0s8v2lw', ['transfer.fail']],
      ['recipient', 'recp_test_5yhk0nw0c1lbzb6hj1f', ['transfer.fail']],
      ['link', 'link_test_5yhn1x7w6n3r2c9d4b1', ['link.create']],
      ['schedule', 'schd_test_5w9k4dlq5mfv0pj0ay3', ['schedule.expiring']],
      ['occurrence', 'occu_test_5yhm79xp0ow9b9yk2ba', ['schedule.expiring']],
      ['payment', 'paym_test_5ha2mnt9fgqkx3wn0mo', ['charge.create']],
      ['text (Thai)', 'ลูกค้าคืนสินค้า', ['refund.create']],
      ['text (escaped slash, as sent)', '\\/links\\/link_test', ['link.create']],
      ['text that is nowhere', 'no such words', []],
    ];
    for (const [kind, q, keys] of cases) assert.deepEqual(await found(q), keys, `${kind}: ${q}`);
  });

  it('returns the full record: raw body exactly as received, headers in order, diagnosis', async () => {
    const detail = await h.json<Record<string, unknown>>('/api/events/evnt_test_5ygtcm1ho9qyhg6zmsw');
    assert.equal(detail.body, fixtureBody('refund.create'));
    assert.equal(detail.bodyEncoding, 'utf8');
    assert.equal(detail.bodySize, Buffer.byteLength(fixtureBody('refund.create')));
    assert.deepEqual(detail.headers, [['Content-Type', 'application/json']]);
    assert.deepEqual(detail.verification, {
      mode: 'none',
      status: 'unverified',
      reason: 'nothing to verify with: set OMISE_WEBHOOK_SECRET (signature) or OMISE_SECRET_KEY (Omise API)',
      reasonCode: 'nothing_to_verify_with',
      diagnosis:
        'Not checked: nothing is configured to verify with, so anyone who knows the URL could have sent this. To check signatures, set OMISE_WEBHOOK_SECRET in .env to the secret from the Omise dashboard (Webhooks, test mode); or put your test secret key there as OMISE_SECRET_KEY.',
    });
    assert.equal(detail.omiseCopy, null);
    assert.deepEqual(detail.forwardAttempts, []);
    assert.equal(detail.deliveryCount, 1);
    assert.equal(detail.receivedAt, '2026-11-26T07:00:03.000Z');
  });

  it('counts a redelivery in the record', async () => {
    assert.equal(await h.post(fixtureBody('link.create')), 200);
    const detail = await h.json<{ deliveryCount: number; lastReceivedAt: string; receivedAt: string }>(
      '/api/events/evnt_test_5yhn1x9e0u2v8q4m6k0',
    );
    assert.equal(detail.deliveryCount, 2);
    assert.notEqual(detail.lastReceivedAt, detail.receivedAt);
  });

  it("tells an object's story oldest first, with what changed between its states", async () => {
    const story = await h.json<{
      objectId: string;
      items: Array<{ key: string; role: string; changes: unknown }>;
    }>(`/api/objects/${STORY_CHARGE_ID}/events`);
    assert.equal(story.objectId, STORY_CHARGE_ID);
    assert.deepEqual(
      story.items.map((e) => [e.key, e.role]),
      [
        ['charge.create', 'subject'],
        ['charge.complete', 'subject'],
        ['refund.create', 'mentioned'],
        ['dispute.create', 'mentioned'],
      ],
    );
    assert.equal(story.items[0]?.changes, null);
    assert.deepEqual(story.items[1]?.changes, [
      { path: 'transaction', kind: 'changed', before: null, after: 'trxn_test_5ygr5yw4cd6r7pvwdq8' },
      { path: 'status', kind: 'changed', before: 'pending', after: 'successful' },
      { path: 'paid_at', kind: 'changed', before: null, after: '2024-01-18T09:41:26Z' },
      { path: 'paid', kind: 'changed', before: false, after: true },
    ]);
    assert.equal(story.items[2]?.changes, null);
    const create = await h.json<{ id: string }>(`/api/events/${STORY_CREATE_EVENT_ID}`);
    assert.equal(create.id, STORY_CREATE_EVENT_ID);
  });

  it('counts events per key, object type and verification outcome', async () => {
    const stats = await h.json<Record<string, unknown>>('/api/stats');
    assert.deepEqual(stats.byKey, {
      'charge.complete': 1,
      'charge.create': 2,
      'customer.destroy': 1,
      'customer.update.card': 1,
      'dispute.create': 1,
      'link.create': 1,
      'refund.create': 1,
      'schedule.expiring': 1,
      'transfer.fail': 1,
    });
    assert.deepEqual(stats.byObjectType, {
      charge: 3,
      customer: 2,
      dispute: 1,
      link: 1,
      refund: 1,
      schedule: 1,
      transfer: 1,
    });
    assert.deepEqual(stats.byVerification, { unverified: 10 });
    assert.equal(stats.total, 10);
    assert.equal(stats.rejected, 0);
  });

  it("answers the context's status with the stream position", async () => {
    const status = await h.json<Record<string, unknown>>('/api/status');
    assert.deepEqual(status, { ...STATUS, lastEventId: 'run1-11' });
  });
});

describe('inspector API: the same id delivered with another body', () => {
  const h = harness();
  const eventId = 'evnt_test_5xdiffers01';
  const first = eventBody({ eventId });
  const changed = first.replace('"amount": 100000', '"amount": 1').replace('"currency": "thb"', '"currency": "usd"');
  before(async () => {
    assert.equal(await h.post(first), 200);
    assert.equal(await h.post(first), 200);
    assert.equal(await h.post(changed), 200);
  });

  it('flags the event in the list and shows the differing body with what differs', async () => {
    const page = await h.json<{ items: Array<Record<string, unknown>> }>('/api/events');
    assert.equal(page.items[0]?.bodyDiffers, true);
    const detail = await h.json<Record<string, unknown>>(`/api/events/${eventId}`);
    assert.equal(detail.body, first, 'the event is still the first copy');
    assert.equal(detail.deliveryCount, 3);
    assert.equal(detail.differingDeliveries, 1);
    assert.deepEqual(detail.differingBodies, [
      {
        sha256: createHash('sha256').update(changed).digest('hex'),
        size: Buffer.byteLength(changed),
        body: changed,
        bodyEncoding: 'utf8',
        truncated: false,
        headers: [['Content-Type', 'application/json']],
        origin: 'webhook',
        firstReceivedAt: '2026-11-26T07:00:03.000Z',
        lastReceivedAt: '2026-11-26T07:00:03.000Z',
        deliveries: 1,
        differences: ['data.amount', 'data.currency'],
        diff: [
          '…',
          '      "id": "chrg_test_5xfixture0001",',
          '      "livemode": false,',
          '      "description": "ค่าสินค้า order 3947 — テスト",',
          '-     "amount": 100000,',
          '-     "currency": "thb"',
          '+     "amount": 1,',
          '+     "currency": "usd"',
          '    },',
          '    "key": "charge.create",',
          '    "created_at": "2026-11-26T07:00:00Z"',
          '…',
        ].join('\n'),
      },
    ]);
  });

  it('keeps a plain redelivery unflagged', async () => {
    const other = 'evnt_test_5xdiffers02';
    assert.equal(await h.post(eventBody({ eventId: other })), 200);
    assert.equal(await h.post(eventBody({ eventId: other })), 200);
    const detail = await h.json<Record<string, unknown>>(`/api/events/${other}`);
    assert.equal(detail.bodyDiffers, false);
    assert.deepEqual(detail.differingBodies, []);
  });
});

describe('inspector API: errors say what was wrong', () => {
  const h = harness();
  const cases: Array<[string, number, string, RegExp]> = [
    ['/api/events?limit=abc', 400, 'invalid_limit', /limit "abc" is not a whole number from 1 to 500/],
    ['/api/events?limit=0', 400, 'invalid_limit', /limit "0"/],
    ['/api/events?limit=501', 400, 'invalid_limit', /limit "501"/],
    ['/api/events?cursor=next', 400, 'invalid_cursor', /cursor "next" is not one this API gave out/],
    ['/api/events?key=charge%20create', 400, 'invalid_key', /key "charge create" is not an event key pattern/],
    ['/api/events?object=Charge!', 400, 'invalid_object', /object "Charge!" is not an object type/],
    [
      '/api/events?verified=yes',
      400,
      'invalid_verified',
      /verified "yes" is not a verification outcome; use one of verified, unverified, pending, failed/,
    ],
    [`/api/events?q=${'x'.repeat(201)}`, 400, 'invalid_q', /q is 201 characters long/],
    ['/api/events/evnt_test_nope', 404, 'not_found', /no stored event has id evnt_test_nope/],
    [
      '/api/events/chrg_test_5xabc',
      404,
      'not_found',
      /looks like an object id: its events are at GET \/api\/objects\/chrg_test_5xabc\/events/,
    ],
    ['/api/objects/chrg_test_5xnothing/events', 404, 'not_found', /no stored event mentions chrg_test_5xnothing/],
    ['/api/objects/not-an-id/events', 400, 'invalid_object_id', /"not-an-id" is not an Omise id/],
    ['/api/rejected/abc', 400, 'invalid_id', /rejection id "abc" is not a number/],
    ['/api/rejected/999', 404, 'not_found', /no kept rejection has id 999/],
    ['/api/rejected?limit=-1', 400, 'invalid_limit', /limit "-1"/],
    ['/api/nothing', 404, 'not_found', /no API route GET \/api\/nothing; the routes are GET \/api\/events/],
  ];
  for (const [path, status, code, message] of cases) {
    it(`${path} -> ${status} ${code}`, async () => {
      const response = await h.get(path);
      assert.equal(response.status, status);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await response.json()) as { error: string; message: string };
      assert.equal(body.error, code);
      assert.match(body.message, message);
    });
  }

  it('answers 405 with Allow for a known route and the wrong method', async () => {
    const response = await h.inspector.app.request('http://127.0.0.1:3001/api/events', {
      method: 'DELETE',
      headers: { Host: '127.0.0.1:3001' },
    });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET');
    assert.match(((await response.json()) as { message: string }).message, /DELETE \/api\/events is not supported/);
  });
});

describe('inspector API: rejected requests', () => {
  const h = harness();
  before(async () => {
    assert.equal(await h.post('{"object": "event", "id": "evnt_test_5xbroken"'), 400);
    assert.equal(await h.post('{"object": "charge"}'), 422);
    await h.receiver.keepRejection({
      receivedAt: '2026-11-26T07:10:00.000Z',
      method: 'POST',
      path: '/omise/webhook',
      remoteAddress: '203.0.113.9',
      headers: [
        ['Content-Type', 'application/json'],
        ['Omise-Signature', 'ab'.repeat(32)],
      ],
      body: Buffer.from(fixtureBody('charge.create')),
      bodySize: Buffer.byteLength(fixtureBody('charge.create')),
      status: 401,
      code: 'no_signature_matched',
      reason: 'no signature matched the webhook secret',
      hint: "the sender used the secret text as the HMAC key without base64-decoding it. Omise keys the HMAC with the secret's base64-decoded bytes.",
      eventId: 'evnt_test_5ha2mnzv3zfb7ql0cgs',
    });
  });

  it('lists them newest first with the reason and a diagnosis in plain words', async () => {
    const page = await h.json<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>('/api/rejected');
    assert.deepEqual(
      page.items.map((r) => [r.id, r.status, r.code]),
      [
        [3, 401, 'no_signature_matched'],
        [2, 422, 'invalid_event'],
        [1, 400, 'invalid_json'],
      ],
    );
    assert.equal(
      page.items[0]?.diagnosis,
      "the sender used the secret text as the HMAC key without base64-decoding it. Omise keys the HMAC with the secret's base64-decoded bytes.",
    );
    assert.equal(
      page.items[2]?.diagnosis,
      'The body is not JSON, so it cannot be an Omise event. Omise always sends JSON.',
    );
    assert.equal(page.items[2]?.eventId, 'evnt_test_5xbroken');
    assert.equal('body' in (page.items[0] ?? {}), false);
    const first = await h.json<{ items: unknown[]; nextCursor: string }>('/api/rejected?limit=2');
    assert.equal(first.items.length, 2);
    const rest = await h.json<{ items: Array<{ id: number }>; nextCursor: null }>(
      `/api/rejected?limit=2&cursor=${first.nextCursor}`,
    );
    assert.deepEqual(
      rest.items.map((r) => r.id),
      [1],
    );
  });

  it('shows one with its exact bytes and headers', async () => {
    const detail = await h.json<Record<string, unknown>>('/api/rejected/3');
    assert.equal(detail.body, fixtureBody('charge.create'));
    assert.deepEqual(detail.headers, [
      ['Content-Type', 'application/json'],
      ['Omise-Signature', 'ab'.repeat(32)],
    ]);
    assert.equal(detail.remoteAddress, '203.0.113.9');
    const broken = await h.json<Record<string, unknown>>('/api/rejected/1');
    assert.equal(broken.body, '{"object": "event", "id": "evnt_test_5xbroken"');
    assert.match(broken.reason as string, /line 1, column/);
  });

  it('shows bytes that are not UTF-8 as base64', async () => {
    await h.receiver.keepRejection({
      receivedAt: '2026-11-26T07:11:00.000Z',
      method: 'POST',
      path: '/omise/webhook',
      remoteAddress: null,
      headers: [],
      body: Buffer.from([0xff, 0xfe, 0x7b]),
      bodySize: 3,
      status: 400,
      code: 'invalid_json',
      reason: 'body is not UTF-8',
      hint: null,
      eventId: null,
    });
    const detail = await h.json<Record<string, unknown>>('/api/rejected/4');
    assert.equal(detail.bodyEncoding, 'base64');
    assert.equal(detail.body, Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'));
  });

  it('says when only the first 64 KiB of a large body were kept, with the whole size and hash', async () => {
    const large = Buffer.alloc(100 * 1024, 0x7a);
    assert.equal(await h.post(large.toString('utf8')), 400);
    const summary = (await h.json<{ items: Array<Record<string, unknown>> }>('/api/rejected?limit=1')).items[0];
    assert.equal(summary?.bodyTruncated, true);
    assert.equal(summary?.bodySize, 100 * 1024);
    assert.equal(summary?.bodySha256, createHash('sha256').update(large).digest('hex'));
    const detail = await h.json<Record<string, unknown>>(`/api/rejected/${summary?.id}`);
    assert.equal(detail.body, 'z'.repeat(64 * 1024));
    assert.equal(detail.bodyTruncated, true);
    const small = await h.json<Record<string, unknown>>('/api/rejected/1');
    assert.equal(small.bodyTruncated, false);
  });
});

describe('inspector API: plug-in points', () => {
  it('shows the forward attempts another capability supplies', async () => {
    const attempts = [forwardAttempt({ target: 'http://localhost:4000/hook', status: 200, latencyMs: 12 })];
    const asked: string[] = [];
    const h = harness({
      context: {
        forwardAttemptsFor: async (eventId) => {
          asked.push(eventId);
          return attempts;
        },
      },
    });
    await h.post(fixtureBody('link.create'));
    const detail = await h.json<{ forwardAttempts: unknown[] }>('/api/events/evnt_test_5yhn1x9e0u2v8q4m6k0');
    const { responseExcerpt: _bytes, ...rest } = attempts[0] as ForwardAttempt;
    assert.deepEqual(detail.forwardAttempts, [{ ...rest, response: '{"ok":true,"note":"ข้อความ"}' }]);
    assert.deepEqual(asked, ['evnt_test_5yhn1x9e0u2v8q4m6k0']);
  });

  const replayRequest = (h: Harness, id: string, body: string, headers: Record<string, string> = {}) =>
    h.inspector.app.request(`http://127.0.0.1:3001/api/events/${id}/replay`, {
      method: 'POST',
      headers: { Host: '127.0.0.1:3001', 'Content-Type': 'application/json', ...headers },
      body,
    });

  it('answers 501 to a replay when no replay is plugged in', async () => {
    const h = harness();
    await h.post(fixtureBody('link.create'));
    const response = await replayRequest(h, 'evnt_test_5yhn1x9e0u2v8q4m6k0', '{"resign": true}');
    assert.equal(response.status, 501);
    assert.deepEqual(await response.json(), {
      error: 'replay_unavailable',
      message: 'replay is not available in this inspector: it was started without the forwarder that replays events',
    });
  });

  it('hands replay options to the plugged-in replay and returns its result', async () => {
    const calls: unknown[] = [];
    const h = harness({
      context: {
        replay: async (eventId, options) => {
          calls.push([eventId, options]);
          if (options.to === 'http://localhost:9/down') throw new Error('connect ECONNREFUSED 127.0.0.1:9');
          if (options.to === 'http://localhost:4000/nowhere') {
            throw Object.assign(new Error('nowhere to send it: pass a target URL'), { code: 'no_target' });
          }
          return [forwardAttempt({ kind: 'replay', replayMode: 'resigned', status: 200, latencyMs: 8 })];
        },
      },
    });
    await h.post(fixtureBody('link.create'));
    const id = 'evnt_test_5yhn1x9e0u2v8q4m6k0';
    const ok = await replayRequest(h, id, '{"resign": true, "to": "http://localhost:4000/hook"}');
    assert.equal(ok.status, 200);
    const answer = (await ok.json()) as { replayed: boolean; attempts: Array<Record<string, unknown>> };
    assert.equal(answer.replayed, true);
    assert.equal(answer.attempts.length, 1);
    assert.equal(answer.attempts[0]?.status, 200);
    assert.equal(answer.attempts[0]?.replayMode, 'resigned');
    assert.equal(answer.attempts[0]?.response, '{"ok":true,"note":"ข้อความ"}');
    const nowhere = await replayRequest(h, id, '{"to": "http://localhost:4000/nowhere"}');
    assert.equal(nowhere.status, 409);
    assert.deepEqual(await nowhere.json(), { error: 'no_target', message: 'nowhere to send it: pass a target URL' });
    const failed = await replayRequest(h, id, '{"to": "http://localhost:9/down"}');
    assert.equal(failed.status, 502);
    assert.match(((await failed.json()) as { message: string }).message, /replaying .* failed: connect ECONNREFUSED/);
    assert.deepEqual(calls, [
      [id, { resign: true, to: 'http://localhost:4000/hook' }],
      [id, { resign: false, to: 'http://localhost:4000/nowhere' }],
      [id, { resign: false, to: 'http://localhost:9/down' }],
    ]);

    const bad: Array<[string, Record<string, string>, number, RegExp]> = [
      ['{"resign": "yes"}', {}, 400, /resign must be true or false; got "yes"/],
      ['{"to": "ftp://x"}', {}, 400, /to must be an http\(s\) URL; got "ftp:\/\/x"/],
      ['{"verbatim": true}', {}, 400, /unknown replay option "verbatim"/],
      ['[1]', {}, 400, /must be a JSON object/],
      ['{resign', {}, 400, /not JSON/],
      ['{}', { 'Content-Type': 'text/plain' }, 415, /send the replay options as JSON/],
      [
        '{}',
        { Origin: 'https://evil.example' },
        403,
        /must come from the inspector page itself; this one came from https:\/\/evil\.example/,
      ],
    ];
    for (const [body, headers, status, message] of bad) {
      const response = await replayRequest(h, id, body, headers);
      assert.equal(response.status, status, body);
      assert.match(((await response.json()) as { message: string }).message, message);
    }
    const missing = await replayRequest(h, 'evnt_test_nope', '{}');
    assert.equal(missing.status, 404);
    assert.equal(calls.length, 3, 'refused requests never reach replay');
  });
});

describe('inspector API: live stream', () => {
  const readStream = async (h: Harness, headers: Record<string, string> = {}, query = '') => {
    const response = await h.get(`/api/stream${query}`, headers);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    return new SseReader(response.body as ReadableStream<Uint8Array>);
  };

  it('starts with ready, then sends one thin message per event, rejection or update', async () => {
    const h = harness();
    const stream = await readStream(h);
    const ready = await stream.waitFor((m) => m.event === 'ready');
    assert.equal(ready.id, 'run1-0');
    assert.equal(await h.post(fixtureBody('refund.create')), 200);
    const stored = await stream.waitFor((m) => m.event === 'event.stored');
    assert.equal(stored.id, 'run1-1');
    assert.deepEqual(JSON.parse(stored.data), {
      type: 'event.stored',
      id: 'evnt_test_5ygtcm1ho9qyhg6zmsw',
      key: 'refund.create',
      seq: 1,
      duplicate: false,
    });
    assert.equal(await h.post('not json'), 400);
    const rejected = await stream.waitFor((m) => m.event === 'rejection.stored');
    assert.deepEqual(JSON.parse(rejected.data), { type: 'rejection.stored', id: '1', key: null, seq: 2 });
    const event = await h.store.getEvent('evnt_test_5ygtcm1ho9qyhg6zmsw');
    assert.ok(event);
    h.notifier.publish({ type: 'event.updated', event });
    const updated = await stream.waitFor((m) => m.event === 'event.updated');
    assert.equal(updated.id, 'run1-3');
    assert.equal(h.inspector.feed.listenerCount, 1);
    await stream.cancel();
    assert.equal(h.inspector.feed.listenerCount, 0, 'a closed stream stops listening');
  });

  it('resumes after Last-Event-ID with exactly what was missed', async () => {
    const h = harness();
    const bodies = storyBodies();
    for (const { body } of bodies.slice(0, 3)) await h.post(body);
    const stream = await readStream(h, { 'Last-Event-ID': 'run1-1' });
    const ready = await stream.waitFor((m) => m.event === 'ready');
    assert.deepEqual(
      stream.messages.map((m) => [m.id, m.event]),
      [
        ['run1-2', 'event.stored'],
        ['run1-3', 'event.stored'],
        ['run1-3', 'ready'],
      ],
    );
    assert.deepEqual(JSON.parse(ready.data), { lastEventId: 'run1-3', resumed: 2 });
    await h.post((bodies[3] as { body: string }).body);
    assert.equal((await stream.waitFor((m) => m.event === 'event.stored' && m.id === 'run1-4')).event, 'event.stored');
    await stream.cancel();

    const fromQuery = await readStream(h, {}, '?lastEventId=run1-3');
    await fromQuery.waitFor((m) => m.event === 'ready');
    assert.deepEqual(
      fromQuery.messages.map((m) => m.id),
      ['run1-4', 'run1-4'],
    );
    await fromQuery.cancel();
  });

  it('tells the page to reload when it cannot know what was missed', async () => {
    const h = harness({ ringSize: 2 });
    for (const { body } of storyBodies().slice(0, 4)) await h.post(body);
    const cases: Array<[string, RegExp]> = [
      ['run1-1', /1 notification\(s\) after run1-1 are no longer kept \(the last 2 are\)/],
      ['run0-3', /the inspector was restarted since this page last heard from it/],
      ['run1-9', /stream id run1-9 is ahead of this inspector/],
      ['garbage', /"garbage" is not a stream id this inspector gave out/],
    ];
    for (const [lastEventId, reason] of cases) {
      const stream = await readStream(h, { 'Last-Event-ID': lastEventId });
      const reset = await stream.waitFor((m) => m.event === 'reset');
      assert.equal(reset.id, 'run1-4', 'the reset carries the current id, so the next reconnect resumes from it');
      assert.match((JSON.parse(reset.data) as { reason: string }).reason, reason);
      await stream.cancel();
    }
    const resumable = await readStream(h, { 'Last-Event-ID': 'run1-2' });
    await resumable.waitFor((m) => m.event === 'ready');
    assert.deepEqual(
      resumable.messages.map((m) => m.id),
      ['run1-3', 'run1-4', 'run1-4'],
    );
    await resumable.cancel();
  });

  it('gives the list and the stream position together, so nothing falls between them', async () => {
    const h = harness();
    await h.post(fixtureBody('link.create'));
    const page = await h.json<ListPage>('/api/events');
    assert.equal(page.lastEventId, 'run1-1');
    await h.post(fixtureBody('transfer.fail'));
    const stream = await readStream(h, {}, `?lastEventId=${page.lastEventId}`);
    const missed = await stream.waitFor((m) => m.event === 'event.stored');
    assert.equal(JSON.parse(missed.data).key, 'transfer.fail');
    await stream.cancel();
  });

  it('ends open streams when the inspector closes', async () => {
    const h = harness();
    const stream = await readStream(h);
    await stream.waitFor((m) => m.event === 'ready');
    h.inspector.close();
    await stream.untilClosed();
    assert.equal(h.inspector.feed.listenerCount, 0);
  });
});

describe('inspector: access', () => {
  const TOKEN = 'a-long-inspector-token-0123456789';

  it('without a token, answers only requests addressed to localhost', async () => {
    const h = harness();
    for (const host of ['127.0.0.1:3001', 'localhost:3001', '[::1]:3001']) {
      assert.equal((await h.get('/api/stats', { Host: host })).status, 200, host);
    }
    const rebound = await h.get('/api/stats', { Host: 'attacker.example:3001' });
    assert.equal(rebound.status, 403);
    assert.match(
      ((await rebound.json()) as { message: string }).message,
      /answers only to localhost, 127\.0\.0\.1 or \[::1\]; the request was addressed to "attacker\.example:3001"/,
    );
    const page = await h.get('/', { Host: 'attacker.example:3001' });
    assert.equal(page.status, 403);
    assert.match(await page.text(), /answers only to localhost/);
  });

  it('with a token, requires it on every page, asset and API call', async () => {
    const h = harness({ token: TOKEN, loopbackOnly: false });
    for (const path of ['/', '/api/events', '/api/stream', '/ui/main.js', '/vendor/preact/dist/preact.mjs']) {
      const response = await h.get(path, { Host: '192.0.2.10:3001' });
      assert.equal(response.status, 401, path);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="omise-webhook inspector"');
      assert.match(await response.text(), /this inspector needs its token; open the inspector URL printed by/);
    }
    const wrong = await h.get('/api/events', { Authorization: `Bearer ${TOKEN}x` });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { message: string }).message, /Authorization header does not carry/);
    assert.equal((await h.get('/api/events', { Authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await h.get(`/api/events?token=${TOKEN}`)).status, 401, '?token= is for opening the page');
  });

  it('turns ?token= on the page into an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
    const h = harness({ token: TOKEN, loopbackOnly: false });
    const wrong = await h.get(`/?token=nope&key=charge.*`);
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /the \?token= in this URL is not this inspector&#39;s token/);
    const opened = await h.get(`/?key=charge.*&token=${TOKEN}`);
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.get('location'), '/?key=charge.*');
    assert.equal(opened.headers.get('set-cookie'), `omise_webhook_ui_3001=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`);
    const cookie = `omise_webhook_ui_3001=${TOKEN}`;
    for (const path of ['/', '/api/events', '/ui/main.js']) {
      assert.equal((await h.get(path, { Cookie: `other=1; ${cookie}` })).status, 200, path);
    }
    assert.equal((await h.get('/api/events', { Cookie: 'omise_webhook_ui_3001=stale' })).status, 401);
  });
});

describe('inspector: the page and its modules', () => {
  const h = harness();

  it('serves the page with an import map for the vendor modules and a CSP that allows only it', async () => {
    const response = await h.get('/');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const html = await response.text();
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
    assert.ok(importMap, 'the page has an import map');
    assert.deepEqual(JSON.parse(importMap), {
      imports: {
        preact: '/vendor/preact/dist/preact.mjs',
        'preact/hooks': '/vendor/preact/hooks/dist/hooks.mjs',
        htm: '/vendor/htm/dist/htm.mjs',
      },
    });
    const hash = createHash('sha256').update(importMap).digest('base64');
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}'`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing is loaded from another site');
  });

  it('serves the vendor modules from node_modules and the UI files, and nothing else', async () => {
    for (const path of [
      '/vendor/preact/dist/preact.mjs',
      '/vendor/preact/hooks/dist/hooks.mjs',
      '/vendor/htm/dist/htm.mjs',
    ]) {
      const response = await h.get(path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
    }
    const main = await h.get('/ui/main.js');
    assert.equal(main.status, 200);
    for (const path of [
      '/ui/%2e%2e%2fapp%2fserver.ts',
      // Would name a real file (ui/main.js) if the escaped traversal were decoded.
      '/ui/%2e%2e%2fui%2fmain.js',
      '/vendor/preact/package.json',
      '/etc/passwd',
    ]) {
      assert.equal((await h.get(path)).status, 404, path);
    }
  });

  it('never reads a file outside the UI folder, whatever name it is asked for', () => {
    // The URL parser resolves `/ui/../x` before the app sees it, so ask the lookup directly, in
    // a UI folder with real files beside and below it that a traversal would reach.
    const root = temporaryDirectory();
    const ui = join(root, 'ui');
    mkdirSync(join(ui, 'sub'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!-- import map -->');
    writeFileSync(join(ui, 'main.js'), 'export {};');
    writeFileSync(join(ui, 'main.test.js'), 'export {};');
    writeFileSync(join(ui, 'sub', 'nested.js'), 'export {};');
    writeFileSync(join(root, 'secret.js'), 'export const secret = 1;');
    const assets = loadStaticAssets(ui);
    assert.equal(assets.asset('/ui/main.js')?.body.toString('utf8'), 'export {};');
    for (const path of [
      '/ui/../secret.js',
      '/ui/..%2fsecret.js',
      '/ui/..\\secret.js',
      '/ui/./main.js',
      '/ui/sub/nested.js',
      '/ui//main.js',
      '/ui/main.test.js',
      '/ui/.hidden.js',
      '/ui/index.html',
      '/secret.js',
    ]) {
      assert.equal(assets.asset(path), null, path);
    }
  });
});

describe('inspector: with many events', () => {
  it('pages through 120 events without repeating or skipping one', async () => {
    const h = harness();
    for (let i = 0; i < 120; i++) await h.store.recordDelivery(makeDelivery());
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: ListPage = await h.json<ListPage>(`/api/events?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      for (const item of page.items) {
        assert.equal(seen.has(item.id), false);
        seen.add(item.id);
      }
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(seen.size, 120);
  });
});

/** A realistic recorded attempt; the answer's bytes are UTF-8 with Thai text. */
function forwardAttempt(overrides: Partial<ForwardAttempt> = {}): ForwardAttempt {
  const job = { id: 1, eventId: 'evnt_test_5yhn1x9e0u2v8q4m6k0', target: 'http://localhost:4000/hook', attempts: 0 };
  return {
    seq: 1,
    ...makeForwardAttempt(job, { latencyMs: 12, responseExcerpt: Buffer.from('{"ok":true,"note":"ข้อความ"}') }),
    // A recorded attempt keeps the next attempt's time as text.
    nextAttemptAt: null,
    ...overrides,
  };
}
