import { request } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends a request with exact control over headers (order, spelling, no automatic
 * Content-Length when `chunked`), which fetch does not allow.
 */
export function rawRequest(options: {
  url: string;
  method?: string;
  headers?: Array<[string, string]>;
  body?: string | Buffer;
  chunked?: boolean;
}): Promise<RawResponse> {
  const url = new URL(options.url);
  return new Promise((resolve, reject) => {
    // With raw header arrays Node adds no Host header, and HTTP/1.1 servers refuse a request without one.
    const flat: string[] = (options.headers ?? []).some(([n]) => n.toLowerCase() === 'host') ? [] : ['Host', url.host];
    for (const [name, value] of options.headers ?? []) flat.push(name, value);
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    if (body && !options.chunked && !(options.headers ?? []).some(([n]) => n.toLowerCase() === 'content-length')) {
      flat.push('Content-Length', String(body.length));
    }
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: options.method ?? 'POST',
        headers: flat,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/**
 * Writes `text` as is on a new TCP connection and resolves with everything the server sent once
 * it closes the connection; for requests node:http cannot send (HTTP/1.0 without Host).
 */
export function rawSocketExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
