import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import {
  type ApiProbeResult,
  type CheckResult,
  checkDotenv,
  checkLogDir,
  checkOmiseApi,
  checkPort,
  checkPostgresStore,
  checkPublicUrlSetup,
  checkRunningServe,
  checkSecretKey,
  checkStore,
  checkVerification,
  checkWebhookSecret,
  type DoctorInput,
  type DoctorProbes,
  doctorExitCode,
  runDoctorChecks,
} from './doctor-checks.js';

const TEST_KEY = 'skey_test_5xdoctorkey0001';

function input(overrides: Partial<DoctorInput> = {}): DoctorInput {
  return {
    cwd: '/app',
    dotenv: { file: '/app/.env', names: ['OMISE_SECRET_KEY', 'OMISE_WEBHOOK_SECRET'], error: null },
    secretKey: TEST_KEY,
    secretKeyVariable: 'OMISE_SECRET_KEY',
    webhookSecrets: [TEST_WEBHOOK_SECRET],
    verification: { mode: 'signature', forced: false },
    apiUrl: 'http://127.0.0.1:4010',
    host: '127.0.0.1',
    port: 3000,
    ui: true,
    uiHost: '127.0.0.1',
    uiPort: 3001,
    path: '/omise/webhook',
    logDir: './log',
    store: 'sqlite',
    tunnel: false,
    tunnelAuthtoken: undefined,
    tunnelDomain: undefined,
    publicUrl: undefined,
    ...overrides,
  };
}

function probes(overrides: Partial<DoctorProbes> = {}): DoctorProbes & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    omiseApi: async (options) => {
      calls.push(`api ${options.apiUrl} ${options.secretKey}`);
      return { kind: 'ok', total: 3 };
    },
    port: async (options) => {
      calls.push(`port ${options.host}:${options.port}`);
      return { kind: 'free' };
    },
    whoListens: async (options) => {
      calls.push(`who ${options.host}:${options.port}`);
      return { kind: 'unknown' };
    },
    directory: async (path) => {
      calls.push(`dir ${path}`);
      return { kind: 'writable', exists: true };
    },
    store: async (logDir) => {
      calls.push(`store ${logDir}`);
      return { kind: 'opened', file: '/app/log/omise-webhook.sqlite', events: 12 };
    },
    postgres: async (url) => {
      calls.push(`postgres ${url}`);
      return {
        kind: 'reachable',
        serverVersion: '16.4',
        schemaVersion: 1,
        codeSchemaVersion: 1,
        canCreate: true,
        canWrite: true,
      };
    },
    ...overrides,
  };
}

function brief(check: CheckResult): [string, string] {
  return [check.status, check.message];
}

