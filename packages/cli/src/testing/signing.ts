import { createHmac } from 'node:crypto';

/** Test-side signer, written independently of the library so tests check the library, not echo it. */
export function signForTest(secretBase64: string, timestamp: number | string, body: string | Uint8Array): string {
  return createHmac('sha256', Buffer.from(secretBase64, 'base64')).update(`${timestamp}.`).update(body).digest('hex');
}

export const TEST_WEBHOOK_SECRET = Buffer.from('omise-webhook test secret, 32 b!').toString('base64');
