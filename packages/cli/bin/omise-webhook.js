#!/usr/bin/env node
// Runs the CLI compiled to dist/ by `npm run build` (run by `npm install` in a clone, and by
// `npm pack`/`npm publish`), so no TypeScript runtime loads at run time.
import { main } from '../dist/entry.js';

// A reader that went away (`omise-webhook events list | head`) is not an error: stop quietly,
// as other command-line tools do, instead of dying with an unhandled EPIPE and a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

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
