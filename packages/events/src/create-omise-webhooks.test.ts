import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, NOW_SEC, SECRET, signedHeaders, signForTest } from '../test/test-kit.js';
import { _setCryptoBackendForTests } from './_crypto-backend.js';
import {
  createOmiseWebhooks,
  type OmiseApiFetch,
  type OmiseWebhooks,
  type OmiseWebhooksOptions,
} from './create-omise-webhooks.js';
import type { DedupeStore } from './dedupe-store.js';
import { OmiseWebhookError } from './errors.js';
import type { OmiseEvent } from './types.js';

const CHARGE_COMPLETE = fixture('charge.complete.json');
const EVENT_ID = 'evnt_test_5ygr5yxi8vd0mvv3pxp';

function make(options: Partial<OmiseWebhooksOptions> = {}): OmiseWebhooks {
  return createOmiseWebhooks({ secret: SECRET, now: () => NOW_SEC * 1000, ...options });
}

/** A delivery of a fixture (or any body), signed now with the test secret. */
function delivery(body: string | Uint8Array = CHARGE_COMPLETE) {
  return { rawBody: body, headers: signedHeaders({ body, secrets: [SECRET] }) };
}

async function rejection(promise: Promise<unknown>): Promise<OmiseWebhookError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OmiseWebhookError, `expected an OmiseWebhookError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

function thrown(fn: () => unknown): OmiseWebhookError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof OmiseWebhookError, `expected an OmiseWebhookError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a throw');
}

describe('createOmiseWebhooks: options', () => {
  it('needs a secret or verifyWithApi, and says which variable to set', () => {
    const error = thrown(() => createOmiseWebhooks({ secret: undefined }));
    assert.equal(error.code, 'missing_secret');
    assert.match(
      error.message,
      /it was undefined\. Is the environment variable that holds it \(OMISE_WEBHOOK_SECRET\) set\?/,
    );
    assert.match(error.message, /verifyWithApi: \{ secretKey \}/);
  });

  it('refuses a secret that is not a webhook secret, naming which one', () => {
    const apiKey = thrown(() => createOmiseWebhooks({ secret: 'skey_test_5xyz' }));
    assert.equal(apiKey.code, 'invalid_secret');
    assert.match(apiKey.message, /^createOmiseWebhooks: secret looks like an Omise API key \(skey_\.\.\.\)/);
    const rolled = thrown(() => createOmiseWebhooks({ secret: SECRET, secrets: [`${SECRET}\n`] }));
    assert.equal(rolled.code, 'invalid_secret');
    assert.match(rolled.message, /secrets\[0\] has leading or trailing whitespace/);
    const empty = thrown(() => createOmiseWebhooks({ secrets: [SECRET, ''] }));
    assert.equal(empty.code, 'missing_secret');
    assert.match(empty.message, /secrets\[1\] is an empty string/);
    const notList = thrown(() => createOmiseWebhooks({ secrets: SECRET as never }));
    assert.equal(notList.code, 'invalid_options');
  });

  it('refuses bad numbers and stores, naming the value', () => {
    const cases: Array<[Partial<OmiseWebhooksOptions>, RegExp]> = [
      [{ toleranceSec: -1 }, /toleranceSec is -1; expected a number of 0 or more \(Infinity turns the check off\)/],
      [{ toleranceSec: '300' as never }, /toleranceSec is "300"/],
      [{ maxBodyBytes: Number.POSITIVE_INFINITY }, /maxBodyBytes is Infinity/],
      [{ dedupe: { windowSec: Number.NaN } }, /dedupe\.windowSec is NaN/],
      [{ dedupe: { store: {} as DedupeStore } }, /dedupe\.store must have claim\(id, windowSec\) and release\(id\)/],
      [{ dedupe: true as never }, /dedupe is true; expected false or \{ store\?, windowSec\? \}/],
    ];
    for (const [options, message] of cases) {
      const error = thrown(() => make(options));
      assert.equal(error.code, 'invalid_options');
      assert.match(error.message, message);
    }
  });

  it('checks verifyWithApi when it is configured', () => {
    const publicKey = thrown(() => createOmiseWebhooks({ verifyWithApi: { secretKey: 'pkey_test_5xyz' } }));
    assert.equal(publicKey.code, 'invalid_secret');
    assert.match(publicKey.message, /public key \(pkey_\.\.\.\), which cannot read events/);
    const missing = thrown(() => createOmiseWebhooks({ verifyWithApi: { secretKey: '' } }));
    assert.equal(missing.code, 'missing_secret');
    const badUrl = thrown(() =>
      createOmiseWebhooks({ verifyWithApi: { secretKey: 'skey_test_5xyz', apiUrl: 'api.omise.co' } }),
    );
    assert.match(badUrl.message, /apiUrl is "api\.omise\.co", which is not a URL/);
  });
});

