import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { LocalTunnelProvider } from '../adapters/tunnel/local-tunnel.js';
import { explainNgrokError } from '../adapters/tunnel/ngrok-errors.js';
import { NgrokTunnelProvider } from '../adapters/tunnel/ngrok-tunnel.js';
import { eventBody } from '../testing/delivery-fixtures.js';
import { FakeClock } from '../testing/fake-clock.js';
import { rawRequest } from '../testing/http.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { startTestServer } from '../testing/test-server.js';

/** A stand-in for the inspector on its own port, counting what reaches it. */
async function startInspectorStandIn() {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end('{"items":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('serve --tunnel (through the local stand-in)', () => {
  it('forwards to the webhook port only: events arrive byte for byte, inspector routes are 404', async () => {
    const inspector = await startInspectorStandIn();
    const provider = new LocalTunnelProvider();
    const server = await startTestServer({ tunnel: true, webhookSecrets: [TEST_WEBHOOK_SECRET] }, undefined, {
      tunnelProvider: provider,
    });
    try {
      const tunnel = provider.current;
      assert.ok(tunnel);
      assert.deepEqual(tunnel.target, { host: '127.0.0.1', port: server.listener.port });
      assert.notEqual(tunnel.target.port, inspector.port);
      assert.equal(server.publicUrl, 'https://tunnel-1.local-stand-in.test/omise/webhook');

      const eventId = 'evnt_test_5xtunnel0001';
      const body = eventBody({ eventId, key: 'charge.complete' });
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await rawRequest({
        url: `${tunnel.localUrl}/omise/webhook`,
        headers: [
          ['Content-Type', 'application/json'],
          ['Omise-Signature-Timestamp', String(timestamp)],
          ['Omise-Signature', signForTest(TEST_WEBHOOK_SECRET, timestamp, body)],
        ],
        body,
      });
      assert.equal(response.status, 200);
      const stored = await server.store.getEvent(eventId);
      assert.equal(Buffer.from(stored?.body ?? []).toString('utf8'), body);

      for (const path of ['/api/events', '/api/events/evnt_test_5xtunnel0001', '/', '/index.html', '/api/stream']) {
        const probe = await rawRequest({ url: `${tunnel.localUrl}${path}`, method: 'GET' });
        assert.equal(probe.status, 404, path);
        assert.deepEqual(JSON.parse(probe.body), {
          error: 'not_found',
          message: 'nothing here; Omise webhooks are received at POST /omise/webhook',
        });
      }
      assert.deepEqual(inspector.seen, [], 'nothing sent through the tunnel reached the inspector');
    } finally {
      await server.close();
      await inspector.close();
    }
    assert.equal(provider.opened[0]?.closed, true, 'closing the server closes the tunnel');
  });

  it('keeps publicUrl current through a drop and a reopen', async () => {
    const provider = new LocalTunnelProvider();
    const timers = new FakeClock(0);
    const server = await startTestServer({ tunnel: true }, undefined, { tunnelProvider: provider, timers });
    try {
      assert.equal(server.publicUrl, 'https://tunnel-1.local-stand-in.test/omise/webhook');
      await provider.drop('session closed by the service');
      assert.equal(server.publicUrl, null);
      assert.equal(server.tunnel?.status.state, 'reconnecting');
      assert.match(server.stderr.text, /tunnel: dropped \(session closed by the service\); opening a new one in 1s\./);
      // Still receiving locally while the tunnel is down.
      const local = await rawRequest({ url: server.listener.url, body: eventBody({ eventId: 'evnt_test_5xdown1' }) });
      assert.equal(local.status, 200);

      const reopened = provider.nextOpen();
      timers.fire(1000);
      const second = await reopened;
      assert.equal(second.target.port, server.listener.port);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(server.publicUrl, 'https://tunnel-2.local-stand-in.test/omise/webhook');
      assert.match(
        server.stderr.text,
        /tunnel: open again, at a NEW URL\. Paste https:\/\/tunnel-2\.local-stand-in\.test\/omise\/webhook into/,
      );
    } finally {
      await server.close();
    }
  });

  it('starts and receives locally when the tunnel cannot open', async () => {
    const provider = new LocalTunnelProvider();
    provider.failNextOpen(
      explainNgrokError(new Error('failed to start tunnel\n\nERR_NGROK_319'), { domain: 'x.ngrok.app' }),
    );
    const server = await startTestServer({ tunnel: true, tunnelDomain: 'x.ngrok.app' }, undefined, {
      tunnelProvider: provider,
      timers: new FakeClock(0),
    });
    try {
      assert.equal(server.publicUrl, null);
      assert.equal(server.tunnel?.status.code, 'domain_not_reserved');
      const local = await rawRequest({ url: server.listener.url, body: eventBody({ eventId: 'evnt_test_5xlocal1' }) });
      assert.equal(local.status, 200);
    } finally {
      await server.close();
    }
  });

  it('with the real ngrok provider and no NGROK_AUTHTOKEN, starts anyway and says what to set', async () => {
    const server = await startTestServer({ tunnel: true }, undefined, { tunnelProvider: new NgrokTunnelProvider() });
    try {
      assert.equal(server.publicUrl, null);
      assert.equal(server.tunnel?.status.state, 'failed');
      assert.equal(server.tunnel?.status.code, 'missing_authtoken');
      assert.equal(server.tunnel?.status.retryInMs, null);
      const local = await rawRequest({ url: server.listener.url, body: eventBody({ eventId: 'evnt_test_5xnotoken' }) });
      assert.equal(local.status, 200);
    } finally {
      await server.close();
    }
  });

  it('takes --public-url as the URL to paste, without opening a tunnel', async () => {
    const server = await startTestServer({ publicUrl: 'https://mine.trycloudflare.com/omise/webhook' });
    try {
      assert.equal(server.tunnel, null);
      assert.equal(server.publicUrl, 'https://mine.trycloudflare.com/omise/webhook');
    } finally {
      await server.close();
    }
    const plain = await startTestServer();
    assert.equal(plain.publicUrl, null);
    await plain.close();
  });
});
