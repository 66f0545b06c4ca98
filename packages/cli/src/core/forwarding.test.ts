import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildForwardHeaders,
  DEFAULT_RETRY_SCHEDULE_MS,
  decideAfterAttempt,
  forwardTargetsFor,
  isForwardable,
  problemWithTargetUrl,
  type QueuedJobView,
  replaceSignatureHeaders,
  selectSendableJobs,
} from './forwarding.js';

const verified = { mode: 'signature' as const, status: 'verified' as const, reason: 'ok' };

describe('forwarding decisions', () => {
  it('forwards verified events, and unverified ones only when nothing is configured', () => {
    assert.equal(isForwardable(verified), true);
    assert.equal(isForwardable({ mode: 'none', status: 'unverified', reason: '' }), true);
    assert.equal(isForwardable({ mode: 'api', status: 'pending', reason: '' }), false);
    assert.equal(isForwardable({ mode: 'api', status: 'failed', reason: '' }), false);
    assert.equal(isForwardable({ mode: 'signature', status: 'unverified', reason: '' }), false);
  });

  it('picks targets by key pattern, each URL once, in route order; pending events get theirs to hold', () => {
    const routes = [
      { pattern: 'charge.*', url: 'http://a' },
      { pattern: '*', url: 'http://all' },
      { pattern: 'charge.create,refund.*', url: 'http://a' },
      { pattern: 'refund.*', url: 'http://r' },
    ];
    assert.deepEqual(forwardTargetsFor({ key: 'charge.create', verification: verified }, routes), [
      'http://a',
      'http://all',
    ]);
    assert.deepEqual(forwardTargetsFor({ key: 'refund.create', verification: verified }, routes), [
      'http://all',
      'http://a',
      'http://r',
    ]);
    assert.deepEqual(
      forwardTargetsFor({ key: 'customer.create', verification: { ...verified, status: 'pending' } }, routes),
      ['http://all'],
    );
    assert.deepEqual(
      forwardTargetsFor({ key: 'charge.create', verification: { ...verified, status: 'failed' } }, routes),
      [],
    );
  });

  it('accepts only absolute http(s) URLs without credentials', () => {
    assert.equal(problemWithTargetUrl('http://localhost:8080/omise'), null);
    assert.equal(problemWithTargetUrl('https://example.test/hook?x=1'), null);
    assert.match(problemWithTargetUrl('localhost:8080') ?? '', /scheme is localhost/);
    assert.match(problemWithTargetUrl('/omise/webhook') ?? '', /not a URL/);
    assert.match(problemWithTargetUrl('ftp://example.test') ?? '', /only http and https/);
    assert.match(problemWithTargetUrl('http://user:pw@localhost') ?? '', /password/);
  });

  it('builds headers: order kept, hop-by-hop and Connection-named ones dropped, Host and Content-Length set', () => {
    const headers = buildForwardHeaders({
      original: [
        ['Content-Type', 'application/json'],
        ['connection', 'X-Private,  close'],
        ['X-Private', 'secret'],
        ['Transfer-Encoding', 'chunked'],
        ['Upgrade', 'h2c'],
        ['Trailer', 'X-Checksum'],
        ['Proxy-Authenticate', 'Basic'],
        ['Expect', '100-continue'],
        ['Omise-Signature', 'sig'],
        ['omise-webhook-event-id', 'evnt_spoofed'],
      ],
      target: 'http://localhost:8080/omise',
      bodyLength: 42,
      eventId: 'evnt_test_1',
      attempt: 3,
    });
    assert.deepEqual(headers, [
      ['Host', 'localhost:8080'],
      ['Content-Type', 'application/json'],
      ['Omise-Signature', 'sig'],
      ['Content-Length', '42'],
      ['Omise-Webhook-Forwarded-By', 'omise-webhook'],
      ['Omise-Webhook-Attempt', '3'],
      ['Omise-Webhook-Event-Id', 'evnt_test_1'],
    ]);
    const inPlace = buildForwardHeaders({
      original: [
        ['X-A', '1'],
        ['host', 'tunnel.example'],
        ['content-length', '999'],
        ['X-B', '2'],
      ],
      target: 'https://app.example/hook',
      bodyLength: 7,
      eventId: 'evnt_test_2',
      attempt: 1,
      replay: 'resigned',
    });
    assert.deepEqual(inPlace.slice(0, 4), [
      ['X-A', '1'],
      ['host', 'app.example'],
      ['content-length', '7'],
      ['X-B', '2'],
    ]);
    assert.deepEqual(inPlace.at(-1), ['Omise-Webhook-Replay', 'resigned']);
  });

  it('replaces signature values where they stand, or appends them', () => {
    const signed = { signature: 'new', timestamp: '1700000300' };
    assert.deepEqual(
      replaceSignatureHeaders(
        [
          ['omise-signature-timestamp', '1700000000'],
          ['X', 'y'],
          ['Omise-Signature', 'old1,old2'],
        ],
        signed,
      ),
      [
        ['omise-signature-timestamp', '1700000300'],
        ['X', 'y'],
        ['Omise-Signature', 'new'],
      ],
    );
    assert.deepEqual(replaceSignatureHeaders([['X', 'y']], signed), [
      ['X', 'y'],
      ['Omise-Signature-Timestamp', '1700000300'],
      ['Omise-Signature', 'new'],
    ]);
  });

  it('decides: 2xx delivered; network error, timeout and 5xx retried on the schedule; 4xx final unless asked', () => {
    const plan = { scheduleMs: DEFAULT_RETRY_SCHEDULE_MS, retry4xx: false };
    const decide = (outcome: Parameters<typeof decideAfterAttempt>[0]['outcome'], attemptInPlan = 1, p = plan) =>
      decideAfterAttempt({ outcome, attemptInPlan, plan: p, now: 1_000 });
    assert.deepEqual(decide({ kind: 'response', status: 204 }), { outcome: 'delivered' });
    assert.deepEqual(decide({ kind: 'response', status: 503 }), {
      outcome: 'retry',
      nextAttemptAt: 6_000,
      reason: '503 from the target',
    });
    assert.deepEqual(decide({ kind: 'error', message: 'refused' }, 6), {
      outcome: 'retry',
      nextAttemptAt: 1_000 + 21_600_000,
      reason: 'refused',
    });
    assert.deepEqual(decide({ kind: 'error', message: 'refused' }, 7), {
      outcome: 'failed',
      reason: 'refused; gave up after 7 attempts (--retry-schedule)',
    });
    assert.equal(decide({ kind: 'response', status: 404 }).outcome, 'failed');
    assert.equal(decide({ kind: 'response', status: 404 }, 1, { ...plan, retry4xx: true }).outcome, 'retry');
    assert.match(
      (decide({ kind: 'response', status: 301 }) as { reason: string }).reason,
      /redirects are not followed/,
    );
    assert.deepEqual(decide({ kind: 'response', status: 500 }, 1, { scheduleMs: [], retry4xx: false }), {
      outcome: 'failed',
      reason: '500 from the target; gave up after 1 attempt (--retry-schedule)',
    });
  });

  it('selects jobs in order, within the window, and lets nothing overtake a failed head', () => {
    const job = (id: number, dueAt = 0, attemptsInPlan = 0): QueuedJobView => ({
      id,
      attempts: attemptsInPlan,
      attemptsInPlan,
      dueAt,
    });
    const ids = (r: { send: QueuedJobView[] }) => r.send.map((j) => j.id);
    const none = new Set<number>();
    assert.deepEqual(
      ids(selectSendableJobs({ queue: [job(1), job(2), job(3)], inFlight: none, now: 10, maxInFlight: 2 })),
      [1, 2],
    );
    assert.deepEqual(
      ids(selectSendableJobs({ queue: [job(1), job(2), job(3)], inFlight: new Set([1]), now: 10, maxInFlight: 2 })),
      [2],
    );
    const waiting = selectSendableJobs({ queue: [job(1, 50, 1), job(2)], inFlight: none, now: 10, maxInFlight: 5 });
    assert.deepEqual(waiting, { send: [], nextDueAt: 50 });
    assert.deepEqual(
      ids(selectSendableJobs({ queue: [job(1, 50, 1), job(2)], inFlight: none, now: 50, maxInFlight: 5 })),
      [1],
      'a probe alone',
    );
    assert.deepEqual(
      ids(selectSendableJobs({ queue: [job(1), job(2, 0, 1), job(3)], inFlight: none, now: 10, maxInFlight: 5 })),
      [1],
      'a job that failed before is not sent beside others',
    );
    assert.deepEqual(
      selectSendableJobs({ queue: [job(1), job(2, 90, 1)], inFlight: new Set([1]), now: 10, maxInFlight: 5 }),
      { send: [], nextDueAt: 90 },
    );
    assert.deepEqual(selectSendableJobs({ queue: [], inFlight: none, now: 0, maxInFlight: 1 }), {
      send: [],
      nextDueAt: null,
    });
  });
});
