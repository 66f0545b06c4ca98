import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventBody } from '../../testing/delivery-fixtures.js';
import { rawRequest, rawSocketExchange } from '../../testing/http.js';
import { startTestServer, type TestServer } from '../../testing/test-server.js';

/** The status line and the JSON body of a raw HTTP answer. */
function parseAnswer(raw: string): { statusLine: string; headers: string; body: Record<string, unknown> } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  return {
    statusLine: head.split('\r\n')[0] ?? '',
    headers: head.toLowerCase(),
    body: JSON.parse(raw.slice(split + 4)) as Record<string, unknown>,
  };
}

const NO_HOST_MESSAGE =
  'the request has no Host header; every request here must name the host it is for (HTTP/1.1 requires it). Send Host: <host>:<port>';

// Issue 12, defect 5: an HTTP/1.0 request without Host was never answered by the inspector and
// its connection held open. Each exchange resolves only when the server closes the connection,
// and the test's timeout fails it if the server never does.
describe('requests without a Host header, on both listeners', () => {
  let server: TestServer;
  let inspectorUrl: string;
  before(async () => {
    server = await startTestServer({ ui: true });
    assert.ok(server.inspector);
    inspectorUrl = server.inspector.url;
  });
  after(() => server.close());

  it('the inspector answers 400 and closes the connection', { timeout: 5_000 }, async () => {
    const answer = parseAnswer(await rawSocketExchange(inspectorUrl, 'GET /api/events HTTP/1.0\r\n\r\n'));
    assert.equal(answer.statusLine, 'HTTP/1.1 400 Bad Request');
    assert.match(answer.headers, /\r\nconnection: close/);
    assert.deepEqual(answer.body, { error: 'missing_host', message: NO_HOST_MESSAGE });
    // And it still serves a proper request.
    const page = await rawRequest({ url: `${inspectorUrl}api/status`, method: 'GET' });
    assert.equal(page.status, 200);
  });

  it('the inspector answers 400 to an empty Host header too', { timeout: 5_000 }, async () => {
    const answer = parseAnswer(await rawSocketExchange(inspectorUrl, 'GET /api/events HTTP/1.0\r\nHost:\r\n\r\n'));
    assert.equal(answer.statusLine, 'HTTP/1.1 400 Bad Request');
    assert.equal(answer.body.error, 'missing_host');
    assert.match(String(answer.body.message), /^the request has an empty Host header/);
  });

  it('the webhook listener answers 400 and closes, then still accepts an event', { timeout: 5_000 }, async () => {
    const body = eventBody({ eventId: 'evnt_test_5xnohost1' });
    const request = `POST /omise/webhook HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const answer = parseAnswer(await rawSocketExchange(server.webhookUrl, request));
    assert.equal(answer.statusLine, 'HTTP/1.1 400 Bad Request');
    assert.match(answer.headers, /\r\nconnection: close/);
    assert.deepEqual(answer.body, { error: 'missing_host', message: NO_HOST_MESSAGE });
    assert.equal(await server.store.getEvent('evnt_test_5xnohost1'), undefined);
    const valid = eventBody({ eventId: 'evnt_test_5xnohost2' });
    const accepted = await rawRequest({
      url: server.webhookUrl,
      body: valid,
      headers: [['Content-Type', 'application/json']],
    });
    assert.equal(accepted.status, 200, accepted.body);
  });

  it('the webhook listener answers 400 to GET /healthz without Host', { timeout: 5_000 }, async () => {
    const answer = parseAnswer(await rawSocketExchange(server.webhookUrl, 'GET /healthz HTTP/1.0\r\n\r\n'));
    assert.equal(answer.statusLine, 'HTTP/1.1 400 Bad Request');
    assert.equal(answer.body.error, 'missing_host');
  });
});
