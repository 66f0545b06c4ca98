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
 * How deep the diff walks, and how deep a value it puts in a change. Stored bodies can nest
 * far deeper than any real event (rows stored before the library refused them, Omise's copy),
 * and whatever is in a change is later turned into JSON for the inspector, which recurses.
 */
export const MAX_DIFF_DEPTH = 256;

/** Stands in for a value nested deeper than {@link MAX_DIFF_DEPTH} in a change. */
export const TOO_DEEP_TO_SHOW = `(nested more than ${MAX_DIFF_DEPTH} levels deep; not shown)`;

/**
 * Lists every leaf that differs between two JSON values. Added and removed fields appear
 * with `undefined` on the missing side. Below {@link MAX_DIFF_DEPTH} levels a differing subtree
 * is reported as one change, and a value nested deeper than that is shown as
 * {@link TOO_DEEP_TO_SHOW}. Nothing here recurses, so no input can overflow the stack.
 *
 * @example
 * diffJsonValues({ a: 1, b: [1] }, { a: 2, b: [1, 2] })
 * // [{ path: 'a', before: 1, after: 2 }, { path: 'b[1]', before: undefined, after: 2 }]
 */
export function diffJsonValues(before: unknown, after: unknown, path = ''): ValueChange[] {
  const changes: ValueChange[] = [];
  // Children are pushed in reverse so they come off the stack in document order.
  const pending: Array<{ before: unknown; after: unknown; path: string; depth: number }> = [
    { before, after, path, depth: 0 },
  ];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const bothArrays = Array.isArray(item.before) && Array.isArray(item.after);
    const bothObjects = isPlainObject(item.before) && isPlainObject(item.after);
    if ((bothArrays || bothObjects) && item.depth >= MAX_DIFF_DEPTH) {
      if (!jsonEqual(item.before, item.after)) changes.push(changeAt(item.path, item.before, item.after));
    } else if (bothArrays) {
      const left = item.before as unknown[];
      const right = item.after as unknown[];
      for (let i = Math.max(left.length, right.length) - 1; i >= 0; i--) {
        pending.push({ before: left[i], after: right[i], path: `${item.path}[${i}]`, depth: item.depth + 1 });
      }
    } else if (bothObjects) {
      const left = item.before as Record<string, unknown>;
      const right = item.after as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        pending.push({ before: left[key], after: right[key], path: join(item.path, key), depth: item.depth + 1 });
      }
    } else if (!Object.is(item.before, item.after)) {
      changes.push(changeAt(item.path, item.before, item.after));
    }
  }
  return changes;
}

function changeAt(path: string, before: unknown, after: unknown): ValueChange {
  return { path: path === '' ? '(root)' : path, before: shown(before), after: shown(after) };
}

function shown(value: unknown): unknown {
  return nestedDeeperThan(value, MAX_DIFF_DEPTH) ? TOO_DEEP_TO_SHOW : value;
}

/** Whether arrays and objects nest more than `limit` levels in `value`; stops at the first that does. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > limit) return true;
    for (const child of Array.isArray(item.value) ? item.value : Object.values(item.value)) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth });
    }
  }
  return false;
}

/** Deep equality of two JSON values, without recursion. */
function jsonEqual(before: unknown, after: unknown): boolean {
  const pending: Array<[unknown, unknown]> = [[before, after]];
  for (let pair = pending.pop(); pair !== undefined; pair = pending.pop()) {
    const [left, right] = pair;
    if (Object.is(left, right)) continue;
    if (Array.isArray(left) && Array.isArray(right)) {
      if (left.length !== right.length) return false;
      for (let i = 0; i < left.length; i++) pending.push([left[i], right[i]]);
    } else if (isPlainObject(left) && isPlainObject(right)) {
      const keys = Object.keys(left);
      if (keys.length !== Object.keys(right).length) return false;
      for (const key of keys) {
        if (!Object.hasOwn(right, key)) return false;
        pending.push([left[key], right[key]]);
      }
    } else {
      return false;
    }
  }
  return true;
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