describe('createOmiseWebhooks: on()', () => {
  it('refuses a key that does not exist, with a "did you mean"', () => {
    const webhooks = make();
    const typo = thrown(() => webhooks.on('charge.completed' as never, () => {}));
    assert.equal(typo.code, 'unknown_event_key');
    assert.match(
      typo.message,
      /^"charge\.completed" is not an Omise event key or group pattern\. Did you mean "charge\.complete"/,
    );
    assert.match(thrown(() => webhooks.on('*' as never, () => {})).message, /For every event, use onAny\(handler\)/);
    assert.match(
      thrown(() => webhooks.on('chargeback.*' as never, () => {})).message,
      /There is no group "chargeback"; the groups are charge, customer, card, dispute, link, recipient, refund, schedule, transfer\./,
    );
    assert.equal(thrown(() => webhooks.on([], () => {})).code, 'invalid_options');
    assert.match(
      thrown(() => webhooks.on('charge.create', 'handler' as never)).message,
      /on\(\) needs a handler function/,
    );
  });
});

describe('createOmiseWebhooks: dispatch', () => {
  it('calls handlers for the key, its group pattern, lists and onAny; a list handler runs once per event', async () => {
    const webhooks = make();
    const calls: string[] = [];
    webhooks.on('charge.complete', () => calls.push('key'));
    webhooks.on('charge.*', () => calls.push('group'));
    webhooks.on(['charge.complete', 'charge.*', 'refund.create'], () => calls.push('list'));
    webhooks.on('charge.create', () => calls.push('other key'));
    webhooks.on('refund.*', () => calls.push('other group'));
    webhooks.onAny(() => calls.push('any'));
    const result = await webhooks.receive(delivery());
    assert.equal(result.status, 'handled');
    assert.equal(result.event.id, EVENT_ID);
    assert.deepEqual(calls, ['key', 'group', 'list', 'any']);
  });

  it('gives customer.* the customer.update.card event, and unknown keys only to onAny', async () => {
    const webhooks = make();
    const calls: string[] = [];
    webhooks.on('customer.*', (event) => calls.push(`customer.* ${event.key}`));
    webhooks.on('card.*', (event) => calls.push(`card.* ${event.key}`));
    webhooks.onAny((event) => calls.push(`any ${event.key}`));
    await webhooks.receive(delivery(fixture('customer.update.card.json')));
    await webhooks.receive(delivery(fixture('unknown-key.json')));
    const unknownKey = JSON.parse(fixture('unknown-key.json').toString('utf8')).key;
    assert.deepEqual(calls, ['customer.* customer.update.card', 'any customer.update.card', `any ${unknownKey}`]);
  });

  it('starts every handler before waiting for any (one slow handler does not hold up the others)', async () => {
    const webhooks = make();
    const steps: string[] = [];
    webhooks.on('charge.complete', async () => {
      steps.push('slow started');
      await Promise.resolve();
      await Promise.resolve();
      steps.push('slow finished');
    });
    webhooks.onAny(() => {
      steps.push('fast ran');
    });
    await webhooks.receive(delivery());
    assert.deepEqual(steps, ['slow started', 'fast ran', 'slow finished']);
  });

  it('resolves only after async handlers have finished', async () => {
    const webhooks = make();
    let finished = false;
    webhooks.on('charge.complete', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      finished = true;
    });
    await webhooks.receive(delivery());
    assert.equal(finished, true);
  });

  it('removeListener undoes on, onAny and onError, and one selector of a list', async () => {
    const webhooks = make({ dedupe: false });
    const calls: string[] = [];
    const byKey = () => calls.push('key');
    const byList = () => calls.push('list');
    const any = () => calls.push('any');
    const onError = () => calls.push('error');
    webhooks.on('charge.complete', byKey);
    webhooks.on(['charge.complete', 'refund.create'], byList);
    webhooks.onAny(any);
    webhooks.onError(onError);
    webhooks.removeListener('charge.complete', byKey);
    webhooks.removeListener('charge.complete', byList);
    webhooks.removeListener('*', any);
    webhooks.removeListener('error', onError);
    await webhooks.receive(delivery());
    await webhooks.receive(delivery(fixture('refund.create.json')));
    await rejection(webhooks.receive({ rawBody: '{}', headers: {} }));
    assert.deepEqual(calls, ['list'], 'only the refund.create selector of the list is left');
  });
});

