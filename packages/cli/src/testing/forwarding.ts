import type { ForwardAttempt } from '../core/ports.js';
import { rawRequest } from './http.js';
import { signForTest, TEST_WEBHOOK_SECRET } from './signing.js';
import type { TestServer } from './test-server.js';

/** Collects `forward.attempted` notifications, so tests wait on attempts instead of timers. */
export function watchAttempts(server: Pick<TestServer, 'notifier'>): {
  attempts: ForwardAttempt[];
  waitFor(count: number): Promise<ForwardAttempt[]>;
  stop(): void;
} {
  const attempts: ForwardAttempt[] = [];
  const waiters: Array<{ count: number; resolve: (list: ForwardAttempt[]) => void }> = [];
  const stop = server.notifier.subscribe((notification) => {
    if (notification.type !== 'forward.attempted') return;
    attempts.push(notification.attempt);
    for (const waiter of [...waiters]) {
      if (attempts.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(attempts.slice(0, waiter.count));
      }
    }
  });
  return {
    attempts,
    waitFor(count) {
      if (attempts.length >= count) return Promise.resolve(attempts.slice(0, count));
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    stop,
  };
}

/** Headers Omise sends, in its order, signed with the test secret at `timestamp` (Unix seconds). */
export function omiseHeaders(
  body: string | Buffer,
  timestamp: number,
  secret = TEST_WEBHOOK_SECRET,
): Array<[string, string]> {
  return [
    ['Content-Type', 'application/json; charset=utf-8'],
    ['User-Agent', 'Omise/2019-05-29'],
    ['Omise-Signature-Timestamp', String(timestamp)],
    ['Omise-Signature', signForTest(secret, timestamp, body)],
  ];
}

/** Posts a webhook and returns the status and parsed answer. */
export async function postWebhook(
  server: Pick<TestServer, 'webhookUrl'>,
  body: string | Buffer,
  headers: Array<[string, string]>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await rawRequest({ url: server.webhookUrl, headers, body });
  return { status: response.status, json: JSON.parse(response.body) as Record<string, unknown> };
}
