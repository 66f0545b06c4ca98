import { collectOmiseIds, eventCreatedAt, type OmiseEvent } from '@omise-webhook/events';
import type { NewDelivery } from './ports.js';

export type EventLookupFields = Pick<
  NewDelivery,
  'eventId' | 'key' | 'livemode' | 'objectType' | 'objectId' | 'relatedIds' | 'createdAt'
>;

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
    objectId: typeof data.id === 'string' ? data.id : null,
    relatedIds: collectOmiseIds(event.data).filter((id) => id !== event.id),
    createdAt: eventCreatedAt(event) ?? null,
  };
}