describe('createOmiseWebhooks: failures', () => {
  it('runs every handler when some throw, and rejects with every failure after telling onError', async () => {
    const webhooks = make();
    const first = new Error('first failure');
    const ran: string[] = [];
    webhooks.on('charge.complete', () => {
      throw first;
    });
    webhooks.on('charge.*', () => ran.push('second'));
    webhooks.onAny(async () => {
      await Promise.resolve();
      throw 'a string, not an Error';
    });
    const reported: OmiseWebhookError[] = [];
    webhooks.onError((error) => {
      reported.push(error);
    });
    const error = await rejection(webhooks.receive(delivery()));
    assert.deepEqual(ran, ['second']);
    assert.equal(error.code, 'handler_failed');
    assert.deepEqual(error.errors, [first, 'a string, not an Error']);
    assert.equal(error.cause, first);
    assert.equal(error.event?.id, EVENT_ID);
    assert.equal(
      error.message,
      `2 of 3 handlers failed for event ${EVENT_ID} (charge.complete): (1) Error: first failure (2) threw a string, not an Error. The other handlers ran to the end. The event is not recorded as handled, so a redelivery of it will run the handlers again; every failure is in error.errors.`,
    );
    assert.deepEqual(reported, [error]);
  });

  it('adds what an onError handler throws to the error rather than losing it', async () => {
    const webhooks = make();
    const logFailure = new Error('the log is full');
    webhooks.onError(() => {
      throw logFailure;
    });
    const error = await rejection(webhooks.receive({ rawBody: CHARGE_COMPLETE, headers: {} }));
    assert.equal(error.code, 'signature_invalid');
    assert.deepEqual(error.errors, [logFailure]);
    assert.match(error.message, /\(1 onError handler also threw; see error\.errors\.\)$/);
  });

  it('refuses a parsed object or an ArrayBuffer as rawBody with body_already_parsed', async () => {
    const webhooks = make();
    const parsed = await rejection(webhooks.receive({ rawBody: { object: 'event' } as never, headers: {} }));
    assert.equal(parsed.code, 'body_already_parsed');
    assert.match(parsed.message, /^receive\(\) got an object \(a body that was already parsed as JSON\) as rawBody/);
    assert.match(parsed.message, /express\.raw\(\{ type: 'application\/json' \}\)/);
    const buffer = await rejection(webhooks.receive({ rawBody: new ArrayBuffer(4) as never, headers: {} }));
    assert.match(buffer.message, /an ArrayBuffer \(wrap it: new Uint8Array\(buffer\)\)/);
  });

  it('measures maxBodyBytes in UTF-8 bytes, not characters', async () => {
    const webhooks = make({ maxBodyBytes: 14 });
    const thai = 'ทดสอบ'; // 5 characters, 15 bytes
    const error = await rejection(webhooks.receive({ rawBody: thai, headers: {} }));
    assert.equal(error.code, 'body_too_large');
    assert.match(error.message, /^request body is 15 B; the limit is 14 B \(maxBodyBytes\)/);
    const fits = await rejection(webhooks.receive({ rawBody: 'ทดสอ', headers: {} }));
    assert.equal(fits.code, 'signature_invalid', '12 bytes pass the size check');
  });

  it('explains a signature failure: the reason, the diagnosis, and a misnamed header', async () => {
    const webhooks = make();
    const misnamed = await rejection(
      webhooks.receive({
        rawBody: CHARGE_COMPLETE,
        headers: { 'x-omise-signature': signForTest(SECRET, NOW_SEC, CHARGE_COMPLETE) },
      }),
    );
    assert.equal(misnamed.reason, 'missing_signature');
    assert.match(misnamed.message, /^Omise-Signature check failed \(missing_signature\): /);
    assert.match(misnamed.message, /The request has a x-omise-signature header instead, which Omise never sends/);

    // A sender that keys the HMAC with the secret's text instead of its decoded bytes.
    const signedWithText = signForTest(Buffer.from(SECRET, 'utf8').toString('base64'), NOW_SEC, CHARGE_COMPLETE);
    const diagnosed = await rejection(
      webhooks.receive({
        rawBody: CHARGE_COMPLETE,
        headers: { 'omise-signature': signedWithText, 'omise-signature-timestamp': String(NOW_SEC) },
      }),
    );
    assert.equal(diagnosed.reason, 'no_signature_matched');
    assert.equal(diagnosed.diagnosis, 'secret_not_base64_decoded');
    assert.match(diagnosed.hint ?? '', /base64-decoding/);
    assert.match(diagnosed.message, / Likely cause: the sender used the secret text as the HMAC key/);
  });

  it('checks the timestamp against the injected clock', async () => {
    let nowMs = NOW_SEC * 1000;
    const webhooks = createOmiseWebhooks({ secret: SECRET, toleranceSec: 60, now: () => nowMs });
    nowMs += 61_000;
    const error = await rejection(webhooks.receive(delivery()));
    assert.equal(error.reason, 'timestamp_too_old');
    nowMs -= 1000;
    assert.equal((await webhooks.receive(delivery())).status, 'handled');
  });

  it('verifies with Web Crypto where node:crypto is absent', async () => {
    _setCryptoBackendForTests('web');
    try {
      const webhooks = make();
      assert.equal((await webhooks.receive(delivery())).status, 'handled');
      const wrong = await rejection(
        webhooks.receive({ rawBody: CHARGE_COMPLETE, headers: signedHeaders({ body: '{}', secrets: [SECRET] }) }),
      );
      assert.equal(wrong.reason, 'no_signature_matched');
    } finally {
      _setCryptoBackendForTests(undefined);
    }
  });
});

