// Internal: the second opinion. Asks the Omise API for the event by id, the check Omise's own
// sample app relied on: a forged body cannot name an event Omise does not have, and what the
// handlers get is Omise's copy, not the body.

import type { OmiseApiFetch } from './create-omise-webhooks.js';
import { OmiseWebhookError } from './errors.js';
import { parseOmiseEvent } from './parse-omise-event.js';
import type { OmiseEvent } from './types.js';

export interface ResolvedApiVerification {
  secretKey: string;
  apiUrl: string;
  fetch: OmiseApiFetch;
  timeoutMs: number;
}

export const DEFAULT_OMISE_API_URL = 'https://api.omise.co';
export const DEFAULT_API_TIMEOUT_MS = 10_000;

/**
 * Omise's copy of `event`, or an `api_verification_failed` / `api_unavailable` error saying why not.
 */
export async function fetchEventFromOmiseApi(event: OmiseEvent, options: ResolvedApiVerification): Promise<OmiseEvent> {
  const keyMode = /^skey_test_/.test(options.secretKey)
    ? 'test'
    : /^skey_/.test(options.secretKey)
      ? 'live'
      : undefined;
  const eventMode = event.livemode ? 'live' : 'test';
  if (keyMode !== undefined && keyMode !== eventMode) {
    // Omise would answer 404: each mode has its own events and its own keys. Say so without asking.
    throw new OmiseWebhookError(
      'api_verification_failed',
      `event ${event.id} is a ${eventMode}-mode event, but verifyWithApi.secretKey is a ${keyMode}-mode key, and each mode has its own events. Use the skey_${eventMode === 'test' ? 'test_' : ''}... key for the mode this endpoint serves (test and live are configured separately on the dashboard).`,
    );
  }

  const url = `${options.apiUrl}/events/${encodeURIComponent(event.id)}`;
  let status: number;
  let text: string;
  try {
    const response = await options.fetch(url, {
      method: 'GET',
      headers: { Authorization: `Basic ${btoa(`${options.secretKey}:`)}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    status = response.status;
    text = await response.text();
  } catch (cause) {
    const reason =
      cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError')
        ? `no answer within ${options.timeoutMs} ms`
        : cause instanceof Error
          ? cause.message
          : String(cause);
    throw new OmiseWebhookError(
      'api_unavailable',
      `could not ask the Omise API about event ${event.id} (GET ${url}): ${reason}. The event was not handled; answer with an error so it can be sent again, and check the network and verifyWithApi.apiUrl.`,
      { cause },
    );
  }

  if (status === 404) {
    throw new OmiseWebhookError(
      'api_verification_failed',
      `the Omise API has no event ${event.id} (GET ${url} answered 404), so this body was not sent by Omise for this account. If it was, check that verifyWithApi.secretKey belongs to the same Omise account (and mode) as the webhook endpoint.`,
    );
  }
  if (status === 401 || status === 403) {
    throw new OmiseWebhookError(
      'api_unavailable',
      `the Omise API refused verifyWithApi.secretKey (GET ${url} answered ${status}${apiErrorCode(text)}). Use the secret key (skey_...) from the dashboard's Keys page, not the public key (pkey_...); the event was not handled.`,
    );
  }
  if (status !== 200) {
    throw new OmiseWebhookError(
      'api_unavailable',
      `the Omise API answered ${status}${apiErrorCode(text)} to GET ${url}; expected 200 with the event. The event was not handled; answer with an error so it can be sent again.`,
    );
  }

  let copy: OmiseEvent;
  try {
    copy = parseOmiseEvent(text);
  } catch (cause) {
    throw new OmiseWebhookError(
      'api_unavailable',
      `the Omise API answered 200 to GET ${url}, but not with an event: ${cause instanceof Error ? cause.message : String(cause)} Is verifyWithApi.apiUrl the Omise API?`,
      { cause },
    );
  }
  for (const field of ['id', 'key', 'livemode'] as const) {
    if (copy[field] !== event[field]) {
      throw new OmiseWebhookError(
        'api_verification_failed',
        `the body says ${field} is ${JSON.stringify(event[field])}, but the Omise API says ${JSON.stringify(copy[field])} for event ${event.id}: the body was changed after Omise sent it, or assembled by hand.`,
      );
    }
  }
  return copy;
}

function apiErrorCode(text: string): string {
  try {
    const body = JSON.parse(text) as { object?: unknown; code?: unknown };
    if (body?.object === 'error' && typeof body.code === 'string') return ` ${body.code}`;
  } catch {
    // Not JSON: the status says enough.
  }
  return '';
}
