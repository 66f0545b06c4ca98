/**
 * Structural comparison of JSON values, used to say how Omise's copy of an event differs
 * from the one received, and (in the inspector) what changed between two states of an object.
 */

export interface ValueChange {
  /** Dotted path, with `[i]` for array items: `data.refunds.data[0].amount`. */
  path: string;
  before: unknown;
  after: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Lists every leaf that differs between two JSON values. Added and removed fields appear
 * with `undefined` on the missing side.
 *
 * @example
 * diffJsonValues({ a: 1, b: [1] }, { a: 2, b: [1, 2] })
 * // [{ path: 'a', before: 1, after: 2 }, { path: 'b[1]', before: undefined, after: 2 }]
 */
export function diffJsonValues(before: unknown, after: unknown, path = ''): ValueChange[] {
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: ValueChange[] = [];
    const length = Math.max(before.length, after.length);
    for (let i = 0; i < length; i++) changes.push(...diffJsonValues(before[i], after[i], `${path}[${i}]`));
    return changes;
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    const changes: ValueChange[] = [];
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) changes.push(...diffJsonValues(before[key], after[key], join(path, key)));
    return changes;
  }
  if (Object.is(before, after)) return [];
  return [{ path: path === '' ? '(root)' : path, before, after }];
}

/** Fields that legitimately differ between a delivered event and the API's later copy. */
const IGNORED_TOP_LEVEL = new Set(['webhook_deliveries']);

/**
 * The paths at which Omise's copy (`apiBody`, the API's JSON text) differs from the received
 * event, ignoring Omise's delivery log which only the API copy carries.
 */
export function describeDifferences(received: unknown, apiBody: string): string[] {
  let copy: unknown;
  try {
    copy = JSON.parse(apiBody);
  } catch {
    return ['(the Omise API answered with a body that is not JSON)'];
  }
  const strip = (value: unknown) =>
    isPlainObject(value) ? Object.fromEntries(Object.entries(value).filter(([k]) => !IGNORED_TOP_LEVEL.has(k))) : value;
  return diffJsonValues(strip(received), strip(copy)).map((change) => change.path);
}
