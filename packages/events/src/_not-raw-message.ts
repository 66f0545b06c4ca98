// Internal: the explanation for the most common webhook mistake, shared by the parser and the
// signature functions so the same mistake always gets the same advice.

/** Why `payload` is not a raw body, and what to pass instead. */
export function notRawMessage(functionName: string, payload: unknown): string {
  let got: string;
  if (payload === null || payload === undefined) got = String(payload);
  else if (payload instanceof ArrayBuffer) got = 'an ArrayBuffer (wrap it: new Uint8Array(buffer))';
  else if (Array.isArray(payload)) got = 'an array';
  else if (typeof payload === 'object') got = 'an object, which looks like a body that was already parsed as JSON';
  else got = `a ${typeof payload}`;
  return `${functionName} needs the raw request body as a string or Uint8Array, but got ${got}. A JSON body parser (express.json(), bodyParser.json(), a framework's automatic parsing) replaces the raw bytes with an object, and re-serialising that object does not give back the bytes Omise signed. Read the body as text or bytes instead, for example express.raw({ type: 'application/json' }) or await request.text().`;
}
