/**
 * `--set path=value` overrides for simulated events: `--set data.amount=5000`,
 * `--set data.metadata.order_id=A1`. Paths must already exist (so a typo is caught, not silently
 * added), except inside `metadata`, where a merchant may put any key.
 */
import { SimulationError } from './simulation-error.js';

export interface SetAssignment {
  /** The assignment as typed, for messages. */
  raw: string;
  path: string[];
  /** The value parsed as JSON when it parses (`5000`, `true`, `null`, `{"a":1}`), else the text itself. */
  value: unknown;
}

/**
 * Parses `path=value`. The value is JSON when it parses as JSON, otherwise a string, so
 * `data.amount=5000` sets a number and `data.description=Gift card` sets text; to set the text
 * `"5000"`, quote it: `data.description="5000"`.
 *
 * @throws {SimulationError} `set_syntax`
 * @example
 * parseSetAssignment('data.metadata.order_id=A1'); // { path: ['data', 'metadata', 'order_id'], value: 'A1', ... }
 */
export function parseSetAssignment(raw: string): SetAssignment {
  const equals = raw.indexOf('=');
  if (equals <= 0) {
    throw new SimulationError(
      'set_syntax',
      `--set ${JSON.stringify(raw)}: expected path=value, for example --set data.amount=5000 or --set data.metadata.order_id=A1`,
    );
  }
  const pathText = raw.slice(0, equals).trim();
  const path = pathText.split('.');
  if (path.some((segment) => segment === '')) {
    throw new SimulationError(
      'set_syntax',
      `--set ${JSON.stringify(raw)}: the path ${JSON.stringify(pathText)} has an empty part; write it like data.card.name`,
    );
  }
  const text = raw.slice(equals + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: the text itself is the value.
  }
  return { raw, path, value };
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === 'object';
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

function childOf(container: Container, segment: string): { exists: boolean; value: unknown } {
  if (Array.isArray(container)) {
    const index = /^\d+$/.test(segment) ? Number(segment) : -1;
    return index >= 0 && index < container.length
      ? { exists: true, value: container[index] }
      : { exists: false, value: undefined };
  }
  return Object.hasOwn(container, segment)
    ? { exists: true, value: container[segment] }
    : { exists: false, value: undefined };
}

/**
 * Sets an own, enumerable field. A plain `node[key] = value` with the key `__proto__` would
 * replace the object's prototype instead, and the field would silently be missing from the event.
 */
function setOwn(node: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Whether the segment at `index` lies inside a `metadata` object, where any key may be added. */
function insideMetadata(path: string[], index: number): boolean {
  return path.slice(0, index).includes('metadata');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function missingPath(assignment: SetAssignment, index: number, parent: Container, context: string): SimulationError {
  const missing = assignment.path.slice(0, index + 1).join('.');
  const parentPath = index === 0 ? '(the event itself)' : assignment.path.slice(0, index).join('.');
  const segment = assignment.path[index] as string;
  let hint = '';
  if (!Array.isArray(parent)) {
    const nearest = Object.keys(parent)
      .map((name) => ({ name, distance: editDistance(segment, name) }))
      .filter((candidate) => candidate.distance <= Math.max(2, Math.floor(segment.length / 3)))
      .sort((a, b) => a.distance - b.distance)[0];
    if (nearest) hint = ` Did you mean ${[...assignment.path.slice(0, index), nearest.name].join('.')}?`;
  } else {
    hint = ` ${parentPath} is a list of ${parent.length}; use an index from 0 to ${parent.length - 1}.`;
  }
  return new SimulationError(
    'set_missing_path',
    `--set ${assignment.raw}: ${missing} does not exist in ${context}; the nearest existing parent is ${parentPath}.${hint} Only keys inside metadata can be added.`,
  );
}

/**
 * Applies assignments to a copy of an event, in order.
 *
 * @param context Words for messages, e.g. `a charge.create event`.
 * @throws {SimulationError} `set_missing_path` (naming the path and its nearest existing parent) or
 * `set_not_container` (a path goes through a number, string or null).
 * @example
 * applySetAssignments(event, [parseSetAssignment('data.amount=5000')], 'a charge.create event');
 */
export function applySetAssignments<T extends Record<string, unknown>>(
  event: T,
  assignments: readonly SetAssignment[],
  context: string,
): T {
  const copy = structuredClone(event);
  for (const assignment of assignments) {
    const { path } = assignment;
    let node: Container = copy;
    for (let index = 0; index < path.length; index++) {
      const segment = path[index] as string;
      const last = index === path.length - 1;
      const child = childOf(node, segment);
      if (!child.exists) {
        if (!insideMetadata(path, index) || Array.isArray(node)) throw missingPath(assignment, index, node, context);
        if (last) {
          setOwn(node, segment, assignment.value);
          break;
        }
        const created: Record<string, unknown> = {};
        setOwn(node, segment, created);
        node = created;
        continue;
      }
      if (last) {
        if (Array.isArray(node)) node[Number(segment)] = assignment.value;
        else setOwn(node, segment, assignment.value);
        break;
      }
      if (!isContainer(child.value)) {
        const at = path.slice(0, index + 1).join('.');
        throw new SimulationError(
          'set_not_container',
          `--set ${assignment.raw}: ${at} is ${describeValue(child.value)}, not an object, so it has no field ${JSON.stringify(path[index + 1])}`,
        );
      }
      node = child.value;
    }
  }
  return copy;
}
