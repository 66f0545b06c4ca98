/** Helpers shared by the store implementations, so they answer queries identically. */

import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../core/event-lookup-fields.js';
import { InvalidFeedCursorError, type NewDelivery } from '../../core/ports.js';

export function normaliseLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(limit)));
}

/** Cursors are the `seq` of the last item of the previous page; anything else is ignored. */
export function parseCursor(cursor: string | undefined): number | null {
  if (cursor === undefined || !/^\d+$/.test(cursor)) return null;
  return Number(cursor);
}

/** A single-writer store's feed position is its `seq`; null reads from the start. */
export function parseFeedSeq(cursor: string | null): number | null {
  if (cursor === null) return null;
  if (!/^\d{1,15}$/.test(cursor)) throw new InvalidFeedCursorError(cursor);
  return Number(cursor);
}

/**
 * Translates a key pattern (`charge.create`, `charge.*`, `*`, or a comma list of them) into a
 * SQL condition on the `key` column. Returns null when the pattern matches every key.
 * The semantics match `matchesEventKeyPattern` from the library.
 */
export function keyPatternToSql(pattern: string): { sql: string; params: string[]; exactKey: boolean } | null {
  const parts = pattern
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0 || parts.includes('*')) return null;
  const clauses: string[] = [];
  const params: string[] = [];
  for (const part of parts) {
    if (part.endsWith('.*')) {
      // A range instead of LIKE/GLOB: it uses the key index, and there are no wildcard
      // characters to escape. Every key starting with `charge.` sorts between `charge.` and
      // `charge/` because '/' is the character after '.'.
      const prefix = part.slice(0, -1);
      clauses.push('(key >= ? AND key < ?)');
      params.push(prefix, `${prefix.slice(0, -1)}/`);
    } else {
      clauses.push('key = ?');
      params.push(part);
    }
  }
  // One exact key is an equality the (key, seq) index answers in order.
  const exactKey = parts.length === 1 && !parts[0]?.endsWith('.*');
  return { sql: `(${clauses.join(' OR ')})`, params, exactKey };
}

/** What a new event's record copies straight from its first delivery (both stores build on it). */
export function firstDeliveryFields(delivery: NewDelivery) {
  return {
    eventId: delivery.eventId,
    key: delivery.key,
    livemode: delivery.livemode,
    objectType: delivery.objectType,
    objectId: delivery.objectId,
    createdAt: delivery.createdAt,
    receivedAt: delivery.receivedAt,
    lastReceivedAt: delivery.receivedAt,
    deliveryCount: 1,
    origin: delivery.origin,
    differingDeliveries: 0,
  };
}
