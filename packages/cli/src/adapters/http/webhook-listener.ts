import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatBytes } from '../../core/format-bytes.js';
import { type Clock, type HeaderList, systemClock, type WebhookHandler } from '../../core/ports.js';
import { isStorageUnavailable, STORAGE_FAULT_STATUS, type StorageFault } from '../../core/storage-health.js';
import { refusedForMissingHost } from './missing-host.js';

export interface WebhookListenerOptions {
  /** Decides and stores; the application's `Receiver`. */
  receiver: WebhookHandler;
  host: string;
  port: number;
  /** The webhook route, default `/omise/webhook`. */
  path: string;
  /** Largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** A request (headers and body) must arrive within this many ms, or it is answered 408 and dropped. */
  requestTimeoutMs: number;
  /** Called when handling fails unexpectedly (the store is down, a bug): the sender gets a 503. */
  onError?: (error: unknown) => void;
  /** The store's fault (full disk, I/O error) or null: `/healthz` answers 503 with it while set. */
  storageFault?: () => StorageFault | null;
  /** Stamps requests refused before the handler sees them (413); default: the system clock. */
  clock?: Clock;
  /**
   * On close, how long requests already being handled may take to be answered (their events
   * stored) before their connections are cut; default 5 s. Idle connections close at once.
   */
  drainMs?: number;
}

export interface RunningListener {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Pairs from Node's rawHeaders: the sender's spelling and order, duplicates kept. */
export function headerPairs(rawHeaders: readonly string[]): HeaderList {
  const pairs: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  return pairs;
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...extraHeaders,
  });
  response.end(text);
}

type BodyResult = { kind: 'ok'; body: Buffer } | { kind: 'too_large'; size: number } | { kind: 'aborted' };

function readBody(request: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        // Stop reading at once: the rest of an oversized body is never buffered.
        request.pause();
        finish({ kind: 'too_large', size });
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () =>
      finish({ kind: 'ok', body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) }),
    );
    request.on('aborted', () => finish({ kind: 'aborted' }));
    request.on('error', () => finish({ kind: 'aborted' }));
  });
}

/** What `GET /healthz` names itself, so `doctor` recognises a running serve on a busy port. */
export const HEALTHZ_SERVICE = 'omise-webhook serve';

/**
 * The public-facing listener: the webhook route and `GET /healthz`, nothing else. It reads
 * the raw bytes (bounded by `maxBodyBytes`), hands them to the receiver, and writes the answer.
 */
export function startWebhookListener(options: WebhookListenerOptions): Promise<RunningListener> {
  const { receiver } = options;

  const tooLarge = async (request: IncomingMessage, response: ServerResponse, size: number, declared: boolean) => {
    const message =
      `request body is ${declared ? '' : 'at least '}${formatBytes(size)}; the limit is ${formatBytes(options.maxBodyBytes)} ` +
      '(--max-body / OMISE_WEBHOOK_MAX_BODY)';
    await receiver
      .keepRejection({
        receivedAt: new Date((options.clock ?? systemClock).now()).toISOString(),
        method: request.method ?? 'POST',
        path: options.path,
        remoteAddress: request.socket.remoteAddress ?? null,
        headers: headerPairs(request.rawHeaders),
        body: new Uint8Array(0),
        bodySize: size,
        status: 413,
        code: 'body_too_large',
        reason: message,
        hint: null,
        eventId: null,
      })
      .catch((error: unknown) => {
        // Not kept on a full disk: reported once by the store, not once per request.
        if (!isStorageUnavailable(error)) options.onError?.(error);
      });
    // Close the connection: the unread rest of the body must not be parsed as a next request.
    sendJson(response, 413, { error: 'body_too_large', message }, { Connection: 'close' });
    response.on('finish', () => request.destroy());
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);

    if (path === '/healthz') {
      // `service` lets `doctor` tell this server from another program holding the port.
      if (request.method === 'GET' || request.method === 'HEAD') {
        const fault = options.storageFault?.() ?? null;
        if (fault === null) return sendJson(response, 200, { ok: true, service: HEALTHZ_SERVICE });
        return sendJson(response, STORAGE_FAULT_STATUS, {
          ok: false,
          service: HEALTHZ_SERVICE,
          error: fault.code,
          message: fault.message,
          cause: fault.cause,
          since: fault.since,
        });
      }
      return sendJson(
        response,
        405,
        { error: 'method_not_allowed', message: 'use GET /healthz' },
        { Allow: 'GET, HEAD' },
      );
    }
    if (path !== options.path) {
      request.resume();
      return sendJson(response, 404, {
        error: 'not_found',
        message: `nothing here; Omise webhooks are received at POST ${options.path}`,
      });
    }
    if (request.method !== 'POST') {
      request.resume();
      return sendJson(
        response,
        405,
        {
          error: 'method_not_allowed',
          message: `${request.method} is not allowed here; Omise sends webhooks with POST`,
        },
        { Allow: 'POST' },
      );
    }
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
      return tooLarge(request, response, declared, true);
    }
    const read = await readBody(request, options.maxBodyBytes);
    if (read.kind === 'aborted') return;
    if (read.kind === 'too_large') return tooLarge(request, response, read.size, false);

    const answer = await receiver.handleWebhook({
      method: 'POST',
      path,
      headers: headerPairs(request.rawHeaders),
      body: read.body,
      remoteAddress: request.socket.remoteAddress ?? null,
    });
    sendJson(response, answer.status, answer.body);
  };

  let closing = false;
  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: options.requestTimeoutMs,
      // Node checks for timed-out requests on this interval (30 s by default), so it bounds
      // how late a slow sender is cut off.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(options.requestTimeoutMs / 4))),
    },
    (request, response) => {
      if (refusedForMissingHost(request, response)) return;
      // While closing, a keep-alive connection is closed as soon as its answer is sent.
      response.once('finish', () => {
        if (closing) setImmediate(() => server.closeIdleConnections());
      });
      handle(request, response).catch((error: unknown) => {
        // A full disk was reported once when it began, not once per refused webhook.
        if (isStorageUnavailable(error)) {
          if (response.headersSent) response.destroy();
          else {
            sendJson(response, STORAGE_FAULT_STATUS, {
              error: error.code,
              message: `the event was not stored, so it is not acknowledged; Omise (or your sender) should retry. ${error.message}`,
            });
          }
          return;
        }
        options.onError?.(error);
        if (!response.headersSent) {
          sendJson(response, 503, {
            error: 'not_stored',
            message: 'the event could not be stored, so it is not acknowledged; Omise (or your sender) should retry',
          });
        } else response.destroy();
      });
    },
  );
  server.keepAliveTimeout = 5_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        port: address.port,
        url: `http://${host}:${address.port}${options.path}`,
        close: () =>
          new Promise<void>((done) => {
            // Drain: no new connections; idle ones close now; a request being handled is
            // answered (its event stored or refused) unless it takes longer than drainMs.
            closing = true;
            const cut = setTimeout(() => server.closeAllConnections(), options.drainMs ?? 5_000);
            cut.unref();
            server.close(() => {
              clearTimeout(cut);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
