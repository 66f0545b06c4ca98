// Internal: read a Node request stream to bytes with a size limit, for the Node and Fastify
// adapters. Typed structurally (no node: import, no Buffer) so the package builds without Node's
// types and the file loads anywhere; at run time it is only ever given a Node IncomingMessage.

import { bodyTooLargeError } from './_body-errors.js';
import { concatBytes } from './_bytes.js';
import type { NodeIncomingRequest } from './create-node-middleware.js';

/** The connection closed before the body arrived: there is no one left to answer. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
}

export function readNodeBody(request: NodeIncomingRequest, limit: number): Promise<Uint8Array> {
  const declared = Number(firstHeader(request.headers['content-length']));
  if (Number.isFinite(declared) && declared > limit) {
    // Refuse before reading a byte; the adapter closes the connection after answering.
    return Promise.reject(bodyTooLargeError(declared, limit, 'declared'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      request.removeListener('data', onData);
      request.removeListener('end', onEnd);
      request.removeListener('error', onAbort);
      request.removeListener('aborted', onAbort);
      request.removeListener('close', onAbort);
      outcome();
    };
    const onData = (chunk: Uint8Array | string): void => {
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
      size += bytes.length;
      if (size > limit) {
        // Stop at once: the rest of an oversized body is never buffered.
        request.pause();
        finish(() => reject(bodyTooLargeError(size, limit, 'read')));
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => finish(() => resolve(concatBytes(chunks)));
    const onAbort = (): void =>
      finish(() => reject(new RequestAbortedError('the request was aborted while its body was read')));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onAbort);
    request.on('aborted', onAbort);
    // 'close' before 'end' means the sender went away mid-body; after 'end' this has settled already.
    request.on('close', onAbort);
    request.resume();
  });
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const encoder = new TextEncoder();
