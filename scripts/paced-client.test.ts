import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { type PacedResult, pacedLoad } from './paced-client.js';

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
  const results: PacedResult[] = [];
  // 100/s for 300 ms: 30 requests due 10 ms apart. The server answers none until all 30 have
  // arrived: a client that waited for answers before sending more would never finish.
  const waitForAll = setInterval(() => {
    if (server.received() === 30) {
      clearInterval(waitForAll);
      server.release();
    }
  }, 5);
  const sent = await pacedLoad({
    url: server.url,
    rate: 100,
    durationMs: 300,
    connections: 50,
    makeRequest: (index) => ({ body: `{"n":${index}}`, headers: { 'Content-Type': 'application/json' } }),
    onResult: (result) => results.push(result),
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
