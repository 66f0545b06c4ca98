// How the example tests get a signed Omise event: through this one function, so the source can
// change in one place.
//
// Today it signs a byte-exact fixture of the library with signOmisePayload. Once
// `omise-webhook trigger` is merged, switch signedEvent() to run
//   omise-webhook trigger <key> --print --json      (with OMISE_WEBHOOK_SECRET=<secret>)
// and return the one JSON line it prints, which has this same shape.

import { readFileSync } from 'node:fs';
import { signOmisePayload } from '@omise-webhook/events';

/** One signed delivery, in the shape `omise-webhook trigger <key> --print --json` prints. */
export interface SignedEvent {
  method: 'POST';
  /** In order: Content-Type, Omise-Signature, Omise-Signature-Timestamp. */
  headers: Array<[string, string]>;
  /** The exact body that was signed. */
  body: string;
}

const FIXTURES = new URL('../../packages/events/test/fixtures/', import.meta.url);

/** A delivery of event `key`, signed now with `secret` (base64), as Omise would send it. */
export async function signedEvent(key: string, secret: string): Promise<SignedEvent> {
  let body: string;
  try {
    body = readFileSync(new URL(`${key}.json`, FIXTURES), 'utf8');
  } catch {
    throw new Error(`no fixture for ${key} in packages/events/test/fixtures; pick one of the keys there`);
  }
  const { signature, timestamp } = await signOmisePayload({ payload: body, secret });
  return {
    method: 'POST',
    headers: [
      ['Content-Type', 'application/json'],
      ['Omise-Signature', signature],
      ['Omise-Signature-Timestamp', timestamp],
    ],
    body,
  };
}

/** Send a signed delivery to `url` exactly as given (the body's bytes unchanged). */
export async function deliver(url: string, event: SignedEvent): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: event.method, headers: event.headers, body: event.body });
  return { status: response.status, body: await response.text() };
}

/** A webhook secret for the examples' tests: 32 random-looking bytes, base64, like the dashboard's. */
export const EXAMPLE_WEBHOOK_SECRET = btoa('omise-webhook examples secret 32');
