import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import { type PacedLoadOptions, type PacedResult, pacedLoad, ResponseReader } from './paced-client.js';

/** Runs pacedLoad, with `{}` bodies unless `makeRequest` says otherwise, and keeps every result. */
async function collect(
  options: Omit<PacedLoadOptions, 'makeRequest' | 'onResult'> & Partial<Pick<PacedLoadOptions, 'makeRequest'>>,
): Promise<{ sent: number; results: PacedResult[] }> {
  const results: PacedResult[] = [];
  const sent = await pacedLoad({
    makeRequest: () => ({ body: '{}', headers: {} }),
    ...options,
    onResult: (result) => results.push(result),
  });
  return { sent, results };
}

/** A server that holds every answer until `release()`, so the client's pacing can be seen. */
async function holdingServer(): Promise<{
  url: string;
  received: () => number;
  release: () => void;
  close: () => Promise<void>;
}> {
  const held: ServerResponse[] = [];
  let released = false;
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      if (released) res.end('{}');
      else held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/omise/webhook`,
    received: () => received,
    release: () => {
      released = true;
      for (const res of held.splice(0)) res.end('{}');
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

test('pacedLoad sends on schedule while earlier requests wait, and counts latency from the scheduled time', async () => {
  const server = await holdingServer();
  // 100/s for 300 ms: 30 requests due 10 ms apart. The server answers none until all 30 have
  // arrived: a client that waited for answers before sending more would never finish.
  const waitForAll = setInterval(() => {
    if (server.received() === 30) {
      clearInterval(waitForAll);
      server.release();
    }
  }, 5);
  const { sent, results } = await collect({
    url: server.url,
    rate: 100,
    durationMs: 300,
    connections: 50,
    makeRequest: (index) => ({ body: `{"n":${index}}`, headers: { 'Content-Type': 'application/json' } }),
  });
  await server.close();
  assert.equal(sent, 30);
  assert.equal(results.length, 30);
  assert.ok(results.every((r) => r.status === 200));
  const byIndex = [...results].sort((a, b) => a.index - b.index);
  const first = byIndex[0] as PacedResult;
  for (const r of byIndex) {
    assert.equal(Math.round((r.dueAt - first.dueAt) * 1000) / 1000, r.index * 10);
    assert.ok(r.sentAt >= r.dueAt);
    assert.equal(r.latencyMs, r.doneAt - r.dueAt);
  }
  // The first request waited for the 30th to be sent, 290 ms later: its latency shows that wait.
  assert.ok(first.latencyMs >= 290, `first latency ${first.latencyMs}`);
});

test('pacedLoad reports requests beyond maxInFlight as -1 instead of queueing them without bound', async () => {
  const server = await holdingServer();
  const results: PacedResult[] = [];
  const sent = pacedLoad({
    url: server.url,
    rate: 100,
    durationMs: 300,
    maxInFlight: 10,
    makeRequest: () => ({ body: '{}', headers: {} }),
    onResult: (result) => results.push(result),
  });
  // Nothing is answered until the client has stopped sending: the 20 due after the first 10 find
  // 10 in flight.
  const release = setInterval(() => {
    if (results.length === 20) {
      clearInterval(release);
      server.release();
    }
  }, 5);
  assert.equal(await sent, 30);
  await server.close();
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === -1).length, 20);
  assert.equal(statuses.filter((s) => s === 200).length, 10);
  assert.deepEqual(
    results
      .filter((r) => r.status === 200)
      .map((r) => r.index)
      .sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test('ResponseReader reads a Content-Length answer fed a byte at a time, and keeps a following answer apart', () => {
  const reader = new ResponseReader();
  const answer = Buffer.from(
    'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}',
  );
  const statuses: (number | null)[] = [];
  for (const byte of answer) statuses.push(reader.push(Buffer.from([byte])));
  assert.deepEqual(
    statuses.slice(0, -1).filter((s) => s !== null),
    [],
  );
  assert.equal(statuses.at(-1), 201);
  assert.equal(reader.hasLeftover, false);
  assert.equal(reader.closeAfter, false);
  // Two answers in one read: the first completes, the second's bytes stay for the next push.
  const two = Buffer.from(
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n',
  );
  assert.equal(reader.push(two), 200);
  assert.equal(reader.hasLeftover, true);
  assert.equal(reader.push(Buffer.alloc(0)), 503);
  assert.equal(reader.hasLeftover, false);
});

test('ResponseReader reads chunked answers with extensions and trailers, skips 100 Continue, frames 204 and read-until-close answers, and knows when HTTP/1.0 closes', () => {
  const chunked = new ResponseReader();
  const parts = [
    'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nConnection: keep-alive, close\r\n\r\n',
    '5;name=value\r\nhello\r\n',
    'a\r\n0123456789\r\n',
    '0\r\nX-Trailer: yes\r\n\r\n',
  ];
  const statuses = parts.map((part) => chunked.push(Buffer.from(part)));
  assert.deepEqual(statuses, [null, null, null, null, 200]);
  assert.equal(chunked.closeAfter, true);
  assert.equal(chunked.hasLeftover, false);

  // A body containing the chunk terminator's bytes is data, not the end.
  const tricky = new ResponseReader();
  assert.equal(
    tricky.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n0\r\n\r\n\r\n\r\n')),
    null,
  );
  assert.equal(tricky.push(Buffer.from('0\r\n\r\n')), 200);

  const empty = new ResponseReader();
  assert.equal(empty.push(Buffer.from('HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n')), 204);

  const oldKeepAlive = new ResponseReader();
  assert.equal(
    oldKeepAlive.push(Buffer.from('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n')),
    200,
  );
  assert.equal(oldKeepAlive.closeAfter, false);
  const oldClose = new ResponseReader();
  assert.equal(oldClose.push(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')), 200);
  assert.equal(oldClose.closeAfter, true);

  const untilClose = new ResponseReader();
  assert.equal(untilClose.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\nsome body')), null);
  assert.equal(untilClose.push(Buffer.from(' and more')), null);
  assert.equal(untilClose.end(), 200);

  // Cut short: a Content-Length answer whose body never came whole has no status.
  const cut = new ResponseReader();
  assert.equal(cut.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}')), null);
  assert.equal(cut.end(), null);
});

test('ResponseReader refuses what is not an HTTP/1.x answer', () => {
  assert.throws(() => new ResponseReader().push(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n\r\n')), /not an HTTP\/1.x answer/);
  assert.throws(
    () => new ResponseReader().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')),
    /bad chunk size/,
  );
  assert.throws(() => new ResponseReader().push(Buffer.alloc(70 * 1024, 'a')), /answer head too large/);
});

/** A server that records each request's bytes and connection, answering as `answer` says. */
async function recordingServer(answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<{
  url: string;
  requests: { body: Buffer; headers: IncomingMessage['headers']; connection: number }[];
  connections: () => number;
  close: () => Promise<void>;
}> {
  const requests: { body: Buffer; headers: IncomingMessage['headers']; connection: number }[] = [];
  const sockets = new Map<Socket, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ body, headers: req.headers, connection: sockets.get(req.socket) ?? -1 });
      answer(req, res, body);
    });
  });
  server.on('connection', (socket) => sockets.set(socket, sockets.size));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/omise/webhook?probe=1`,
    requests,
    connections: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

test('pacedLoad writes each body byte for byte with its headers, and reuses its keep-alive connections', async () => {
  const server = await recordingServer((_req, res) => res.end('{"ok":true}'));
  // Multi-byte characters: Content-Length must count bytes, not characters.
  const body = (index: number) => `{\n  "id": "evnt_test_${index}",\n  "description": "ชำระเงิน \\/ café ✓"\n}`;
  const { sent, results } = await collect({
    url: server.url,
    rate: 200,
    durationMs: 100,
    connections: 3,
    // Even requests as strings, odd ones as Buffers.
    makeRequest: (index) => ({
      body: index % 2 === 0 ? body(index) : Buffer.from(body(index)),
      headers: { 'Content-Type': 'application/json', 'Omise-Signature': `sig${index}` },
    }),
  });
  await server.close();
  assert.equal(sent, 20);
  assert.deepEqual(
    results.map((r) => r.status),
    Array(20).fill(200),
  );
  const byBody = new Map(server.requests.map((r) => [r.body.toString('utf8'), r]));
  for (let index = 0; index < 20; index += 1) {
    const seen = byBody.get(body(index));
    assert.ok(seen, `request ${index} arrived with its exact body`);
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body(index))));
    assert.equal(seen.headers['omise-signature'], `sig${index}`);
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers.host, new URL(server.url).host);
  }
  // Answered within a few ms at 200/s: a connection is free again long before the next is due.
  assert.ok(server.connections() <= 3, `${server.connections()} connections`);
});

