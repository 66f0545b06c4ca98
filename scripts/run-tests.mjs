#!/usr/bin/env node
// Runs every package's tests with node's test runner through tsx.
// Node 20's `node --test` finds no .ts files by itself and does not expand quoted globs,
// so this lists the files explicitly. Pass paths or substrings to run a subset:
//   node scripts/run-tests.mjs store receiver
//
// Tests that need PostgreSQL get a throwaway cluster started here (its URL in
// OMISE_WEBHOOK_TEST_POSTGRES_URL), unless that variable already names one. Without PostgreSQL
// installed they are skipped with a line saying so, and under CI=true the run fails instead.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findPostgresBinaries, startPostgresCluster } from './postgres-cluster.mjs';

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

const POSTGRES_URL_ENV = 'OMISE_WEBHOOK_TEST_POSTGRES_URL';
const env = { ...process.env, NO_COLOR: '1' };
let cluster = null;
// Only when a chosen test file mentions PostgreSQL: starting a cluster takes a second or two.
const wantsPostgres = files.some((file) => /postgres/i.test(readFileSync(join(root, file), 'utf8')));
if (wantsPostgres && !env[POSTGRES_URL_ENV]) {
  if (findPostgresBinaries()) {
    cluster = await startPostgresCluster({ fsync: false });
    env[POSTGRES_URL_ENV] = cluster.url;
  } else if (process.env.CI === 'true') {
    console.error(
      'PostgreSQL tests cannot run: no PostgreSQL under /usr/lib/postgresql/*/bin and CI=true; install postgresql (apt-get install postgresql) or set ' +
        POSTGRES_URL_ENV,
    );
    process.exit(1);
  } else {
    console.error(
      `PostgreSQL tests skipped: no PostgreSQL under /usr/lib/postgresql/*/bin and ${POSTGRES_URL_ENV} is not set; install postgresql`,
    );
  }
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { cwd: root, stdio: 'inherit', env },
);
// Ctrl-C reaches the test runner too; wait for it, then stop the cluster.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
const status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
if (cluster)
  await cluster.stop().catch((error) => console.error(`stopping the test PostgreSQL failed: ${error.message}`));
process.exit(status);

function statSafe(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