describe('createOmiseWebhooks: dedupe', () => {
  function recordingStore(answers: boolean[] = []) {
    const calls: string[] = [];
    const store: DedupeStore = {
      claim: async (id, windowSec) => {
        calls.push(`claim ${id} ${windowSec}`);
        return answers.shift() ?? true;
      },
      release: (id) => {
        calls.push(`release ${id}`);
      },
    };
    return { store, calls };
  }

  it('claims each id for a day by default in the given store, and skips handlers for a duplicate', async () => {
    const { store, calls } = recordingStore([true, false]);
    const webhooks = make({ dedupe: { store } });
    let handled = 0;
    webhooks.onAny(() => {
      handled++;
    });
    assert.equal((await webhooks.receive(delivery())).status, 'handled');
    assert.equal((await webhooks.receive(delivery())).status, 'duplicate');
    assert.equal(handled, 1);
    assert.deepEqual(calls, [`claim ${EVENT_ID} 86400`, `claim ${EVENT_ID} 86400`]);
  });

  it('releases the id when a handler fails, and reports a release that fails too', async () => {
    const { store, calls } = recordingStore();
    const webhooks = make({ dedupe: { store, windowSec: 60 } });
    webhooks.onAny(() => {
      throw new Error('boom');
    });
    await rejection(webhooks.receive(delivery()));
    assert.deepEqual(calls, [`claim ${EVENT_ID} 60`, `release ${EVENT_ID}`]);

    const releaseFailure = new Error('redis went away');
    store.release = () => Promise.reject(releaseFailure);
    const error = await rejection(webhooks.receive(delivery()));
    assert.equal(error.errors?.length, 2);
    assert.equal(error.errors?.[1], releaseFailure);
    // The message counts handlers as handlers, and says what the failed release means.
    assert.match(error.message, /^1 of 1 handler failed for event /);
    assert.match(
      error.message,
      /Releasing its id in the dedupe store failed too, so a redelivery within the dedupe window will be skipped/,
    );
    assert.doesNotMatch(error.message, /will run the handlers again/);
  });

  it('answers dedupe_failed when the store throws, without running handlers', async () => {
    const webhooks = make({
      dedupe: {
        store: {
          claim: () => {
            throw new Error('ECONNREFUSED 127.0.0.1:6379');
          },
          release: () => {},
        },
      },
    });
    let handled = false;
    webhooks.onAny(() => {
      handled = true;
    });
    const error = await rejection(webhooks.receive(delivery()));
    assert.equal(error.code, 'dedupe_failed');
    assert.match(error.message, /ECONNREFUSED 127\.0\.0\.1:6379\. The event was not handled; .* or pass dedupe: false/);
    assert.equal(handled, false);
  });

  it('handles every delivery with dedupe: false', async () => {
    const webhooks = make({ dedupe: false });
    assert.equal((await webhooks.receive(delivery())).status, 'handled');
    assert.equal((await webhooks.receive(delivery())).status, 'handled');
  });

  it('does not claim an id for a request that failed verification', async () => {
    const { store, calls } = recordingStore();
    const webhooks = make({ dedupe: { store } });
    await rejection(webhooks.receive({ rawBody: CHARGE_COMPLETE, headers: {} }));
    assert.deepEqual(calls, []);
  });
});

