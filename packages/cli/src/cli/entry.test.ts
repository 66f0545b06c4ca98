import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli, testCliContext } from '../testing/run-cli.js';
import { temporaryDirectory } from '../testing/test-server.js';
import { COMMAND_LOADERS, commandsFor } from './entry.js';
import { buildProgram } from './main.js';

const run = promisify(execFile);
const ENTRY = new URL('./entry.ts', import.meta.url).href;

/**
 * Runs `main(argv)` from the sources in a fresh node (through tsx) and returns every module file
 * it loaded, recorded by a module hook, so the test sees what a real start loads.
 */
async function modulesLoadedBy(argv: string[]): Promise<string[]> {
  const hook = `export async function load(url, context, next) {
    if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n');
    return next(url, context);
  }`;
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { main } = await import(${JSON.stringify(ENTRY)});
    process.exitCode = await main({ argv: ${JSON.stringify(argv)}, env: {}, cwd: ${JSON.stringify(temporaryDirectory())}, stdout: process.stdout, stderr: process.stderr });
  `;
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    // tsx resolves from here; main() itself runs in an empty folder (no .env).
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
  });
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('LOADED '))
    .map((line) => fileURLToPath(line.slice('LOADED '.length)));
}

const BIN = fileURLToPath(new URL('../../bin/omise-webhook.js', import.meta.url));

/** Like modulesLoadedBy, for the built CLI as users run it (bin/omise-webhook.js, then dist/). */
async function modulesLoadedByBuild(argv: string[]): Promise<string[]> {
  const hook = `export async function load(url, context, next) {
    if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n');
    return next(url, context);
  }`;
  const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
  const { stderr } = await run(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(register)}`, BIN, ...argv],
    { cwd: temporaryDirectory(), env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } },
  );
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('LOADED '))
    .map((line) => fileURLToPath(line.slice('LOADED '.length)));
}

const HEAVY = /node_modules\/(better-sqlite3|hono|@hono\/node-server|@ngrok\/ngrok)\/|\/src\/app\/server\.ts$/;

describe('entry: each command loads only what it needs', () => {
  it('lists the same commands, in the same order, as the whole program', () => {
    const program = buildProgram(testCliContext({ cwd: temporaryDirectory() }));
    assert.deepEqual(
      COMMAND_LOADERS.map((command) => command.name),
      program.commands.map((command) => command.name()),
    );
  });

  it('picks the command argv names, none for a bare --version, and every one otherwise', () => {
    const names = (argv: string[]) => commandsFor(argv).map((command) => command.name);
    assert.deepEqual(names(['serve', '--help']), ['serve']);
    assert.deepEqual(names(['--env-file', 'trigger', 'events', 'list']), ['events']);
    assert.deepEqual(names(['--env-file=x', 'trigger', 'charge.create']), ['trigger']);
    assert.deepEqual(names(['--version']), []);
    assert.deepEqual(names(['-V']), []);
    assert.deepEqual(
      names(['--help']),
      COMMAND_LOADERS.map((command) => command.name),
    );
    assert.deepEqual(
      names([]),
      COMMAND_LOADERS.map((command) => command.name),
    );
    assert.deepEqual(
      names(['serv']),
      COMMAND_LOADERS.map((command) => command.name),
    );
  });

  it('answers an unknown command with the closest one, every command being registered for it', async () => {
    const result = await runCli(['serv']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /error: unknown command 'serv'\n\(Did you mean serve\?\)/);
  });

  it('prints the top-level help listing every command', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    for (const command of COMMAND_LOADERS) assert.match(result.stdout, new RegExp(`\\n  ${command.name}\\b`));
  });

  for (const argv of [['--version'], ['--help'], ['serve', '--help'], ['trigger', 'charge.create', '--print']]) {
    it(`\`${argv.join(' ')}\` loads no SQLite, Hono, ngrok or server`, async () => {
      const loaded = await modulesLoadedBy(argv);
      assert.ok(
        loaded.some((file) => file.endsWith('/src/cli/entry.ts')),
        `the hook saw no module: ${loaded.join(', ')}`,
      );
      assert.deepEqual(
        loaded.filter((file) => HEAVY.test(file)),
        [],
      );
    });
  }

  it('`--version` loads no command and not the library', async () => {
    const loaded = await modulesLoadedBy(['--version']);
    assert.deepEqual(
      loaded.filter((file) => /\/src\/cli\/commands\/|\/packages\/events\//.test(file)),
      [],
    );
  });

  // The build bundles the library, commander and picocolors into dist/'s chunks (scripts/build.mjs):
  // a start reads a few chunks rather than some 35 files. Runs the build `npm test` makes first.
  for (const argv of [['--version'], ['serve', '--help'], ['trigger', 'charge.create', '--print']]) {
    it(`the built \`${argv.join(' ')}\` loads only dist/ chunks: no library module, no package`, async () => {
      const loaded = await modulesLoadedByBuild(argv);
      assert.ok(
        loaded.some((file) => file.endsWith('/dist/entry.js')),
        `the hook saw no module: ${loaded.join(', ')}`,
      );
      assert.deepEqual(
        loaded.filter((file) => !/\/packages\/cli\/(bin\/omise-webhook\.js|dist\/[^/]+\.js)$/.test(file)),
        [],
      );
    });
  }
});
