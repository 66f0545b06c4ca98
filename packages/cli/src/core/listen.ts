/**
 * `omise-webhook listen`, the pure parts: what a feed message carries, how long to wait before
 * trying again, and what is printed. No sockets, files or timers here (see app/team-listener.ts).
 */

import type { BackoffPolicy } from './tunnel.js';

/** One accepted event as the team server's `/api/feed` sends it, decoded. */
export interface ListenedEvent {
  /** The feed position just after this event: saved once the local URL has answered. */
  cursor: string;
  eventId: string;
  key: string;
  receivedAt: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** A feed message that is not what this version of `listen` understands (a newer or a foreign server). */
export class FeedMessageError extends Error {
  override readonly name = 'FeedMessageError';
}

/**
 * Decodes an `event` message of `/api/feed` (`id:` is the position, `data:` the event's
 * id, key, receipt time, headers in order and base64 body).
 *
 * @example
 * decodeFeedEvent('12', '{"id":"evnt_test_1","key":"charge.create","receivedAt":"...","headers":[["Content-Type","application/json"]],"body":"e30="}');
 */
export function decodeFeedEvent(id: string | null, data: string): ListenedEvent {
  if (id === null || id === '') throw new FeedMessageError('a feed event came without its position (id:)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new FeedMessageError(`a feed event's data is not JSON: ${data.slice(0, 80)}`);
  }
  const value = parsed as Record<string, unknown>;
  const headers = value.headers;
  if (
    typeof value.id !== 'string' ||
    typeof value.key !== 'string' ||
    typeof value.receivedAt !== 'string' ||
    typeof value.body !== 'string' ||
    !Array.isArray(headers) ||
    !headers.every(
      (pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string',
    )
  ) {
    throw new FeedMessageError(
      `a feed event lacks id, key, receivedAt, headers or body: ${data.slice(0, 120)}; is --from a omise-webhook serve of the same version?`,
    );
  }
  return {
    cursor: id,
    eventId: value.id,
    key: value.key,
    receivedAt: value.receivedAt,
    headers: headers as Array<[string, string]>,
    body: new Uint8Array(Buffer.from(value.body, 'base64')),
  };
}

/** Backoff for reconnecting and for a local URL that cannot be reached (`backoffDelay`): 0.5 s doubling to 15 s. */
export const LISTEN_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 15_000 };

/** Exit codes of `listen` beyond 0 (stopped), 1 (failed) and 2 (bad usage). */
export const LISTEN_EXIT = {
  /** The team server refused the token (401), or it was missing where one is needed. */
  unauthorized: 3,
  /** The team server answered 403 (a loopback-only inspector, or a forbidden origin). */
  forbidden: 4,
} as const;

/**
 * The feed URL for a team server's inspector URL: `/api/feed` under it, with the position
 * (or a start time) and the key pattern.
 *
 * @example
 * feedUrl('https://hooks.example.com/', { after: '41', since: null, events: 'charge.*' });
 * // 'https://hooks.example.com/api/feed?after=41&events=charge.*'
 */
export function feedUrl(
  from: string,
  start: { after: string | null; since: string | null; events: string | null },
): string {
  const url = new URL('api/feed', from.endsWith('/') ? from : `${from}/`);
  if (start.after !== null) url.searchParams.set('after', start.after);
  else if (start.since !== null) url.searchParams.set('since', start.since);
  if (start.events !== null) url.searchParams.set('events', start.events);
  return url.toString().replace(/%2A/g, '*').replace(/%2C/g, ',');
}

/** Where `listen` keeps its position, per `--name` (the file adapter: adapters/files/listen-cursor-file.ts). */
export interface ListenCursor {
  /** The saved position, or null when there is none for this team server. */
  load(): Promise<string | null>;
  /** Saves durably before resolving: once it does, a restart resumes after this position. */
  save(cursor: string): Promise<void>;
}
