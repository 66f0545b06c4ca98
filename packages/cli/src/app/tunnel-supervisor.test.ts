import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalTunnelProvider } from '../adapters/tunnel/local-tunnel.js';
import { explainNgrokError } from '../adapters/tunnel/ngrok-errors.js';
import { TunnelError } from '../core/tunnel.js';
import { FakeClock } from '../testing/fake-clock.js';
import { type TunnelStatus, TunnelSupervisor } from './tunnel-supervisor.js';

const PAGE = 'https://dashboard.omise.co/test/webhooks';

function setUp(options: { domain?: string; authtoken?: string } = {}) {
  const provider = new LocalTunnelProvider();
  const timers = new FakeClock(0);
  const lines: string[] = [];
  const supervisor = new TunnelSupervisor({
    provider,
    host: '127.0.0.1',
    port: 3999,
    path: '/omise/webhook',
    localUrl: 'http://127.0.0.1:3999/omise/webhook',
    report: (line) => lines.push(line),
    timers,
    ...options,
  });
  return { provider, timers, lines, supervisor };
}

/** Resolves with the first status (now or later) that matches. */
function until(supervisor: TunnelSupervisor, match: (status: TunnelStatus) => boolean): Promise<TunnelStatus> {
  return new Promise((resolve) => {
    if (match(supervisor.status)) return resolve(supervisor.status);
    const stop = supervisor.subscribe((status) => {
      if (!match(status)) return;
      stop();
      resolve(status);
    });
  });
}

const unreachable = () => explainNgrokError(new Error('failed to connect session: failed to establish tcp connection'));

