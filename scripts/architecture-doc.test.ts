// docs/architecture.md promises to list every source file. This holds it to that: a file added
// (or renamed) without a line in the doc fails here, so the doc stays true of the code.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('..', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');

/** Source files under packages/<name>/src, tests left out, as paths relative to that src. */
function sourceFiles(): Array<{ pkg: string; path: string }> {
  const found: Array<{ pkg: string; path: string }> = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', pkg, 'src');
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|js|mjs)$/.test(name) && !/\.test(-d)?\.(ts|js|mjs)$/.test(name)) {
          found.push({ pkg, path: relative(src, path) });
        }
      }
    };
    walk(src);
  }
  return found;
}

/** A whole file name in the text: not part of a longer name (`ports.ts` is not in `sports.ts`). */
function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.-])${escaped}($|[^A-Za-z0-9_-])`, 'm').test(text);
}

describe('docs/architecture.md', () => {
  it('names every source file under packages/*/src', () => {
    const files = sourceFiles();
    assert.ok(files.length > 100, `found only ${files.length} files: is the walk right?`);
    const count = new Map<string, number>();
    for (const file of files) count.set(basename(file.path), (count.get(basename(file.path)) ?? 0) + 1);
    const missing = files.filter(({ path }) => {
      const name = basename(path);
      // A name used once may stand alone under its folder's heading; a shared one (index.ts)
      // needs its folder: `fake-omise/index.ts`.
      if ((count.get(name) ?? 0) === 1 && mentions(doc, name)) return false;
      const withFolder = `${basename(dirname(path))}/${name}`;
      return !mentions(doc, path) && !mentions(doc, withFolder);
    });
    assert.deepEqual(
      missing.map(({ pkg, path }) => `packages/${pkg}/src/${path}`),
      [],
      'add a line for each of these to docs/architecture.md (what the file is for)',
    );
  });
});
