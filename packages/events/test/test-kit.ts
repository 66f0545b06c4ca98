// Test kit for the receiver and adapter tests: an independent signer (node:crypto, written apart
// from the library so the tests check the library rather than echo it), fixture access, and an
// HTTP client with exact control over headers and chunking, which fetch does not give.

import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

/** hex(HMAC-SHA256(key = base64decode(secret), message = timestamp + "." + body)), computed here, not by the library. */
export function signForTest(secretBase64: string, timestamp: number | string, body: string | Uint8Array): string {
  return createHmac('sha256', Buffer.from(secretBase64, 'base64')).update(`${timestamp}.`).update(body).digest('hex');
}

export const SECRET = Buffer.from('omise-webhook events test key 01').toString('base64');
export const OLD_SECRET = Buffer.from('the secret before it was rolled!').toString('base64');
export const NEW_SECRET = Buffer.from('the secret after it was rolled!!').toString('base64');
export const WRONG_SECRET = Buffer.from('a secret this receiver never had').toString('base64');

/** 2024-01-18T09:45:00Z, a little after the charge.complete fixture was created. */
export const NOW_SEC = 1_705_571_100;

/** A fixture's exact bytes. */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url));
}

/** Headers for a body signed with `secret` (or several, comma-separated like a rolling secret) at `timestamp`. */
export function signedHeaders(options: {
  body: string | Uint8Array;
  secrets: readonly string[];
  timestamp?: number;
}): Array<[string, string]> {
  const timestamp = options.timestamp ?? NOW_SEC;
  const signature = options.secrets.map((secret) => signForTest(secret, timestamp, options.body)).join(',');
  return [
    ['Content-Type', 'application/json'],
    ['Omise-Signature', signature],
    ['Omise-Signature-Timestamp', String(timestamp)],
  ];
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** POST (or another method) with headers exactly as given; `chunked` sends no Content-Length. */
export function rawRequest(options: {
  url: string;
  method?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string | Uint8Array;
  chunked?: boolean;
}): Promise<RawResponse> {
  const url = new URL(options.url);
  return new Promise((resolve, reject) => {
    let responded = false;
    const flat: string[] = ['Host', url.host];
    for (const [name, value] of options.headers ?? []) flat.push(name, value);
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    if (body !== undefined && !options.chunked) flat.push('Content-Length', String(body.length));
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: options.method ?? 'POST',
        headers: flat,
        agent: false,
      },
      (response) => {
        responded = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    // A server that refuses a large body closes the connection while it is still being sent;
    // the answer has arrived by then, so that is not a failure of the request.
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    outgoing.on('close', () => {
      if (!responded) reject(new Error('the connection closed without a response'));
    });
    if (body !== undefined) {
      if (options.chunked) {
        // Two writes, so the body really arrives in pieces.
        const middle = Math.floor(body.length / 2);
        outgoing.write(body.subarray(0, middle));
        outgoing.write(body.subarray(middle));
      } else outgoing.write(body);
    }
    outgoing.end();
  });
}