describe('TunnelSupervisor', () => {
  it('opens the tunnel to the given port and gives the exact URL to paste; start() itself prints nothing', async () => {
    const { provider, supervisor, lines } = setUp({ authtoken: 'tok' });
    await supervisor.start();
    assert.deepEqual(supervisor.status, {
      provider: 'local stand-in',
      state: 'open',
      webhookUrl: 'https://tunnel-1.local-stand-in.test/omise/webhook',
      lastWebhookUrl: 'https://tunnel-1.local-stand-in.test/omise/webhook',
      reason: null,
      fix: null,
      code: null,
      retryInMs: null,
      attempt: 0,
    });
    assert.equal(supervisor.publicUrl, 'https://tunnel-1.local-stand-in.test/omise/webhook');
    assert.deepEqual(provider.opened[0]?.target, { host: '127.0.0.1', port: 3999 });
    assert.equal(provider.opened[0]?.authtoken, 'tok');
    assert.deepEqual(lines, [], 'the banner reports the first outcome');
    await supervisor.close();
    assert.equal(supervisor.status.state, 'closed');
    assert.equal(supervisor.publicUrl, null);
    assert.equal(provider.opened[0]?.closed, true);
  });

  it('follows the provider reconnecting by itself, and says so when the URL changed', async () => {
    const { provider, supervisor, lines } = setUp();
    await supervisor.start();
    provider.interrupt('connection reset by peer');
    assert.equal(supervisor.status.state, 'reconnecting');
    assert.equal(supervisor.publicUrl, null);
    assert.equal(supervisor.status.lastWebhookUrl, 'https://tunnel-1.local-stand-in.test/omise/webhook');
    provider.reconnect();
    assert.equal(supervisor.publicUrl, 'https://tunnel-1.local-stand-in.test/omise/webhook');
    provider.interrupt('heartbeat timeout');
    provider.reconnect('https://elsewhere.local-stand-in.test');
    assert.equal(supervisor.publicUrl, 'https://elsewhere.local-stand-in.test/omise/webhook');
    assert.deepEqual(lines, [
      'tunnel: lost the connection (connection reset by peer); local stand-in is reconnecting. Still receiving locally at http://127.0.0.1:3999/omise/webhook.',
      'tunnel: reconnected: https://tunnel-1.local-stand-in.test/omise/webhook',
      'tunnel: lost the connection (heartbeat timeout); local stand-in is reconnecting. Still receiving locally at http://127.0.0.1:3999/omise/webhook.',
      `tunnel: reconnected, at a NEW URL. Paste https://elsewhere.local-stand-in.test/omise/webhook into the Omise dashboard → Webhooks (test mode): ${PAGE}`,
    ]);
    await supervisor.close();
  });

  it('opens a new tunnel after a drop, backing off 1s, 2s, 4s while it keeps failing, then from 1s again', async () => {
    const { provider, timers, supervisor, lines } = setUp();
    await supervisor.start();
    await provider.drop('session closed by the service');
    assert.equal(supervisor.status.state, 'reconnecting');
    assert.equal(supervisor.status.retryInMs, 1000);
    assert.equal(supervisor.publicUrl, null);
    assert.deepEqual(timers.pending, [1000]);

    provider.failNextOpen(unreachable());
    provider.failNextOpen(unreachable());
    timers.fire(1000);
    await until(supervisor, (s) => s.retryInMs === 2000);
    assert.equal(supervisor.status.state, 'reconnecting', 'still the same outage');
    assert.equal(supervisor.status.code, 'unreachable');
    timers.fire(2000);
    await until(supervisor, (s) => s.retryInMs === 4000);
    const reopened = provider.nextOpen();
    timers.fire(4000);
    await reopened;
    await until(supervisor, (s) => s.state === 'open');
    assert.equal(supervisor.publicUrl, 'https://tunnel-2.local-stand-in.test/omise/webhook');
    assert.equal(provider.openCalls, 4);

    await provider.drop('again');
    assert.deepEqual(timers.pending, [1000], 'the backoff starts over after a success');
    assert.deepEqual(lines, [
      'tunnel: dropped (session closed by the service); opening a new one in 1s. Still receiving locally at http://127.0.0.1:3999/omise/webhook.',
      'tunnel: could not open: could not reach ngrok (failed to connect session: failed to establish tcp connection); check the internet connection, and that a firewall or proxy allows outgoing connections to ngrok. Still receiving locally at http://127.0.0.1:3999/omise/webhook; trying again in 2s.',
      'tunnel: still cannot open (could not reach ngrok (failed to connect session: failed to establish tcp connection)); trying again in 4s.',
      `tunnel: open again, at a NEW URL. Paste https://tunnel-2.local-stand-in.test/omise/webhook into the Omise dashboard → Webhooks (test mode): ${PAGE}`,
      'tunnel: dropped (again); opening a new one in 1s. Still receiving locally at http://127.0.0.1:3999/omise/webhook.',
    ]);
    await supervisor.close();
    assert.deepEqual(timers.pending, [], 'close() cancels the pending reconnect');
  });

  it('keeps the same URL across a reopen with a reserved domain', async () => {
    const { provider, timers, supervisor, lines } = setUp({ domain: 'my-app.ngrok-free.app' });
    await supervisor.start();
    assert.equal(supervisor.publicUrl, 'https://my-app.ngrok-free.app/omise/webhook');
    assert.equal(provider.opened[0]?.domain, 'my-app.ngrok-free.app');
    await provider.drop();
    const reopened = provider.nextOpen();
    timers.fire(1000);
    await reopened;
    await until(supervisor, (s) => s.state === 'open');
    assert.equal(lines.at(-1), 'tunnel: open again at https://my-app.ngrok-free.app/omise/webhook');
    await supervisor.close();
  });

  it('does not retry a configuration problem, and says how to fix it', async () => {
    const { provider, timers, supervisor } = setUp();
    provider.failNextOpen(explainNgrokError(new Error('authentication failed\n\nERR_NGROK_105')));
    await supervisor.start();
    assert.deepEqual(supervisor.status, {
      provider: 'local stand-in',
      state: 'failed',
      webhookUrl: null,
      lastWebhookUrl: null,
      reason: 'NGROK_AUTHTOKEN does not look like an ngrok authtoken',
      fix: 'copy your authtoken from https://dashboard.ngrok.com/get-started/your-authtoken into .env as NGROK_AUTHTOKEN=... (the whole token, nothing else on the line)',
      code: 'invalid_authtoken',
      retryInMs: null,
      attempt: 1,
    });
    assert.deepEqual(timers.pending, []);
    assert.equal(provider.openCalls, 1);
    await supervisor.close();
  });

  it('retries a first open that failed for a passing reason, and announces the URL when it opens', async () => {
    const { provider, timers, supervisor, lines } = setUp();
    provider.failNextOpen(unreachable());
    await supervisor.start();
    assert.equal(supervisor.status.state, 'failed');
    assert.equal(supervisor.status.retryInMs, 1000);
    const opened = provider.nextOpen();
    timers.fire(1000);
    await opened;
    await until(supervisor, (s) => s.state === 'open');
    assert.deepEqual(lines, [
      `tunnel: open. Paste https://tunnel-1.local-stand-in.test/omise/webhook into the Omise dashboard → Webhooks (test mode): ${PAGE}`,
    ]);
    await supervisor.close();
  });

  it('counts an open that never answers as a timeout, and a late tunnel is closed, not used', async () => {
    const { provider, timers, supervisor } = setUp();
    provider.hangNextOpen();
    const started = supervisor.start();
    assert.deepEqual(timers.pending, [20_000]);
    timers.fire(20_000);
    await started;
    assert.equal(supervisor.status.state, 'failed');
    assert.equal(supervisor.status.code, 'timeout');
    assert.equal(supervisor.status.reason, 'local stand-in did not answer within 20s');
    assert.deepEqual(timers.pending, [1000]);
    await supervisor.close();
  });

  it('says a dashboard stop is final, and ignores news from a tunnel it has replaced', async () => {
    const { provider, timers, supervisor, lines } = setUp();
    await supervisor.start();
    await provider.drop('stopped from the dashboard', false);
    assert.equal(supervisor.status.state, 'failed');
    assert.deepEqual(timers.pending, []);
    assert.match(lines.at(-1) ?? '', /^tunnel: closed \(stopped from the dashboard\); not reopening it\./);
    provider.reconnect('https://stale.example');
    assert.equal(supervisor.publicUrl, null);
    await supervisor.close();
  });

  it('never rejects, even when the provider throws something unexpected', async () => {
    const timers = new FakeClock(0);
    const supervisor = new TunnelSupervisor({
      provider: {
        name: 'broken',
        open: async () => {
          throw new TypeError('boom');
        },
      },
      host: '127.0.0.1',
      port: 1,
      path: '/omise/webhook',
      localUrl: 'http://127.0.0.1:1/omise/webhook',
      report: () => {},
      timers,
    });
    await supervisor.start();
    assert.equal(supervisor.status.code, 'unexpected');
    assert.equal(supervisor.status.reason, 'boom');
    assert.ok(new TunnelError({ code: 'x', message: 'm', fix: 'f', retryable: false }) instanceof Error);
    await supervisor.close();
  });
});
