import { createHash } from 'node:crypto';
import type { EventStore } from '../../core/ports.js';

/**
 * Opens stores for the contract suites. Each suite checks one port, but opens a whole store:
 * the ports share their data (a forward job belongs to a stored event, `stats()` counts both
 * events and rejections), so no store implements one of them alone.
 */
export interface StoreFactory {
  /** A new, empty store. */
  open(options?: { maxRejections?: number; maxRejectedBytes?: number }): Promise<EventStore>;
  /** Close and open the same store again, as a restart would (omit for stores that forget). */
  reopen?(store: EventStore): Promise<EventStore>;
  cleanup?(): Promise<void>;
}

export function bytes(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function sha256(value: Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A body of `size` bytes that differs from every other one made with another `seed`. */
export function bigBody(size: number, seed: number): Buffer {
  const body = Buffer.alloc(size, 0x61 + (seed % 26));
  body.write(`{"seed": ${seed}, "pad": "`, 0);
  return body;
}
