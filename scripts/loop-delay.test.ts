import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitForLine } from './bench-kit.js';
import { LOOP_DELAY_PROBE_ARGS, loopDelayWindow } from './loop-delay.js';

// An ES module app, as serve is: it imports fdatasync by name before doing anything, blocks its
// loop for 120 ms, syncs a file twice, and then idles.
const APP = `
import { fdatasync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const file = join(process.env.APP_DIR, 'data');
writeFileSync(file, 'x');
const fd = openSync(file, 'r+');
setTimeout(() => {
  const until = Date.now() + 120;
  while (Date.now() < until);
  fdatasync(fd, () => fdatasync(fd, () => console.log('ready')));
}, 50);
setInterval(() => {}, 1000);
`;

test('the probe reports a blocked loop and times fdatasync in an ES module app, window by window', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loop-delay-probe-'));
  const probeFile = join(dir, 'probe.ndjson');
  const child = spawn(process.execPath, [...LOOP_DELAY_PROBE_ARGS, '--input-type=module', '-e', APP], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, APP_DIR: dir, LOOP_DELAY_PROBE_FILE: probeFile, LOOP_DELAY_PROBE_RESOLUTION_MS: '5' },
  });
  try {
    await waitForLine(child, /ready/, 'probed app');
    const first = await loopDelayWindow(child.pid as number, probeFile);
    assert.equal(first?.window, 1);
    assert.ok((first?.max ?? 0) >= 100, `max ${first?.max}`);
    assert.equal(first?.syncs?.count, 2);
    assert.equal(first?.resolutionMs, 5);
    // 120 ms of a window of a few hundred spent spinning.
    assert.ok((first?.busy ?? 0) >= 0.15 && (first?.busy ?? 2) <= 1, `busy ${first?.busy}`);
    // The next window starts empty: no block, no sync. It lasts 400 ms, so the few ms of the
    // signal's own handling stay well under the busy bound even on a loaded machine (a 100 ms
    // window measured 0.1 once during the full suite).
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await loopDelayWindow(child.pid as number, probeFile);
    assert.equal(second?.window, 2);
    assert.ok((second?.max ?? Infinity) < 100, `max ${second?.max}`);
    assert.equal(second?.syncs, undefined);
    assert.ok((second?.busy ?? 1) < 0.1, `busy ${second?.busy}`);
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
