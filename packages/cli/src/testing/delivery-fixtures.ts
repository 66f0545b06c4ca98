import type { NewDelivery, NewForwardAttempt, NewRejection } from '../core/ports.js';

let counter = 0;

/** A pretty-printed body shaped like Omise's, with unicode and `\/` escapes. */
export function eventBody(options: { eventId: string; key?: string; objectId?: string; extra?: string }): string {
  const key = options.key ?? 'charge.create';
  const objectId = options.objectId ?? 'chrg_test_5xfixture0001';
  return `{
  "object": "event",
  "id": "${options.eventId}",
  "livemode": false,
  "location": "\\/events\\/${options.eventId}",
  "webhook_deliveries": [

  ],
  "data": {
    "object": "${key.split('.')[0]}",
    "id": "${objectId}",
    "livemode": false,
    "description": "ค่าสินค้า order ${options.extra ?? '3947'} — テスト",
    "amount": 100000,
    "currency": "thb"
  },
  "key": "${key}",
  "created_at": "2026-11-26T07:00:00Z"
}`;
}

/** A realistic accepted delivery; every field can be overridden. */
export function makeDelivery(overrides: Partial<NewDelivery> = {}): NewDelivery {
  counter += 1;
  const eventId = overrides.eventId ?? `evnt_test_5xfixture${String(counter).padStart(4, '0')}`;
  const key = overrides.key ?? 'charge.create';
  const objectId = overrides.objectId ?? `chrg_test_5xfixture${String(counter).padStart(4, '0')}`;
  return {
    eventId,
    key,
    livemode: false,
    objectType: key.split('.')[0] ?? 'charge',
    objectId,
    relatedIds: [],
    createdAt: '2026-11-26T07:00:00Z',
    receivedAt: new Date(Date.UTC(2026, 10, 26, 7, 0, counter % 60)).toISOString(),
    body: Buffer.from(eventBody({ eventId, key, objectId: objectId ?? undefined })),
    headers: [
      ['Host', '127.0.0.1:3000'],
      ['Content-Type', 'application/json'],
      ['Omise-Signature', 'a'.repeat(64)],
      ['Omise-Signature-Timestamp', '1795676400'],
    ],
    verification: { mode: 'signature', status: 'verified', reason: 'signature matched the webhook secret' },
    origin: 'webhook',
    ...overrides,
  };
}

export function makeRejection(overrides: Partial<NewRejection> = {}): NewRejection {
  return {
    receivedAt: '2026-11-26T07:00:00.000Z',
    method: 'POST',
    path: '/omise/webhook',
    remoteAddress: '127.0.0.1',
    headers: [['Content-Type', 'application/json']],
    body: Buffer.from('{"object": "event", "id": "evnt_test_bad"'),
    bodySize: 41,
    status: 400,
    code: 'invalid_json',
    reason: 'body is not valid JSON: Unexpected end of JSON input at line 1, column 42',
    hint: null,
    eventId: null,
    ...overrides,
  };
}

/**
 * A recorded forward attempt for a claimed job: delivered with a 200 by default; override the
 * outcome, status and reason for a retry or a failure.
 */
export function makeForwardAttempt(
  job: { id: number; eventId: string; target: string; attempts: number },
  overrides: Partial<NewForwardAttempt> = {},
): NewForwardAttempt {
  return {
    jobId: job.id,
    eventId: job.eventId,
    target: job.target,
    kind: 'forward',
    attempt: job.attempts + 1,
    startedAt: '2026-11-26T07:00:00.000Z',
    latencyMs: 1.5,
    status: 200,
    responseExcerpt: Buffer.from('{"ok":true}'),
    responseTruncated: false,
    error: null,
    outcome: 'delivered',
    reason: null,
    nextAttemptAt: null,
    ...overrides,
  };
}
