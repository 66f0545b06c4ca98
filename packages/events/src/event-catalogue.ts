import type { KnownOmiseEvent, OmiseEvent } from './types.js';

/**
 * Every event key Omise is known to send, in the order Omise lists them (by object, then lifecycle).
 *
 * A key that is not here can still arrive: Omise adds keys without notice, so callers must store and
 * show unknown keys rather than drop them (see {@link isOmiseEventKey}).
 *
 * @example
 * ```ts
 * for (const key of OMISE_EVENT_KEYS) console.log(key); // 'charge.create', 'charge.update', ...
 * ```
 */
export const OMISE_EVENT_KEYS = [
  'charge.create',
  'charge.update',
  'charge.capture',
  'charge.reverse',
  'charge.complete',
  'charge.expire',
  'customer.create',
  'customer.update',
  'customer.destroy',
  'customer.update.card',
  'card.update',
  'card.destroy',
  'dispute.create',
  'dispute.update',
  'dispute.accept',
  'dispute.close',
  'link.create',
  'recipient.create',
  'recipient.update',
  'recipient.destroy',
  'recipient.activate',
  'recipient.deactivate',
  'recipient.verify',
  'refund.create',
  'schedule.create',
  'schedule.destroy',
  'schedule.expire',
  'schedule.expiring',
  'schedule.suspend',
  'transfer.create',
  'transfer.update',
  'transfer.destroy',
  'transfer.send',
  'transfer.pay',
  'transfer.fail',
] as const;

/**
 * One of the 35 known Omise event keys.
 *
 * @example
 * ```ts
 * const key: OmiseEventKey = 'charge.complete';
 * ```
 */
export type OmiseEventKey = (typeof OMISE_EVENT_KEYS)[number];

/**
 * The kind of object an event is about: the first word of its key.
 *
 * @example
 * ```ts
 * const group: OmiseEventGroup = OMISE_EVENT_CATALOGUE['customer.update.card'].group; // 'customer'
 * ```
 */
export type OmiseEventGroup =
  | 'charge'
  | 'customer'
  | 'card'
  | 'dispute'
  | 'link'
  | 'recipient'
  | 'refund'
  | 'schedule'
  | 'transfer';

/**
 * What the catalogue knows about one event key.
 *
 * @example
 * ```ts
 * const info: OmiseEventKeyInfo = OMISE_EVENT_CATALOGUE['customer.destroy'];
 * info.deletedStub; // true: data is only { object, id, livemode, deleted: true }
 * ```
 */
export interface OmiseEventKeyInfo {
  key: OmiseEventKey;
  /** The first word of the key. */
  group: OmiseEventGroup;
  /**
   * The `object` field of the event's `data`. Equal to `group` for every key today; note that for
   * `customer.update.card` this is `customer`: the data is the parent customer, not the card.
   */
  dataObject: OmiseEventGroup;
  /** `data` is only `{ object, id, livemode, deleted: true }`: the object is gone, so Omise sends a stub. */
  deletedStub: boolean;
  /** Plain English, for lists and `--help` output. */
  description: string;
  /** `omise-2017-list`: in the list Omise published in 2017; `newer`: added since, confirmed by third-party libraries. */
  source: 'omise-2017-list' | 'newer';
}

type CatalogueRow = [
  key: OmiseEventKey,
  description: string,
  options?: { deletedStub?: true; newer?: true; dataObject?: OmiseEventGroup },
];

// Kept as rows rather than 35 object literals so a reviewer can check the whole table at a glance
// against the facts file.
const ROWS: readonly CatalogueRow[] = [
  ['charge.create', 'A charge was created'],
  ['charge.update', 'A charge was updated (for example its description or metadata)'],
  ['charge.capture', 'An authorized charge was captured'],
  ['charge.reverse', 'An authorized charge was reversed, releasing the hold on the money'],
  [
    'charge.complete',
    'A charge that waited for the customer (3-D Secure or an offsite payment) was completed, successfully or not',
  ],
  ['charge.expire', 'A pending charge expired before it was paid', { newer: true }],
  ['customer.create', 'A customer was created'],
  ['customer.update', 'A customer was updated'],
  ['customer.destroy', 'A customer was deleted', { deletedStub: true }],
  ['customer.update.card', 'A card of a customer was updated (data is the customer, not the card)'],
  ['card.update', 'A card was updated'],
  ['card.destroy', 'A card was deleted', { deletedStub: true }],
  ['dispute.create', 'A dispute (chargeback) was opened against a charge'],
  ['dispute.update', 'A dispute was updated'],
  ['dispute.accept', 'A dispute was accepted, conceding it to the cardholder', { newer: true }],
  ['dispute.close', 'A dispute was closed (won or lost)'],
  ['link.create', 'A payment link was created', { newer: true }],
  ['recipient.create', 'A transfer recipient was created'],
  ['recipient.update', 'A transfer recipient was updated'],
  ['recipient.destroy', 'A transfer recipient was deleted', { deletedStub: true }],
  ['recipient.activate', 'A transfer recipient was activated'],
  ['recipient.deactivate', 'A transfer recipient was deactivated'],
  ['recipient.verify', 'A transfer recipient was verified'],
  ['refund.create', 'A refund was created'],
  ['schedule.create', 'A schedule was created', { newer: true }],
  ['schedule.destroy', 'A schedule was deleted', { newer: true }],
  ['schedule.expire', 'A schedule reached its end date and expired', { newer: true }],
  ['schedule.expiring', 'A schedule will expire soon', { newer: true }],
  ['schedule.suspend', 'A schedule was suspended', { newer: true }],
  ['transfer.create', 'A transfer was created'],
  ['transfer.update', 'A transfer was updated'],
  ['transfer.destroy', 'A transfer was deleted', { deletedStub: true }],
  ['transfer.send', 'A transfer was sent to the bank'],
  ['transfer.pay', 'A transfer was paid into the recipient’s bank account'],
  ['transfer.fail', 'A transfer failed'],
];

