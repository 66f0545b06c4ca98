/**
 * An open-loop paced HTTP client: request i is due at start + i / rate and is sent then, whether
 * or not earlier ones were answered, and its latency is counted from that due time. A server that
 * stalls for 200 ms therefore shows 200 ms on every request due during the stall, not one slow
 * request (no coordinated omission). Requests go over a keep-alive pool of `connections`; when
 * all are busy, new ones wait in the pool's queue, and that wait is part of their latency.
 */
import { Agent, request } from 'node:http';

export interface PacedRequest {
  body: string | Buffer;
  headers: Record<string, string>;
}

export interface PacedResult {
  index: number;
  /** When the request was due (performance.now(), ms). */
  dueAt: number;
  /** When the request was handed to the connection pool (later than dueAt when this process was busy). */
  sentAt: number;
  /** When the answer was read whole, or the request failed. */
  doneAt: number;
  /** From due time to answer, in ms. */
  latencyMs: number;
  /** The HTTP status; 0 for a network error or no answer within `timeoutMs`; -1 if never sent. */
  status: number;
}

export interface PacedLoadOptions {
  url: string;
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Keep-alive connections in the pool (default 50). */
  connections?: number;
  /** Builds request `index`; called at its due time. */
  makeRequest: (index: number) => PacedRequest;
  /** Hears every result as it completes (the caller keeps what it needs). */
  onResult: (result: PacedResult) => void;
  /** A request not answered by then counts as status 0 (default 30 s). */
  timeoutMs?: number;
  /**
   * Bound on requests in flight (default rate × 30 s): beyond it a due request is not sent but
   * reported as status -1, so a stuck server cannot make the client grow without end.
   */
  maxInFlight?: number;
  /** Stops sending early; requests in flight still complete. */
  signal?: AbortSignal;
}

/** Resolves with the number of requests that were due once every one of them has completed. */
export async function pacedLoad(options: PacedLoadOptions): Promise<number> {
  const connections = options.connections ?? 50;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxInFlight = options.maxInFlight ?? Math.max(100, options.rate * 30);
  // serve closes a connection idle for 5 s; 'fifo' uses every connection in turn so none sits idle
  // that long at a low rate, and the 4 s timeout drops an idle one on this side first.
  const agent = new Agent({ keepAlive: true, maxSockets: connections, scheduling: 'fifo', timeout: 4_000 });
  const target = new URL(options.url);
  const total = Math.floor((options.durationMs / 1000) * options.rate);
  const intervalMs = 1000 / options.rate;
  let inFlight = 0;
  let allSent = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const done = (index: number, dueAt: number, sentAt: number, status: number) => {
    const doneAt = performance.now();
    options.onResult({ index, dueAt, sentAt, doneAt, latencyMs: doneAt - dueAt, status });
  };

  const send = (index: number, dueAt: number) => {
    const sentAt = performance.now();
    if (inFlight >= maxInFlight) {
      done(index, dueAt, sentAt, -1);
      return;
    }
    const { body, headers } = options.makeRequest(index);
    inFlight += 1;
    let settled = false;
    const settle = (status: number) => {
      if (settled) return;
      settled = true;
      inFlight -= 1;
      done(index, dueAt, sentAt, status);
      if (allSent && inFlight === 0) finish();
    };
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent,
        headers: { 'Content-Length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => settle(res.statusCode ?? 0));
        res.on('error', () => settle(0));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => settle(0));
    req.end(body);
  };

  const start = performance.now();
  let next = 0;
  while (next < total && !options.signal?.aborted) {
    const now = performance.now();
    while (next < total && start + next * intervalMs <= now) {
      send(next, start + next * intervalMs);
      next += 1;
    }
    if (next >= total) break;
    const wait = start + next * intervalMs - performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
  allSent = true;
  if (inFlight > 0) await finished;
  agent.destroy();
  return next;
}

/**
 * One POST on a connection of its own (as a stranger's flood would come); resolves with the
 * status, or 0 when there was no answer (a network error, or none within `timeoutMs`).
 */
export function postOnce(url: URL, body: Buffer, headers: Record<string, string>, timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length), ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
