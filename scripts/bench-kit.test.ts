import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  benchEventBody,
  type CpuSnapshot,
  cpuPerRequest,
  cpuSnapshot,
  latencySummary,
  postgresServerCpuUs,
  processCpuUs,
  startBareServer,
  stop,
  waitForLine,
} from './bench-kit.js';

function snapshot(overrides: Partial<CpuSnapshot>): CpuSnapshot {
  return {
    childUs: 0,
    childMainThreadUs: 0,
    at: 0,
    loaderUs: 0,
    machine: { busy: 0, total: 0 },
    ...overrides,
  };
}

test('cpuPerRequest divides each CPU time by the requests and the thread time by the elapsed time', () => {
  const before = snapshot({
    childUs: 1_000_000,
    childMainThreadUs: 500_000,
    at: 1_000,
    loaderUs: 2_000_000,
    machine: { busy: 100, total: 400 },
  });
  const after = snapshot({
    // 10,000 requests in 2 s: the server used 1.5 s of CPU, 1.2 s of it on its main thread.
    childUs: 2_500_000,
    childMainThreadUs: 1_700_000,
    at: 3_000,
    loaderUs: 2_700_000,
    machine: { busy: 400, total: 800 },
  });
  assert.deepEqual(cpuPerRequest(before, after, 10_000), {
    serverUs: 150,
    loaderUs: 70,
    serverMainThreadBusyPercent: 60,
    machineBusyPercent: 75,
  });
});

test('cpuPerRequest says n/a (null) for what could not be read, and survives zero requests', () => {
  const unreadable = snapshot({ childUs: null, childMainThreadUs: null, machine: null });
  assert.deepEqual(cpuPerRequest(unreadable, unreadable, 0), {
    serverUs: null,
    loaderUs: 0,
    serverMainThreadBusyPercent: null,
    machineBusyPercent: null,
  });
});

test('cpuSnapshot reads a busy child process from /proc', { skip: !existsSync('/proc/self/stat') }, async () => {
  // The child spins for 400 ms of wall time, so it uses about that much CPU.
  const child = spawn(process.execPath, [
    '-e',
    'const end = Date.now() + 400; while (Date.now() < end); setInterval(() => {}, 1000)',
  ]);
  try {
    const before = cpuSnapshot(child.pid);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const after = cpuSnapshot(child.pid);
    assert.ok(before.childUs !== null && after.childUs !== null);
    assert.ok(after.childUs - before.childUs >= 150_000, `child used ${after.childUs - before.childUs} µs`);
    assert.ok(after.childMainThreadUs !== null && after.childMainThreadUs <= after.childUs);
    assert.ok(before.machine !== null && after.machine !== null && after.machine.total > before.machine.total);
    assert.equal(cpuSnapshot(undefined).childUs, null);
  } finally {
    child.kill();
  }
});

test('latencySummary: p50, p99 and a max found without spreading, rounded; NaN for no values', () => {
  const values = Array.from({ length: 200_000 }, (_, i) => (i % 1000) + 0.123456);
  assert.deepEqual(latencySummary(values), { p50: 500.12, p99: 990.12, max: 999.12 });
  assert.deepEqual(latencySummary([2.46], 1), { p50: 2.5, p99: 2.5, max: 2.5 });
  assert.deepEqual(latencySummary([]), { p50: Number.NaN, p99: Number.NaN, max: Number.NaN });
});

test('startBareServer answers a POST with 200 and {} once the body is drained', async () => {
  const { child, port } = await startBareServer();
  try {
    const response = await fetch(`http://127.0.0.1:${port}/omise/webhook`, {
      method: 'POST',
      body: 'x'.repeat(70_000),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), '{}');
  } finally {
    await stop(child);
  }
  assert.equal(child.exitCode, 0);
});

test('startBareServer with durableFile writes each body into its file before answering {}', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-kit-durable-'));
  const file = join(dir, 'floor.bin');
  const { child, port } = await startBareServer({ durableFile: file });
  try {
    // An event of the bench's own, then one larger than a 4 KiB slot: each starts a slot.
    const first = Buffer.from(benchEventBody('evnt_test_5floor0001'));
    const second = Buffer.from(`{"id":"evnt_test_5floor0002","note":"${'\u0e04'.repeat(1500)}"}`);
    for (const body of [first, second]) {
      const response = await fetch(`http://127.0.0.1:${port}/omise/webhook`, { method: 'POST', body });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), '{}');
    }
    // Answered, so already in the file (read here while the server still runs).
    const kept = readFileSync(file);
    assert.equal(kept.length, 8 * 1024 * 1024);
    assert.ok(first.length < 4096 && second.length > 4096);
    assert.deepEqual(kept.subarray(0, first.length), first);
    assert.deepEqual(kept.subarray(4096, 4096 + second.length), second);
    assert.equal(
      kept.subarray(4096 + second.length, 4096 + second.length + 16).every((byte) => byte === 0),
      true,
    );
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(child.exitCode, 0);
});

test('processCpuUs counts the children a process waited for only with reaped; 0 once gone', {
  skip: !existsSync('/proc/self/stat'),
}, async () => {
  // The parent waits for a child that spins for 300 ms, then idles: its own CPU stays small.
  const parent = spawn(
    process.execPath,
    [
      '-e',
      `require('node:child_process').spawnSync(process.execPath, ['-e', 'const t = Date.now() + 300; while (Date.now() < t);']);
         console.log('reaped'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await waitForLine(parent, /reaped/, 'parent');
    const own = processCpuUs(parent.pid as number);
    const withReaped = processCpuUs(parent.pid as number, { reaped: true });
    assert.ok(withReaped - own >= 200_000, `own ${own} µs, with reaped ${withReaped} µs`);
  } finally {
    await stop(parent);
  }
  assert.equal(processCpuUs(parent.pid as number), 0);
  assert.equal(postgresServerCpuUs(join(import.meta.dirname, 'no-such-cluster')), 0);
});
