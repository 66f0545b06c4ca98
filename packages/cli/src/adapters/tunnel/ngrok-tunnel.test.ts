import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { TunnelError, type TunnelStatusChange } from '../../core/tunnel.js';
import type {
  NgrokHttpEndpointBuilder,
  NgrokListener,
  NgrokSdk,
  NgrokSession,
  NgrokSessionBuilder,
} from './ngrok-tunnel.js';
import { NgrokTunnelProvider } from './ngrok-tunnel.js';

/** A stand-in for `@ngrok/ngrok` that records what it was asked and lets the test play the service. */
function fakeSdk(behaviour: { connectError?: Error; listenError?: Error; url?: string } = {}) {
  const seen = {
    authtoken: undefined as string | undefined,
    serverAddr: undefined as string | undefined,
    domain: undefined as string | undefined,
    forwardTo: undefined as string | undefined,
    sessionClosed: 0,
    listenerClosed: 0,
  };
  const handlers = {
    disconnection: undefined as ((addr: string, error: string) => boolean) | undefined,
    heartbeat: undefined as ((latency: number) => void) | undefined,
    stop: undefined as (() => void) | undefined,
  };
  let endJoin: ((error?: Error) => void) | undefined;
  let currentUrl = behaviour.url ?? 'https://5x1a-2b3c.ngrok-free.app';

  class Listener implements NgrokListener {
    url() {
      return currentUrl;
    }
    join() {
      return new Promise<void>((resolve, reject) => {
        endJoin = (error) => (error ? reject(error) : resolve());
      });
    }
    async close() {
      seen.listenerClosed += 1;
      endJoin?.();
    }
  }
  class Endpoint implements NgrokHttpEndpointBuilder {
    domain(domain: string) {
      seen.domain = domain;
      return this;
    }
    async listenAndForward(toUrl: string) {
      seen.forwardTo = toUrl;
      if (behaviour.listenError) throw behaviour.listenError;
      return new Listener();
    }
  }
  class Session implements NgrokSession {
    httpEndpoint() {
      return new Endpoint();
    }
    async close() {
      seen.sessionClosed += 1;
    }
  }
  class SessionBuilder implements NgrokSessionBuilder {
    authtoken(token: string) {
      seen.authtoken = token;
      return this;
    }
    serverAddr(addr: string) {
      seen.serverAddr = addr;
      return this;
    }
    handleDisconnection(handler: (addr: string, error: string) => boolean) {
      handlers.disconnection = handler;
      return this;
    }
    handleHeartbeat(handler: (latency: number) => void) {
      handlers.heartbeat = handler;
      return this;
    }
    handleStopCommand(handler: () => void) {
      handlers.stop = handler;
      return this;
    }
    async connect() {
      if (behaviour.connectError) throw behaviour.connectError;
      return new Session();
    }
  }
  const sdk: NgrokSdk = { SessionBuilder };
  return {
    sdk,
    seen,
    handlers,
    endJoin: (error?: Error) => endJoin?.(error),
    setUrl: (url: string) => {
      currentUrl = url;
    },
  };
}

