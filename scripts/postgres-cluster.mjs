#!/usr/bin/env node
// A throwaway PostgreSQL cluster for tests and benches: initdb into a temp dir, pg_ctl start on
// loopback and a free port, trust auth (nothing but this machine can reach it). Run as root, the
// server runs as the `postgres` user (PostgreSQL refuses to run as root).
//
//   import { startPostgresCluster } from './postgres-cluster.mjs';
//   const cluster = await startPostgresCluster({ fsync: false });
//   process.env.OMISE_WEBHOOK_TEST_POSTGRES_URL = cluster.url;
//   ...
//   await cluster.stop();
//
// As a command: `node scripts/postgres-cluster.mjs start` prints the URL and data dir;
// `node scripts/postgres-cluster.mjs stop <dir>` stops that cluster and deletes the dir.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_ROOT = '/usr/lib/postgresql';

/**
 * The newest installed PostgreSQL's bin dir (`/usr/lib/postgresql/<major>/bin`), or null when
 * none is installed (or OMISE_WEBHOOK_POSTGRES_BIN names one).
 */
export function findPostgresBinaries() {
  const fromEnv = process.env.OMISE_WEBHOOK_POSTGRES_BIN;
  if (fromEnv) return existsSync(join(fromEnv, 'pg_ctl')) ? fromEnv : null;
  if (!existsSync(PG_ROOT)) return null;
  const majors = readdirSync(PG_ROOT)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(PG_ROOT, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length > 0 ? join(PG_ROOT, majors[0], 'bin') : null;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL program, as `postgres` when we are root. Throws with its output on failure. */
function runPg(bin, program, args) {
  const file = join(bin, program);
  const [command, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  const result = spawnSync(command, argv, { encoding: 'utf8' });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    throw new Error(`${program} ${args.join(' ')} failed (exit ${result.status}): ${output || result.error}`);
  }
  return result.stdout;
}

/** A free TCP port on loopback below 32768 (outside Linux's ephemeral range, so no clash with clients). */
export async function freeLowPort() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('found no free port between 20000 and 32000 on 127.0.0.1 for PostgreSQL');
}

function startServer(bin, dataDir, port) {
  runPg(bin, 'pg_ctl', [
    '-D',
    dataDir,
    '-o',
    `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1`,
    '-l',
    join(dataDir, 'log'),
    '-w',
    'start',
  ]);
}

function stopServer(bin, dataDir) {
  runPg(bin, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
}

/**
 * Starts a fresh cluster. `fsync: false` is for tests only (a crash of the machine loses it).
 * `pause()`/`resume()` stop and start the same server, for tests of a database that goes away.
 */
export async function startPostgresCluster(options = {}) {
  const bin = findPostgresBinaries();
  if (!bin)
    throw new Error(`no PostgreSQL found under ${PG_ROOT}/*/bin; install postgresql (apt-get install postgresql)`);
  const port = options.port ?? (await freeLowPort());
  const dataDir = mkdtempSync(join(tmpdir(), 'omise-webhook-pg-'));
  if (isRoot) execFileSync('chown', ['postgres:postgres', dataDir]);
  runPg(bin, 'initdb', ['-D', dataDir, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync']);
  if (options.fsync === false) {
    // Later settings in the file win; appending keeps the file owned by postgres.
    appendFileSync(join(dataDir, 'postgresql.conf'), 'fsync = off\nfull_page_writes = off\n');
  }
  startServer(bin, dataDir, port);
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    /** Stops the server (fast: open sessions are ended) and deletes its data. */
    async stop() {
      if (running) stopServer(bin, dataDir);
      running = false;
      rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      if (running) stopServer(bin, dataDir);
      startServer(bin, dataDir, port);
      running = true;
    },
    /** The database goes away (open sessions are ended), keeping its data. */
    async pause() {
      if (running) stopServer(bin, dataDir);
      running = false;
    },
    async resume() {
      if (!running) startServer(bin, dataDir, port);
      running = true;
    },
  };
}

const HELP = `usage: node scripts/postgres-cluster.mjs start [--port <n>] [--no-fsync]
       node scripts/postgres-cluster.mjs stop <data dir>

start  creates a throwaway PostgreSQL cluster (trust auth, 127.0.0.1 only) and prints
       its URL and data dir; stop it with \`stop <data dir>\`, which deletes the data.
Binaries: the newest /usr/lib/postgresql/<major>/bin, or OMISE_WEBHOOK_POSTGRES_BIN.`;

async function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return 0;
  }
  if (command === 'start') {
    const portAt = rest.indexOf('--port');
    const port = portAt >= 0 ? Number(rest[portAt + 1]) : undefined;
    const cluster = await startPostgresCluster({ port, fsync: !rest.includes('--no-fsync') });
    console.log(`url=${cluster.url}\ndir=${cluster.dataDir}`);
    return 0;
  }
  if (command === 'stop') {
    const dir = rest[0];
    const bin = findPostgresBinaries();
    if (!dir || !bin) {
      console.error(!dir ? 'stop needs the data dir that start printed' : 'no PostgreSQL binaries found');
      return 2;
    }
    stopServer(bin, dir);
    rmSync(dir, { recursive: true, force: true });
    return 0;
  }
  console.error(`unknown command ${JSON.stringify(command)}; expected start or stop\n\n${HELP}`);
  return 2;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
