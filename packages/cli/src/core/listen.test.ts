import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFeedEvent, FeedMessageError, feedUrl, LISTEN_BACKOFF } from './listen.js';
import { backoffDelay } from './tunnel.js';

describe('listen core', () => {
  it('decodes a feed event: the position, the ordered headers and the exact bytes', () => {
    const body = Buffer.from('{\n  "id": "evnt_test_1",\n  "webhook_deliveries": [\n\n  ]\n}', 'utf8');
    const event = decodeFeedEvent(
      '42',
      JSON.stringify({
        id: 'evnt_test_1',
        key: 'charge.create',
        receivedAt: '2026-11-26T07:00:00.000Z',
        headers: [
          ['Omise-Signature', 'ab'],
          ['Content-Type', 'application/json'],
        ],
        body: body.toString('base64'),
      }),
    );
    assert.equal(event.cursor, '42');
    assert.deepEqual(event.headers, [
      ['Omise-Signature', 'ab'],
      ['Content-Type', 'application/json'],
    ]);
    assert.ok(Buffer.from(event.body).equals(body));
  });

  it('refuses a feed event without a position or with missing fields, saying what is missing', () => {
    assert.throws(() => decodeFeedEvent(null, '{}'), {
      name: 'FeedMessageError',
      message: 'a feed event came without its position (id:)',
    });
    assert.throws(() => decodeFeedEvent('1', 'not json'), FeedMessageError);
    assert.throws(() => decodeFeedEvent('1', '{"id":"evnt_test_1","key":"charge.create"}'), {
      message:
        'a feed event lacks id, key, receivedAt, headers or body: {"id":"evnt_test_1","key":"charge.create"}; is --from a omise-webhook serve of the same version?',
    });
  });

  it('backs off 0.5 s doubling to 15 s', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 41].map((attempt) => backoffDelay(attempt, LISTEN_BACKOFF)),
      [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000],
    );
  });

  it('builds the feed URL under the inspector URL, with the position, else the time, and the pattern', () => {
    assert.equal(
      feedUrl('https://hooks.example.com', {
        after: '41',
        since: '2026-01-01T00:00:00.000Z',
        events: 'charge.*,refund.create',
      }),
      'https://hooks.example.com/api/feed?after=41&events=charge.*,refund.create',
    );
    assert.equal(
      feedUrl('https://example.com/team/', { after: null, since: '2026-01-01T00:00:00.000Z', events: null }),
      'https://example.com/team/api/feed?since=2026-01-01T00%3A00%3A00.000Z',
    );
    assert.equal(
      feedUrl('http://127.0.0.1:3001/', { after: null, since: null, events: null }),
      'http://127.0.0.1:3001/api/feed',
    );
  });
});
