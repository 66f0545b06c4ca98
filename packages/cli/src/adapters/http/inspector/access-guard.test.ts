import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideAccess, hostnameOf, isLoopbackHost, readCookie, sameToken } from './access-guard.js';

describe('access guard helpers', () => {
  it('knows which hosts only this machine can reach', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'app.localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '127.0.0.1.nip.io', 'localhost.example.com']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  it('reads the host name from a Host header', () => {
    assert.equal(hostnameOf('localhost:3001'), 'localhost');
    assert.equal(hostnameOf('[::1]:3001'), '::1');
    assert.equal(hostnameOf('127.0.0.1'), '127.0.0.1');
  });

  it('reads one cookie among several and compares tokens exactly', () => {
    assert.equal(readCookie('a=1; omise_webhook_ui_3001=abc%2Bd; b=2', 'omise_webhook_ui_3001'), 'abc+d');
    assert.equal(readCookie('omise_webhook_ui_30011=x', 'omise_webhook_ui_3001'), undefined);
    assert.equal(readCookie(undefined, 'x'), undefined);
    assert.equal(sameToken('abc', 'abc'), true);
    assert.equal(sameToken('abc', 'abcd'), false);
  });
});

describe('decideAccess: writes only from the inspector page itself', () => {
  const rules = { token: 'team-token-0123456789abcdef', loopbackOnly: false, cookieName: 'omise_webhook_token' };
  const replay = (headers: Record<string, string>) =>
    decideAccess(
      {
        method: 'POST',
        url: new URL('http://team.example.com/api/events/evnt_test_1/replay'),
        headers: { get: (name: string) => headers[name.toLowerCase()] ?? null },
        isPage: false,
      },
      rules,
    );
  const auth = { authorization: 'Bearer team-token-0123456789abcdef' };

  it('accepts the page served over http, and over https behind a TLS proxy that keeps the Host header', () => {
    assert.deepEqual(replay({ ...auth, host: 'team.example.com', origin: 'http://team.example.com' }), {
      kind: 'allow',
    });
    assert.deepEqual(replay({ ...auth, host: 'team.example.com', origin: 'https://team.example.com' }), {
      kind: 'allow',
    });
    assert.deepEqual(replay({ ...auth, host: 'team.example.com:8443', origin: 'https://team.example.com:8443' }), {
      kind: 'allow',
    });
  });

  it('refuses another site, over http or https', () => {
    for (const origin of [
      'https://evil.example',
      'https://team.example.com.evil.example',
      'http://team.example.com:81',
    ]) {
      const decision = replay({ ...auth, host: 'team.example.com', origin });
      assert.equal(decision.kind, 'deny', origin);
      assert.equal(decision.kind === 'deny' && decision.code, 'cross_origin', origin);
    }
  });
});
