import assert from 'node:assert/strict';
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
});
