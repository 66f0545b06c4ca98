import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OMISE_EVENT_CATALOGUE, OMISE_EVENT_KEYS, type OmiseEventKey, parseOmiseEvent } from '@omise-webhook/events';
import { type RunningFakeOmise, startFakeOmise } from '../../adapters/fake-omise/fake-omise-server.js';
import { VIA_API_SUPPORT } from '../../core/simulate/via-api-support.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { recordingFetch, runCli } from '../../testing/run-cli.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../../testing/signing.js';
import { startTestServer, type TestServer } from '../../testing/test-server.js';

const ENV = { OMISE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET };

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('trigger: every one of the 35 keys reaches the running receiver', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
  });
  after(() => server.close());

  for (const key of OMISE_EVENT_KEYS) {
    it(`${key}: accepted, verified, typed, stored byte for byte`, async () => {
      const recorder = recordingFetch();
      const result = await runCli(['trigger', key, '--to', server.webhookUrl], { env: ENV, fetch: recorder.fetch });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const [sent] = recorder.requests;
      assert.ok(sent);
      assert.equal(recorder.requests.length, 1);
      assert.deepEqual(
        sent.headers.map(([name]) => name),
        ['Content-Type', 'Omise-Signature', 'Omise-Signature-Timestamp', 'Omise-Webhook-Origin'],
      );

      const event = parseOmiseEvent(sent.body);
      assert.equal(event.key, key);
      const firstLine = `→ POST ${server.webhookUrl}  ${key}  ${event.id} (${(event.data as { id: string }).id})  signed`;
      assert.equal(result.stdout.split('\n')[0], firstLine);
      assert.equal(
        result.stdout.split('\n')[1],
        `← 200 OK  {"received":true,"id":"${event.id}","duplicate":false,"deliveries":1,"verification":"verified"}`,
      );

      const stored = await server.store.getEvent(event.id);
      assert.ok(stored, 'the event is in the store');
      assert.equal(Buffer.from(stored.body).toString('utf8'), sent.body, 'the exact bytes sent are stored');
      assert.deepEqual(stored.verification, {
        mode: 'signature',
        status: 'verified',
        reason: 'signature matched the webhook secret',
      });
      const storedHeaders = new Map(stored.headers.map(([name, value]) => [name.toLowerCase(), value]));
      const timestamp = storedHeaders.get('omise-signature-timestamp') as string;
      assert.equal(storedHeaders.get('omise-signature'), signForTest(TEST_WEBHOOK_SECRET, timestamp, sent.body));

      const typed = parseOmiseEvent(stored.body);
      const data = typed.data as unknown as Record<string, unknown>;
      assert.equal(data.object, OMISE_EVENT_CATALOGUE[key].dataObject);
      assert.equal(stored.objectType, OMISE_EVENT_CATALOGUE[key].dataObject);
      assert.equal(stored.objectId, data.id);
      assert.equal(stored.origin, 'trigger', 'a simulated event is labelled as such');
      if (OMISE_EVENT_CATALOGUE[key].deletedStub) {
        assert.deepEqual(data, { object: data.object, id: data.id, livemode: false, deleted: true });
      }
    });
  }
});