test('pacedLoad reads chunked answers, opens a new connection when the server closes one, and counts failures as 0', async () => {
  let n = 0;
  const server = await recordingServer((req, res) => {
    n += 1;
    const kind = n % 4;
    if (kind === 1) {
      // Chunked: no Content-Length, written in two parts.
      res.write('{"part":');
      setTimeout(() => res.end('1}'), 2);
    } else if (kind === 2) {
      res.setHeader('Connection', 'close');
      res.end('{}');
    } else if (kind === 3) {
      req.socket.destroy();
    } else {
      res.statusCode = 202;
      res.end();
    }
  });
  const { results } = await collect({
    url: server.url,
    rate: 100,
    durationMs: 120,
    connections: 2,
  });
  await server.close();
  // The server's nth request gets the nth answer kind; a request dispatched after a close may
  // arrive in another order, so count by kind.
  const statuses = results.map((r) => r.status).sort((a, b) => a - b);
  assert.deepEqual(statuses, [0, 0, 0, 200, 200, 200, 200, 200, 200, 202, 202, 202]);
  // Every close (answered with Connection: close, or destroyed) cost a connection.
  assert.ok(server.connections() >= 6, `${server.connections()} connections`);
});

test('pacedLoad gives up on an answer after timeoutMs and closes idle connections after idleCloseMs', async () => {
  let n = 0;
  const server = await recordingServer((_req, res) => {
    n += 1;
    if (n === 1) return; // never answered
    res.end('{}');
  });
  // 5/s for 1 s: the first is never answered (0 after 200 ms); the rest are 200 ms apart, longer
  // than the 100 ms idle close, so each goes on a new connection.
  const { results } = await collect({
    url: server.url,
    rate: 5,
    durationMs: 1000,
    connections: 5,
    timeoutMs: 200,
    idleCloseMs: 100,
  });
  await server.close();
  const first = results.find((r) => r.index === 0) as PacedResult;
  assert.equal(first.status, 0);
  assert.ok(first.latencyMs >= 200 && first.latencyMs < 1000, `timed out after ${first.latencyMs} ms`);
  assert.deepEqual(
    results.filter((r) => r.index > 0).map((r) => r.status),
    [200, 200, 200, 200],
  );
  assert.equal(server.connections(), 5);
});

test('pacedLoad uses its idle connections least recently used first, so none idles long enough for the server to close it', async () => {
  const held: ServerResponse[] = [];
  const server = await recordingServer((_req, res) => {
    // The first three are held until all three have arrived, so three connections open.
    if (server.requests.length <= 3) {
      held.push(res);
      if (held.length === 3) for (const waiting of held) waiting.end('{}');
      return;
    }
    res.end('{}');
  });
  const { results } = await collect({
    url: server.url,
    rate: 50,
    durationMs: 240,
    connections: 3,
  });
  await server.close();
  assert.equal(results.length, 12);
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(server.connections(), 3);
  // Answered long before the next is due: a most-recently-used pool would send all nine on one.
  const later = server.requests.slice(3).map((r) => r.connection);
  assert.deepEqual([...new Set(later)].sort(), [0, 1, 2]);
});
