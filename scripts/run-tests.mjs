#!/usr/bin/env node
// Runs every package's tests with node's test runner through tsx.
// Node 20's `node --test` finds no .ts files by itself and does not expand quoted globs,
// so this lists the files explicitly. Pass paths or substrings to run a subset:
//   node scripts/run-tests.mjs store receiver
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const SKIP = new Set(['node_modules', 'dist', '.git', 'log', 'test-output']);

function findTests(dir, found = []) {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, found);
    else if (/\.test\.(ts|mts|js|mjs)$/.test(name)) found.push(relative(root, path));
  }
  return found;
}

const filters = process.argv.slice(2);
let files = [
  ...findTests(join(root, 'packages')),
  ...(statSafe(join(root, 'examples')) ? findTests(join(root, 'examples')) : []),
  ...findTests(join(root, 'scripts')),
].sort();
if (filters.length > 0) files = files.filter((file) => filters.some((filter) => file.includes(filter)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } },
);
process.exit(result.status ?? 1);

function statSafe(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
