import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { RawHttpSender } from '../adapters/http/raw-http-sender.js';
import type { ListenCursor } from '../core/listen.js';
import { eventBody } from '../testing/delivery-fixtures.js';
import { omiseHeaders, postWebhook } from '../testing/forwarding.js';
import { TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { headerValue, startTargetServer, type TargetServer } from '../testing/target-server.js';
import { startTestServer } from '../testing/test-server.js';
import { TeamListener } from './team-listener.js';

const TOKEN = 'team-token-0123456789abcdef';

describe('TeamListener', () => {
  it('keeps trying the same event while the local app is down, sends nothing after it meanwhile, and saves only once answered', async () => {
    const server = await startTestServer({
      ui: true,
      uiToken: TOKEN,
      webhookSecrets: [TEST_WEBHOOK_SECRET],
      files: false,
    });
    // A port with nothing listening (yet): the app is not started.
    const probe = await startTargetServer();
    const port = probe.port;
    const url = probe.url;
    await probe.close();
    let target: TargetServer | null = null;
    const waits: number[] = [];
    const saved: string[] = [];
    const cursor: ListenCursor = {
      load: async () => null,
      save: async (position) => {
        saved.push(position);
      },
    };
    const lines: string[] = [];
    const logs: string[] = [];
    const controller = new AbortController();
    const sender = new RawHttpSender();
    let connected!: () => void;
    const ready = new Promise<void>((resolve) => {
      connected = resolve;
    });
    const listener = new TeamListener({
      from: `http://127.0.0.1:${server.inspector?.port}/`,
      token: TOKEN,
      forwardTo: url,
      events: null,
      since: null,
      cursor,
      sender,
      fetch,
      signal: controller.signal,
      out: (line) => lines.push(line),
      log: (line) => {
        logs.push(line);
        if (line.startsWith('listening to')) connected();
      },
      forwardTimeoutMs: 2_000,
      color: false,
      // The backoff as a fake: the waits are recorded, and the app comes up during the second.
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 2) target = await startTargetServer({ port });
      },
    });
    const running = listener.run();
    await ready;
    const positionAtStart = saved.length;
    const ids = ['evnt_test_5teamlisten0001', 'evnt_test_5teamlisten0002'];
    for (const id of ids) {
      const body = eventBody({ eventId: id });
      assert.equal((await postWebhook(server, body, omiseHeaders(body, Math.floor(Date.now() / 1000)))).status, 200);
    }
    while (target === null) await new Promise((resolve) => setImmediate(resolve));
    const requests = await (target as TargetServer).waitForRequests(2);
    assert.deepEqual(
      requests.map((request) => [
        headerValue(request, 'Omise-Webhook-Event-Id'),
        headerValue(request, 'Omise-Webhook-Attempt'),
      ]),
      [
        [ids[0], '3'],
        [ids[1], '1'],
      ],
    );
    assert.deepEqual(waits, [500, 1000]);
    assert.match(
      lines[0] as string,
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  charge\\.create {8}${ids[0]}  → ✖ connection refused by 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): is your app running and listening there\\?  \\d+ ms  trying again in 500 ms, nothing after it is sent meanwhile$`,
      ),
    );
    assert.match(lines[2] as string, new RegExp(`${ids[0]}  → 200  \\d+ ms$`));
    // Two positions saved after the start position: one per answered event, none while failing.
    while (saved.length < positionAtStart + 2) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(saved.at(-1), await server.store.eventFeedHead());
    controller.abort();
    await running;
    sender.close();
    await (target as unknown as TargetServer).close();
    await server.close();
  });

  it('gives up a connection that goes silent for three heartbeats, and connects again from where it was', async () => {
    // A server that says ready (heartbeat every 20 ms), then never sends another byte: a dead tunnel.
    const requests: string[] = [];
    const silent = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(`id: 7\nevent: ready\ndata: {"heartbeatMs":20,"serverTime":"2026-11-26T07:00:00.000Z"}\n\n`);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const from = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const controller = new AbortController();
    const logs: string[] = [];
    let reconnected!: () => void;
    const second = new Promise<void>((resolve) => {
      reconnected = resolve;
    });
    const listener = new TeamListener({
      from,
      token: null,
      forwardTo: 'http://127.0.0.1:9/never',
      events: 'charge.*',
      since: null,
      cursor: { load: async () => null, save: async () => {} },
      sender: new RawHttpSender(),
      fetch,
      signal: controller.signal,
      out: () => {},
      log: (line) => {
        logs.push(line);
        if (line.startsWith('reconnected')) reconnected();
      },
      forwardTimeoutMs: 1_000,
      color: false,
      sleep: async () => {},
    });
    const running = listener.run();
    await second;
    controller.abort();
    await running;
    assert.deepEqual(logs.slice(0, 3), [
      `listening to ${from} (charge.*, from now); forwarding to http://127.0.0.1:9/never. Ctrl-C to stop`,
      `no data nor heartbeat from ${from} for 60 ms; reconnecting in 500 ms`,
      `reconnected to ${from}; resuming after 7`,
    ]);
    assert.deepEqual(requests.slice(0, 2), ['/api/feed?events=charge.*', '/api/feed?after=7&events=charge.*']);
    silent.closeAllConnections();
    silent.close();
  });
});