describe('trigger: printing, overrides, stories and bad input', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
  });
  after(() => server.close());
  // Now, to the second: the receiver checks the signature timestamp against its own clock.
  const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
  const seconds = String(clock.now() / 1000);

  it('OMISE_WEBHOOK_TRIGGER_SET takes several overrides separated by spaces, JSON values with commas intact', async () => {
    const printed = await runCli(['trigger', 'charge.create', '--print', '--seed', 'env-set'], {
      env: { ...ENV, OMISE_WEBHOOK_TRIGGER_SET: 'data.metadata.cart={"sku":"A1","qty":2} data.amount=5000' },
      clock,
    });
    assert.equal(printed.code, 0, printed.stderr);
    const event = parseOmiseEvent(printed.stdout);
    if (event.key !== 'charge.create') assert.fail('wrong key');
    assert.equal(event.data.amount, 5000);
    assert.deepEqual((event.data.metadata as { cart?: unknown }).cart, { sku: 'A1', qty: 2 });
  });

  it('--set data.status=failed makes a failed charge, not a paid one, and says what else changed', async () => {
    const printed = await runCli(['trigger', 'charge.create', '--print', '--set', 'data.status=failed'], {
      env: ENV,
      clock,
    });
    assert.equal(printed.code, 0, printed.stderr);
    const charge = JSON.parse(printed.stdout).data;
    assert.deepEqual(
      [charge.status, charge.paid, charge.authorized, charge.failure_code, charge.failure_message],
      ['failed', false, false, 'payment_rejected', 'the payment was rejected by the issuer'],
    );
    assert.match(
      printed.stderr,
      /^omise-webhook: to keep the charge consistent with --set data\.status, also set data\.authorized=false, data\.paid=false, .*data\.failure_code="payment_rejected", .* \(--set any of them to choose otherwise\)\n$/,
    );
    const contradicting = await runCli(
      ['trigger', 'charge.create', '--print', '--set', 'data.status=failed', '--set', 'data.paid=true'],
      { env: ENV, clock },
    );
    assert.equal(JSON.parse(contradicting.stdout).data.paid, true, 'an explicit --set wins');
    assert.ok(
      contradicting.stderr.endsWith(
        'omise-webhook: warning: the charge is failed but data.paid=true; Omise never sends that combination (drop the --set that makes it, or set both to agree)\n',
      ),
      contradicting.stderr,
    );
  });

  it('--print prints exactly the body that would be sent, and sends nothing', async () => {
    const printed = await runCli(['trigger', 'refund.create', '--print', '--seed', 'same'], { env: ENV, clock });
    assert.equal(printed.code, 0);
    const recorder = recordingFetch();
    const sent = await runCli(['trigger', 'refund.create', '--seed', 'same', '--to', server.webhookUrl], {
      env: ENV,
      clock,
      fetch: recorder.fetch,
    });
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(printed.stdout, recorder.requests[0]?.body, 'same seed and time: the same bytes');
    assert.ok(!printed.stdout.endsWith('\n'), 'no newline is added to the body');
    assert.equal(parseOmiseEvent(printed.stdout).created_at, new Date(clock.now()).toISOString().replace('.000Z', 'Z'));
  });

  it('--print --json prints one line: method, headers in order, exact body', async () => {
    const result = await runCli(['trigger', 'charge.create', '--print', '--json', '--seed', 'json'], {
      env: ENV,
      clock,
    });
    assert.equal(result.code, 0);
    const lines = result.stdout.split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[1], '');
    const request = JSON.parse(lines[0] as string) as {
      method: string;
      headers: Array<[string, string]>;
      body: string;
    };
    assert.deepEqual(Object.keys(request), ['method', 'headers', 'body']);
    assert.equal(request.method, 'POST');
    assert.deepEqual(request.headers, [
      ['Content-Type', 'application/json'],
      ['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, seconds, request.body)],
      ['Omise-Signature-Timestamp', seconds],
      ['Omise-Webhook-Origin', 'trigger'],
    ]);
    const body = await runCli(['trigger', 'charge.create', '--print', '--seed', 'json'], { env: ENV, clock });
    assert.equal(request.body, body.stdout);
    const unsigned = await runCli(['trigger', 'charge.create', '--print', '--json'], { clock });
    assert.deepEqual(JSON.parse(unsigned.stdout).headers, [
      ['Content-Type', 'application/json'],
      ['Omise-Webhook-Origin', 'trigger'],
    ]);
  });

  it('--set changes fields and adds metadata keys; --count sends several', async () => {
    const recorder = recordingFetch();
    const result = await runCli(
      [
        'trigger',
        'charge.create',
        '--to',
        server.webhookUrl,
        '--count',
        '3',
        '--set',
        'data.amount=5000',
        '--set',
        'data.metadata.order_id=A1',
        '--set',
        'data.metadata.gift=true',
      ],
      { env: ENV, fetch: recorder.fetch },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(recorder.requests.length, 3);
    const events = recorder.requests.map((request) => parseOmiseEvent(request.body));
    assert.equal(new Set(events.map((event) => event.id)).size, 3);
    assert.equal(new Set(events.map((event) => (event.data as { id: string }).id)).size, 3, 'three different charges');
    for (const event of events) {
      if (event.key !== 'charge.create') assert.fail('wrong key');
      assert.equal(event.data.amount, 5000);
      assert.deepEqual(event.data.metadata, { order_id: 'A1', gift: true });
      assert.ok(await server.store.getEvent(event.id));
    }
  });

  it('--object continues a stored charge: complete and refund keep its amount and currency', async () => {
    const logDir = server.config.logDir;
    const recorder = recordingFetch();
    const created = await runCli(
      [
        'trigger',
        'charge.create',
        '--to',
        server.webhookUrl,
        '--currency',
        'jpy',
        '--set',
        'data.amount=9990',
        '--set',
        'data.capture=false',
      ],
      { env: ENV, fetch: recorder.fetch },
    );
    assert.equal(created.code, 0, created.stderr);
    const charge = parseOmiseEvent(recorder.requests[0]?.body as string);
    if (charge.key !== 'charge.create') assert.fail('wrong key');
    const chargeId = charge.data.id;

    for (const key of ['charge.complete', 'refund.create'] as const) {
      const result = await runCli(
        ['trigger', key, '--object', chargeId, '--to', server.webhookUrl, '--log-dir', logDir],
        {
          env: ENV,
          fetch: recorder.fetch,
        },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '', 'the store knew the charge');
    }
    const complete = parseOmiseEvent(recorder.requests[1]?.body as string);
    const refund = parseOmiseEvent(recorder.requests[2]?.body as string);
    if (complete.key !== 'charge.complete' || refund.key !== 'refund.create') assert.fail('wrong keys');
    assert.equal(complete.data.id, chargeId);
    assert.equal(complete.data.amount, 9990);
    assert.equal(complete.data.currency, 'JPY');
    assert.equal(complete.data.status, 'successful');
    assert.equal(refund.data.charge, chargeId);
    assert.equal(refund.data.amount, 9990);
    assert.equal(refund.data.currency, 'JPY');
    assert.deepEqual(
      (await server.store.eventsForObject(chargeId)).map((event) => event.key),
      ['charge.create', 'charge.complete', 'refund.create'],
    );
  });

  it('--object with an id nothing is known about says so and uses the id', async () => {
    const result = await runCli(['trigger', 'charge.capture', '--object', 'chrg_test_5neverseen', '--print'], {
      env: ENV,
    });
    assert.equal(result.code, 0);
    assert.equal(
      result.stderr,
      'omise-webhook: no stored event mentions chrg_test_5neverseen; starting its story fresh with that id\n',
    );
    assert.equal((parseOmiseEvent(result.stdout).data as { id: string }).id, 'chrg_test_5neverseen');
  });

  it('bad input: exit 2 with a precise message', async () => {
    const cases: Array<[string[], string]> = [
      [
        ['trigger', 'charge.creat'],
        'omise-webhook: unknown event key "charge.creat"; did you mean charge.create, charge.update, charge.capture?\n',
      ],
      [
        ['trigger'],
        'omise-webhook: trigger needs an event key, e.g. `omise-webhook trigger charge.create`; `omise-webhook trigger --list` shows all 35\n',
      ],
      [
        ['trigger', 'charge.create', '--print', '--set', 'data.amout=5000'],
        'omise-webhook: --set data.amout=5000: data.amout does not exist in a charge.create event; the nearest existing parent is data. Did you mean data.amount? Only keys inside metadata can be added.\n',
      ],
      [
        ['trigger', 'charge.create', '--print', '--set', 'data.amount'],
        'omise-webhook: --set "data.amount": expected path=value, for example --set data.amount=5000 or --set data.metadata.order_id=A1\n',
      ],
      [
        ['trigger', 'refund.create', '--print', '--object', 'trsf_test_5abc'],
        'omise-webhook: --object trsf_test_5abc cannot continue a refund.create event; expected a rfnd_ id (the refund) or a chrg_ id (the refunded charge)\n',
      ],
      [
        ['trigger', 'charge.create', '--currency', 'usd'],
        'omise-webhook: --currency (OMISE_WEBHOOK_TRIGGER_CURRENCY) got "usd"; expected THB or JPY\n',
      ],
      [
        ['trigger', 'charge.create', '--count', '0'],
        'omise-webhook: --count (OMISE_WEBHOOK_TRIGGER_COUNT) got "0"; expected a whole number of at least 1\n',
      ],
    ];
    for (const [argv, stderr] of cases) {
      const result = await runCli(argv, { env: ENV });
      assert.equal(result.code, 2, argv.join(' '));
      assert.equal(result.stderr, stderr);
    }
    const badSecret = await runCli(['trigger', 'charge.create', '--print', '--secret', 'not base64!'], {});
    assert.equal(badSecret.code, 2);
    assert.match(
      badSecret.stderr,
      /^omise-webhook: the webhook secret \(OMISE_WEBHOOK_SECRET or --secret\) cannot be used: /,
    );
  });

  it('when nothing listens, exit 1 and ask whether serve is running', async () => {
    const port = await freePort();
    const result = await runCli(['trigger', 'charge.create'], { env: { ...ENV, PORT: String(port) } });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `^omise-webhook: could not send to http://127\\.0\\.0\\.1:${port}/omise/webhook \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)\\. Is \`omise-webhook serve\` running\\? http://127\\.0\\.0\\.1:${port}/omise/webhook is serve's address: port from PORT=${port}; or send elsewhere with --to \\(OMISE_WEBHOOK_TRIGGER_TO\\)\\.\\n$`,
      ),
    );
  });

  it('without --to: the target, and the setting that chose it, show in --help and on each send', async () => {
    const port = new URL(server.webhookUrl).port;
    const help = await runCli(['trigger', '--help'], { env: { PORT: port } });
    assert.equal(help.code, 0);
    const flat = help.stdout.replace(/\s+/g, ' ');
    assert.ok(
      flat.includes(`now http://127.0.0.1:${port}/omise/webhook (serve's address: port from PORT=${port})`),
      help.stdout,
    );
    const defaults = await runCli(['trigger', '--help'], { env: {} });
    assert.ok(
      defaults.stdout
        .replace(/\s+/g, ' ')
        .includes("now http://127.0.0.1:3000/omise/webhook (serve's address: port 3000)"),
      defaults.stdout,
    );
    const fromEnv = await runCli(['trigger', '--help'], { env: { OMISE_WEBHOOK_TRIGGER_TO: server.webhookUrl } });
    assert.ok(
      fromEnv.stdout.replace(/\s+/g, ' ').includes(`now ${server.webhookUrl} (from OMISE_WEBHOOK_TRIGGER_TO)`),
      fromEnv.stdout,
    );

    const sent = await runCli(['trigger', 'customer.create'], { env: { ...ENV, PORT: port } });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(
      sent.stdout.split('\n')[0] as string,
      new RegExp(
        `^→ POST http://127\\.0\\.0\\.1:${port}/omise/webhook \\(serve's address: port from PORT=${port}\\) {2}customer\\.create {2}evnt_test_`,
      ),
    );
    const viaEnv = await runCli(['trigger', 'customer.create'], {
      env: { ...ENV, OMISE_WEBHOOK_TRIGGER_TO: server.webhookUrl },
    });
    assert.ok(
      viaEnv.stdout.startsWith(`→ POST ${server.webhookUrl} (from OMISE_WEBHOOK_TRIGGER_TO)  customer.create  `),
      viaEnv.stdout,
    );
  });

  it('a refused event (wrong secret) prints the 401 and exits 1', async () => {
    const wrong = Buffer.from('another secret, 32 bytes long!!!').toString('base64');
    const result = await runCli(['trigger', 'charge.create', '--to', server.webhookUrl], {
      env: { OMISE_WEBHOOK_SECRET: wrong },
    });
    assert.equal(result.code, 1);
    assert.match(result.stdout.split('\n')[1] as string, /^← 401 Unauthorized {2}\{"error":"no_signature_matched"/);
    assert.equal(result.stderr, 'omise-webhook: 1 of 1 event(s) were not accepted (answered outside 2xx; see above)\n');
    const unsigned = await runCli(['trigger', 'charge.create', '--to', server.webhookUrl], {});
    assert.equal(unsigned.code, 1);
    assert.equal(
      unsigned.stderr,
      'omise-webhook: sending unsigned (no OMISE_WEBHOOK_SECRET or --secret); a receiver that checks signatures will answer 401\n' +
        'omise-webhook: 1 of 1 event(s) were not accepted (answered outside 2xx; see above); they were sent unsigned: set OMISE_WEBHOOK_SECRET (or --secret) to the secret the receiver verifies with\n',
    );
  });

  it('--list shows every key, its meaning and whether --via-api can cause it', async () => {
    const result = await runCli(['trigger', '--list']);
    assert.equal(result.code, 0);
    for (const key of OMISE_EVENT_KEYS) {
      assert.match(
        result.stdout,
        new RegExp(
          `^${key.replaceAll('.', '\\.')} +${VIA_API_SUPPORT[key].possible ? 'yes' : 'no '} +${OMISE_EVENT_CATALOGUE[key].description.replace(/[()]/g, '\\$&')}$`,
          'm',
        ),
      );
    }
    assert.match(
      result.stdout,
      /^ {2}dispute\.create, dispute\.update, dispute\.accept, dispute\.close: a dispute is opened by the cardholder’s bank; Omise has no API that opens one in test mode/m,
    );
    const json = await runCli(['trigger', '--list', '--json']);
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; viaApi: boolean });
    assert.deepEqual(
      rows.map((row) => row.key),
      [...OMISE_EVENT_KEYS],
    );
    assert.equal(rows.filter((row) => !row.viaApi).length, 10);
  });
});

