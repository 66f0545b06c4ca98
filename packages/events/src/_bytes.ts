// Internal: joining byte chunks, for the body readers and the Web Crypto backend, and a cheap
// look at how deep JSON bytes nest, for the signature check's bounded diagnosis.

/** The parts joined into one array. A single part is returned as it is, not copied. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const result = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/**
 * The offset of the bracket that opens level `limit + 1` in JSON text, or -1 when nothing nests
 * that deep. One pass, no recursion and no allocation: brackets inside strings (escapes included)
 * do not count, and a stray closing bracket never lowers the count below zero. It does not check
 * the grammar; `JSON.parse` does that afterwards. Works on UTF-8 bytes and on a string alike: the
 * characters it looks at are ASCII, and no byte of a multi-byte UTF-8 sequence is below 0x80.
 */
export function nestingLimitPassedAt(json: string | Uint8Array, limit: number): number {
  const isText = typeof json === 'string';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const code = isText ? json.charCodeAt(i) : (json[i] as number);
    if (inString) {
      if (code === 0x5c)
        i++; // a backslash: the next character is escaped, even a quote
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return i;
    } else if ((code === 0x5d || code === 0x7d) && depth > 0) depth--;
  }
  return -1;
}

/** Whether JSON text nests arrays and objects deeper than `limit` (see {@link nestingLimitPassedAt}). */
export function nestedDeeperThan(json: string | Uint8Array, limit: number): boolean {
  return nestingLimitPassedAt(json, limit) !== -1;
}