describe('createOmiseWebhooks: verifyWithApi', () => {
  const API_URL = 'http://omise-api.test';
  const SECRET_KEY = 'skey_test_5yzabc';
  const omiseCopy = (): OmiseEvent => {
    const event = JSON.parse(CHARGE_COMPLETE.toString('utf8'));
    event.webhook_deliveries = [{ object: 'webhook_delivery', id: 'whdl_test_1', status: 200 }];
    return event;
  };
  function fakeFetch(answer: (url: string) => { status: number; body: string } | Promise<never>) {
    const requests: Array<{ url: string; headers: Record<string, string>; hasSignal: boolean }> = [];
    const fetch: OmiseApiFetch = async (url, init) => {
      requests.push({ url, headers: init.headers, hasSignal: init.signal instanceof AbortSignal });
      const { status, body } = await answer(url);
      return { status, text: async () => body };
    };
    return { fetch, requests };
  }

  it("asks GET {apiUrl}/events/{id} with Basic auth, and hands the handlers Omise's copy", async () => {
    const { fetch, requests } = fakeFetch(() => ({ status: 200, body: JSON.stringify(omiseCopy()) }));
    const webhooks = make({ verifyWithApi: { secretKey: SECRET_KEY, apiUrl: `${API_URL}/`, fetch } });
    let seen: OmiseEvent | undefined;
    webhooks.onAny((event) => {
      seen = event;
    });
    const result = await webhooks.receive(delivery());
    assert.equal(result.status, 'handled');
    assert.deepEqual(requests, [
      {
        url: `${API_URL}/events/${EVENT_ID}`,
        headers: {
          Authorization: `Basic ${Buffer.from(`${SECRET_KEY}:`).toString('base64')}`,
          Accept: 'application/json',
        },
        hasSignal: true,
      },
    ]);
    assert.equal(seen?.webhook_deliveries?.[0]?.id, 'whdl_test_1', "the handlers got the API's copy");
    assert.equal(result.event, seen);
  });

  it('works without a webhook secret (the API is then the only check)', async () => {
    const { fetch } = fakeFetch(() => ({ status: 200, body: JSON.stringify(omiseCopy()) }));
    const webhooks = createOmiseWebhooks({ verifyWithApi: { secretKey: SECRET_KEY, fetch } });
    assert.equal((await webhooks.receive({ rawBody: CHARGE_COMPLETE, headers: {} })).status, 'handled');
  });

  it('checks the signature first: a forged request never reaches the API', async () => {
    const { fetch, requests } = fakeFetch(() => ({ status: 200, body: JSON.stringify(omiseCopy()) }));
    const webhooks = make({ verifyWithApi: { secretKey: SECRET_KEY, fetch } });
    await rejection(webhooks.receive({ rawBody: CHARGE_COMPLETE, headers: {} }));
    assert.deepEqual(requests, []);
  });

  const failures: Array<[string, () => { status: number; body: string } | Promise<never>, string, RegExp]> = [
    [
      'Omise has no such event',
      () => ({ status: 404, body: '{"object":"error","code":"not_found","message":"event was not found"}' }),
      'api_verification_failed',
      /the Omise API has no event evnt_test_5ygr5yxi8vd0mvv3pxp \(GET .* answered 404\), so this body was not sent by Omise/,
    ],
    [
      'Omise knows the id with another key',
      () => ({ status: 200, body: JSON.stringify({ ...omiseCopy(), key: 'charge.create' }) }),
      'api_verification_failed',
      /the body says key is "charge\.complete", but the Omise API says "charge\.create"/,
    ],
    [
      'the key is refused',
      () => ({ status: 401, body: '{"object":"error","code":"authentication_failure"}' }),
      'api_unavailable',
      /refused verifyWithApi\.secretKey \(GET .* answered 401 authentication_failure\)/,
    ],
    [
      'the API fails',
      () => ({ status: 502, body: 'Bad Gateway' }),
      'api_unavailable',
      /the Omise API answered 502 to GET http:\/\/omise-api\.test\/events\/evnt_test_5ygr5yxi8vd0mvv3pxp/,
    ],
    [
      'the API cannot be reached',
      () => Promise.reject(new TypeError('fetch failed')),
      'api_unavailable',
      /could not ask the Omise API about event evnt_test_5ygr5yxi8vd0mvv3pxp \(GET .*\): fetch failed\./,
    ],
    [
      'the API does not answer in time',
      () => Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      'api_unavailable',
      /: no answer within 10000 ms\./,
    ],
    [
      'the API answers something that is not an event',
      () => ({ status: 200, body: '<html>' }),
      'api_unavailable',
      /answered 200 .* but not with an event: body is not valid JSON/,
    ],
  ];
  for (const [name, answer, code, message] of failures) {
    it(`fails with ${code} when ${name}, running no handler`, async () => {
      const { fetch } = fakeFetch(answer);
      const webhooks = make({ verifyWithApi: { secretKey: SECRET_KEY, apiUrl: API_URL, fetch } });
      let handled = false;
      webhooks.onAny(() => {
        handled = true;
      });
      const error = await rejection(webhooks.receive(delivery()));
      assert.equal(error.code, code);
      assert.match(error.message, message);
      assert.equal(handled, false);
    });
  }

  it('refuses a test event with a live key (or the reverse) without asking', async () => {
    const { fetch, requests } = fakeFetch(() => ({ status: 200, body: '' }));
    const webhooks = make({ verifyWithApi: { secretKey: 'skey_5yzabc', fetch } });
    const error = await rejection(webhooks.receive(delivery()));
    assert.equal(error.code, 'api_verification_failed');
    assert.match(error.message, /is a test-mode event, but verifyWithApi\.secretKey is a live-mode key/);
    assert.deepEqual(requests, []);
  });
});
