// Internal: the explanation for the most common webhook mistake, shared by the parser, the
// signature functions and `receive` so the same mistake always gets the same advice.

/** What `value` is, for a "got …" in a message about a body that is not a string or bytes. */
export function describePayload(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof ArrayBuffer) return 'an ArrayBuffer (wrap it: new Uint8Array(buffer))';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object (a body that was already parsed as JSON)';
  return `a ${typeof value}`;
}

/** Why `payload` is not a raw body, and what to pass instead. */
export function notRawMessage(functionName: string, payload: unknown): string {
  return `${functionName} needs the raw request body as a string or Uint8Array, but got ${describePayload(payload)}. A JSON body parser (express.json(), bodyParser.json(), a framework's automatic parsing) replaces the raw bytes with an object, and re-serialising that object does not give back the bytes Omise signed. Read the body as text or bytes instead, for example express.raw({ type: 'application/json' }) or await request.text().`;
}
