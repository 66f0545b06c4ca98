import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import {
  type OpenTunnel,
  type TunnelError,
  type TunnelOpenOptions,
  type TunnelProvider,
  type TunnelStatusChange,
  tunnelTargetHost,
} from '../../core/tunnel.js';

/** One tunnel the stand-in opened. */
export interface LocalTunnelInfo {
  /** The fake public URL it reported, e.g. `https://tunnel-1.local-stand-in.test`. */
  url: string;
  /** Where the stand-in really listens: send requests here to go "through the tunnel". */
  localUrl: string;
  /** The address it forwards to: what the caller asked for. */
  target: { host: string; port: number };
  domain: string | undefined;
  authtoken: string | undefined;
  closed: boolean;
}

interface LiveTunnel {
  info: LocalTunnelInfo;
  server: Server;
  sockets: Set<Socket>;
  onStatus(status: TunnelStatusChange): void;
}

/**
 * A tunnel provider for tests: a plain TCP proxy on 127.0.0.1:0 that forwards, byte for byte,
 * to the one address it was opened for, and reports a fake HTTPS URL. It can be told to fail
 * the next open, hang, lose its connection, or drop, so every path of the supervisor can be
 * driven without ngrok or the internet.
 */
export class LocalTunnelProvider implements TunnelProvider {
  readonly name = 'local stand-in';
  /** Every tunnel opened, oldest first. */
  readonly opened: LocalTunnelInfo[] = [];
  /** How many times `open` was called, including the ones told to fail. */
  openCalls = 0;
  readonly #failures: Array<TunnelError | 'hang'> = [];
  readonly #waiters: Array<(info: LocalTunnelInfo) => void> = [];
  #live: LiveTunnel | undefined;

  /** The next `open` rejects with this error (queue several for several opens). */
  failNextOpen(error: TunnelError): void {
    this.#failures.push(error);
  }

  /** The next `open` never settles, like a connection into a network black hole. */
  hangNextOpen(): void {
    this.#failures.push('hang');
  }

  /** Resolves when the next tunnel (after this call) is open. */
  nextOpen(): Promise<LocalTunnelInfo> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The open tunnel, if any. */
  get current(): LocalTunnelInfo | undefined {
    return this.#live?.info;
  }

  async open(options: TunnelOpenOptions): Promise<OpenTunnel> {
    this.openCalls += 1;
    const failure = this.#failures.shift();
    if (failure === 'hang') return new Promise<never>(() => {});
    if (failure) throw failure;

    const target = { host: tunnelTargetHost(options.host), port: options.port };
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = tcpConnect({ host: target.host, port: target.port });
      sockets.add(client);
      sockets.add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const info: LocalTunnelInfo = {
      url: options.domain
        ? `https://${options.domain}`
        : `https://tunnel-${this.opened.length + 1}.local-stand-in.test`,
      localUrl: `http://127.0.0.1:${port}`,
      target,
      domain: options.domain,
      authtoken: options.authtoken,
      closed: false,
    };
    const live: LiveTunnel = { info, server, sockets, onStatus: options.onStatus };
    this.#live = live;
    this.opened.push(info);
    for (const resolve of this.#waiters.splice(0)) resolve(info);
    return { url: info.url, close: () => this.#shut(live) };
  }

  /** The connection to the "service" is lost; the provider says it is reconnecting by itself. */
  interrupt(reason = 'connection reset by peer'): void {
    this.#live?.onStatus({ state: 'reconnecting', reason });
  }

  /** Back after `interrupt`, optionally with a different URL. */
  reconnect(url?: string): void {
    const live = this.#live;
    if (!live) return;
    if (url) live.info.url = url;
    live.onStatus({ state: 'connected', url: live.info.url });
  }

  /** The tunnel is gone for good: the proxy stops and the supervisor is told to open another. */
  async drop(reason = 'the tunnel service closed the session', retry = true): Promise<void> {
    const live = this.#live;
    if (!live) return;
    await this.#shut(live);
    live.onStatus({ state: 'closed', reason, retry });
  }

  async #shut(live: LiveTunnel): Promise<void> {
    if (live.info.closed) return;
    live.info.closed = true;
    if (this.#live === live) this.#live = undefined;
    for (const socket of live.sockets) socket.destroy();
    await new Promise<void>((resolve) => live.server.close(() => resolve()));
  }
}
