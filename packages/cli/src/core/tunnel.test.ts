import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, checkPublicUrl, normaliseTunnelDomain, tunnelTargetHost, webhookUrlFor } from './tunnel.js';

describe('checkPublicUrl', () => {
  const path = '/omise/webhook';

  it('appends the webhook path to a bare origin', () => {
    assert.deepEqual(checkPublicUrl('https://abcd.ngrok-free.app', path), {
      ok: true,
      url: 'https://abcd.ngrok-free.app/omise/webhook',
    });
    assert.deepEqual(checkPublicUrl('https://abcd.ngrok-free.app/', path), {
      ok: true,
      url: 'https://abcd.ngrok-free.app/omise/webhook',
    });
    assert.deepEqual(checkPublicUrl('  https://hooks.example.com:8443  ', '/hooks'), {
      ok: true,
      url: 'https://hooks.example.com:8443/hooks',
    });
  });

  it('keeps a URL that already ends with the webhook path (a trailing slash is dropped)', () => {
    assert.deepEqual(checkPublicUrl('https://x.trycloudflare.com/omise/webhook/', path), {
      ok: true,
      url: 'https://x.trycloudflare.com/omise/webhook',
    });
    assert.deepEqual(checkPublicUrl('https://proxy.example.com/dev/omise/webhook', path), {
      ok: true,
      url: 'https://proxy.example.com/dev/omise/webhook',
    });
  });

  it('refuses http, local hosts, other paths and junk, saying what is expected', () => {
    const problem = (raw: string) => {
      const result = checkPublicUrl(raw, path);
      assert.equal(result.ok, false, raw);
      return (result as { problem: string }).problem;
    };
    assert.match(
      problem('http://abcd.ngrok-free.app'),
      /^an https:\/\/ URL: Omise only delivers .* \(this one is http\)$/,
    );
    assert.match(problem('https://localhost:3000'), /Omise cannot reach localhost/);
    assert.match(problem('https://127.0.0.1'), /Omise cannot reach 127\.0\.0\.1/);
    assert.equal(
      problem('https://abcd.ngrok-free.app/webhooks'),
      'a URL ending with the webhook path /omise/webhook (or no path at all), e.g. https://abcd.ngrok-free.app/omise/webhook; this receiver answers only on /omise/webhook (--path)',
    );
    assert.match(problem('abcd.ngrok-free.app'), /^an https:\/\/ URL such as/);
    assert.match(problem('https://abcd.ngrok-free.app/#x'), /without a #fragment/);
    assert.match(problem('https://u:p@abcd.ngrok-free.app'), /without user:password@/);
  });
});

describe('normaliseTunnelDomain', () => {
  it('accepts a host name, and reduces a pasted URL to it', () => {
    assert.deepEqual(normaliseTunnelDomain('my-app.ngrok-free.app'), { ok: true, url: 'my-app.ngrok-free.app' });
    assert.deepEqual(normaliseTunnelDomain('https://My-App.ngrok-free.app/'), {
      ok: true,
      url: 'my-app.ngrok-free.app',
    });
  });

  it('refuses paths, ports and single labels', () => {
    for (const bad of [
      'my-app.ngrok-free.app/omise/webhook',
      'my-app.ngrok-free.app:443',
      'localhost',
      '-x.ngrok.app',
      '',
    ]) {
      assert.equal(normaliseTunnelDomain(bad).ok, false, bad);
    }
  });
});

describe('tunnel helpers', () => {
  it('doubles the reconnect delay from 1s and caps it at 30s', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 50].map((attempt) => backoffDelay(attempt)),
      [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000],
    );
    assert.equal(backoffDelay(3, { initialMs: 10, maxMs: 25 }), 25);
  });

  it('joins the tunnel URL and the webhook path without doubling slashes', () => {
    assert.equal(webhookUrlFor('https://a.ngrok.app', '/omise/webhook'), 'https://a.ngrok.app/omise/webhook');
    assert.equal(webhookUrlFor('https://a.ngrok.app/', 'hook'), 'https://a.ngrok.app/hook');
  });

  it('forwards to loopback when the listener is bound to every interface', () => {
    assert.equal(tunnelTargetHost('0.0.0.0'), '127.0.0.1');
    assert.equal(tunnelTargetHost('::'), '::1');
    assert.equal(tunnelTargetHost('127.0.0.1'), '127.0.0.1');
    assert.equal(tunnelTargetHost('192.168.1.5'), '192.168.1.5');
  });
});
