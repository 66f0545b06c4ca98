import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { verifyOmiseSignature } from '@omise-webhook/events';
import { SqliteEventStore } from '../../adapters/store/sqlite-event-store.js';
import type { NewDelivery } from '../../core/ports.js';
import { eventBody, makeDelivery, makeForwardAttempt } from '../../testing/delivery-fixtures.js';
import { omiseHeaders } from '../../testing/forwarding.js';
import { TEST_WEBHOOK_SECRET } from '../../testing/signing.js';
import { headerValue, startTargetServer, type TargetServer } from '../../testing/target-server.js';
import { CapturedOutput, temporaryDirectory } from '../../testing/test-server.js';
import type { Env } from '../dotenv.js';
import { main } from '../main.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function target(): Promise<TargetServer> {
  const started = await startTargetServer();
  cleanups.push(() => started.close());
  return started;
}

let counter = 0;
/** A log dir whose store holds these deliveries (signed with the test secret at `signedAt`, Unix seconds). */
async function storeWith(specs: Array<{ key?: string; receivedAt?: string; signedAt?: number }>): Promise<{
  logDir: string;
  deliveries: NewDelivery[];
}> {
  const logDir = temporaryDirectory();
  const store = new SqliteEventStore({ filename: join(logDir, 'omise-webhook.sqlite') });
  const deliveries: NewDelivery[] = [];
  for (const spec of specs) {
    counter += 1;
    const eventId = `evnt_test_5xreplay${Date.now().toString(36)}${counter}`;
    const key = spec.key ?? 'charge.create';
    const body = Buffer.from(eventBody({ eventId, key }));
    const delivery = makeDelivery({
      eventId,
      key,
      body,
      headers: [['Host', 'abc.ngrok.app'], ...omiseHeaders(body, spec.signedAt ?? Math.floor(Date.now() / 1000))],
      ...(spec.receivedAt ? { receivedAt: spec.receivedAt } : {}),
    });
    await store.recordDelivery(delivery);
    deliveries.push(delivery);
  }
  await store.close();
  return { logDir, deliveries };
}

