import { type ClientRequest, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { RESPONSE_EXCERPT_BYTES } from '../../core/forwarding.js';
import type { HttpSender, RawHttpRequest, RawHttpResult } from '../../core/ports.js';

export interface RawHttpSenderOptions {
  /** Connections kept per target; match the forwarder's in-flight window. */
  maxSocketsPerHost?: number;
  /** Named in timeout messages, e.g. `--forward-timeout`. */
  timeoutFlag?: string;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A network error in plain words, keeping Node's code so it can be searched. */
export function describeSendError(error: NodeJS.ErrnoException, url: URL): string {
  const where = url.host;
  switch (error.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where} (ECONNREFUSED): is your app running and listening there?`;
    case 'ECONNRESET':
      return `${where} closed the connection before answering (ECONNRESET)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${url.hostname} not found (${error.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} cannot be reached (${error.code})`;
    default:
      if (error.code?.startsWith('HPE_')) {
        return `${where} did not answer with valid HTTP (${error.code}: ${error.message})`;
      }
      return `${error.code ? `${error.code}: ` : ''}${error.message}`;
  }
}

/**
 * Sends requests with node:http (or https) and a raw header array, so every header goes out
 * in the given order and spelling, and the body's bytes as they are; fetch would reorder and
 * lower-case them. Keeps connections alive per target. The answer's body is read up to
 * 64 KiB; a longer one is cut off there (and its connection closed).
 */
export class RawHttpSender implements HttpSender {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;
  readonly #timeoutFlag: string;

  constructor(options: RawHttpSenderOptions = {}) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSocketsPerHost ?? 32, timeout: 4_000 };
    this.#http = new HttpAgent(agentOptions);
    this.#https = new HttpsAgent(agentOptions);
    this.#timeoutFlag = options.timeoutFlag ?? '--forward-timeout';
  }

  async send(request: RawHttpRequest): Promise<RawHttpResult> {
    const started = performance.now();
    const first = await this.#sendOnce(request, started);
    // A kept-alive connection the target closed while idle fails at once with ECONNRESET; that
    // says nothing about the target, so try once more on a fresh connection.
    if (first.kind !== 'stale') return first;
    const second = await this.#sendOnce(request, started);
    return second.kind === 'stale'
      ? {
          kind: 'error',
          message: `${new URL(request.url).host} closed the connection before answering (ECONNRESET)`,
          latencyMs: performance.now() - started,
        }
      : second;
  }

  #sendOnce(request: RawHttpRequest, started: number): Promise<RawHttpResult | { kind: 'stale' }> {
    const url = new URL(request.url);
    const flat: string[] = [];
    for (const [name, value] of request.headers) flat.push(name, value);
    const isHttps = url.protocol === 'https:';
    return new Promise((resolve) => {
      let settled = false;
      let req: ClientRequest | undefined;
      const latency = () => Math.round((performance.now() - started) * 1000) / 1000;
      const finish = (result: RawHttpResult | { kind: 'stale' }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const fail = (message: string) => finish({ kind: 'error', message, latencyMs: latency() });
      const timer = setTimeout(() => {
        fail(`no answer within ${formatDuration(request.timeoutMs)} (${this.#timeoutFlag})`);
        req?.destroy();
      }, request.timeoutMs);
      const onAbort = () => {
        fail('omise-webhook stopped before the target answered');
        req?.destroy();
      };
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener('abort', onAbort, { once: true });

      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        let truncated = false;
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          const room = RESPONSE_EXCERPT_BYTES - kept;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            kept += room;
            truncated = true;
            done();
            res.destroy();
            return;
          }
          chunks.push(chunk);
          kept += chunk.length;
        });
        const done = () =>
          finish({
            kind: 'response',
            status: res.statusCode ?? 0,
            excerpt: Buffer.concat(chunks, kept),
            truncated,
            latencyMs: latency(),
          });
        res.on('end', done);
        res.on('error', (error: NodeJS.ErrnoException) => fail(describeSendError(error, url)));
        res.on('aborted', () => fail(`${url.host} closed the connection in the middle of its answer`));
      };
      req = (isHttps ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || (isHttps ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers: flat,
          agent: isHttps ? this.#https : this.#http,
        },
        onResponse,
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNRESET' && req?.reusedSocket && !settled) {
          settled = true;
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
          resolve({ kind: 'stale' });
          return;
        }
        fail(describeSendError(error, url));
      });
      req.end(Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength));
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