describe('doctor checks', () => {
  it('.env: read, absent (fine or not), unreadable', () => {
    assert.deepEqual(brief(checkDotenv(input())), [
      'ok',
      'read /app/.env (2 variable(s): OMISE_SECRET_KEY, OMISE_WEBHOOK_SECRET)',
    ]);
    assert.deepEqual(brief(checkDotenv(input({ dotenv: { file: null, names: [], error: null } }))), [
      'ok',
      'no .env in /app; the settings come from the environment',
    ]);
    const nothing = checkDotenv(
      input({ dotenv: { file: null, names: [], error: null }, secretKey: undefined, webhookSecrets: [] }),
    );
    assert.equal(nothing.status, 'warn');
    assert.equal(nothing.fix, 'create /app/.env with OMISE_WEBHOOK_SECRET=... (and OMISE_SECRET_KEY=skey_test_...)');
    const unreadable = checkDotenv(
      input({ dotenv: { file: '/app/.env', names: [], error: '/app/.env cannot be read (EACCES)' } }),
    );
    assert.deepEqual(brief(unreadable), ['error', '/app/.env cannot be read (EACCES)']);
    assert.match(unreadable.fix ?? '', /chmod 600 \.env/);
  });

  it('OMISE_SECRET_KEY: a test key passes; live warns loudly; a public key or junk is an error; missing warns', () => {
    assert.deepEqual(brief(checkSecretKey(input())), ['ok', 'skey_test_••••0001 from OMISE_SECRET_KEY (test mode)']);
    const live = checkSecretKey(input({ secretKey: 'skey_live_5xdoctorkey0001' }));
    assert.equal(live.status, 'warn');
    assert.match(
      live.message,
      /^skey_live_••••0001 from OMISE_SECRET_KEY is a LIVE secret key: it can move real money/,
    );
    const publicKey = checkSecretKey(
      input({ secretKey: 'pkey_test_5xdoctorkey0001', secretKeyVariable: 'OMISE_TEST_SECRET_KEY' }),
    );
    assert.deepEqual(brief(publicKey), [
      'error',
      'pkey_test_••••0001 in OMISE_TEST_SECRET_KEY is a PUBLIC key (pkey_); the API needs the secret key',
    ]);
    assert.equal(
      publicKey.fix,
      'replace it with the skey_test_... key shown beside it on the Omise dashboard → Keys (test mode)',
    );
    assert.equal(checkSecretKey(input({ secretKey: 'sk_test_stripe_key_123' })).status, 'error');
    const missing = checkSecretKey(input({ secretKey: undefined }));
    assert.equal(missing.status, 'warn');
    assert.match(missing.fix ?? '', /OMISE_SECRET_KEY=skey_test_\.\.\./);
    for (const check of [live, publicKey, missing]) assert.doesNotMatch(check.message, /5xdoctorkey0001/);
  });

  it('Omise API: works, refused (error only when verification needs it), unreachable, other answers, skipped', async () => {
    const api = (result: ApiProbeResult) => probes({ omiseApi: async () => result });
    const ok = probes();
    assert.deepEqual(brief(await checkOmiseApi(input(), ok)), [
      'ok',
      'the key works: GET http://127.0.0.1:4010/events?limit=1 answered (3 event(s) on the account)',
    ]);
    assert.deepEqual(ok.calls, [`api http://127.0.0.1:4010 ${TEST_KEY}`]);
    const refused: ApiProbeResult = {
      kind: 'rejected',
      status: 401,
      code: 'authentication_failure',
      message: 'authentication failed',
    };
    const inApiMode = await checkOmiseApi(input({ verification: { mode: 'api', forced: false } }), api(refused));
    assert.deepEqual(brief(inApiMode), [
      'error',
      'http://127.0.0.1:4010 refused the key (HTTP 401 authentication_failure: authentication failed); events cannot be verified with it',
    ]);
    assert.match(inApiMode.fix ?? '', /copy the secret key again from the Omise dashboard → Keys \(test mode\)/);
    assert.equal((await checkOmiseApi(input(), api(refused))).status, 'warn', 'signature mode does not need the key');
    const offline = await checkOmiseApi(
      input({ verification: { mode: 'api', forced: false } }),
      api({ kind: 'unreachable', message: 'connect ECONNREFUSED 127.0.0.1:4010' }),
    );
    assert.deepEqual(brief(offline), [
      'warn',
      'could not reach http://127.0.0.1:4010 (connect ECONNREFUSED 127.0.0.1:4010); events will be accepted as pending and checked once it answers',
    ]);
    const broken = await checkOmiseApi(
      input(),
      api({ kind: 'error', status: 503, code: 'service_unavailable', message: 'down' }),
    );
    assert.equal(broken.status, 'warn');
    const noKey = probes();
    assert.deepEqual(brief(await checkOmiseApi(input({ secretKey: 'pkey_test_x' }), noKey)), [
      'skip',
      'not checked: no usable secret key',
    ]);
    assert.deepEqual(noKey.calls, [], 'a public key is never sent to the API');
  });

  it('OMISE_WEBHOOK_SECRET: base64 of a plausible length passes; not base64 is an error; short warns; missing warns', async () => {
    assert.deepEqual(brief(await checkWebhookSecret(input())), ['ok', '••••YiE=: base64, 32 bytes']);
    const rolling = await checkWebhookSecret(input({ webhookSecrets: [TEST_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET] }));
    assert.equal(rolling.status, 'ok');
    assert.match(rolling.message, /\(2 secrets: accepting any while one is rolled\)$/);
    const urlSafe = await checkWebhookSecret(input({ webhookSecrets: ['abc-def_ghijklmnopqrstuv'] }));
    assert.equal(urlSafe.status, 'error');
    assert.match(urlSafe.message, /cannot be used: the secret contains "-" at position 4, which is URL-safe base64/);
    const apiKey = await checkWebhookSecret(input({ webhookSecrets: ['skey_test_5xdoctorkey0001'] }));
    assert.equal(apiKey.status, 'error');
    assert.match(apiKey.message, /looks like an Omise API key/);
    const short = await checkWebhookSecret(input({ webhookSecrets: ['c2hvcnQ='] }));
    assert.deepEqual(brief(short), [
      'warn',
      '•••• decodes to only 5 byte(s), so it looks cut short when it was copied',
    ]);
    const missing = await checkWebhookSecret(input({ webhookSecrets: [] }));
    assert.equal(missing.status, 'warn');
    assert.equal(
      missing.fix,
      'set OMISE_WEBHOOK_SECRET in .env to the secret from the Omise dashboard (Webhooks, test mode): https://dashboard.omise.co/test/webhooks',
    );
  });

  it('verification: the mode serve would use, or why it would refuse to start', () => {
    assert.equal(checkVerification(input()).status, 'ok');
    assert.equal(checkVerification(input({ verification: { mode: 'api', forced: false } })).status, 'ok');
    assert.deepEqual(brief(checkVerification(input({ verification: { mode: 'none', forced: false } }))), [
      'warn',
      'none configured: events are accepted and marked unverified',
    ]);
    assert.equal(checkVerification(input({ verification: { mode: 'none', forced: true } })).status, 'warn');
    assert.deepEqual(brief(checkVerification(input({ verification: { error: '--verify signature needs ...' } }))), [
      'error',
      '--verify signature needs ...',
    ]);
  });

  it('a port held by serve itself is not a problem: says so, and reports the running serve instead', async () => {
    const busy = { port: async () => ({ kind: 'in_use' }) as const };
    const status = {
      webhookUrl: 'http://127.0.0.1:3000/omise/webhook',
      publicUrl: null,
      verificationMode: 'signature',
    };
    const running = probes({
      ...busy,
      whoListens: async ({ port }) => (port === 3000 ? { kind: 'serve' } : { kind: 'inspector', status }),
    });
    const all = await runDoctorChecks(input(), running);
    const byId = new Map(all.map((check) => [check.id, brief(check)]));
    assert.deepEqual(byId.get('port'), ['ok', '127.0.0.1:3000: serve is running here (it answered GET /healthz)']);
    assert.deepEqual(byId.get('ui-port'), ['ok', '127.0.0.1:3001: serve is running here (its inspector answered)']);
    assert.deepEqual(byId.get('running-serve'), [
      'warn',
      'receives at http://127.0.0.1:3000/omise/webhook, verification signature, public URL none: Omise cannot reach it, it only delivers to a public HTTPS URL',
    ]);
    assert.equal(all.at(-1)?.id, 'running-serve');
    assert.equal(doctorExitCode(all), 0, 'a running serve does not fail doctor');

    const withUrl = { ...status, publicUrl: 'https://abcd.ngrok-free.app/omise/webhook' };
    const reachable = checkRunningServe(input(), {
      webhook: { kind: 'serve' },
      inspector: { kind: 'inspector', status: withUrl },
    });
    assert.equal(reachable?.status, 'ok');
    assert.match(
      reachable?.message ?? '',
      /^receives at .*, verification signature, public URL https:\/\/abcd\.ngrok-free\.app\/omise\/webhook \(the Omise dashboard/,
    );
    const stale = checkRunningServe(input(), {
      webhook: { kind: 'serve' },
      inspector: { kind: 'inspector', status: { ...withUrl, verificationMode: 'none' } },
    });
    assert.deepEqual([stale?.status, stale?.fix], ['warn', 'restart serve to use the current settings']);
    assert.match(
      stale?.message ?? '',
      /the settings here now give verification signature, so it was started with other settings$/,
    );
    const locked = checkRunningServe(input(), { webhook: { kind: 'serve' }, inspector: { kind: 'inspector_locked' } });
    assert.deepEqual(brief(locked as CheckResult), [
      'skip',
      'its settings were not read: its inspector needs its token (--ui-token / OMISE_WEBHOOK_UI_TOKEN)',
    ]);
    assert.equal(checkRunningServe(input(), { webhook: { kind: 'unknown' }, inspector: null }), null);
  });

  it('a port held by another program is still an error, said as such', async () => {
    const other = await checkPort(input(), probes({ port: async () => ({ kind: 'in_use' }) }));
    assert.deepEqual(brief(other), [
      'error',
      '127.0.0.1:3000 is already in use by another program (it did not answer GET /healthz as `omise-webhook serve`)',
    ]);
  });

  it('webhook port: free, in use, not allowed, no such host; port 0 needs no probe', async () => {
    assert.deepEqual(brief(await checkPort(input(), probes())), ['ok', '127.0.0.1:3000 is free']);
    const inUse = await checkPort(input(), probes({ port: async () => ({ kind: 'in_use' }) }));
    assert.equal(inUse.status, 'error');
    assert.match(inUse.message, /^127\.0\.0\.1:3000 is already in use/);
    assert.equal(inUse.fix, 'stop the other program, or choose another port with --port (PORT)');
    assert.equal((await checkPort(input(), probes({ port: async () => ({ kind: 'denied' }) }))).status, 'error');
    const noHost = await checkPort(
      input({ host: '10.9.9.9' }),
      probes({ port: async () => ({ kind: 'no_such_address' }) }),
    );
    assert.deepEqual(brief(noHost), ['error', '10.9.9.9 is not an address of this machine']);
    const zero = probes();
    assert.equal((await checkPort(input({ port: 0 }), zero)).status, 'ok');
    assert.deepEqual(zero.calls, []);
  });

  it('log directory: writable, to be created, not writable', async () => {
    assert.deepEqual(brief(await checkLogDir(input(), probes())), ['ok', './log is writable']);
    const later = await checkLogDir(input(), probes({ directory: async () => ({ kind: 'writable', exists: false }) }));
    assert.deepEqual(brief(later), ['ok', './log does not exist yet; it will be created (its parent is writable)']);
    const denied = await checkLogDir(
      input(),
      probes({ directory: async () => ({ kind: 'not_writable', message: 'EACCES: permission denied' }) }),
    );
    assert.deepEqual(brief(denied), ['error', './log cannot be written: EACCES: permission denied']);
    assert.match(denied.fix ?? '', /--log-dir \(OMISE_WEBHOOK_LOG_DIR\)/);
  });

  it('store: opens, not there yet, broken; memory is not opened', async () => {
    assert.deepEqual(brief(await checkStore(input(), probes())), [
      'ok',
      '/app/log/omise-webhook.sqlite opens (12 event(s) stored)',
    ]);
    const absent = await checkStore(
      input(),
      probes({ store: async (dir) => ({ kind: 'absent', file: `${dir}/x.sqlite` }) }),
    );
    assert.deepEqual(brief(absent), ['ok', 'no store yet; serve will create ./log/x.sqlite (SQLite works here)']);
    const broken = await checkStore(
      input(),
      probes({
        store: async () => ({
          kind: 'failed',
          file: '/app/log/omise-webhook.sqlite',
          message: 'file is not a database',
        }),
      }),
    );
    assert.deepEqual(brief(broken), [
      'error',
      '/app/log/omise-webhook.sqlite cannot be opened: file is not a database',
    ]);
    const memory = probes();
    assert.equal((await checkStore(input({ store: 'memory' }), memory)).status, 'skip');
    assert.deepEqual(memory.calls, []);
  });

  it('PostgreSQL store: reachable with version, schema and privileges, each its own line, the password masked', async () => {
    const pg = input({ store: 'postgres', databaseUrl: 'postgres://team:s3cret@db:5432/webhooks' });
    const seen = probes();
    const lines = await checkPostgresStore(pg, seen);
    assert.deepEqual(seen.calls, ['postgres postgres://team:s3cret@db:5432/webhooks']);
    assert.deepEqual(
      lines.map((check) => [check.id, ...brief(check)]),
      [
        ['store', 'ok', 'postgres://team:****@db:5432/webhooks answers (PostgreSQL 16.4)'],
        ['store-schema', 'ok', 'schema version 1, the one this omise-webhook uses'],
        ['store-privileges', 'ok', 'this user may write the events and the forward queue'],
      ],
    );
    const fresh = await checkPostgresStore(
      pg,
      probes({
        postgres: async () => ({
          kind: 'reachable',
          serverVersion: '15.2',
          schemaVersion: null,
          codeSchemaVersion: 2,
          canCreate: true,
          canWrite: true,
        }),
      }),
    );
    assert.deepEqual(fresh.slice(1).map(brief), [
      ['ok', 'no omise-webhook tables yet; serve creates them (schema version 2) at its first start'],
      ['ok', 'this user may create the tables and write the events and the forward queue'],
    ]);
    const older = await checkPostgresStore(
      pg,
      probes({
        postgres: async () => ({
          kind: 'reachable',
          serverVersion: '15.2',
          schemaVersion: 1,
          codeSchemaVersion: 2,
          canCreate: false,
          canWrite: true,
        }),
      }),
    );
    assert.deepEqual(older.slice(1).map(brief), [
      [
        'ok',
        "schema version 1, older than this omise-webhook's 2: serve migrates it at start (once, even when several instances start together)",
      ],
      [
        'error',
        'this user may not create tables in postgres://team:****@db:5432/webhooks, and serve must create the newer ones',
      ],
    ]);
    assert.match(older[2]?.fix ?? '', /^GRANT CREATE ON SCHEMA public/);
    const newer = await checkPostgresStore(
      pg,
      probes({
        postgres: async () => ({
          kind: 'reachable',
          serverVersion: '17.0',
          schemaVersion: 3,
          codeSchemaVersion: 1,
          canCreate: true,
          canWrite: false,
        }),
      }),
    );
    assert.deepEqual(
      newer.slice(1).map((check) => check.status),
      ['error', 'error'],
    );
    assert.match(newer[1]?.message ?? '', /^schema version 3, newer than this omise-webhook knows \(1\)/);
    assert.match(newer[1]?.fix ?? '', /^upgrade omise-webhook/);
    assert.equal(
      newer[2]?.message,
      'this user may not write the omise-webhook tables in postgres://team:****@db:5432/webhooks',
    );
  });

  it('PostgreSQL store: each way of not reaching it says what to do, and the other store lines are skipped', async () => {
    const pg = input({ store: 'postgres', databaseUrl: 'postgres://team:s3cret@db:5432/webhooks' });
    const cases = [
      ['refused', 'the connection was refused', /^nothing listens at that host and port/],
      ['unknown_host', 'the host name does not resolve', /^check the host name/],
      ['auth_failed', 'the user name or password was refused', /^check the user name and password/],
      ['no_database', 'the database does not exist', /^create the database/],
      ['timeout', 'no answer in time', /firewall/],
    ] as const;
    for (const [problem, words, fix] of cases) {
      const lines = await checkPostgresStore(
        pg,
        probes({ postgres: async () => ({ kind: 'unreachable', problem, message: 'detail' }) }),
      );
      assert.deepEqual(
        lines.map((check) => [check.id, check.status]),
        [
          ['store', 'error'],
          ['store-schema', 'skip'],
          ['store-privileges', 'skip'],
        ],
      );
      assert.equal(lines[0]?.message, `cannot connect to postgres://team:****@db:5432/webhooks: ${words}`);
      assert.match(lines[0]?.fix ?? '', fix);
    }
    const all = await runDoctorChecks(pg, probes());
    assert.deepEqual(
      all.filter((check) => check.id.startsWith('store')).map((check) => check.id),
      ['store', 'store-schema', 'store-privileges'],
    );
    assert.doesNotMatch(JSON.stringify(all), /s3cret/);
  });

  it('public URL: the tunnel token when --tunnel is asked for, --public-url checked, or none', () => {
    const token = checkPublicUrlSetup(
      input({ tunnel: true, tunnelAuthtoken: '2abcdefghijklmnop_tok9', tunnelDomain: 'my-app.ngrok-free.app' }),
    );
    assert.deepEqual(brief(token), [
      'ok',
      '--tunnel on my-app.ngrok-free.app: NGROK_AUTHTOKEN is set (••••tok9); ngrok checks it when serve starts',
    ]);
    const noToken = checkPublicUrlSetup(input({ tunnel: true }));
    assert.equal(noToken.status, 'error');
    assert.match(noToken.message, /^--tunnel needs NGROK_AUTHTOKEN, which is not set/);
    assert.match(
      noToken.fix ?? '',
      /https:\/\/dashboard\.ngrok\.com\/get-started\/your-authtoken into \.env as NGROK_AUTHTOKEN=/,
    );
    assert.deepEqual(brief(checkPublicUrlSetup(input({ publicUrl: 'https://abcd.trycloudflare.com' }))), [
      'ok',
      '--public-url: https://abcd.trycloudflare.com/omise/webhook (paste it into the Omise dashboard → Webhooks (test mode): https://dashboard.omise.co/test/webhooks)',
    ]);
    const bad = checkPublicUrlSetup(input({ publicUrl: 'http://abcd.trycloudflare.com' }));
    assert.equal(bad.status, 'error');
    assert.match(
      bad.message,
      /^--public-url "http:\/\/abcd\.trycloudflare\.com" is not usable: expected an https:\/\/ URL/,
    );
    assert.equal(checkPublicUrlSetup(input()).status, 'skip');
  });

  it('runs every check in order; exits 1 only when something blocks receiving', async () => {
    const all = await runDoctorChecks(input(), probes());
    assert.deepEqual(
      all.map((check) => [check.id, check.status]),
      [
        ['dotenv', 'ok'],
        ['secret-key', 'ok'],
        ['omise-api', 'ok'],
        ['webhook-secret', 'ok'],
        ['verification', 'ok'],
        ['port', 'ok'],
        ['ui-port', 'ok'],
        ['log-dir', 'ok'],
        ['store', 'ok'],
        ['public-url', 'skip'],
      ],
    );
    // The inspector's listener is probed at its own address.
    const probed: string[] = [];
    await runDoctorChecks(
      input({ uiHost: '127.0.0.2', uiPort: 4001 }),
      probes({
        port: async ({ host, port }) => {
          probed.push(`${host}:${port}`);
          return { kind: 'free' };
        },
      }),
    );
    assert.deepEqual(probed.sort(), ['127.0.0.1:3000', '127.0.0.2:4001']);
    assert.equal(doctorExitCode(all), 0);
    const warnings = await runDoctorChecks(input({ secretKey: 'skey_live_5xdoctorkey0001' }), probes());
    assert.equal(doctorExitCode(warnings), 0, 'warnings alone exit 0');
    const blocked = await runDoctorChecks(input(), probes({ port: async () => ({ kind: 'in_use' }) }));
    assert.equal(doctorExitCode(blocked), 1);
    const noDir = probes({ directory: async () => ({ kind: 'not_writable', message: 'EROFS' }) });
    const unwritable = await runDoctorChecks(input(), noDir);
    assert.deepEqual(unwritable.filter((check) => check.id === 'store').map(brief), [
      ['skip', 'not checked: the log directory cannot be written'],
    ]);
    assert.equal(noDir.calls.filter((call) => call.startsWith('store')).length, 0);
  });
});
