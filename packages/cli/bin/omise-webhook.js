#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so there is no build step between
// `npm install` and `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');

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
