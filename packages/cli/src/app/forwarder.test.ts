import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { verifyOmiseSignature } from '@omise-webhook/events';
import { RawHttpSender } from '../adapters/http/raw-http-sender.js';
import { SqliteEventStore } from '../adapters/store/sqlite-event-store.js';
import { Notifier } from '../core/notifier.js';
import { systemClock, systemTimers } from '../core/ports.js';
import { eventBody, makeDelivery } from '../testing/delivery-fixtures.js';
import { FakeClock } from '../testing/fake-clock.js';
import { omiseHeaders, postWebhook, watchAttempts } from '../testing/forwarding.js';
import { startMinimalOmiseApi } from '../testing/minimal-omise-api.js';
import { TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { headerValue, startTargetServer, type TargetServer } from '../testing/target-server.js';
import { startTestServer, type TestServer, temporaryDirectory } from '../testing/test-server.js';
import { Forwarder } from './forwarder.js';
import { recordEvent } from './record-event.js';

let sequence = 0;
function nextEventId(): string {
  sequence += 1;
  return `evnt_test_5xfwd${Date.now().toString(36)}${sequence}`;
}

/** Console lines are written once per turn of the event loop. */
const consoleFlushed = () => new Promise((resolve) => setImmediate(resolve));
const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');
const nowSec = () => Math.floor(Date.now() / 1000);
const attemptHeaders = (target: TargetServer) => target.requests.map((r) => headerValue(r, 'Omise-Webhook-Attempt'));
const eventIdsAt = (target: TargetServer) => target.requests.map((r) => headerValue(r, 'Omise-Webhook-Event-Id'));

/** Things to close after each test, newest first. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function target(): Promise<TargetServer> {
  const started = await startTargetServer();
  cleanups.push(() => started.close());
  return started;
}

async function server(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const started = await startTestServer(...args);
  cleanups.push(() => started.close());
  return started;
}

describe('forwarding: the exact bytes and headers reach the target', () => {
  it('delivers pretty-printed, unicode, \\/-escaped and near-1 MiB bodies byte for byte, still verifiable', async () => {
    const app = await target();
    const srv = await server({ webhookSecrets: [TEST_WEBHOOK_SECRET], forwardTo: [app.url] });
    const fixture = readFileSync(new URL('../../../events/test/fixtures/charge.complete.json', import.meta.url));
    const near1MiB = (() => {
      const eventId = nextEventId();
      const base = Buffer.byteLength(eventBody({ eventId, extra: '' }));
      // Thai characters are 3 bytes each: fill to 200 bytes under the 1 MiB limit.
      return eventBody({ eventId, extra: 'ก'.repeat(Math.floor((1024 * 1024 - 200 - base) / 3)) });
    })();
    const bodies: Buffer[] = [Buffer.from(eventBody({ eventId: nextEventId() })), fixture, Buffer.from(near1MiB)];
    assert.ok(bodies[2] && bodies[2].length > 1024 * 1024 - 400 && bodies[2].length <= 1024 * 1024);
    assert.ok(fixture.includes('\\/') && fixture.includes('[\n\n  ]'), 'the fixture is Omise-shaped');
    for (const body of bodies) {
      const answer = await postWebhook(srv, body, omiseHeaders(body, nowSec()));
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
    }
    const received = await app.waitForRequests(bodies.length);
    for (const [index, request] of received.entries()) {
      const body = bodies[index] as Buffer;
      assert.equal(request.sha256, sha256(body), `body ${index} arrived byte for byte`);
      const verified = await verifyOmiseSignature({
        payload: request.body,
        signature: headerValue(request, 'Omise-Signature'),
        timestamp: headerValue(request, 'Omise-Signature-Timestamp'),
        secret: TEST_WEBHOOK_SECRET,
        toleranceSec: 300,
      });
      assert.equal(verified.ok, true, `the signature of body ${index} still verifies at the target`);
      assert.equal(request.url, '/omise/webhook');
      assert.equal(request.method, 'POST');
    }
  });

  it('keeps header order and spelling, drops hop-by-hop headers, and adds its own', async () => {
    const app = await target();
    const srv = await server({ forwardTo: [app.url] });
    const eventId = nextEventId();
    const body = eventBody({ eventId });
    const timestamp = nowSec();
    const sent: Array<[string, string]> = [
      ['Host', 'abc123.ngrok-free.app'],
      ['user-agent', 'Omise/2019-05-29'],
      ['Omise-Signature-Timestamp', String(timestamp)],
      ['X-Request-ID', 'req-1'],
      ['Connection', 'keep-alive, X-Hop-Secret'],
      ['X-Hop-Secret', 'must not pass'],
      ['Keep-Alive', 'timeout=5'],
      ['Proxy-Authorization', 'Basic Zm9vOmJhcg=='],
      ['TE', 'trailers'],
      ['Omise-Signature', 'a'.repeat(64)],
      ['Content-Type', 'application/json'],
      ['Content-Length', String(Buffer.byteLength(body))],
      ['X-Forwarded-For', '203.0.113.9'],
      ['Omise-Webhook-Attempt', '99'],
      ['x-MiXeD-Case', 'kept as spelled'],
    ];
    assert.equal((await postWebhook(srv, body, sent)).status, 200);
    const [request] = await app.waitForRequests(1);
    assert.ok(request);
    // Node's client adds its own Connection header for the new connection; it is hop-by-hop by definition.
    const arrived = request.headers.filter(([name]) => name.toLowerCase() !== 'connection');
    assert.deepEqual(arrived, [
      ['Host', `127.0.0.1:${app.port}`],
      ['user-agent', 'Omise/2019-05-29'],
      ['Omise-Signature-Timestamp', String(timestamp)],
      ['X-Request-ID', 'req-1'],
      ['Omise-Signature', 'a'.repeat(64)],
      ['Content-Type', 'application/json'],
      ['Content-Length', String(Buffer.byteLength(body))],
      ['X-Forwarded-For', '203.0.113.9'],
      ['x-MiXeD-Case', 'kept as spelled'],
      ['Omise-Webhook-Forwarded-By', 'omise-webhook'],
      ['Omise-Webhook-Attempt', '1'],
      ['Omise-Webhook-Event-Id', eventId],
    ]);
    assert.equal(request.body.toString('utf8'), body);
  });

  it('routes by key pattern, and --forward-to gets every event, in the order received', async () => {
    const [charges, refunds, everything] = [await target(), await target(), await target()];
    const srv = await server({
      forwardTo: [everything.url],
      forward: [
        { pattern: 'charge.*', url: charges.url },
        { pattern: 'refund.create,dispute.*', url: refunds.url },
      ],
    });
    const keys = ['charge.create', 'refund.create', 'customer.create', 'charge.complete', 'dispute.create'];
    const ids: string[] = [];
    for (const key of keys) {
      const eventId = nextEventId();
      ids.push(eventId);
      const body = eventBody({ eventId, key });
      assert.equal((await postWebhook(srv, body, [['Content-Type', 'application/json']])).status, 200);
    }
    await everything.waitForRequests(5);
    await charges.waitForRequests(2);
    await refunds.waitForRequests(2);
    await srv.forwarder.idle();
    assert.deepEqual(eventIdsAt(everything), ids);
    assert.deepEqual(eventIdsAt(charges), [ids[0], ids[3]]);
    assert.deepEqual(eventIdsAt(refunds), [ids[1], ids[4]]);
    const attempts = await srv.forwarder.forwardAttemptsFor(ids[0] as string);
    assert.deepEqual(
      attempts.map((a) => [a.target, a.status, a.outcome]).sort(),
      [
        [charges.url, 200, 'delivered'],
        [everything.url, 200, 'delivered'],
      ].sort(),
    );
    assert.equal(Buffer.from(attempts[0]?.responseExcerpt ?? []).toString(), '{"ok":true}');
    assert.ok((attempts[0]?.latencyMs ?? -1) >= 0);
    // A redelivery of the same event by Omise is counted, not forwarded again.
    const again = await postWebhook(srv, eventBody({ eventId: ids[0] as string, key: 'charge.create' }), [
      ['Content-Type', 'application/json'],
    ]);
    assert.equal(again.json.duplicate, true);
    await srv.forwarder.idle();
    assert.equal(everything.requests.length, 5);
    await consoleFlushed();
    assert.match(
      srv.stdout.text,
      new RegExp(`→ forward +${ids[0]} +${everything.url.replace(/[/.]/g, '\\$&')} +✔ 200`),
    );
  });

  it('forwards only events that passed verification; a pending one once the Omise API confirms it', async () => {
    const app = await target();
    const api = await startMinimalOmiseApi({ secretKey: 'skey_test_5xforwardtests' });
    cleanups.push(() => api.close());
    const srv = await server({
      forwardTo: [app.url],
      secretKey: 'skey_test_5xforwardtests',
      apiUrl: api.url,
      verify: 'api',
    });
    const known = nextEventId();
    const unknown = nextEventId();
    const body = eventBody({ eventId: known });
    api.setDown(true);
    assert.equal((await postWebhook(srv, body, [['Content-Type', 'application/json']])).status, 200);
    assert.equal(
      (await postWebhook(srv, eventBody({ eventId: unknown }), [['Content-Type', 'application/json']])).status,
      200,
    );
    await srv.forwarder.idle();
    assert.equal(app.requests.length, 0, 'nothing is forwarded while the check is pending');
    assert.deepEqual(
      (await srv.store.listForwardJobs(known)).map((j) => j.state),
      ['held'],
    );
    api.setDown(false);
    api.events.set(known, body);
    assert.equal(await srv.verifier?.runOnce(), 2);
    const [request] = await app.waitForRequests(1);
    assert.equal(headerValue(request as never, 'Omise-Webhook-Event-Id'), known);
    assert.deepEqual(
      (await srv.store.listForwardJobs(unknown)).map((j) => j.state),
      ['cancelled'],
    );
    await srv.forwarder.idle();
    assert.equal(app.requests.length, 1);
  });

  it('answers the webhook without waiting for the target', async () => {
    const app = await target();
    app.respond = () => 'hang';
    const srv = await server({ forwardTo: [app.url], forwardTimeoutMs: 60_000 });
    const eventId = nextEventId();
    const answered = postWebhook(srv, eventBody({ eventId }), [['Content-Type', 'application/json']]);
    const first = await Promise.race([answered.then(() => 'answered'), app.waitForRequests(1).then(() => 'target')]);
    // Either order is fine at this point; what matters is the answer while the target still hangs.
    assert.ok(first === 'answered' || first === 'target');
    assert.equal((await answered).status, 200);
    await app.waitForRequests(1);
    assert.deepEqual(await srv.store.listForwardAttempts(eventId), [], 'the forward is still waiting for the target');
  });
});

describe('forwarding starts at commit, not after the disk sync', () => {
  it('sends to the target while the event is committed but its sync is still running', async () => {
    const app = await target();
    const dir = temporaryDirectory();
    const heldSyncs: Array<() => void> = [];
    const store = new SqliteEventStore({
      filename: join(dir, 'store.sqlite'),
      syncFile: (_fd, callback) => heldSyncs.push(() => callback(null)),
    });
    const notifier = new Notifier();
    const forwarder = new Forwarder({
      store,
      notifier,
      sender: new RawHttpSender(),
      routes: [{ pattern: '*', url: app.url }],
      plan: { scheduleMs: [1000], retry4xx: false },
      timeoutMs: 5_000,
      clock: systemClock,
      timers: systemTimers,
      // No polling during the test: only being told at commit can start the send.
      pollIntervalMs: 600_000,
    });
    forwarder.start();
    const delivery = makeDelivery({ eventId: nextEventId() });
    let acknowledged = false;
    const recorded = recordEvent(
      {
        store,
        notifier,
        forwardRoutes: [{ pattern: '*', url: app.url }],
        onCommitted: (r) => forwarder.eventCommitted(r),
      },
      delivery,
    ).then(() => {
      acknowledged = true;
    });
    await app.waitForRequests(1);
    assert.equal(acknowledged, false, 'the target has it before the sync returned');
    assert.equal(heldSyncs.length, 1, 'the event sync is still held');
    assert.equal(sha256(app.requests[0]?.body ?? Buffer.alloc(0)), sha256(Buffer.from(delivery.body)));
    while (!acknowledged) {
      heldSyncs.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await recorded;
    const release = setInterval(() => heldSyncs.shift()?.(), 1);
    await forwarder.stop();
    await store.close();
    clearInterval(release);
    assert.equal(app.requests.length, 1, 'sent once, not again when the event was acknowledged');
  });
});

describe('forwarding: retries on a schedule that survives restarts', () => {
  const T0 = Math.floor(Date.now() / 1000) * 1000;

  it('retries 5xx on the schedule, with a fake clock, and gives up into the failed list', async () => {
    const app = await target();
    let failures = 3;
    app.respond = () => (failures-- > 0 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' });
    const clock = new FakeClock(T0);
    const srv = await server({ forwardTo: [app.url], retryScheduleMs: [5_000, 30_000, 120_000] }, clock, {
      timers: clock,
    });
    const watch = watchAttempts(srv);
    const eventId = nextEventId();
    await postWebhook(srv, eventBody({ eventId }), [['Content-Type', 'application/json']]);
    const [first] = await watch.waitFor(1);
    assert.equal(first?.outcome, 'retry');
    assert.equal(first?.status, 503);
    assert.equal(first?.nextAttemptAt, new Date(T0 + 5_000).toISOString());
    clock.advance(4_999);
    await srv.forwarder.idle();
    assert.equal(app.requests.length, 1, 'not before its time');
    clock.advance(1);
    await watch.waitFor(2);
    assert.equal(watch.attempts[1]?.nextAttemptAt, new Date(T0 + 5_000 + 30_000).toISOString());
    clock.advance(30_000);
    await watch.waitFor(3);
    assert.equal(watch.attempts[2]?.nextAttemptAt, new Date(T0 + 35_000 + 120_000).toISOString());
    clock.advance(120_000);
    const attempts = await watch.waitFor(4);
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.status, a.outcome]),
      [
        [1, 503, 'retry'],
        [2, 503, 'retry'],
        [3, 503, 'retry'],
        [4, 200, 'delivered'],
      ],
    );
    assert.deepEqual(attemptHeaders(app), ['1', '2', '3', '4']);
    assert.equal(new Set(app.requests.map((r) => r.sha256)).size, 1, 'the same bytes every time');
    assert.equal((await srv.store.listForwardJobs(eventId))[0]?.state, 'delivered');

    // Out of retries: the job goes to the failed list, and retrying it by hand sends it again.
    app.respond = () => ({ status: 500, body: 'broken' });
    const doomed = nextEventId();
    await postWebhook(srv, eventBody({ eventId: doomed }), [['Content-Type', 'application/json']]);
    await watch.waitFor(5);
    for (const [index, wait] of [5_000, 30_000, 120_000].entries()) {
      clock.advance(wait);
      await watch.waitFor(6 + index);
    }
    const last = watch.attempts[7];
    assert.equal(last?.outcome, 'failed');
    assert.match(last?.reason ?? '', /^500 from the target; gave up after 4 attempts \(--retry-schedule\)$/);
    const [failed] = await srv.store.listFailedForwards();
    assert.equal(failed?.eventId, doomed);
    await consoleFlushed();
    assert.match(srv.stdout.text, /gave up: 500 from the target; gave up after 4 attempts/);
    app.respond = () => ({ status: 204 });
    await srv.forwarder.retryFailed(failed?.id as number);
    const retried = (await watch.waitFor(9))[8];
    assert.deepEqual([retried?.attempt, retried?.status, retried?.outcome], [5, 204, 'delivered']);
    assert.deepEqual(await srv.store.listFailedForwards(), []);
  });

  it('treats 4xx as final, unless --retry-4xx', async () => {
    for (const retry4xx of [false, true]) {
      const app = await target();
      app.respond = () => ({ status: 422, body: '{"error":"unprocessable"}' });
      const clock = new FakeClock(T0);
      const srv = await server({ forwardTo: [app.url], retry4xx, retryScheduleMs: [1_000] }, clock, { timers: clock });
      const watch = watchAttempts(srv);
      await postWebhook(srv, eventBody({ eventId: nextEventId() }), [['Content-Type', 'application/json']]);
      const [attempt] = await watch.waitFor(1);
      if (!retry4xx) {
        assert.equal(attempt?.outcome, 'failed');
        assert.match(attempt?.reason ?? '', /422 from the target: the handler refused it.*--retry-4xx/);
        assert.equal(Buffer.from(attempt?.responseExcerpt ?? []).toString(), '{"error":"unprocessable"}');
        clock.advance(60_000);
        await srv.forwarder.idle();
        assert.equal(app.requests.length, 1, 'never retried');
      } else {
        assert.equal(attempt?.outcome, 'retry');
        clock.advance(1_000);
        const [, second] = await watch.waitFor(2);
        assert.equal(second?.outcome, 'failed');
        assert.equal(app.requests.length, 2);
      }
    }
  });

  it('resumes after a restart mid-retry and delivers everything exactly once, in order', async () => {
    const app = await target();
    app.respond = (_request, index) => (index === 0 ? { status: 502, body: 'bad gateway' } : { status: 200 });
    const logDir = temporaryDirectory();
    const config = { forwardTo: [app.url], logDir, retryScheduleMs: [5_000, 30_000] };
    const clockA = new FakeClock(T0);
    const first = await startTestServer(config, clockA, { timers: clockA });
    const watchA = watchAttempts(first);
    const [one, two] = [nextEventId(), nextEventId()];
    await postWebhook(first, eventBody({ eventId: one }), [['Content-Type', 'application/json']]);
    await watchA.waitFor(1);
    await postWebhook(first, eventBody({ eventId: two }), [['Content-Type', 'application/json']]);
    await first.forwarder.idle();
    assert.equal(app.requests.length, 1, 'the second waits behind the first');
    await first.close();

    const clockB = new FakeClock(T0 + 1_000);
    const second = await server(config, clockB, { timers: clockB });
    const watchB = watchAttempts(second);
    await second.forwarder.idle();
    assert.equal(app.requests.length, 1, 'the restarted server waits for the retry time');
    clockB.set(T0 + 5_000);
    await watchB.waitFor(2);
    await second.forwarder.idle();
    assert.deepEqual(eventIdsAt(app), [one, one, two]);
    assert.deepEqual(attemptHeaders(app), ['1', '2', '1']);
    assert.deepEqual(
      (await second.store.listForwardAttempts(one)).map((a) => [a.attempt, a.status, a.outcome]),
      [
        [1, 502, 'retry'],
        [2, 200, 'delivered'],
      ],
    );
    clockB.advance(3_600_000);
    await second.forwarder.idle();
    assert.equal(app.requests.length, 3, 'nothing is sent twice');
  });

  it('queues events while the target is down and delivers them in order when it comes back', async () => {
    const probe = await startTargetServer();
    const port = probe.port;
    await probe.close();
    const url = `http://127.0.0.1:${port}/omise/webhook`;
    const clock = new FakeClock(T0);
    const srv = await server({ forwardTo: [url], retryScheduleMs: [5_000, 30_000] }, clock, { timers: clock });
    const watch = watchAttempts(srv);
    const ids = Array.from({ length: 6 }, () => nextEventId());
    for (const eventId of ids) {
      await postWebhook(srv, eventBody({ eventId }), [['Content-Type', 'application/json']]);
    }
    await watch.waitFor(1);
    await srv.forwarder.idle();
    const refused = watch.attempts[0];
    assert.equal(refused?.status, null);
    assert.match(refused?.error ?? '', /connection refused by 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.ok(watch.attempts.every((a) => a.outcome === 'retry'));
    const app = await startTargetServer({ port });
    cleanups.push(() => app.close());
    clock.advance(5_000);
    await app.waitForRequests(ids.length);
    await srv.forwarder.idle();
    assert.deepEqual(eventIdsAt(app), ids);
    for (const eventId of ids) {
      assert.equal((await srv.store.listForwardJobs(eventId))[0]?.state, 'delivered');
    }
  });
});

describe('forwarding: targets that misbehave are recorded, never crash the server', () => {
  let garbage: NetServer;
  after(() => new Promise((resolve) => garbage?.close(resolve)));

  it('records garbage answers, timeouts, dropped connections and long bodies', async () => {
    garbage = createNetServer((socket) => {
      socket.on('data', () => socket.end('this is not HTTP at all\r\n\r\n'));
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const garbageUrl = `http://127.0.0.1:${(garbage.address() as { port: number }).port}/hook`;
    const slow = await target();
    slow.respond = () => 'hang';
    const dropper = await target();
    dropper.respond = () => 'destroy';
    const chatty = await target();
    chatty.respond = () => ({ status: 200, body: Buffer.alloc(200 * 1024, 'x') });
    const srv = await server({
      forward: [
        { pattern: 'charge.create', url: garbageUrl },
        { pattern: 'charge.complete', url: slow.url },
        { pattern: 'charge.update', url: dropper.url },
        { pattern: 'charge.capture', url: chatty.url },
      ],
      forwardTimeoutMs: 300,
    });
    const watch = watchAttempts(srv);
    for (const key of ['charge.create', 'charge.complete', 'charge.update', 'charge.capture']) {
      const answer = await postWebhook(srv, eventBody({ eventId: nextEventId(), key }), [
        ['Content-Type', 'application/json'],
      ]);
      assert.equal(answer.status, 200);
    }
    await watch.waitFor(4);
    const byTarget = new Map(watch.attempts.map((a) => [a.target, a]));
    assert.match(byTarget.get(garbageUrl)?.error ?? '', /did not answer with valid HTTP \(HPE_/);
    assert.equal(byTarget.get(slow.url)?.error, 'no answer within 300ms (--forward-timeout)');
    assert.match(byTarget.get(dropper.url)?.error ?? '', /closed the connection|ECONNRESET|socket hang up/);
    for (const url of [garbageUrl, slow.url, dropper.url]) assert.equal(byTarget.get(url)?.outcome, 'retry');
    const long = byTarget.get(chatty.url);
    assert.equal(long?.status, 200);
    assert.equal(long?.responseExcerpt?.byteLength, 64 * 1024);
    assert.equal(long?.responseTruncated, true);
    const health = await fetch(srv.webhookUrl.replace('/omise/webhook', '/healthz'));
    assert.equal(health.status, 200, 'still serving');
  });
});

describe('replay through the running server (the inspector entry points)', () => {
  it('replays verbatim (stale for a strict receiver) and re-signed (accepted)', async () => {
    const app = await target();
    const realNow = Date.now();
    const hourAgo = realNow - 3_600_000;
    const clock = new FakeClock(hourAgo);
    const srv = await server({ webhookSecrets: [TEST_WEBHOOK_SECRET] }, clock, { timers: clock });
    const eventId = nextEventId();
    const body = eventBody({ eventId });
    assert.equal((await postWebhook(srv, body, omiseHeaders(body, Math.floor(hourAgo / 1000)))).status, 200);
    clock.set(realNow);
    const verify = (index: number) => {
      const request = app.requests[index];
      assert.ok(request);
      return verifyOmiseSignature({
        payload: request.body,
        signature: headerValue(request, 'Omise-Signature'),
        timestamp: headerValue(request, 'Omise-Signature-Timestamp'),
        secret: TEST_WEBHOOK_SECRET,
        toleranceSec: 300,
      });
    };
    const [verbatim] = await srv.forwarder.replay(eventId, { to: app.url });
    assert.equal(verbatim?.status, 200);
    assert.equal(verbatim?.replayMode, 'verbatim');
    const stale = await verify(0);
    assert.equal(stale.ok, false);
    assert.equal(stale.ok === false && stale.code, 'timestamp_too_old');
    const [resigned] = await srv.forwarder.replay(eventId, { to: app.url, resign: true });
    assert.equal(resigned?.replayMode, 'resigned');
    assert.equal((await verify(1)).ok, true);
    assert.equal(app.requests[1]?.sha256, sha256(body), 'the same bytes');
    assert.equal(
      headerValue(app.requests[1] as never, 'Omise-Signature-Timestamp'),
      String(Math.floor(realNow / 1000)),
    );
    assert.equal(headerValue(app.requests[1] as never, 'Omise-Webhook-Replay'), 'resigned');
    // Order kept: the re-signed values stand where the originals stood.
    const names = (index: number) => app.requests[index]?.headers.map(([name]) => name);
    assert.deepEqual(names(1), names(0));
    const recorded = await srv.forwarder.forwardAttemptsFor(eventId);
    assert.deepEqual(
      recorded.map((a) => [a.kind, a.replayMode, a.status]),
      [
        ['replay', 'verbatim', 200],
        ['replay', 'resigned', 200],
      ],
    );
    await assert.rejects(srv.forwarder.replay('evnt_test_5xnosuchthing', { to: app.url }), {
      name: 'ReplayError',
      code: 'unknown_event',
      message: /evnt_test_5xnosuchthing/,
    });
    await assert.rejects(srv.forwarder.replay(eventId), { code: 'no_target', message: /--forward-to/ });
  });

  it('says where to set the secret when re-signing without one', async () => {
    const app = await target();
    const srv = await server({});
    const eventId = nextEventId();
    await postWebhook(srv, eventBody({ eventId }), [['Content-Type', 'application/json']]);
    await assert.rejects(srv.forwarder.replay(eventId, { to: app.url, resign: true }), {
      code: 'no_secret',
      message: /OMISE_WEBHOOK_SECRET/,
    });
    assert.equal(app.requests.length, 0);
  });
});
