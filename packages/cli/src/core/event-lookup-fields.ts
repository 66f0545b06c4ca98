import { collectOmiseIds, eventCreatedAt, type OmiseEvent } from '@omise-webhook/events';
import type { NewDelivery } from './ports.js';

export type EventLookupFields = Pick<
  NewDelivery,
  'eventId' | 'key' | 'livemode' | 'objectType' | 'objectId' | 'relatedIds' | 'createdAt'
>;

/**
 * Longest id kept for lookups. Omise's ids are about 30 characters; `data` is not checked by
 * the library, so a longer "id" there is not indexed (the event is still stored whole).
 */
export const MAX_LOOKUP_ID_LENGTH = 64;

/** Page sizes of event and rejection lists: the stores and the inspector's API agree on them. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

const OMISE_ID = /^[a-z]{3,4}_(test_)?[0-9a-z]+$/;

/**
 * True for strings shaped like an Omise object id (`chrg_test_5x...`). A search for one is an
 * exact lookup by id; anything else is searched as text in the body.
 */
export function looksLikeOmiseId(text: string): boolean {
  return OMISE_ID.test(text);
}

/**
 * The parsed fields the store keeps beside the raw bytes so an event can be found by key,
 * object type, or any Omise id it mentions. Every path that stores an event (webhook, sync)
 * derives them here, so lookups behave the same whatever the origin.
 */
export function eventLookupFields(event: OmiseEvent): EventLookupFields {
  const data = event.data as { object?: unknown; id?: unknown };
  return {
    eventId: event.id,
    key: event.key,
    livemode: event.livemode,
    objectType: typeof data.object === 'string' ? data.object : 'unknown',
    objectId: typeof data.id === 'string' && data.id.length <= MAX_LOOKUP_ID_LENGTH ? data.id : null,
    relatedIds: collectOmiseIds(event.data).filter((id) => id !== event.id && id.length <= MAX_LOOKUP_ID_LENGTH),
    createdAt: eventCreatedAt(event) ?? null,
  };
}
