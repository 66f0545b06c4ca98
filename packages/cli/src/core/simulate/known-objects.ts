/**
 * The latest known state of Omise objects, read from stored events, so `trigger --object <id>`
 * continues an object's story (a charge seen in `charge.create` keeps its amount and currency
 * in the simulated `charge.complete`).
 */

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Records an event's `data` object under its id (later calls win), and a customer's saved cards
 * under theirs, since a card is only ever seen inside its customer or a charge.
 */
export function rememberObject(known: Map<string, JsonObject>, data: unknown): void {
  if (!isObject(data) || typeof data.id !== 'string') return;
  known.set(data.id, structuredClone(data));
  const cards = isObject(data.cards) && Array.isArray(data.cards.data) ? data.cards.data : [];
  for (const card of cards)
    if (isObject(card) && typeof card.id === 'string') known.set(card.id, structuredClone(card));
}

/**
 * Known objects from event bodies, oldest first; bodies that do not parse are skipped.
 *
 * @example
 * const known = knownObjectsFromEventBodies((await store.eventsForObject(id)).map((e) => e.body));
 */
export function knownObjectsFromEventBodies(bodies: Iterable<string | Uint8Array>): Map<string, JsonObject> {
  const known = new Map<string, JsonObject>();
  const decoder = new TextDecoder();
  for (const body of bodies) {
    try {
      const event = JSON.parse(typeof body === 'string' ? body : decoder.decode(body)) as unknown;
      if (isObject(event)) rememberObject(known, event.data);
    } catch {
      // A stored body that is not JSON tells nothing about objects.
    }
  }
  return known;
}
