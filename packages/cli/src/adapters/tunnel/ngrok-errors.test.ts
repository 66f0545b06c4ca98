import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunnelError } from '../../core/tunnel.js';
import { explainNgrokError } from './ngrok-errors.js';

/** Shaped like the SDK's errors: ngrok's text, then `error_code: ERR_NGROK_n` (the SDK copies it to `errorCode`). */
function sdkError(text: string, code?: string): Error {
  const error = new Error(`failed to connect session: ${text}${code ? `\n\nerror_code: ${code}` : ''}`);
  if (code) Object.assign(error, { errorCode: code });
  return error;
}

describe('explainNgrokError', () => {
  const authtoken = '2abcDEFghiJKLmnoPQRstuVWXyz_0123456789abcdefgh';

  it('maps the authtoken codes to plain words and the page to get a token from, never echoing the token', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['ERR_NGROK_4018', 'missing_authtoken', /needs an ngrok account and its authtoken/],
      ['ERR_NGROK_105', 'invalid_authtoken', /does not look like an ngrok authtoken/],
      ['ERR_NGROK_106', 'invalid_authtoken', /old ngrok v1 authtoken/],
      ['ERR_NGROK_107', 'invalid_authtoken', /no longer accepts it/],
    ];
    for (const [code, ours, message] of cases) {
      const explained = explainNgrokError(
        sdkError(`authentication failed: The authtoken you specified is invalid.\nYour authtoken: ${authtoken}`, code),
        { authtoken },
      );
      assert.ok(explained instanceof TunnelError);
      assert.equal(explained.code, ours, code);
      assert.equal(explained.providerCode, code);
      assert.equal(explained.retryable, false);
      assert.match(explained.message, message);
      assert.match(
        explained.fix,
        /https:\/\/dashboard\.ngrok\.com\/get-started\/your-authtoken into \.env as NGROK_AUTHTOKEN=/,
      );
      assert.doesNotMatch(`${explained.message} ${explained.fix}`, new RegExp(authtoken));
    }
  });

  it('names the domain and where to reserve it when the domain is the problem', () => {
    for (const code of ['ERR_NGROK_319', 'ERR_NGROK_313', 'ERR_NGROK_354']) {
      const explained = explainNgrokError(
        sdkError('failed to start tunnel: You must reserve a custom hostname', code),
        {
          domain: 'my-app.ngrok-free.app',
        },
      );
      assert.equal(explained.code, 'domain_not_reserved');
      assert.equal(explained.message, 'the domain my-app.ngrok-free.app is not reserved on your ngrok account');
      assert.match(explained.fix, /reserve it at https:\/\/dashboard\.ngrok\.com\/domains .*leave out --tunnel-domain/);
    }
    assert.equal(
      explainNgrokError(sdkError('reserved for another account', 'ERR_NGROK_320')).code,
      'domain_of_another_account',
    );
    assert.equal(explainNgrokError(sdkError('already online', 'ERR_NGROK_334')).code, 'domain_in_use');
    assert.equal(explainNgrokError(sdkError('custom hostname', 'ERR_NGROK_314')).code, 'domain_needs_paid_plan');
    assert.equal(explainNgrokError(sdkError('simultaneous sessions', 'ERR_NGROK_108')).code, 'too_many_sessions');
  });

  it('reads the code from the message when the SDK did not set errorCode', () => {
    const explained = explainNgrokError(new Error('failed to start tunnel: nope\n\nERR_NGROK_319'));
    assert.equal(explained.code, 'domain_not_reserved');
    assert.equal(explained.message, 'the domain is not reserved on your ngrok account');
  });

  it('calls a connection failure "could not reach ngrok", retryable', () => {
    const explained = explainNgrokError(sdkError('failed to establish tcp connection'));
    assert.equal(explained.code, 'unreachable');
    assert.equal(explained.retryable, true);
    assert.equal(
      explained.message,
      'could not reach ngrok (failed to connect session: failed to establish tcp connection)',
    );
    assert.match(explained.fix, /check the internet connection/);
  });

  it('passes other ngrok codes on with their documentation page, and does not retry them', () => {
    const explained = explainNgrokError(sdkError(`something new for ${authtoken}`, 'ERR_NGROK_9999'), { authtoken });
    assert.equal(explained.code, 'ngrok_error');
    assert.equal(explained.retryable, false);
    assert.equal(explained.fix, 'see https://ngrok.com/docs/errors/err_ngrok_9999/');
    assert.match(
      explained.message,
      /^ngrok refused the tunnel: failed to connect session: something new for ••••efgh \(ERR_NGROK_9999\)$/,
    );
    assert.equal(explainNgrokError('a string').retryable, true);
  });
});