function buildCatalogue(): Readonly<Record<OmiseEventKey, OmiseEventKeyInfo>> {
  const catalogue = {} as Record<OmiseEventKey, OmiseEventKeyInfo>;
  for (const [key, description, options = {}] of ROWS) {
    const group = key.slice(0, key.indexOf('.')) as OmiseEventGroup;
    catalogue[key] = Object.freeze({
      key,
      group,
      dataObject: options.dataObject ?? group,
      deletedStub: options.deletedStub === true,
      description,
      source: options.newer ? 'newer' : 'omise-2017-list',
    });
  }
  return Object.freeze(catalogue);
}

/**
 * What each known event key means and what its `data` holds.
 *
 * @example
 * ```ts
 * OMISE_EVENT_CATALOGUE['charge.complete'].description;
 * // 'A charge that waited for the customer (3-D Secure or an offsite payment) was completed, ...'
 * ```
 */
export const OMISE_EVENT_CATALOGUE: Readonly<Record<OmiseEventKey, OmiseEventKeyInfo>> = buildCatalogue();

/**
 * Whether a value is one of the 35 known event keys. An unknown key is still a valid event:
 * store and show it, just without the typed `data`.
 *
 * @example
 * ```ts
 * isOmiseEventKey('charge.create'); // true
 * isOmiseEventKey('charge.failed'); // false (seen in third-party code; not a real key)
 * ```
 */
export function isOmiseEventKey(value: unknown): value is OmiseEventKey {
  return typeof value === 'string' && Object.hasOwn(OMISE_EVENT_CATALOGUE, value);
}

/**
 * Whether a parsed event has one of the 35 known keys, narrowing it to {@link KnownOmiseEvent}.
 *
 * @example
 * ```ts
 * const event = parseOmiseEvent(body);
 * if (isKnownOmiseEvent(event)) console.log(OMISE_EVENT_CATALOGUE[event.key].description);
 * else console.log(`new event key ${event.key}; stored as is`);
 * ```
 */
export function isKnownOmiseEvent(event: OmiseEvent): event is KnownOmiseEvent {
  return isOmiseEventKey(event.key);
}

/**
 * Whether an event key matches a filter pattern.
 *
 * A pattern is a comma-separated list of parts; a key matches if any part matches. A part is `*`
 * (everything), `group.*` (every key that starts with `group.`, so `customer.*` also matches
 * `customer.update.card`), or an exact key. Spaces around parts are ignored; empty parts match nothing.
 *
 * @example
 * ```ts
 * matchesEventKeyPattern('charge.create', 'charge.*');              // true
 * matchesEventKeyPattern('customer.update.card', 'customer.*');     // true
 * matchesEventKeyPattern('refund.create', 'charge.*,refund.create'); // true
 * matchesEventKeyPattern('charge', 'charge.*');                     // false
 * ```
 */
export function matchesEventKeyPattern(key: string, pattern: string): boolean {
  for (const rawPart of pattern.split(',')) {
    const part = rawPart.trim();
    if (part === '') continue;
    if (part === '*') return true;
    if (part.endsWith('.*')) {
      // Keep the dot in the prefix so `charge.*` does not match a hypothetical `chargeback.create`.
      if (key.startsWith(part.slice(0, -1))) return true;
    } else if (key === part) {
      return true;
    }
  }
  return false;
}

/**
 * The known event keys nearest to `input` by edit distance, for "did you mean" hints.
 *
 * Matching ignores case and surrounding spaces. Keys further than about half the input's length
 * away are left out, so nonsense input returns `[]` rather than three random keys. Ties keep
 * catalogue order.
 *
 * @example
 * ```ts
 * closestEventKeys('charge.created'); // ['charge.create', 'charge.update', 'charge.capture']
 * closestEventKeys('refund.update', 1); // ['refund.create']
 * closestEventKeys('hello'); // []
 * ```
 */
export function closestEventKeys(input: string, limit = 3): OmiseEventKey[] {
  const needle = input.trim().toLowerCase();
  if (needle === '' || limit <= 0) return [];
  const maxDistance = Math.max(3, Math.ceil(needle.length / 2));
  return OMISE_EVENT_KEYS.map((key, index) => ({ key, index, distance: editDistance(needle, key) }))
    .filter((candidate) => candidate.distance <= maxDistance)
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .slice(0, limit)
    .map((candidate) => candidate.key);
}

/** Levenshtein distance with one rolling row; inputs here are short, so clarity beats cleverness. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
