// Internal: the two ways a request body can be unusable before it is even parsed, with messages
// that name the sizes and say what to change. Shared by `receive` and every adapter so the same
// problem always reads the same.

import { OmiseWebhookError } from './errors.js';

export function bodyTooLargeError(size: number, limit: number, how: 'declared' | 'read' | 'given'): OmiseWebhookError {
  const sizeText =
    how === 'read'
      ? `at least ${formatBytes(size)}`
      : `${formatBytes(size)}${how === 'declared' ? ' (Content-Length)' : ''}`;
  return new OmiseWebhookError(
    'body_too_large',
    `request body is ${sizeText}; the limit is ${formatBytes(limit)} (maxBodyBytes). Omise events are a few KB, so this is probably not from Omise; if it is, raise maxBodyBytes in createOmiseWebhooks().`,
  );
}

export function bodyAlreadyParsedError(what: string, fix: string): OmiseWebhookError {
  return new OmiseWebhookError(
    'body_already_parsed',
    `${what}, so the exact bytes Omise signed are gone and the signature cannot be checked. ${fix}`,
  );
}

/** The UTF-8 size of a string, without encoding it. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}

/** The CLI's rule too (`packages/cli/src/core/format-bytes.ts`); this package depends on nothing, so it keeps a copy. */
function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${trim(bytes / 1024)} KiB`;
  return `${trim(bytes / (1024 * 1024))} MiB`;
}

function trim(value: number): string {
  return value.toFixed(1).replace(/\.0$/, '');
}
