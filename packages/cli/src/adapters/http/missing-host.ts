import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answers 400 and closes the connection when a request names no host. Node lets an HTTP/1.0
 * request through without `Host`, and Hono's adapter cannot build the request's URL without
 * one: it logged `RequestError: Missing host header` and left the connection open, so a stranger
 * could hold any number of them. Both listeners call this before anything else.
 *
 * @example
 * createServer((request, response) => {
 *   if (refusedForMissingHost(request, response)) return;
 *   handle(request, response);
 * });
 */
export function refusedForMissingHost(request: IncomingMessage, response: ServerResponse): boolean {
  if ((request.headers.host ?? '').trim() !== '') return false;
  const text = JSON.stringify({
    error: 'missing_host',
    message: `the request has ${request.headers.host === undefined ? 'no' : 'an empty'} Host header; every request here must name the host it is for (HTTP/1.1 requires it). Send Host: <host>:<port>`,
  });
  response.shouldKeepAlive = false;
  response.writeHead(400, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    Connection: 'close',
  });
  response.end(text);
  // An unread body must not be taken for a next request: the connection goes once answered.
  response.on('finish', () => request.destroy());
  return true;
}
