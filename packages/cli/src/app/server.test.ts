import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventFileMirror, eventFilePath } from '../adapters/files/event-file-mirror.js';
import type { EventFiles, OmiseEventsApi } from '../core/ports.js';
import { eventBody } from '../testing/delivery-fixtures.js';
import { rawRequest } from '../testing/http.js';
import { startMinimalOmiseApi } from '../testing/minimal-omise-api.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

let sequence = 0;
function nextEventId(): string {
  sequence += 1;
  return `evnt_test_5xsrv${Date.now().toString(36)}${sequence}`;
}

function signedHeaders(
  body: string | Buffer,
  options: { secret?: string; timestamp?: number } = {},
): Array<[string, string]> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return [
    ['Content-Type', 'application/json'],
    ['User-Agent', 'Omise/2019-05-29'],
    ['Omise-Signature-Timestamp', String(timestamp)],
    ['Omise-Signature', signForTest(options.secret ?? TEST_WEBHOOK_SECRET, timestamp, body)],
  ];
}

async function post(server: TestServer, body: string | Buffer, headers: Array<[string, string]>) {
  const response = await rawRequest({ url: server.webhookUrl, headers, body });
  return { ...response, json: JSON.parse(response.body) as Record<string, unknown> };
}

describe('serve: signature verification, storage and files', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
  });
  after(() => server.close());

  it('stores a signed event byte for byte, with headers in order, before answering 200', async () => {
    const eventId = nextEventId();
    const body = eventBody({ eventId, key: 'charge.complete' });
    const headers = signedHeaders(body);
    const response = await post(server, body, headers);
    assert.equal(response.status, 200);
    assert.deepEqual(response.json, {
      received: true,
      id: eventId,
      duplicate: false,
      deliveries: 1,
      verification: 'verified',
    });
    // The answer came after the commit, so the store has it already.
    const stored = await server.store.getEvent(eventId);
    assert.ok(stored);
    assert.equal(Buffer.from(stored.body).toString('utf8'), body);
    assert.deepEqual(
      stored.headers.filter(([name]) => name !== 'Host' && name !== 'Connection'),
      [...headers, ['Content-Length', String(Buffer.byteLength(body))]],
    );
    assert.equal(stored.key, 'charge.complete');
    assert.equal(stored.objectId, 'chrg_test_5xfixture0001');
    assert.deepEqual(stored.verification, {
      mode: 'signature',
      status: 'verified',
      reason: 'signature matched the webhook secret',
    });
    await server.mirror?.idle();
    const file = readFileSync(join(server.config.logDir, 'api', 'event', `${eventId}.json`), 'utf8');
    assert.equal(file, `${JSON.stringify(JSON.parse(body), null, 2)}\n`);
  });

  it('keeps every realistic Omise fixture byte for byte (pretty-printed, unicode, \\/ escapes)', async () => {
    const fixtureDir = new URL('../../../events/test/fixtures/', import.meta.url);
    const names = readdirSync(fixtureDir).filter((name) => name.endsWith('.json'));
    assert.ok(names.length >= 10);
    for (const name of names) {
      const bytes = readFileSync(new URL(name, fixtureDir));
      const eventId = (JSON.parse(bytes.toString('utf8')) as { id: string }).id;
      const response = await post(server, bytes, signedHeaders(bytes));
      assert.equal(response.status, 200, name);
      const stored = await server.store.getEvent(eventId);
      assert.ok(Buffer.from(stored?.body ?? []).equals(bytes), `${name} stored byte for byte`);
    }
  });

  it('counts a redelivery of the same id and stores it once', async () => {
    const eventId = nextEventId();
    const body = eventBody({ eventId });
    assert.equal((await post(server, body, signedHeaders(body))).status, 200);
    const again = await post(server, body, signedHeaders(body));
    assert.equal(again.status, 200);
    assert.equal(again.json.duplicate, true);
    assert.equal(again.json.deliveries, 2);
    const page = await server.store.listEvents({ q: eventId });
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0]?.deliveryCount, 2);
  });

  it('answers 400 for a body that is not JSON, says where, and keeps the bytes', async () => {
    const body = '{\n  "object": "event",\n  "id": "evnt_test_5xbroken1",\n  "key": }';
    const response = await post(server, body, signedHeaders(body));
    assert.equal(response.status, 400);
    assert.equal(response.json.error, 'invalid_json');
    assert.match(String(response.json.message), /line 4, column 10/);
    const rejection = (await server.store.listRejections({ limit: 1 })).items[0];
    assert.equal(rejection?.status, 400);
    assert.equal(Buffer.from(rejection?.body ?? []).toString('utf8'), body);
    assert.equal(rejection?.eventId, 'evnt_test_5xbroken1');
  });

  const notEvents: Array<[string, string, string]> = [
    ['not an object', '[1, 2]', 'got an array'],
    ['object is not "event"', '{"object": "charge", "id": "chrg_test_1"}', 'object'],
    ['id is not an event id', '{"object": "event", "id": "../../etc/passwd", "key": "charge.create"}', 'id'],
    [
      'key missing',
      '{"object": "event", "id": "evnt_test_5xnokey", "livemode": false, "data": {"object": "charge"}}',
      'key',
    ],
    [
      'data missing',
      '{"object": "event", "id": "evnt_test_5xnodata", "key": "charge.create", "livemode": false}',
      'data',
    ],
  ];
  for (const [name, body, field] of notEvents) {
    it(`answers 422 naming the field when ${name}`, async () => {
      const response = await post(server, body, signedHeaders(body));
      assert.equal(response.status, 422);
      assert.equal(response.json.error, 'invalid_event');
      assert.match(String(response.json.message), new RegExp(field.replace(/[()]/g, '.')));
      const rejection = (await server.store.listRejections({ limit: 1 })).items[0];
      assert.equal(rejection?.status, 422);
      assert.equal(Buffer.from(rejection?.body ?? []).toString('utf8'), body);
    });
  }

  it('answers 401 for each signature failure, with the diagnosis, and keeps the request', async () => {
    const eventId = nextEventId();
    const body = eventBody({ eventId });
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Array<[string, string]>, string]> = [
      ['no headers', [['Content-Type', 'application/json']], 'missing_signature'],
      ['no timestamp', [['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, now, body)]], 'missing_timestamp'],
      [
        'malformed signature',
        [
          ['Omise-Signature', 'not-hex'],
          ['Omise-Signature-Timestamp', String(now)],
        ],
        'malformed_signature',
      ],
      ['stale', signedHeaders(body, { timestamp: now - 301 }), 'timestamp_too_old'],
      ['future', signedHeaders(body, { timestamp: now + 400 }), 'timestamp_in_future'],
      [
        'wrong secret',
        signedHeaders(body, { secret: Buffer.from('another secret entirely').toString('base64') }),
        'no_signature_matched',
      ],
    ];
    for (const [name, headers, code] of cases) {
      const response = await post(server, body, headers);
      assert.equal(response.status, 401, name);
      assert.equal(response.json.error, code, name);
      const rejection = (await server.store.listRejections({ limit: 1 })).items[0];
      assert.equal(rejection?.code, code, name);
      assert.equal(rejection?.eventId, eventId, name);
    }
    assert.equal(await server.store.getEvent(eventId), undefined, 'a rejected event is not stored as an event');
  });

  it('says when the sender used the secret without base64-decoding it', async () => {
    const body = eventBody({ eventId: nextEventId() });
    const timestamp = Math.floor(Date.now() / 1000);
    const wrongKey = Buffer.from(TEST_WEBHOOK_SECRET, 'utf8').toString('base64');
    const response = await post(server, body, signedHeaders(body, { secret: wrongKey, timestamp }));
    assert.equal(response.status, 401);
    assert.match(String(response.json.hint), /base64/);
  });

  it('points out an X-Omise-Signature header, which Omise never sends', async () => {
    const body = eventBody({ eventId: nextEventId() });
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await post(server, body, [
      ['X-Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, timestamp, body)],
      ['Omise-Signature-Timestamp', String(timestamp)],
    ]);
    assert.equal(response.status, 401);
    assert.equal(response.json.error, 'missing_signature');
    assert.match(String(response.json.hint), /X-Omise-Signature.*"Omise-Signature"/);
  });

  it('refuses live-mode events with 403 and keeps them', async () => {
    const body = eventBody({ eventId: 'evnt_5xlivemodeevent' }).replaceAll('"livemode": false', '"livemode": true');
    const response = await post(server, body, signedHeaders(body));
    assert.equal(response.status, 403);
    assert.equal(response.json.error, 'livemode_refused');
    assert.match(String(response.json.message), /--allow-live/);
    assert.equal((await server.store.listRejections({ limit: 1 })).items[0]?.eventId, 'evnt_5xlivemodeevent');
  });

  it('answers 413 from Content-Length without reading the body, and keeps a record', async () => {
    const response = await rawRequest({
      url: server.webhookUrl,
      headers: [
        ['Content-Type', 'application/json'],
        ['Content-Length', String(2 * 1024 * 1024)],
      ],
      body: '{',
    });
    assert.equal(response.status, 413);
    const json = JSON.parse(response.body) as { message: string };
    assert.equal(json.message, 'request body is 2 MiB; the limit is 1 MiB (--max-body / OMISE_WEBHOOK_MAX_BODY)');
    const rejection = (await server.store.listRejections({ limit: 1 })).items[0];
    assert.equal(rejection?.status, 413);
    assert.equal(rejection?.bodySize, 2 * 1024 * 1024);
    assert.equal(rejection?.body.byteLength, 0);
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const response = await rawRequest({
      url: server.webhookUrl,
      headers: [['Content-Type', 'application/json']],
      body: Buffer.alloc(1024 * 1024 + 10, 0x20),
      chunked: true,
    });
    assert.equal(response.status, 413);
    assert.match(JSON.parse(response.body).message, /^request body is at least 1 MiB; the limit is 1 MiB/);
  });

  it('answers 404 and 405 and does not keep them as rejections', async () => {
    const before = (await server.store.stats()).rejected;
    const wrongPath = await rawRequest({ url: server.webhookUrl.replace('/omise/webhook', '/webhook'), body: '{}' });
    assert.equal(wrongPath.status, 404);
    assert.match(JSON.parse(wrongPath.body).message, /POST \/omise\/webhook/);
    const wrongMethod = await rawRequest({ url: server.webhookUrl, method: 'GET' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.allow, 'POST');
    assert.equal((await server.store.stats()).rejected, before);
    const health = await rawRequest({ url: server.webhookUrl.replace('/omise/webhook', '/healthz'), method: 'GET' });
    assert.equal(health.status, 200);
  });
});

describe('serve: limits and slow senders', () => {
  it('drops a half-sent request after the timeout and keeps serving others meanwhile', async () => {
    const server = await startTestServer({ requestTimeoutMs: 400 });
    try {
      const { port } = server.listener;
      const socket = connect(port, '127.0.0.1');
      const closed = new Promise<string>((resolve) => {
        let received = '';
        socket.on('data', (chunk) => {
          received += chunk.toString('utf8');
        });
        socket.on('close', () => resolve(received));
      });
      socket.write('POST /omise/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"object": "ev');
      const body = eventBody({ eventId: nextEventId() });
      const meanwhile = await rawRequest({
        url: server.webhookUrl,
        headers: [['Content-Type', 'application/json']],
        body,
      });
      assert.equal(meanwhile.status, 200);
      const received = await closed;
      assert.match(received, /^HTTP\/1\.1 408/);
    } finally {
      await server.close();
    }
  });

  it('accepts a body exactly at the limit', async () => {
    const server = await startTestServer({ maxBodyBytes: 4096 });
    try {
      const base = eventBody({ eventId: nextEventId() });
      const body = base.replace(
        '"currency": "thb"',
        `"currency": "thb",\n    "padding": "${'x'.repeat(4096 - Buffer.byteLength(base) - 19)}"`,
      );
      assert.equal(Buffer.byteLength(body), 4096);
      const response = await rawRequest({
        url: server.webhookUrl,
        headers: [['Content-Type', 'application/json']],
        body,
      });
      assert.equal(response.status, 200);
      const over = await rawRequest({
        url: server.webhookUrl,
        headers: [['Content-Type', 'application/json']],
        body: `${body} `,
      });
      assert.equal(over.status, 413);
    } finally {
      await server.close();
    }
  });
});

describe('serve: nothing configured', () => {
  it('accepts and marks events unverified', async () => {
    const server = await startTestServer();
    try {
      const eventId = nextEventId();
      const response = await post(server, eventBody({ eventId }), [['Content-Type', 'application/json']]);
      assert.equal(response.status, 200);
      assert.equal(response.json.verification, 'unverified');
      const stored = await server.store.getEvent(eventId);
      assert.equal(stored?.verification.mode, 'none');
      assert.match(stored?.verification.reason ?? '', /OMISE_WEBHOOK_SECRET/);
    } finally {
      await server.close();
    }
  });

  it('accepts live events with allowLive', async () => {
    const server = await startTestServer({ allowLive: true });
    try {
      const body = eventBody({ eventId: 'evnt_5xliveallowed' }).replaceAll('"livemode": false', '"livemode": true');
      const response = await post(server, body, [['Content-Type', 'application/json']]);
      assert.equal(response.status, 200);
      assert.equal((await server.store.getEvent('evnt_5xliveallowed'))?.livemode, true);
    } finally {
      await server.close();
    }
  });
});

describe('serve: verification with the Omise API', () => {
  const secretKey = 'skey_test_5xapiverify0001';
  let api: Awaited<ReturnType<typeof startMinimalOmiseApi>>;
  let server: TestServer;
  before(async () => {
    api = await startMinimalOmiseApi({ secretKey });
    server = await startTestServer({ secretKey, apiUrl: api.url });
  });
  after(async () => {
    await server.close();
    await api.close();
  });

  it('keeps Omise’s copy beside the received bytes, notes differences, and writes the copy to the file', async () => {
    const eventId = nextEventId();
    const body = eventBody({ eventId });
    const copy = body
      .replace('"amount": 100000', '"amount": 100001')
      .replace('"webhook_deliveries": [\n\n  ]', '"webhook_deliveries": []');
    api.events.set(eventId, copy);
    const response = await post(server, body, [['Content-Type', 'application/json']]);
    assert.equal(response.status, 200);
    assert.equal(response.json.verification, 'verified');
    const stored = await server.store.getEvent(eventId);
    assert.equal(stored?.verification.mode, 'api');
    assert.equal(Buffer.from(stored?.body ?? []).toString('utf8'), body);
    assert.equal(stored?.omiseCopy?.body, copy);
    assert.deepEqual(stored?.omiseCopy?.differences, ['data.amount']);
    assert.ok(api.requests.includes(`GET /events/${eventId}`));
    await server.mirror?.idle();
    const file = readFileSync(join(server.config.logDir, 'api', 'event', `${eventId}.json`), 'utf8');
    assert.equal(file, `${JSON.stringify(JSON.parse(copy), null, 2)}\n`);
  });

  it('answers 401 for an event the API does not know', async () => {
    const eventId = nextEventId();
    const response = await post(server, eventBody({ eventId }), [['Content-Type', 'application/json']]);
    assert.equal(response.status, 401);
    assert.equal(response.json.error, 'unknown_to_omise_api');
    assert.match(String(response.json.message), new RegExp(`${eventId}.*not_found`));
  });

  it('accepts as pending while the API is down, then verifies in the background', async () => {
    const eventId = nextEventId();
    const body = eventBody({ eventId });
    api.setDown(true);
    const response = await post(server, body, [['Content-Type', 'application/json']]);
    assert.equal(response.status, 200);
    assert.equal(response.json.verification, 'pending');
    api.setDown(false);
    api.events.set(eventId, body);
    const updated = new Promise<string>((resolve) =>
      server.notifier.subscribe((n) => {
        if (n.type === 'event.updated' && n.event.eventId === eventId) resolve(n.event.verification.status);
      }),
    );
    assert.equal(await server.verifier?.runOnce(), 1);
    assert.equal(await updated, 'verified');
    const stored = await server.store.getEvent(eventId);
    assert.equal(stored?.verification.apiAttempts, 2);
    assert.equal(stored?.omiseCopy?.body, body);
  });

  it('marks a pending event failed when the API later says it does not exist', async () => {
    const eventId = nextEventId();
    api.setDown(true);
    await post(server, eventBody({ eventId }), [['Content-Type', 'application/json']]);
    api.setDown(false);
    await server.verifier?.runOnce();
    assert.equal((await server.store.getEvent(eventId))?.verification.status, 'failed');
  });
});

describe('serve: durability across a restart', () => {
  it('keeps every acknowledged event, and the file tree matches the store', async () => {
    const first = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
    const logDir = first.config.logDir;
    const ids = Array.from({ length: 30 }, () => nextEventId());
    const answers = await Promise.all(
      ids.map((eventId, i) => {
        const body = eventBody({ eventId, key: i % 2 ? 'charge.create' : 'refund.create' });
        return post(first, body, signedHeaders(body));
      }),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      ids.map(() => 200),
    );
    await first.close();
    // A crash between commit and file write loses a file or leaves a stale one: both are rebuilt.
    const eventDir = join(logDir, 'api', 'event');
    rmSync(join(eventDir, `${ids[0]}.json`));
    writeFileSync(join(eventDir, `${ids[1]}.json`), '{"stale": true}\n');

    const second = await startTestServer({ logDir, webhookSecrets: [TEST_WEBHOOK_SECRET], files: false });
    try {
      for (const id of ids) assert.ok(await second.store.getEvent(id), `${id} is still stored`);
      const mirror = new EventFileMirror({ logDir });
      assert.equal(await mirror.reconcile(second.store), 2);
      assert.equal(await mirror.reconcile(second.store), 0);
      const files = readdirSync(join(logDir, 'api', 'event')).sort();
      assert.deepEqual(files, [...ids].map((id) => `${id}.json`).sort());
      for (const id of ids) {
        const stored = await second.store.getEvent(id);
        const file = readFileSync(join(logDir, 'api', 'event', `${id}.json`), 'utf8');
        assert.equal(
          file,
          `${JSON.stringify(JSON.parse(Buffer.from(stored?.body ?? []).toString('utf8')), null, 2)}\n`,
        );
      }
    } finally {
      await second.close();
    }
  });
});

describe('serve: secret rotation and unusable secrets', () => {
  it('accepts signatures from either secret while a secret is being rolled', async () => {
    const oldSecret = Buffer.from('the old webhook secret, 32 bytes').toString('base64');
    const server = await startTestServer({ webhookSecrets: [oldSecret, TEST_WEBHOOK_SECRET] });
    try {
      for (const [secret, reason] of [
        [oldSecret, 'signature matched secret #1'],
        [TEST_WEBHOOK_SECRET, 'signature matched secret #2'],
      ] as const) {
        const eventId = nextEventId();
        const body = eventBody({ eventId });
        const response = await post(server, body, signedHeaders(body, { secret }));
        assert.equal(response.status, 200);
        assert.equal((await server.store.getEvent(eventId))?.verification.reason, reason);
      }
      // Omise sends both signatures, comma-separated, during the roll.
      const eventId = nextEventId();
      const body = eventBody({ eventId });
      const timestamp = Math.floor(Date.now() / 1000);
      const both = `${signForTest(Buffer.from('unknown').toString('base64'), timestamp, body)},${signForTest(TEST_WEBHOOK_SECRET, timestamp, body)}`;
      const response = await post(server, body, [
        ['Omise-Signature', both],
        ['Omise-Signature-Timestamp', String(timestamp)],
      ]);
      assert.equal(response.status, 200);
    } finally {
      await server.close();
    }
  });

  it('refuses to start with a webhook secret that is not base64, without printing it', async () => {
    await assert.rejects(startTestServer({ webhookSecrets: ['not base64 at all!'] }), (error: Error) => {
      assert.equal(error.name, 'ConfigError');
      assert.match(error.message, /^OMISE_WEBHOOK_SECRET cannot be used: /);
      assert.doesNotMatch(error.message, /not base64 at all!/);
      return true;
    });
  });
});

describe('event files', () => {
  it('uses only valid event ids in paths', () => {
    assert.equal(eventFilePath('/logs', 'evnt_test_5xabc'), join('/logs', 'api', 'event', 'evnt_test_5xabc.json'));
    for (const unsafe of [
      '../evnt_test_1',
      'evnt_test_1/../../x',
      'evnt_test_ABC',
      'chrg_test_1',
      '',
      'evnt_test_1\0',
    ]) {
      assert.equal(eventFilePath('/logs', unsafe), null, unsafe);
    }
  });
});

describe('serve: what strangers and changed redeliveries can make it keep', () => {
  it('keeps a flood of large refused bodies within --max-rejected-bytes on disk, and every accepted event', async () => {
    const server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET], maxRejectedBytes: 1024 * 1024 });
    try {
      const before = nextEventId();
      const beforeBody = eventBody({ eventId: before });
      assert.equal((await post(server, beforeBody, signedHeaders(beforeBody))).status, 200);
      // 60 unsigned posts of almost 1 MiB: about 60 MB kept before the byte bound.
      const flood = Buffer.alloc(1000 * 1000, 0x20);
      for (let i = 0; i < 60; i++) {
        flood.write(`{"object": "event", "n": ${i}`, 0);
        const response = await rawRequest({
          url: server.webhookUrl,
          headers: [['Content-Type', 'application/json']],
          body: flood,
        });
        // Unsigned: refused by the signature check before anything parses the body.
        assert.equal(response.status, 401);
      }
      const afterId = nextEventId();
      const afterBody = eventBody({ eventId: afterId });
      assert.equal((await post(server, afterBody, signedHeaders(afterBody))).status, 200);
      const newest = (await server.store.listRejections({ limit: 1 })).items[0];
      assert.equal(newest?.bodySize, 1000 * 1000);
      assert.equal(newest?.bodyTruncated, true);
      assert.equal(newest?.body.byteLength, 64 * 1024);
      const kept = (await server.store.stats()).rejected;
      assert.ok(kept >= 10 && kept <= 16, `${kept} rejections of 64 KiB and their headers fit in 1 MiB`);
      assert.ok(await server.store.getEvent(before), 'the event accepted before the flood is kept');
      assert.ok(await server.store.getEvent(afterId));
    } catch (error) {
      await server.close();
      throw error;
    }
    const file = join(server.config.logDir, 'omise-webhook.sqlite');
    await server.close();
    let size = statSync(file).size;
    if (existsSync(`${file}-wal`)) size += statSync(`${file}-wal`).size;
    assert.ok(size < 4 * 1024 * 1024, `the store takes ${size} bytes on disk after 60 MB of refused posts`);
  });

  it('answers 200 to a signed redelivery with another body, says body_differs, and prints it', async () => {
    const server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
    try {
      const eventId = nextEventId();
      const body = eventBody({ eventId });
      assert.equal((await post(server, body, signedHeaders(body))).status, 200);
      const again = await post(server, body, signedHeaders(body));
      assert.deepEqual(again.json, {
        received: true,
        id: eventId,
        duplicate: true,
        deliveries: 2,
        verification: 'verified',
      });
      const changed = eventBody({ eventId, extra: '9999' });
      const differing = await post(server, changed, signedHeaders(changed));
      assert.equal(differing.status, 200);
      assert.deepEqual(differing.json, {
        received: true,
        id: eventId,
        duplicate: true,
        body_differs: true,
        deliveries: 3,
        verification: 'verified',
      });
      const [kept] = await server.store.listDifferingBodies(eventId);
      assert.equal(Buffer.from(kept?.excerpt as Uint8Array).toString('utf8'), changed);
      await new Promise((resolve) => setImmediate(resolve));
      const lines = server.stdout.lines.filter((line) => line.includes(eventId));
      assert.match(lines[1] ?? '', /duplicate, delivery #2$/);
      assert.match(lines[2] ?? '', /duplicate, delivery #3, body differs from the first$/);
    } finally {
      await server.close();
    }
  });
});

describe('serve: the Omise API and the event files are ports', () => {
  it('verifies through an injected OmiseEventsApi and writes through injected EventFiles, no HTTP or disk', async () => {
    const eventId = nextEventId();
    const body = eventBody({ eventId });
    const asked: string[] = [];
    const omiseApi: OmiseEventsApi = {
      baseUrl: 'fake://omise',
      lookupEvent: async (id) => {
        asked.push(id);
        return { kind: 'found', body };
      },
      listEvents: () => Promise.reject(new Error('not used here')),
      getEvent: () => Promise.reject(new Error('not used here')),
    };
    const written: string[] = [];
    const eventFiles: EventFiles = {
      waitingFiles: 0,
      enqueue: (event) => written.push(event.eventId),
      removeFiles: async () => {},
      reconcile: async () => 0,
      idle: async () => {},
      close: async () => {},
    };
    const server = await startTestServer(
      { verify: 'api', secretKey: 'skey_test_5xportsfake01', files: true, store: 'memory' },
      undefined,
      { omiseApi, eventFiles },
    );
    try {
      const response = await post(server, body, [['Content-Type', 'application/json']]);
      assert.equal(response.status, 200, response.body);
      assert.equal(response.json.verification, 'verified');
      assert.deepEqual(asked, [eventId]);
      assert.deepEqual(written, [eventId]);
      assert.equal(server.mirror, eventFiles);
    } finally {
      await server.close();
    }
  });
});
