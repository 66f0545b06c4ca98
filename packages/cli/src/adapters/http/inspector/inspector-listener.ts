import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { refusedForMissingHost } from '../missing-host.js';
import { isLoopbackHost } from './access-guard.js';
import { createInspectorApp, type InspectorApp } from './inspector-app.js';
import type { InspectorContext } from './inspector-context.js';
import type { NotificationFeed } from './notification-feed.js';

export interface InspectorListenerOptions {
  host: string;
  port: number;
  /** Required on every request when set; must be set when `host` is not loopback. */
  token: string | null;
  ringSize?: number;
  heartbeatMs?: number;
  onError?: (error: unknown) => void;
}

export interface RunningInspector {
  server: Server;
  /** The page's address (`http://127.0.0.1:3001/`), without the token. */
  url: string;
  port: number;
  token: string | null;
  feed: NotificationFeed;
  inspector: InspectorApp;
  close(): Promise<void>;
}

/**
 * Starts the inspector on its own listener, apart from the webhook listener, so a tunnel to
 * the webhook port never exposes it. Refuses to listen beyond loopback without a token.
 *
 * @example
 * const inspector = await startInspectorListener(context, { host: '127.0.0.1', port: 3001, token: null });
 * console.log(`inspector at ${inspector.url}`);
 */
export async function startInspectorListener(
  context: InspectorContext,
  options: InspectorListenerOptions,
): Promise<RunningInspector> {
  const loopbackOnly = isLoopbackHost(options.host);
  if (!loopbackOnly && !options.token) {
    throw new Error(`the inspector on ${options.host} is reachable from other machines, so it needs a token`);
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const inspector = createInspectorApp(context, {
    token: options.token,
    loopbackOnly,
    port: address.port,
    ...(options.ringSize !== undefined ? { ringSize: options.ringSize } : {}),
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
  });
  const listener = getRequestListener(inspector.app.fetch, {
    errorHandler: (error) => {
      options.onError?.(error);
    },
  });
  server.on('request', (request, response) => {
    if (refusedForMissingHost(request, response)) return;
    void listener(request, response);
  });
  // 0.0.0.0 and :: are not addresses a browser can open; show loopback for them.
  const shownHost =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : hostForUrl(address);
  let closing: Promise<void> | null = null;
  return {
    server,
    url: `http://${shownHost}:${address.port}/`,
    port: address.port,
    token: options.token,
    feed: inspector.feed,
    inspector,
    close: () => {
      closing ??= new Promise<void>((done) => {
        // End the live streams first and give them a moment to finish cleanly, so an open
        // page sees the stream end (and reconnects) rather than a cut connection.
        inspector.close();
        server.close(() => done());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 100).unref();
      });
      return closing;
    },
  };
}

function hostForUrl(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
