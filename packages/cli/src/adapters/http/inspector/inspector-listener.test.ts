import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../../app/server.js';
import { rawRequest } from '../../../testing/http.js';
import { fixtureBody } from '../../../testing/omise-fixtures.js';
import { TEST_WEBHOOK_SECRET } from '../../../testing/signing.js';
import { SseReader } from '../../../testing/sse-reader.js';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';

describe('inspector listener beside the webhook listener', () => {
  let server: TestServer;
  let inspectorUrl: string;
  before(async () => {
    server = await startTestServer({ ui: true });
    assert.ok(server.inspector);
    inspectorUrl = server.inspector.url;
  });
  after(() => server.close());

  it('listens on its own port, and the webhook port never serves the inspector', async () => {
    assert.match(inspectorUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.notEqual(server.inspector?.port, server.listener.port);
    const webhookOrigin = new URL(server.webhookUrl).origin;
    for (const path of [
      '/',
      '/api/events',
      '/api/stream',
      '/api/stats',
      '/api/status',
      '/ui/main.js',
      '/vendor/preact/dist/preact.mjs',
    ]) {
      const response = await rawRequest({ url: `${webhookOrigin}${path}`, method: 'GET' });
      assert.equal(response.status, 404, `webhook port ${path}`);
      assert.equal(
        response.body,
        '{"error":"not_found","message":"nothing here; Omise webhooks are received at POST /omise/webhook"}',
      );
    }
    for (const path of ['', 'api/events', 'api/stats', 'ui/main.js', 'vendor/htm/dist/htm.mjs']) {
      assert.equal((await fetch(`${inspectorUrl}${path}`)).status, 200, `inspector /${path}`);
    }
  });

  it('streams an event posted to the receiver to an open client, then lists it', async () => {
    const response = await fetch(`${inspectorUrl}api/stream`);
    assert.equal(response.status, 200);
    const stream = new SseReader(response.body as ReadableStream<Uint8Array>);
    await stream.waitFor((m) => m.event === 'ready');
    const posted = await rawRequest({
      url: server.webhookUrl,
      headers: [['Content-Type', 'application/json']],
      body: fixtureBody('refund.create'),
    });
    assert.equal(posted.status, 200);
    const message = await stream.waitFor((m) => m.event === 'event.stored');
    assert.equal(JSON.parse(message.data).id, 'evnt_test_5ygtcm1ho9qyhg6zmsw');
    await stream.cancel();
    const list = (await (await fetch(`${inspectorUrl}api/events?q=rfnd_test_5ygtclzq3e6cjqzl6wa`)).json()) as {
      items: Array<{ id: string }>;
    };
    assert.deepEqual(
      list.items.map((e) => e.id),
      ['evnt_test_5ygtcm1ho9qyhg6zmsw'],
    );
    const status = (await (await fetch(`${inspectorUrl}api/status`)).json()) as Record<string, unknown>;
    assert.equal(status.webhookUrl, server.webhookUrl);
    assert.equal(status.verificationMode, 'none');
    assert.equal(status.verificationConfigured, false);
    assert.equal(status.secretKeyMasked, null);
  });

  it('ends open streams when the server stops', async () => {
    const other = await startTestServer({ ui: true });
    const response = await fetch(`${other.inspector?.url}api/stream`);
    const stream = new SseReader(response.body as ReadableStream<Uint8Array>);
    await stream.waitFor((m) => m.event === 'ready');
    await other.close();
    await stream.untilClosed();
  });
});

describe('inspector status from the running server', () => {
  it('reports the secret key masked and the webhook secret only as configured', async () => {
    const secretKey = 'skey_test_5abcdefghijklmnop';
    const server = await startTestServer({ ui: true, secretKey, webhookSecrets: [TEST_WEBHOOK_SECRET] });
    try {
      const response = await fetch(`${server.inspector?.url}api/status`);
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.equal(text.includes(secretKey), false, 'the secret key is not in the status');
      assert.equal(text.includes('abcdefghijkl'), false, 'nor is its middle');
      assert.equal(text.includes(TEST_WEBHOOK_SECRET), false, 'the webhook secret is not in the status');
      const status = JSON.parse(text) as Record<string, unknown>;
      assert.equal(status.secretKeyMasked, 'skey_test_••••mnop');
      assert.match(status.secretKeyMasked as string, /••••/);
      assert.equal(status.verificationConfigured, true);
    } finally {
      await server.close();
    }
  });
});

describe('inspector token rule', () => {
  it('generates a token when bound beyond loopback, and requires it', async () => {
    const server = await startTestServer({ ui: true, uiHost: '0.0.0.0' });
    try {
      const inspector = server.inspector;
      assert.ok(inspector?.token, 'a token was generated');
      assert.match(inspector.token, /^[A-Za-z0-9_-]{32}$/);
      const base = `http://127.0.0.1:${inspector.port}`;
      const denied = await fetch(`${base}/api/events`);
      assert.equal(denied.status, 401);
      assert.equal((await denied.json()).error, 'unauthorized');
      assert.equal((await fetch(`${base}/`)).status, 401);
      const allowed = await fetch(`${base}/api/events`, { headers: { Authorization: `Bearer ${inspector.token}` } });
      assert.equal(allowed.status, 200);
      const opened = await fetch(`${base}/?token=${inspector.token}`, { redirect: 'manual' });
      assert.equal(opened.status, 303);
      const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0] as string;
      assert.equal(cookie, `omise_webhook_ui_${inspector.port}=${inspector.token}`);
      const page = await fetch(`${base}/`, { headers: { Cookie: cookie } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /importmap/);
    } finally {
      await server.close();
    }
  });

  it('requires a token given for a loopback inspector too', async () => {
    const token = 'chosen-token-0123456789abcdef';
    const server = await startTestServer({ ui: true, uiToken: token });
    try {
      const url = `${server.inspector?.url}api/stats`;
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await server.close();
    }
  });

  it('without ui, starts no inspector', async () => {
    const server = await startTestServer({ ui: false });
    assert.equal(server.inspector, null);
    await server.close();
  });

  it('says which flag to change when the inspector port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startTestServer({ ui: true, uiPort: port }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message ===
            `port ${port} on 127.0.0.1 is already in use; stop the other program or choose another with --ui-port (OMISE_WEBHOOK_UI_PORT), or turn the inspector off with --no-ui`,
      );
    } finally {
      blocker.close();
    }
  });
});
