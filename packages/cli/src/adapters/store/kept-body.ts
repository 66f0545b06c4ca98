import { createHash } from 'node:crypto';
import type { EventOrigin, NewRejection, StoredRejection } from '../../core/ports.js';

/**
 * How much of a body that is kept only as evidence (a refused request, a later copy that
 * differs from the first) is stored: enough to read what was sent, never enough for a
 * stranger to fill the disk with a few large posts.
 */
export const KEPT_EXCERPT_BYTES = 64 * 1024;

/** At most this many distinct differing bodies are kept per event; later ones are only counted. */
export const MAX_DIFFERING_BODIES = 5;

export interface KeptBody {
  /** The first `KEPT_EXCERPT_BYTES` bytes (all of them when shorter), copied. */
  excerpt: Buffer;
  truncated: boolean;
  /** SHA-256 of every byte, lowercase hex, so two bodies can still be told apart or matched. */
  sha256: string;
}

/**
 * The part of a body that is kept, with the hash of the whole of it.
 *
 * @example
 * const { excerpt, truncated, sha256 } = keepBody(request.body);
 */
export function keepBody(body: Uint8Array, limit = KEPT_EXCERPT_BYTES): KeptBody {
  const whole = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const truncated = whole.byteLength > limit;
  return {
    excerpt: Buffer.from(truncated ? whole.subarray(0, limit) : whole),
    truncated,
    sha256: createHash('sha256').update(whole).digest('hex'),
  };
}

/**
 * What a kept rejection counts against `--max-rejected-bytes`: its body excerpt and the text
 * that came with it (headers, path, reason), which a sender also controls.
 */
export function rejectionKeptBytes(parts: {
  excerptBytes: number;
  headersJson: string;
  path: string;
  reason: string;
  hint: string | null;
}): number {
  return (
    parts.excerptBytes +
    Buffer.byteLength(parts.headersJson) +
    Buffer.byteLength(parts.path) +
    Buffer.byteLength(parts.reason) +
    (parts.hint === null ? 0 : Buffer.byteLength(parts.hint))
  );
}

/**
 * What a store keeps of a refused request: the body cut to the excerpt, with the hash of what
 * was read (none when nothing was read, as for a body over --max-body), and what it counts
 * against the byte bound. Both stores use it, so they keep and count the same.
 */
export function keptRejection(rejection: NewRejection): {
  stored: Omit<StoredRejection, 'seq'>;
  headersJson: string;
  keptBytes: number;
} {
  const kept = keepBody(rejection.body);
  const headersJson = JSON.stringify(rejection.headers);
  const nothingRead = rejection.body.byteLength === 0 && rejection.bodySize > 0;
  return {
    stored: {
      ...rejection,
      headers: rejection.headers.map(([name, value]) => [name, value] as const),
      body: kept.excerpt,
      bodyTruncated: kept.truncated,
      bodySha256: nothingRead ? null : kept.sha256,
    },
    headersJson,
    keptBytes: rejectionKeptBytes({
      excerptBytes: kept.excerpt.byteLength,
      headersJson,
      path: rejection.path,
      reason: rejection.reason,
      hint: rejection.hint,
    }),
  };
}

/**
 * Whether a later copy's body is expected to match the first copy's bytes. Sync stores Omise's
 * API copy, which is formatted differently and carries the delivery log, so a copy from or
 * compared with sync differing is normal; two deliveries of one id differing is not.
 */
export function comparableOrigins(first: EventOrigin, later: EventOrigin): boolean {
  return first !== 'sync' && later !== 'sync';
}
