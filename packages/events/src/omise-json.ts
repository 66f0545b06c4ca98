/**
 * Options for {@link formatOmiseJson}.
 *
 * @example
 * ```ts
 * const options: FormatOmiseJsonOptions = { escapeSlashes: false };
 * ```
 */
export interface FormatOmiseJsonOptions {
  /** Write `/` as `\/`, as Omise's servers do. Default `true`. */
  escapeSlashes?: boolean;
}

/**
 * Serialise a value the way Omise's servers (Ruby's JSON generator) pretty-print it: 2-space
 * indent, `": "` between key and value, an empty array as `[`, an empty line, then `]` at the
 * parent's indent, an empty object as `{}`, `/` escaped as `\/`, non-ASCII text left as UTF-8,
 * and no trailing newline.
 *
 * Use it to build bodies that look like real deliveries (fixtures, simulated events). Never use
 * it to "repair" a received body before verifying its signature: the raw bytes are what was signed.
 *
 * Values follow `JSON.stringify` rules: `toJSON()` is called, `undefined` and functions are left
 * out of objects and become `null` in arrays and at the top level, and non-finite numbers become `null`.
 *
 * @example
 * ```ts
 * formatOmiseJson({ location: '/charges/chrg_test_1', refunds: [] });
 * // '{\n  "location": "\\/charges\\/chrg_test_1",\n  "refunds": [\n\n  ]\n}'
 * ```
 */
export function formatOmiseJson(value: unknown, options: FormatOmiseJsonOptions = {}): string {
  const escapeSlashes = options.escapeSlashes ?? true;
  const seen = new Set<object>();

  const quote = (text: string): string => {
    // JSON.stringify already escapes quotes, backslashes, control characters and lone surrogates
    // and leaves other non-ASCII text alone, which is what Ruby does too. It never writes `/`
    // inside an escape sequence, so replacing every `/` afterwards is safe.
    const quoted = JSON.stringify(text);
    return escapeSlashes ? quoted.replaceAll('/', '\\/') : quoted;
  };

  const write = (input: unknown, indent: string, key: string): string | undefined => {
    let current = input;
    if (
      current !== null &&
      typeof current === 'object' &&
      typeof (current as { toJSON?: unknown }).toJSON === 'function'
    ) {
      current = (current as { toJSON: (key: string) => unknown }).toJSON(key);
    }
    switch (typeof current) {
      case 'string':
        return quote(current);
      case 'number':
        return Number.isFinite(current) ? JSON.stringify(current) : 'null';
      case 'boolean':
        return current ? 'true' : 'false';
      case 'bigint':
        throw new TypeError(
          'formatOmiseJson cannot serialise a BigInt (JSON has no such type); convert it to a number or string first',
        );
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
    }
    if (current === null) return 'null';
    const object = current as object;
    if (seen.has(object)) {
      throw new TypeError('formatOmiseJson cannot serialise a value that contains itself (a circular reference)');
    }
    seen.add(object);
    const inner = `${indent}  `;
    let result: string;
    if (Array.isArray(object)) {
      const items = object.map((item, index) => `${inner}${write(item, inner, String(index)) ?? 'null'}`);
      // Ruby's generator writes its newline before and after the (empty) list of items, so an
      // empty array keeps a blank line inside it. Omise bodies show exactly this.
      result = `[\n${items.join(',\n')}\n${indent}]`;
    } else {
      const members: string[] = [];
      for (const [name, member] of Object.entries(object)) {
        const written = write(member, inner, name);
        if (written !== undefined) members.push(`${inner}${quote(name)}: ${written}`);
      }
      result = members.length === 0 ? '{}' : `{\n${members.join(',\n')}\n${indent}}`;
    }
    seen.delete(object);
    return result;
  };

  return write(value, '', '') ?? 'null';
}
