// Internal: HMAC-SHA256 and constant-time comparison over whichever crypto the runtime has.
// Not exported from index.ts.
//
// Node's crypto is synchronous and faster than Web Crypto's promise round trip, so it is used
// when present. It is reached through `process.getBuiltinModule` (Node 20.16+) rather than a
// static `node:crypto` import, so the same build also loads in browsers, workers, Deno and Bun,
// which fall back to `crypto.subtle`.

import { concatBytes } from './_bytes.js';

const encoder = new TextEncoder();

/** The part of `node:crypto` this library uses, declared here so the build needs no Node types. */
interface NodeCryptoSubset {
  createHmac(
    algorithm: 'sha256',
    key: Uint8Array,
  ): {
    update(data: string | Uint8Array): unknown;
    digest(encoding: 'hex'): string;
  };
}

export interface CryptoBackend {
  readonly name: 'node' | 'web';
  /**
   * Lowercase hex of the HMAC-SHA256 of the concatenated parts, text as UTF-8.
   *
   * Text is taken as it is because Node hashes a string's UTF-8 straight from the string:
   * encoding it first in JavaScript (a TextEncoder call and a copy of the body) cost more than the
   * HMAC itself on a 3 KB payload. Hex rather than bytes because Node makes the 64-character
   * string for less than a Buffer, and a signature arrives as hex: compared as text, nothing
   * needs decoding or allocating per check.
   */
  hmacSha256Hex(key: Uint8Array, parts: readonly (string | Uint8Array)[]): string | Promise<string>;
}

function loadNodeCrypto(): NodeCryptoSubset | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const crypto = process?.getBuiltinModule?.('node:crypto') as Partial<NodeCryptoSubset> | undefined;
    return typeof crypto?.createHmac === 'function' ? (crypto as NodeCryptoSubset) : undefined;
  } catch {
    // A sandbox may forbid built-in modules; Web Crypto still works there.
    return undefined;
  }
}

function nodeBackend(crypto: NodeCryptoSubset): CryptoBackend {
  return {
    name: 'node',
    hmacSha256Hex(key, parts) {
      const hmac = crypto.createHmac('sha256', key);
      for (let i = 0; i < parts.length; i++) hmac.update(parts[i] as string | Uint8Array);
      return hmac.digest('hex');
    },
  };
}

function webBackend(): CryptoBackend {
  return {
    name: 'web',
    async hmacSha256Hex(key, parts) {
      const subtle = globalThis.crypto?.subtle;
      if (subtle === undefined) {
        throw new Error(
          'no crypto available: this runtime has neither node:crypto nor Web Crypto (globalThis.crypto.subtle); Web Crypto needs a secure context (HTTPS or localhost) in browsers',
        );
      }
      const cryptoKey = await subtle.importKey('raw', copy(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const bytes = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : part));
      return toHex(new Uint8Array(await subtle.sign('HMAC', cryptoKey, arrayBufferBacked(concatBytes(bytes)))));
    },
  };
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += HEX_BYTES[byte] as string;
  return hex;
}

/** Web Crypto wants an ArrayBuffer-backed view; a Node Buffer may sit on a shared pool. */
function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const result = new Uint8Array(bytes.length);
  result.set(bytes);
  return result;
}

/** `bytes` itself when it is ArrayBuffer-backed (as a join of several parts is), else a copy. */
function arrayBufferBacked(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : copy(bytes);
}

let forced: CryptoBackend['name'] | undefined;
let cached: CryptoBackend | undefined;

/** The backend to use: Node's crypto when the runtime has it, else Web Crypto. */
export function getCryptoBackend(): CryptoBackend {
  if (cached === undefined) {
    const nodeCrypto = forced === 'web' ? undefined : loadNodeCrypto();
    if (forced === 'node' && nodeCrypto === undefined) {
      throw new Error('node:crypto was forced but is not available in this runtime');
    }
    cached = nodeCrypto === undefined ? webBackend() : nodeBackend(nodeCrypto);
  }
  return cached;
}

/**
 * For tests only: force one backend (`undefined` restores automatic choice), so both code paths
 * can run on Node.
 *
 * @example
 * ```ts
 * _setCryptoBackendForTests('web');
 * try { await verifyOmiseSignature(options); } finally { _setCryptoBackendForTests(undefined); }
 * ```
 */
export function _setCryptoBackendForTests(name: CryptoBackend['name'] | undefined): void {
  forced = name;
  cached = undefined;
}
