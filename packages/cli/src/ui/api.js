// The page talks to the inspector only through its HTTP API (same origin; the token, when one
// is needed, travels in the HttpOnly cookie set when the page was opened).

/** An API answer that was not 2xx, with the API's own message. */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.error ?? 'http_error', body?.message ?? `HTTP ${response.status}`);
  }
  return body;
}

export async function getJson(path) {
  return answer(await fetch(path, { headers: { Accept: 'application/json' } }));
}

export async function postJson(path, body) {
  return answer(
    await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

/** `/api/events` query string from the page's filters (empty values left out). */
export function eventsQuery(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...filters, ...extra })) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

const STREAM_EVENTS = ['event.stored', 'event.updated', 'forward.attempted', 'rejection.stored'];

/**
 * Opens the live stream from a position (the `lastEventId` of the list just loaded). The
 * browser reconnects by itself and sends `Last-Event-ID`, so nothing is missed; `reset` means
 * the server cannot tell what was missed and the lists must be reloaded.
 */
export function openStream(lastEventId, handlers) {
  const url = lastEventId ? `/api/stream?lastEventId=${encodeURIComponent(lastEventId)}` : '/api/stream';
  const source = new EventSource(url);
  for (const type of STREAM_EVENTS) {
    source.addEventListener(type, (message) => handlers.onNotification(JSON.parse(message.data)));
  }
  source.addEventListener('reset', (message) => handlers.onReset(JSON.parse(message.data)));
  source.addEventListener('ready', () => handlers.onState('live'));
  source.addEventListener('error', () =>
    handlers.onState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'),
  );
  return () => source.close();
}