async function run(argv: string[], env: Env = {}) {
  const stdout = new CapturedOutput();
  const stderr = new CapturedOutput();
  const code = await main({ argv, env, cwd: temporaryDirectory(), stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const verifyAt = (app: TargetServer, index: number) => {
  const request = app.requests[index];
  assert.ok(request, `request ${index} arrived`);
  return verifyOmiseSignature({
    payload: request.body,
    signature: headerValue(request, 'Omise-Signature'),
    timestamp: headerValue(request, 'Omise-Signature-Timestamp'),
    secret: TEST_WEBHOOK_SECRET,
    toleranceSec: 300,
  });
};

describe('omise-webhook replay', () => {
  it('replays verbatim (an old capture fails a strict receiver) and re-signed (it passes)', async () => {
    const app = await target();
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    const { logDir, deliveries } = await storeWith([{ signedAt: hourAgo }]);
    const [delivery] = deliveries as [NewDelivery];
    const verbatim = await run(['replay', delivery.eventId, '--to', app.url, '--log-dir', logDir]);
    assert.equal(verbatim.code, 0, verbatim.stderr);
    assert.match(verbatim.stdout, new RegExp(`^\\[1/1\\] ✔ 200 \\d+ ms  ${delivery.eventId} charge.create → `, 'm'));
    assert.match(verbatim.stdout, /\(verbatim\)/);
    assert.equal(app.requests[0]?.sha256, sha256(delivery.body));
    const stale = await verifyAt(app, 0);
    assert.equal(stale.ok === false && stale.code, 'timestamp_too_old');
    assert.equal(headerValue(app.requests[0] as never, 'Omise-Signature-Timestamp'), String(hourAgo));

    const resigned = await run(['replay', delivery.eventId, '--to', app.url, '--resign', '--log-dir', logDir], {
      OMISE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    });
    assert.equal(resigned.code, 0, resigned.stderr);
    assert.equal((await verifyAt(app, 1)).ok, true);
    assert.equal(app.requests[1]?.sha256, sha256(delivery.body), 'the same bytes, signed again');
    assert.match(resigned.stderr, /re-signing with OMISE_WEBHOOK_SECRET ••••/);
    assert.ok(!resigned.stderr.includes(TEST_WEBHOOK_SECRET), 'the secret is never printed');

    // The flag wins over the variable, and the line names the flag, not the variable it overrode.
    const flagged = await run(
      ['replay', delivery.eventId, '--to', app.url, '--resign', '--secret', TEST_WEBHOOK_SECRET, '--log-dir', logDir],
      { OMISE_WEBHOOK_SECRET: 'd3Jvbmcgc2VjcmV0IGZyb20gdGhlIGVudmlyb25tZW50' },
    );
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.equal((await verifyAt(app, 2)).ok, true, 'signed with the --secret value');
    assert.match(flagged.stderr, /^re-signing with --secret ••••/m);
    assert.ok(!flagged.stderr.includes('OMISE_WEBHOOK_SECRET'), flagged.stderr);
    assert.deepEqual(
      app.requests[1]?.headers.map(([name]) => name),
      app.requests[0]?.headers.map(([name]) => name),
    );

    const recorded = await run(['forwards', 'attempts', delivery.eventId, '--log-dir', logDir]);
    assert.match(recorded.stdout, /replay \(verbatim\) .* 200 .* delivered\n.*replay \(resigned\) .* 200 .* delivered/);
  });

  it('refuses clearly: unknown ids (naming them), --resign without a secret, no target', async () => {
    const app = await target();
    const { logDir, deliveries } = await storeWith([{}]);
    const id = (deliveries[0] as NewDelivery).eventId;
    const unknown = await run(['replay', id, 'evnt_test_5xmissing1', '--to', app.url, '--log-dir', logDir]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no stored event has id evnt_test_5xmissing1; `omise-webhook events list`/);
    const noSecret = await run(['replay', id, '--to', app.url, '--resign', '--log-dir', logDir]);
    assert.equal(noSecret.code, 2);
    assert.match(
      noSecret.stderr,
      /--resign needs the webhook secret: set OMISE_WEBHOOK_SECRET in \.env .* or pass --secret/,
    );
    const nowhere = await run(['replay', id, '--log-dir', logDir]);
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, /nowhere to send: pass --to <url>, or set OMISE_WEBHOOK_FORWARD_TO/);
    const badUrl = await run(['replay', id, '--to', 'localhost:8080', '--log-dir', logDir]);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--to \(OMISE_WEBHOOK_REPLAY_TO\) got "localhost:8080"; expected an http\(s\) URL/);
    const nothing = await run(['replay', '--log-dir', logDir, '--to', app.url]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /say which events to replay/);
    assert.equal(app.requests.length, 0, 'nothing was sent');
  });

  it('goes to the configured forward targets by default, by key, and exits 1 when a send fails', async () => {
    const [charges, broken] = [await target(), await target()];
    broken.respond = () => ({ status: 500, body: 'oops' });
    const { logDir, deliveries } = await storeWith([{ key: 'charge.create' }, { key: 'refund.create' }]);
    const ids = deliveries.map((d) => d.eventId);
    const result = await run(['replay', ...ids, '--log-dir', logDir], {
      OMISE_WEBHOOK_FORWARD: `charge.*=${charges.url}; refund.*=${broken.url}`,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /1 of 2 replay sends did not get a 2xx answer/);
    assert.match(result.stdout, /\[1\/2\] ✔ 200/);
    assert.match(result.stdout, /\[2\/2\] ✖ 500/);
    assert.deepEqual(
      charges.requests.map((r) => headerValue(r, 'Omise-Webhook-Event-Id')),
      [ids[0]],
    );
    assert.deepEqual(
      broken.requests.map((r) => headerValue(r, 'Omise-Webhook-Event-Id')),
      [ids[1]],
    );
    const skipped = await run(['replay', ...ids, '--log-dir', logDir], {
      OMISE_WEBHOOK_FORWARD_TO: '',
      OMISE_WEBHOOK_FORWARD: `charge.*=${charges.url}`,
    });
    assert.equal(skipped.code, 0);
    assert.match(skipped.stdout, new RegExp(`skipped ${ids[1]}: no forward route matches refund.create`));
  });

  it('selects by --key and --since, oldest first; duplicates and shuffles on request', async () => {
    const app = await target();
    const now = Date.now();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    const { logDir, deliveries } = await storeWith([
      { key: 'charge.create', receivedAt: at(120) },
      { key: 'charge.complete', receivedAt: at(50) },
      { key: 'refund.create', receivedAt: at(40) },
      { key: 'charge.capture', receivedAt: at(30) },
    ]);
    const [, complete, , capture] = deliveries.map((d) => d.eventId);
    const selected = await run([
      'replay',
      '--key',
      'charge.*',
      '--since',
      '1h',
      '--duplicate',
      '3',
      '--to',
      app.url,
      '--log-dir',
      logDir,
    ]);
    assert.equal(selected.code, 0, selected.stderr);
    assert.deepEqual(
      app.requests.map((r) => [headerValue(r, 'Omise-Webhook-Event-Id'), headerValue(r, 'Omise-Webhook-Attempt')]),
      [
        [complete, '1'],
        [complete, '2'],
        [complete, '3'],
        [capture, '1'],
        [capture, '2'],
        [capture, '3'],
      ],
    );
    assert.match(selected.stdout, /\[6\/6\] ✔ 200 .*\(verbatim, copy 3\/3\)/);
    assert.match(selected.stdout, /replayed 6 sends: all answered 2xx/);

    const many = await storeWith(Array.from({ length: 24 }, () => ({})));
    const ids = many.deliveries.map((d) => d.eventId);
    const shuffled = await target();
    const result = await run(['replay', ...ids, '--shuffle', '--to', shuffled.url, '--log-dir', many.logDir]);
    assert.equal(result.code, 0, result.stderr);
    const order = shuffled.requests.map((r) => headerValue(r, 'Omise-Webhook-Event-Id'));
    assert.deepEqual([...order].sort(), [...ids].sort(), 'each exactly once');
    assert.notDeepEqual(order, ids, 'in another order (the chance of the same order is 1 in 24!)');
    const bad = await run(['replay', '--since', 'yesterday', '--to', app.url, '--log-dir', logDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since \(OMISE_WEBHOOK_SINCE\) got "yesterday"/);
  });

  it('waits --delay between sends', async () => {
    const app = await target();
    const { logDir, deliveries } = await storeWith([{}, {}]);
    const result = await run([
      'replay',
      ...deliveries.map((d) => d.eventId),
      '--delay',
      '150ms',
      '--to',
      app.url,
      '--log-dir',
      logDir,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const [first, second] = app.requests;
    assert.ok(first && second);
    assert.ok(second.arrivedAt - first.arrivedAt >= 140, `${second.arrivedAt - first.arrivedAt} ms apart`);
  });
});

describe('omise-webhook forwards', () => {
  it('lists failed forwards and re-queues them', async () => {
    const { logDir, deliveries } = await storeWith([]);
    assert.equal(deliveries.length, 0);
    const filename = join(logDir, 'omise-webhook.sqlite');
    const store = new SqliteEventStore({ filename });
    const delivery = makeDelivery({ forwardTargets: ['http://127.0.0.1:9/hook'] });
    await store.recordDelivery(delivery);
    const [job] = (await store.claimDueForwards({ now: Date.now(), maxInFlightPerTarget: 1 })).jobs;
    assert.ok(job);
    await store.recordForwardAttempt(
      makeForwardAttempt(job, {
        status: 410,
        responseExcerpt: Buffer.from('gone'),
        outcome: 'failed',
        reason: '410 from the target: the handler refused it',
      }),
    );
    await store.close();
    const listed = await run(['forwards', 'failed', '--log-dir', logDir]);
    assert.match(
      listed.stdout,
      new RegExp(`#${job.id}  ${delivery.eventId} → http://127.0.0.1:9/hook  1 attempt  410 from the target`),
    );
    const wrong = await run(['forwards', 'retry', '#999', '--log-dir', logDir]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /no failed forward has id #999/);
    const retried = await run(['forwards', 'retry', `#${job.id}`, '--log-dir', logDir]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /re-queued 1 forward;/);
    assert.equal((await run(['forwards', 'failed', '--log-dir', logDir])).stdout, 'no failed forwards\n');
  });

  it('retry --all re-queues every failed forward, past the first page of 500', async () => {
    const { logDir } = await storeWith([]);
    const store = new SqliteEventStore({ filename: join(logDir, 'omise-webhook.sqlite') });
    const count = 501;
    for (let i = 0; i < count; i += 1) {
      await store.recordDelivery(
        makeDelivery({ eventId: `evnt_test_all${i}`, forwardTargets: ['http://127.0.0.1:9/hook'] }),
      );
    }
    const { jobs } = await store.claimDueForwards({ now: Date.now(), maxInFlightPerTarget: count });
    assert.equal(jobs.length, count);
    for (const job of jobs) {
      await store.recordForwardAttempt(
        makeForwardAttempt(job, { status: 410, outcome: 'failed', reason: '410 from the target' }),
      );
    }
    await store.close();
    const retried = await run(['forwards', 'retry', '--all', '--log-dir', logDir]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(
      retried.stdout,
      `re-queued ${count} forwards; a running \`serve\` with that target sends them within seconds\n`,
    );
    assert.equal((await run(['forwards', 'failed', '--log-dir', logDir])).stdout, 'no failed forwards\n');
  });
});