describe('trigger --via-api against the fake Omise API', () => {
  let receiver: TestServer;
  let fake: RunningFakeOmise;
  const secretKey = 'skey_test_5viaapitests';
  const publicKey = 'pkey_test_5viaapitests';
  let env: Record<string, string>;
  before(async () => {
    receiver = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
    fake = await startFakeOmise({
      secretKey,
      publicKey,
      webhookUrl: receiver.webhookUrl,
      webhookSecret: TEST_WEBHOOK_SECRET,
    });
    env = {
      OMISE_SECRET_KEY: secretKey,
      OMISE_PUBLIC_KEY: publicKey,
      OMISE_API_URL: fake.url,
      OMISE_VAULT_URL: fake.vaultUrl,
    };
  });
  after(async () => {
    await fake.close();
    await receiver.close();
  });

  const possible = OMISE_EVENT_KEYS.filter((key) => VIA_API_SUPPORT[key].possible);
  it('covers 25 keys', () => assert.equal(possible.length, 25));

  for (const key of possible) {
    it(`${key}: caused through the API, recorded by Omise, delivered and stored`, async () => {
      const result = await runCli(['trigger', key, '--via-api'], { env });
      assert.equal(result.code, 0, result.stderr);
      const match = /^caused (\S+): event (evnt_test_[0-9a-z]+) about ([a-z]+_test_[0-9a-z]+)\. /m.exec(result.stdout);
      assert.ok(match, result.stdout);
      const [, causedKey, eventId, objectId] = match as unknown as [string, string, string, string];
      assert.equal(causedKey, key);
      const event = parseOmiseEvent(fake.eventText(eventId) as string);
      assert.equal(event.key, key);
      assert.equal((event.data as { id: string }).id, objectId);
      await fake.deliveriesSettled();
      const stored = await receiver.store.getEvent(eventId);
      assert.ok(stored, 'delivered to the receiver');
      assert.equal(stored.verification.status, 'verified');
      assert.equal(JSON.parse(fake.eventText(eventId) as string).webhook_deliveries[0].status, 200);
    });
  }

  it('says what the fake does with the event, not what Omise would', async () => {
    const delivering = await runCli(['trigger', 'customer.create', '--via-api'], { env });
    assert.equal(delivering.code, 0, delivering.stderr);
    assert.match(
      delivering.stdout,
      new RegExp(
        `^caused customer\\.create: event evnt_test_[0-9a-z]+ about cust_test_[0-9a-z]+\\. The fake Omise API at ${fake.url.replace(/\./g, '\\.')} delivers it now to ${receiver.webhookUrl.replace(/\./g, '\\.')} \\(the URL it was started with, --webhook-url\\), signed with its OMISE_WEBHOOK_SECRET\\.$`,
        'm',
      ),
    );
    assert.ok(!delivering.stdout.includes('dashboard'), delivering.stdout);
    await fake.deliveriesSettled();

    const recordOnly = await startFakeOmise({ secretKey });
    try {
      const recorded = await runCli(['trigger', 'customer.create', '--via-api'], {
        env: { ...env, OMISE_API_URL: recordOnly.url },
      });
      assert.equal(recorded.code, 0, recorded.stderr);
      assert.ok(
        recorded.stdout.includes(
          `. The fake Omise API at ${recordOnly.url} only records it (GET /events): it was started without --webhook-url (OMISE_FAKE_WEBHOOK_URL), so it delivers nothing.\n`,
        ),
        recorded.stdout,
      );
    } finally {
      await recordOnly.close();
    }
  });

  it('says which keys cannot be caused and why (exit 2)', async () => {
    for (const key of OMISE_EVENT_KEYS.filter((candidate) => !VIA_API_SUPPORT[candidate].possible)) {
      const result = await runCli(['trigger', key, '--via-api'], { env });
      assert.equal(result.code, 2, key);
      const support = VIA_API_SUPPORT[key as OmiseEventKey];
      assert.ok(!support.possible);
      assert.equal(
        result.stderr,
        `omise-webhook: ${key} cannot be triggered through the Omise API: ${support.why}. Run \`omise-webhook trigger ${key}\` (without --via-api) to send a simulated one.\n`,
      );
    }
  });

  it('API errors: Omise’s message plus what to check', async () => {
    const wrongKey = await runCli(['trigger', 'customer.create', '--via-api'], {
      env: { ...env, OMISE_SECRET_KEY: 'skey_test_5notthisaccount' },
    });
    assert.equal(wrongKey.code, 1);
    assert.equal(
      wrongKey.stderr,
      'omise-webhook: the Omise API said: authentication failed (401 authentication_failure). Check that OMISE_SECRET_KEY is your test secret key (skey_test_...) and OMISE_PUBLIC_KEY your test public key (pkey_test_...), both from the dashboard (Keys, test mode); a live key does not work in test mode and keys of another account are refused.\n',
    );
    const port = await freePort();
    const offline = await runCli(['trigger', 'customer.create', '--via-api'], {
      env: { ...env, OMISE_API_URL: `http://127.0.0.1:${port}` },
    });
    assert.equal(offline.code, 1);
    assert.equal(
      offline.stderr,
      `omise-webhook: could not reach the Omise API at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); check your network, or OMISE_API_URL (a proxy or firewall can also block it)\n`,
    );
    const live = await runCli(['trigger', 'charge.create', '--via-api'], {
      env: { ...env, OMISE_SECRET_KEY: 'skey_live_5livekeyabcd' },
    });
    assert.equal(live.code, 2);
    assert.equal(
      live.stderr,
      'omise-webhook: --via-api refuses a live key (OMISE_SECRET_KEY is skey_live_••••abcd): it would move real money. Use your test key, skey_test_...\n',
    );
    const noKey = await runCli(['trigger', 'charge.create', '--via-api'], { env: { OMISE_API_URL: fake.url } });
    assert.equal(noKey.code, 2);
    assert.equal(
      noKey.stderr,
      'omise-webhook: --via-api needs your test secret key: set OMISE_SECRET_KEY=skey_test_... in .env (dashboard: Keys, test mode)\n',
    );
    const noPublic = await runCli(['trigger', 'charge.create', '--via-api'], { env: { ...env, OMISE_PUBLIC_KEY: '' } });
    assert.equal(noPublic.code, 2);
    assert.equal(
      noPublic.stderr,
      'omise-webhook: --via-api charge.create starts with a card token, made with your public key: set OMISE_PUBLIC_KEY=pkey_test_... in .env (dashboard: Keys, test mode)\n',
    );
  });
});
