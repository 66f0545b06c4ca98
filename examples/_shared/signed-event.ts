// How the example tests get a signed Omise event: from the real `omise-webhook trigger`
// command, exactly as a developer would produce one for their own handler:
//   OMISE_WEBHOOK_SECRET=<secret> omise-webhook trigger <key> --print --json

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** One signed delivery, in the shape `omise-webhook trigger <key> --print --json` prints. */
export interface SignedEvent {
  method: 'POST';
  /** In order: Content-Type, Omise-Signature, Omise-Signature-Timestamp, Omise-Webhook-Origin. */
  headers: Array<[string, string]>;
  /** The exact body that was signed. */
  body: string;
}

const CLI = fileURLToPath(new URL('../../packages/cli/bin/omise-webhook.js', import.meta.url));
const run = promisify(execFile);

/** A delivery of event `key`, built and signed now with `secret` (base64) by `omise-webhook trigger`. */
export async function signedEvent(key: string, secret: string): Promise<SignedEvent> {
  const { stdout } = await run(process.execPath, [CLI, 'trigger', key, '--print', '--json'], {
    // A clean environment: no .env of the caller's, no other secret.
    env: { PATH: process.env.PATH ?? '', OMISE_WEBHOOK_SECRET: secret, NO_COLOR: '1' },
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  const line = stdout.trim();
  if (line.includes('\n')) throw new Error(`trigger printed more than one line:\n${stdout}`);
  return JSON.parse(line) as SignedEvent;
}

/** Send a signed delivery to `url` exactly as given (the body's bytes unchanged). */
export async function deliver(url: string, event: SignedEvent): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: event.method, headers: event.headers, body: event.body });
  return { status: response.status, body: await response.text() };
}

/** A webhook secret for the examples' tests: 32 random-looking bytes, base64, like the dashboard's. */
export const EXAMPLE_WEBHOOK_SECRET = btoa('omise-webhook examples secret 32');
