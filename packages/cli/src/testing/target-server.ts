import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the target saw it. */
export interface ReceivedRequest {
  method: string;
  url: string;
  /** Name/value pairs in arrival order, spelled as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  sha256: string;
  /** `performance.timeOrigin + performance.now()` when the headers arrived. */
  arrivedAt: number;
}

/** What the target does with a request: answer it, or never answer (`hang`). */
export type TargetBehaviour =
  | { status: number; body?: string | Buffer; headers?: Record<string, string> }
  | 'hang'
  | 'destroy';

export interface TargetServer {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Decides each answer; the default answers 200 `{"ok":true}`. */
  respond: (request: ReceivedRequest, index: number) => TargetBehaviour;
  /** Resolves once `count` requests in total have arrived. */
  waitForRequests(count: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** The header value of a received request (first, case-insensitive). */
export function headerValue(request: ReceivedRequest, name: string): string | undefined {
  return request.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/**
 * A real local HTTP server standing in for the developer's app: records every request's raw
 * headers (order and spelling) and exact body bytes, and answers as told.
 */
export async function startTargetServer(options: { port?: number; path?: string } = {}): Promise<TargetServer> {
  const emitter = new EventEmitter();
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const target: TargetServer = {
    url: '',
    port: 0,
    requests,
    respond: () => ({ status: 200, body: '{"ok":true}' }),
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve(requests.slice(0, count));
      return new Promise((resolve) => {
        const check = () => {
          if (requests.length < count) return;
          emitter.off('request', check);
          resolve(requests.slice(0, count));
        };
        emitter.on('request', check);
      });
    },
    close: () =>
      new Promise((resolve) => {
        for (const response of hanging) response.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const arrivedAt = performance.timeOrigin + performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Array<[string, string]> = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
      }
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers,
        body,
        sha256: createHash('sha256').update(body).digest('hex'),
        arrivedAt,
      };
      const index = requests.length;
      requests.push(received);
      const behaviour = target.respond(received, index);
      emitter.emit('request');
      if (behaviour === 'hang') {
        hanging.add(res);
        return;
      }
      if (behaviour === 'destroy') {
        req.socket.destroy();
        return;
      }
      res.writeHead(behaviour.status, { 'Content-Type': 'application/json', ...behaviour.headers });
      res.end(behaviour.body ?? '');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  target.port = port;
  target.url = `http://127.0.0.1:${port}${options.path ?? '/omise/webhook'}`;
  return target;
}
