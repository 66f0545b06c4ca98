/**
 * Request parameters the way Omise reads them: form fields with bracket nesting
 * (`card[name]=...`, `metadata[order_id]=A1`, `on[days_of_month][]=15`), a JSON body (the Go
 * SDK sends JSON), or the query string (and, as in Omise's curl examples, `-d` fields on a GET).
 */

export type Params = Record<string, unknown>;

function setNested(target: Params, path: string[], value: string): void {
  let node: Params = target;
  for (let index = 0; index < path.length; index++) {
    const segment = path[index] as string;
    const last = index === path.length - 1;
    const nextIsList = path[index + 1] === '';
    if (last) {
      if (segment === '') return;
      node[segment] = value;
      return;
    }
    if (nextIsList && index + 1 === path.length - 1) {
      const list = Array.isArray(node[segment]) ? (node[segment] as unknown[]) : [];
      list.push(value);
      node[segment] = list;
      return;
    }
    const child = node[segment];
    if (child === null || typeof child !== 'object' || Array.isArray(child)) node[segment] = {};
    node = node[segment] as Params;
  }
}

/** `a[b][c]` -> `['a', 'b', 'c']`; `a[]` -> `['a', '']`. */
function splitName(name: string): string[] {
  const head = /^[^[]+/.exec(name)?.[0] ?? name;
  const rest = [...name.slice(head.length).matchAll(/\[([^\]]*)\]/g)].map((match) => match[1] ?? '');
  return [head, ...rest];
}

/** Nested parameters from `application/x-www-form-urlencoded` text or a URL's search params. */
export function paramsFromSearch(search: URLSearchParams): Params {
  const params: Params = {};
  for (const [name, value] of search) setNested(params, splitName(name), value);
  return params;
}

/**
 * Reads a request body as Omise would, by its content type.
 *
 * @throws {SyntaxError} for a JSON body that does not parse.
 */
export function paramsFromBody(body: string, contentType: string | undefined): Params {
  if (body.trim() === '') return {};
  if ((contentType ?? '').toLowerCase().includes('application/json')) {
    const parsed = JSON.parse(body) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Params) : {};
  }
  return paramsFromSearch(new URLSearchParams(body));
}

/** A parameter as text, or undefined when absent. Numbers and booleans from JSON bodies become text. */
export function textParam(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** A nested object parameter (`card[...]`, `metadata[...]`), or undefined. */
export function objectParam(params: Params, name: string): Params | undefined {
  const value = params[name];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Params) : undefined;
}
