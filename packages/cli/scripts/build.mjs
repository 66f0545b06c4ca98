#!/usr/bin/env node
// Builds the CLI to plain JavaScript in dist/, so the installed tool needs no TypeScript runtime.
//
// One entry (src/cli/entry.ts); every `import()` in the sources becomes its own chunk, so a command
// loads only its own code: `--version` and `--help` never load SQLite, Hono or ngrok. Every chunk
// lands directly in dist/ (no sub-folders): src/package-files.ts relies on that to find the package
// folder, and the `new URL('./x.worker.mjs', import.meta.url)` of a worker resolves to the copy
// made below.
//
// The package's `dependencies` stay external (native modules, Hono, and preact/htm, which the
// inspector's page is served from). Everything else it imports is bundled into the chunks: the
// library (@omise-webhook/events, in this repository), commander and picocolors, which are
// devDependencies for that reason. A start then reads a handful of files instead of about 35
// (17 modules of the library, 7 of commander), which is what brought `serve --help` within 2x
// of bare `node -e 0` (README, "Start time").
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDirectory = fileURLToPath(new URL('..', import.meta.url));
const src = join(packageDirectory, 'src');
const dist = join(packageDirectory, 'dist');

/** Every `*.worker.mjs` under src/, found afresh on each build (new workers need no list kept by hand). */
function findWorkers(directory, found = []) {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) findWorkers(path, found);
    else if (entry.name.endsWith('.worker.mjs')) found.push(path);
  }
  return found;
}

const manifest = JSON.parse(readFileSync(join(packageDirectory, 'package.json'), 'utf8'));
const runtimeDependencies = Object.keys(manifest.dependencies ?? {});

const started = performance.now();
rmSync(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(src, 'cli/entry.ts')],
  outdir: dist,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.16',
  external: [...runtimeDependencies, ...runtimeDependencies.map((name) => `${name}/*`)],
  // commander is CommonJS: its bundled `require('node:events')` and the like need a real require.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  // No source maps: they would point at TypeScript sources the package does not ship. Only
  // whitespace and syntax are minified (smaller chunks parse and compile faster at every start:
  // serve --help went from 2.0x to 1.93x bare node); identifiers stay, so a stack trace still
  // names its functions.
  sourcemap: false,
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  logLevel: 'warning',
});

const workers = new Map();
for (const worker of findWorkers(src)) {
  const name = basename(worker);
  if (workers.has(name)) {
    throw new Error(
      `two workers named ${name} (${relative(packageDirectory, workers.get(name))} and ${relative(packageDirectory, worker)}): ` +
        'dist/ is flat, so worker file names must be unique; rename one',
    );
  }
  workers.set(name, worker);
  copyFileSync(worker, join(dist, name));
}
mkdirSync(dist, { recursive: true });
const chunks = Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js')).length;
process.stdout.write(
  `omise-webhook: built dist/ (${chunks} chunks, ${workers.size} workers) in ${Math.round(performance.now() - started)} ms\n`,
);