describe('NgrokTunnelProvider', () => {
  it('forwards only to the webhook listener address it is given, on the reserved domain', async () => {
    const fake = fakeSdk({ url: 'https://my-app.ngrok-free.app' });
    const provider = new NgrokTunnelProvider({ loadSdk: async () => fake.sdk });
    const tunnel = await provider.open({
      host: '0.0.0.0',
      port: 3000,
      domain: 'my-app.ngrok-free.app',
      authtoken: ' tok_5x ',
      onStatus: () => {},
    });
    assert.equal(tunnel.url, 'https://my-app.ngrok-free.app');
    assert.equal(fake.seen.forwardTo, 'http://127.0.0.1:3000');
    assert.equal(fake.seen.domain, 'my-app.ngrok-free.app');
    assert.equal(fake.seen.authtoken, 'tok_5x');
    await tunnel.close();
    assert.equal(fake.seen.listenerClosed, 1);
    assert.equal(fake.seen.sessionClosed, 1);

    const v6 = fakeSdk();
    await new NgrokTunnelProvider({ loadSdk: async () => v6.sdk }).open({
      host: '::1',
      port: 4000,
      authtoken: 't',
      onStatus: () => {},
    });
    assert.equal(v6.seen.forwardTo, 'http://[::1]:4000');
    assert.equal(v6.seen.domain, undefined);
  });

  it('reports a lost session as reconnecting, the next heartbeat as connected, and never lets the SDK crash', async () => {
    const fake = fakeSdk();
    const statuses: TunnelStatusChange[] = [];
    await new NgrokTunnelProvider({ loadSdk: async () => fake.sdk }).open({
      host: '127.0.0.1',
      port: 3000,
      authtoken: 't',
      onStatus: (status) => statuses.push(status),
    });
    fake.handlers.heartbeat?.(20); // an ordinary heartbeat says nothing
    assert.equal(fake.handlers.disconnection?.('connect.ngrok-agent.com:443', 'connection reset by peer'), true);
    assert.equal(fake.handlers.disconnection?.('connect.ngrok-agent.com:443', 'connection reset by peer'), true);
    fake.setUrl('https://9z9z.ngrok-free.app');
    fake.handlers.heartbeat?.(35);
    fake.handlers.heartbeat?.(35);
    assert.deepEqual(statuses, [
      { state: 'reconnecting', reason: 'connection reset by peer' },
      { state: 'connected', url: 'https://9z9z.ngrok-free.app' },
    ]);
  });

  it('reports the end of forwarding as closed (retry), and a stop from the dashboard as closed (no retry)', async () => {
    const ended = fakeSdk();
    const statuses: TunnelStatusChange[] = [];
    await new NgrokTunnelProvider({ loadSdk: async () => ended.sdk }).open({
      host: '127.0.0.1',
      port: 3000,
      authtoken: 't',
      onStatus: (status) => statuses.push(status),
    });
    ended.endJoin(new Error('failed to establish tcp connection'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(statuses, [
      { state: 'closed', reason: 'could not reach ngrok (failed to establish tcp connection)', retry: true },
    ]);

    const stopped = fakeSdk();
    const stopStatuses: TunnelStatusChange[] = [];
    const tunnel = await new NgrokTunnelProvider({ loadSdk: async () => stopped.sdk }).open({
      host: '127.0.0.1',
      port: 3000,
      authtoken: 't',
      onStatus: (status) => stopStatuses.push(status),
    });
    stopped.handlers.stop?.();
    assert.deepEqual(stopStatuses, [
      { state: 'closed', reason: 'the tunnel was stopped from the ngrok dashboard', retry: false },
    ]);
    await tunnel.close();
    assert.equal(stopStatuses.length, 1, 'closing after a stop says nothing more');
  });

  it('says NGROK_AUTHTOKEN is missing without loading the SDK', async () => {
    let loaded = false;
    const provider = new NgrokTunnelProvider({
      loadSdk: async () => {
        loaded = true;
        return fakeSdk().sdk;
      },
    });
    await assert.rejects(provider.open({ host: '127.0.0.1', port: 3000, authtoken: '  ', onStatus: () => {} }), {
      name: 'TunnelError',
      code: 'missing_authtoken',
      message: 'NGROK_AUTHTOKEN is not set, and ngrok needs an account and its authtoken',
      retryable: false,
    });
    assert.equal(loaded, false);
  });

  it('turns SDK failures into plain-words errors and closes the half-open session', async () => {
    const badToken = fakeSdk({
      connectError: Object.assign(new Error('authentication failed: bad\n\nerror_code: ERR_NGROK_105'), {
        errorCode: 'ERR_NGROK_105',
      }),
    });
    await assert.rejects(
      new NgrokTunnelProvider({ loadSdk: async () => badToken.sdk }).open({
        host: '127.0.0.1',
        port: 3000,
        authtoken: 'nope',
        onStatus: () => {},
      }),
      (error: unknown) => error instanceof TunnelError && error.code === 'invalid_authtoken',
    );
    const badDomain = fakeSdk({ listenError: new Error('failed to start tunnel: reserve it\n\nERR_NGROK_319') });
    await assert.rejects(
      new NgrokTunnelProvider({ loadSdk: async () => badDomain.sdk }).open({
        host: '127.0.0.1',
        port: 3000,
        domain: 'not-mine.ngrok-free.app',
        authtoken: 't',
        onStatus: () => {},
      }),
      {
        code: 'domain_not_reserved',
        message: 'the domain not-mine.ngrok-free.app is not reserved on your ngrok account',
      },
    );
    assert.equal(badDomain.seen.sessionClosed, 1);
    await assert.rejects(
      new NgrokTunnelProvider({
        loadSdk: async () => {
          throw new Error('Cannot find module @ngrok/ngrok-linux-x64-gnu');
        },
      }).open({ host: '127.0.0.1', port: 3000, authtoken: 't', onStatus: () => {} }),
      { code: 'sdk_unavailable' },
    );
  });

  it('with the real @ngrok/ngrok and no way to reach ngrok, fails fast with a plain-words, retryable error', async (t) => {
    // ngrok's service address is pointed at a local port that was just closed, so this shows
    // the real package's offline failure without ever touching the internet.
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const provider = new NgrokTunnelProvider({ serverAddr: `127.0.0.1:${closedPort}` });
    const outcome = await Promise.race([
      provider.open({ host: '127.0.0.1', port: 3000, authtoken: 'bogus_5x_token_for_tests', onStatus: () => {} }).then(
        () => 'opened' as const,
        (error: unknown) => error,
      ),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5000).unref()),
    ]);
    if (outcome === 'hung') {
      t.skip('the ngrok SDK did not fail within 5 s on this machine');
      return;
    }
    assert.ok(outcome instanceof TunnelError, `expected a TunnelError, got ${String(outcome)}`);
    assert.equal(outcome.code, 'unreachable');
    assert.equal(outcome.retryable, true);
    assert.match(outcome.message, /^could not reach ngrok \(/);
    assert.doesNotMatch(outcome.message, /bogus_5x_token_for_tests/);
  });
});
