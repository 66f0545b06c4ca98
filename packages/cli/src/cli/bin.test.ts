/**
 * The built bin as a shell runs it. Runs the build that `npm test` makes first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = join(fileURLToPath(new URL('../../../../', import.meta.url)), 'packages/cli/bin/omise-webhook.js');

describe('the omise-webhook bin', () => {
  it('stops quietly with status 0 when its reader goes away (`omise-webhook trigger --list | head`)', async () => {
    const child = spawn(process.execPath, [BIN, 'trigger', '--list'], {
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Close the read end before the bin writes, as `head` does once it has its lines.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
