import { formatOmiseJson, type OmiseEventKey, signOmisePayload } from '@omise-webhook/events';
import { SIMULATED_ORIGIN_HEADER } from '../core/ingest.js';
import type { Clock, EventLog } from '../core/ports.js';
import {
  applySetAssignments,
  buildSimulatedEvent,
  consistentAfterSet,
  type IdSource,
  type SetAssignment,
  type SimulatedCurrency,
} from '../core/simulate/index.js';
import { knownObjectsFromEventBodies, rememberObject } from '../core/simulate/known-objects.js';

/** One simulated webhook request, exactly as it will be (or would be) sent. */
export interface SimulatedDelivery {
  eventId: string;
  key: OmiseEventKey;
  objectId: string | null;
  /** The exact body: Omise-style pretty JSON. */
  body: string;
  /**
   * In order: `Content-Type`, then `Omise-Signature` and `Omise-Signature-Timestamp` when
   * signed, then `Omise-Webhook-Origin: trigger` so the receiver can label it simulated.
   */
  headers: Array<[string, string]>;
  /** Fields changed so the object agrees with a status set by `--set` (`data.paid=false`, ...). */
  adjusted: string[];
  /** Contradictions `--set` left in the object, in words. */
  warnings: string[];
}

export interface SimulateDeliveriesOptions {
  key: OmiseEventKey;
  count: number;
  ids: IdSource;
  clock: Clock;
  currency: SimulatedCurrency;
  /** Continue this object's story (or its parent's): see `EVENT_STORY_TARGETS`. */
  objectId?: string;
  /** What the store knows about objects, from `loadKnownObjects`. */
  known?: Map<string, Record<string, unknown>>;
  assignments?: readonly SetAssignment[];
  /** Base64 webhook secret; without one the requests are unsigned. */
  webhookSecret?: string;
}

/**
 * Builds `count` events, applies `--set` overrides, serialises them the way Omise does and signs
 * them. With `objectId`, each event continues the story of the one before.
 *
 * @example
 * const [delivery] = await simulateDeliveries({ key: 'charge.create', count: 1, ids, clock, currency: 'THB' });
 */
export async function simulateDeliveries(options: SimulateDeliveriesOptions): Promise<SimulatedDelivery[]> {
  const known = options.known ?? new Map<string, Record<string, unknown>>();
  const deliveries: SimulatedDelivery[] = [];
  for (let index = 0; index < options.count; index++) {
    const now = options.clock.now();
    const built = buildSimulatedEvent({
      key: options.key,
      ids: options.ids,
      now,
      currency: options.currency,
      known,
      ...(options.objectId ? { objectId: options.objectId } : {}),
    });
    const assignments = options.assignments ?? [];
    const { event, adjusted, warnings } = consistentAfterSet(
      applySetAssignments(built as unknown as Record<string, unknown>, assignments, `a ${options.key} event`),
      assignments,
      { ids: options.ids, now, currency: options.currency },
    );
    rememberObject(known, event.data);
    const body = formatOmiseJson(event);
    const headers: Array<[string, string]> = [['Content-Type', 'application/json']];
    if (options.webhookSecret) {
      const signed = await signOmisePayload({
        payload: body,
        secret: options.webhookSecret,
        timestamp: Math.floor(now / 1000),
      });
      headers.push(['Omise-Signature', signed.signature], ['Omise-Signature-Timestamp', signed.timestamp]);
    }
    // Omise never sends this header; it only labels the stored event as simulated (origin
    // `trigger`) in the console and inspector. It does not affect verification.
    headers.push([SIMULATED_ORIGIN_HEADER, 'trigger']);
    const data = event.data as { id?: unknown };
    deliveries.push({
      eventId: String(event.id),
      key: options.key,
      objectId: typeof data.id === 'string' ? data.id : null,
      body,
      headers,
      adjusted,
      warnings,
    });
  }
  return deliveries;
}

/** The latest state of an object (and what it carries) from the events the store has about it. */
export async function loadKnownObjects(
  store: Pick<EventLog, 'eventsForObject'>,
  objectId: string,
): Promise<Map<string, Record<string, unknown>>> {
  const events = await store.eventsForObject(objectId);
  return knownObjectsFromEventBodies(events.map((event) => event.body));
}

export interface SendResult {
  status: number;
  statusText: string;
  /** The response body as text. */
  body: string;
}

/** Why a request could not be sent at all, with what to check. */
export class SendFailure extends Error {
  override readonly name = 'SendFailure';
}

/**
 * POSTs a simulated delivery with exactly its body and headers.
 *
 * @throws {SendFailure} when the URL cannot be reached or does not answer in time.
 */
export async function sendSimulatedDelivery(
  delivery: SimulatedDelivery,
  options: { url: string; fetch?: typeof fetch; timeoutMs?: number },
): Promise<SendResult> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const response = await doFetch(options.url, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, statusText: response.statusText, body: await response.text() };
  } catch (error) {
    const cause =
      error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw new SendFailure(`${options.url} did not answer within ${timeoutMs} ms`);
    }
    throw new SendFailure(`could not send to ${options.url} (${cause})`);
  }
}
