import {
  type OpenTunnel,
  TunnelError,
  type TunnelOpenOptions,
  type TunnelProvider,
  tunnelTargetHost,
} from '../../core/tunnel.js';
import { describeNgrokDisconnection, explainNgrokError } from './ngrok-errors.js';

/** The slice of `@ngrok/ngrok` this adapter uses, so tests can hand in a fake SDK. */
export interface NgrokSdk {
  SessionBuilder: new () => NgrokSessionBuilder;
}

export interface NgrokSessionBuilder {
  authtoken(authtoken: string): this;
  serverAddr(addr: string): this;
  handleDisconnection(handler: (addr: string, error: string) => boolean): this;
  handleHeartbeat(handler: (latency: number) => void): this;
  handleStopCommand(handler: () => void): this;
  connect(): Promise<NgrokSession>;
}

export interface NgrokSession {
  httpEndpoint(): NgrokHttpEndpointBuilder;
  close(): Promise<void>;
}

export interface NgrokHttpEndpointBuilder {
  domain(domain: string): this;
  listenAndForward(toUrl: string): Promise<NgrokListener>;
}

export interface NgrokListener {
  url(): string | null;
  join(): Promise<void>;
  close(): Promise<void>;
}

export interface NgrokTunnelProviderOptions {
  /**
   * Where ngrok's service is dialled. Only for a custom ngrok ingress, and for tests that point
   * it at a closed local port to show the offline failure without touching the internet.
   */
  serverAddr?: string;
  /** Loads the SDK; the native module is only loaded when a tunnel is asked for. */
  loadSdk?: () => Promise<NgrokSdk>;
}

async function loadNgrokSdk(): Promise<NgrokSdk> {
  const module = (await import('@ngrok/ngrok')) as unknown as NgrokSdk & { default?: NgrokSdk };
  return module.default ?? module;
}

/**
 * Opens an ngrok HTTPS endpoint that forwards to the webhook listener, through the
 * `@ngrok/ngrok` SDK (no ngrok binary, no ngrok.yml). The SDK reconnects a lost session by
 * itself; this adapter reports that as `reconnecting` / `connected`, and a forwarding task that
 * ended as `closed` so the supervisor can open a new tunnel.
 *
 * @example
 * const tunnel = await new NgrokTunnelProvider().open({
 *   host: '127.0.0.1', port: 3000, authtoken: process.env.NGROK_AUTHTOKEN, onStatus: console.log,
 * });
 * console.log(`${tunnel.url}/omise/webhook`);
 */
export class NgrokTunnelProvider implements TunnelProvider {
  readonly name = 'ngrok';
  readonly #options: NgrokTunnelProviderOptions;

  constructor(options: NgrokTunnelProviderOptions = {}) {
    this.#options = options;
  }

  async open(options: TunnelOpenOptions): Promise<OpenTunnel> {
    const authtoken = options.authtoken?.trim();
    if (!authtoken) {
      // Checked here rather than left to ngrok: the answer is the same (ERR_NGROK_4018) and
      // this way it is immediate and needs no network.
      throw new TunnelError({
        code: 'missing_authtoken',
        message: 'NGROK_AUTHTOKEN is not set, and ngrok needs an account and its authtoken',
        fix: 'sign up at https://dashboard.ngrok.com/signup (free), then copy your authtoken from https://dashboard.ngrok.com/get-started/your-authtoken into .env as NGROK_AUTHTOKEN=...',
        retryable: false,
      });
    }
    const context = { authtoken, ...(options.domain ? { domain: options.domain } : {}) };
    const explain = (error: unknown) => explainNgrokError(error, context);
    let sdk: NgrokSdk;
    try {
      sdk = await (this.#options.loadSdk ?? loadNgrokSdk)();
    } catch (error) {
      throw new TunnelError({
        code: 'sdk_unavailable',
        message: `the ngrok SDK (@ngrok/ngrok) could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
        fix: 'run `npm install` again; @ngrok/ngrok ships a native module for your platform',
        retryable: false,
      });
    }

    let closedByUs = false;
    let disconnected = false;
    let session: NgrokSession | undefined;
    let listener: NgrokListener | undefined;
    const builder = new sdk.SessionBuilder()
      .authtoken(authtoken)
      .handleDisconnection((_addr, error) => {
        if (!closedByUs && !disconnected) {
          disconnected = true;
          options.onStatus({ state: 'reconnecting', reason: describeNgrokDisconnection(error, context) });
        }
        // Returning false would make the SDK throw an uncaught error and end the process.
        return true;
      })
      .handleHeartbeat(() => {
        // The first heartbeat after a disconnection means the session is back.
        if (disconnected && !closedByUs) {
          disconnected = false;
          options.onStatus({ state: 'connected', url: listener?.url() ?? '' });
        }
      })
      .handleStopCommand(() => {
        if (closedByUs) return;
        closedByUs = true;
        options.onStatus({ state: 'closed', reason: 'the tunnel was stopped from the ngrok dashboard', retry: false });
        void session?.close().catch(() => {});
      });
    if (this.#options.serverAddr) builder.serverAddr(this.#options.serverAddr);

    try {
      session = await builder.connect();
      let endpoint = session.httpEndpoint();
      if (options.domain) endpoint = endpoint.domain(options.domain);
      const host = tunnelTargetHost(options.host);
      const target = `http://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
      listener = await endpoint.listenAndForward(target);
    } catch (error) {
      closedByUs = true;
      await session?.close().catch(() => {});
      throw explain(error);
    }
    const url = listener.url();
    if (!url) {
      closedByUs = true;
      await session.close().catch(() => {});
      throw new TunnelError({
        code: 'ngrok_error',
        message: 'ngrok opened the endpoint but reported no URL for it',
        fix: 'try again; if it keeps happening, check https://dashboard.ngrok.com/endpoints',
        retryable: true,
      });
    }
    const openSession = session;
    listener.join().then(
      () => {
        if (closedByUs) return;
        closedByUs = true;
        options.onStatus({ state: 'closed', reason: 'ngrok stopped forwarding', retry: true });
      },
      (error: unknown) => {
        if (closedByUs) return;
        closedByUs = true;
        options.onStatus({ state: 'closed', reason: explain(error).message, retry: true });
      },
    );
    return {
      url,
      close: async () => {
        if (closedByUs) {
          await openSession.close().catch(() => {});
          return;
        }
        closedByUs = true;
        await listener?.close().catch(() => {});
        await openSession.close().catch(() => {});
      },
    };
  }
}
