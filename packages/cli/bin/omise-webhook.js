#!/usr/bin/env node
// Runs the CLI compiled to dist/ by `npm run build` (run by `npm install` in a clone, and by
// `npm pack`/`npm publish`), so no TypeScript runtime loads at run time.
import { main } from '../dist/entry.js';

const controller = new AbortController();
let interrupted = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted += 1;
    if (interrupted > 1) process.exit(130);
    controller.abort();
  });
}

process.exitCode = await main({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
