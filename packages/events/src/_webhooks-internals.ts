// Internal: what the adapters need from a webhooks object beyond its public methods, kept off the
// public type so the API stays small. Objects not made by createOmiseWebhooks simply have none.

import type { OmiseWebhookError } from './errors.js';

export interface WebhooksInternals {
  /** The largest body to read, from `createOmiseWebhooks({ maxBodyBytes })`. */
  readonly maxBodyBytes: number;
  /** Tell the `onError` handlers about a failure that happened before `receive` could run (reading the body). */
  report(error: OmiseWebhookError): Promise<void>;
}

/** 1 MiB: Omise events are a few KB, so this leaves room for a charge with many refunds. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const internals = new WeakMap<object, WebhooksInternals>();

export function setWebhooksInternals(webhooks: object, value: WebhooksInternals): void {
  internals.set(webhooks, value);
}

export function getWebhooksInternals(webhooks: object): WebhooksInternals | undefined {
  return internals.get(webhooks);
}

/** The body size limit the adapters read up to: the webhooks' `maxBodyBytes`, else the default. */
export function maxBodyBytesOf(webhooks: object): number {
  return internals.get(webhooks)?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
}
