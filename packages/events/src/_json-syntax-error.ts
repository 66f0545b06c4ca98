// Internal: find where and why a text is not JSON.
//
// V8's own messages cannot be relied on for this: in Node 20 "Unexpected token" errors carry no
// position at all, quote a slice of the body (which may be long, or private), and other engines
// word everything differently. This scanner follows the JSON grammar (RFC 8259) and reports the
// first offending character, matching the positions V8 gives when it does give one.
//
// It keeps its nesting on an explicit stack, so a hostile body of a million `[` cannot overflow
// the call stack.

export interface JsonSyntaxError {
  /** UTF-16 offset of the offending character, or the text's length for an unexpected end. */
  offset: number;
  /** What is wrong, in the parser's words, without quoting the text. */
  description: string;
}

type State = 'value' | 'first-item' | 'first-key' | 'key' | 'after-value';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** The first syntax error in `text`, or `undefined` when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const stack: ('{' | '[')[] = [];
  let state: State = 'value';
  let i = 0;

  const fail = (description: string, at = i): JsonSyntaxError => ({ offset: at, description });
  const unexpected = (): JsonSyntaxError =>
    i >= text.length ? fail('Unexpected end of input') : fail(`Unexpected token ${describeChar(text, i)}`);
  const skipWhitespace = (): void => {
    while (i < text.length && WHITESPACE.has(text[i] as string)) i++;
  };
  const isDigit = (at: number): boolean => at < text.length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57;

  const scanString = (): JsonSyntaxError | undefined => {
    i++; // opening quote
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return undefined;
      }
      if (code < 0x20) {
        return fail(`Bad control character ${describeChar(text, i)} in a string (write it as an escape such as \\n)`);
      }
      if (code === 0x5c) {
        const escaped = text[i + 1];
        if (escaped === undefined) return fail('Unterminated string', text.length);
        if (escaped === 'u') {
          for (let k = 2; k < 6; k++) {
            if (!/^[0-9a-fA-F]$/.test(text[i + k] ?? '')) {
              return i + k >= text.length
                ? fail('Unterminated string', text.length)
                : fail('Bad Unicode escape in a string', i + k);
            }
          }
          i += 6;
          continue;
        }
        if (!SIMPLE_ESCAPES.has(escaped))
          return fail(`Bad escaped character ${describeChar(text, i + 1)} in a string`, i + 1);
        i += 2;
        continue;
      }
      i++;
    }
    return fail('Unterminated string', text.length);
  };

  const scanNumber = (): JsonSyntaxError | undefined => {
    if (text[i] === '-') {
      i++;
      if (!isDigit(i)) return fail('No number after minus sign');
    }
    if (text[i] === '0') {
      i++;
      if (isDigit(i)) return fail('Unexpected number (leading zeros are not allowed)');
    } else {
      while (isDigit(i)) i++;
    }
    if (text[i] === '.') {
      i++;
      if (!isDigit(i)) return fail('Unterminated fractional number');
      while (isDigit(i)) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(i)) return fail('Exponent part is missing a number');
      while (isDigit(i)) i++;
    }
    return undefined;
  };

  const scanLiteral = (literal: string): JsonSyntaxError | undefined => {
    for (let k = 0; k < literal.length; k++, i++) {
      if (text[i] !== literal[k]) return unexpected();
    }
    return undefined;
  };

  for (;;) {
    skipWhitespace();
    const char = text[i];
    switch (state) {
      case 'value': {
        let error: JsonSyntaxError | undefined;
        if (char === '{') {
          stack.push('{');
          i++;
          state = 'first-key';
          continue;
        }
        if (char === '[') {
          stack.push('[');
          i++;
          state = 'first-item';
          continue;
        }
        if (char === '"') error = scanString();
        else if (char === '-' || isDigit(i)) error = scanNumber();
        else if (char === 't') error = scanLiteral('true');
        else if (char === 'f') error = scanLiteral('false');
        else if (char === 'n') error = scanLiteral('null');
        else return unexpected();
        if (error !== undefined) return error;
        state = 'after-value';
        continue;
      }
      case 'first-item':
        if (char === ']') {
          stack.pop();
          i++;
          state = 'after-value';
        } else {
          state = 'value';
        }
        continue;
      case 'first-key':
        if (char === '}') {
          stack.pop();
          i++;
          state = 'after-value';
          continue;
        }
        state = 'key';
        continue;
      case 'key': {
        if (char !== '"') {
          return i >= text.length ? unexpected() : fail('Expected a property name in double quotes');
        }
        const error = scanString();
        if (error !== undefined) return error;
        skipWhitespace();
        if (text[i] !== ':') return i >= text.length ? unexpected() : fail("Expected ':' after a property name");
        i++;
        state = 'value';
        continue;
      }
      case 'after-value': {
        const container = stack.at(-1);
        if (container === undefined) {
          return i < text.length ? fail('Unexpected text after the end of the JSON value') : undefined;
        }
        const close = container === '{' ? '}' : ']';
        if (char === ',') {
          i++;
          state = container === '{' ? 'key' : 'value';
        } else if (char === close) {
          stack.pop();
          i++;
        } else if (i >= text.length) {
          return unexpected();
        } else {
          return fail(
            container === '{'
              ? "Expected ',' or '}' after a property value"
              : "Expected ',' or ']' after an array element",
          );
        }
        continue;
      }
    }
  }
}

/** A character as a reader should see it: printable ones quoted, others as a code point. */
function describeChar(text: string, at: number): string {
  const codePoint = text.codePointAt(at) ?? 0;
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f) || codePoint === 0xfeff) {
    return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${String.fromCodePoint(codePoint)}'`;
}
