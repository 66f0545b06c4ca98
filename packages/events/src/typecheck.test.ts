// Runs the compile-only type tests (*.test-d.ts) as part of `npm test`: tsx runs the other tests
// without checking types, so without this the `@ts-expect-error` proofs would never be enforced.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const project = fileURLToPath(new URL('../tsconfig.typetest.json', import.meta.url));

describe('the compile-only type tests', () => {
  it('compile, with every @ts-expect-error line still an error', () => {
    const result = spawnSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });
});
