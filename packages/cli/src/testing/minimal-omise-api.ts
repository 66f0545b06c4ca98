import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny stand-in for `GET /events/:id` and `GET /events?limit=n` only, for the receiver's
 * API-verification tests and doctor's key check. `events` maps ids to the exact body the API
 * answers; `down` makes it answer 503.
 */
export async function startMinimalOmiseApi(options: { secretKey: string }): Promise<{
  url: string;
  events: Map<string, string>;
  requests: string[];
  setDown(down: boolean): void;
  close(): Promise<void>;
}> {
  const events = new Map<string, string>();
  const requests: string[] = [];
  let down = false;
  const expectedAuth = `Basic ${Buffer.from(`${options.secretKey}:`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(body);
    };
    if (down) return send(503, '{"object":"error","location":"","code":"service_unavailable","message":"down"}');
    if (req.headers.authorization !== expectedAuth) {
      return send(
        401,
        '{"object":"error","location":"https://www.omise.co/api-errors#authentication-failure","code":"authentication_failure","message":"authentication failed"}',
      );
    }
    const list = /^\/events(?:\?(.*))?$/.exec(req.url ?? '');
    if (list) {
      const limit = Math.min(100, Number(new URLSearchParams(list[1] ?? '').get('limit') ?? 20));
      const data = [...events.values()].slice(0, limit);
      return send(
        200,
        `{"object":"list","data":[${data.join(',')}],"limit":${limit},"offset":0,"total":${events.size},"location":"/events","order":"chronological","from":"1970-01-01T00:00:00Z","to":"2030-01-01T00:00:00Z"}`,
      );
    }
    const id = /^\/events\/([^/?]+)$/.exec(req.url ?? '')?.[1];
    const body = id ? events.get(decodeURIComponent(id)) : undefined;
    if (!id || body === undefined) {
      return send(
        404,
        `{"object":"error","location":"https://www.omise.co/api-errors#not-found","code":"not_found","message":"event ${id} was not found"}`,
      );
    }
    send(200, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    requests,
    setDown: (value) => {
      down = value;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
