/**
 * The start-time section of `npm run bench` (alone: `BENCH_ONLY=startup npm run bench`): runs the
 * built CLI's `--version`, `serve --help` and `trigger charge.create --print`, and bare
 * `node -e 0`, N times each (BENCH_STARTUP_RUNS, default 20), interleaved so a busy machine
 * slows every command alike; prints each one's median wall time, its spread (min..max and the
 * middle half) and its ratio to bare node from the same run, and the mean CPU time (user +
 * system) of each, which a busy machine disturbs far less. Goals: 2x for `--version` and
 * `serve --help`, 3x for `trigger --print`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './bench-kit.js';

const BIN = join(root, 'packages/cli/bin/omise-webhook.js');
const CASES: ReadonlyArray<{ label: string; args: string[]; goal: number | null }> = [
  { label: 'node -e 0', args: ['-e', '0'], goal: null },
  { label: 'omise-webhook --version', args: [BIN, '--version'], goal: 2 },
  { label: 'omise-webhook serve --help', args: [BIN, 'serve', '--help'], goal: 2 },
  { label: 'omise-webhook trigger charge.create --print', args: [BIN, 'trigger', 'charge.create', '--print'], goal: 3 },
];

/**
 * CPU time (user + system, ms) of this process's finished children so far, from /proc/self/stat
 * (cutime + cstime, in clock ticks of 10 ms); null where there is no /proc. On a busy machine a
 * start's wall time mostly measures the wait for a core; its CPU time does not.
 */
function childrenCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

function quantile(sorted: number[], q: number): number {
  const index = (sorted.length - 1) * q;
  const low = Math.floor(index);
  const high = Math.ceil(index);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (index - low);
}

export async function startupSection(): Promise<void> {
  const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 20);
  // An empty folder with no .env, and a clean environment, so nothing of the caller's is read.
  const cwd = mkdtempSync(join(tmpdir(), 'omise-webhook-startup-'));
  const env = {
    PATH: process.env.PATH ?? '',
    NO_COLOR: '1',
    OMISE_WEBHOOK_SECRET: btoa('omise-webhook bench secret 32 b.'),
  };
  const times = new Map<string, number[]>(CASES.map((c) => [c.label, []]));
  const cpu = new Map<string, number>(CASES.map((c) => [c.label, 0]));
  for (let run = -1; run < runs; run += 1) {
    for (const c of CASES) {
      const cpuBefore = childrenCpuMs();
      const started = process.hrtime.bigint();
      const result = spawnSync(process.execPath, c.args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpuAfter = childrenCpuMs();
      if (result.status !== 0) {
        throw new Error(`${c.label} exited ${result.status}: ${result.stderr.toString()}; run \`npm run build\` first`);
      }
      if (run < 0) continue; // run -1 warms the disk cache and is not counted
      times.get(c.label)?.push(ms);
      if (cpuBefore !== null && cpuAfter !== null) cpu.set(c.label, (cpu.get(c.label) ?? 0) + cpuAfter - cpuBefore);
    }
  }
  rmSync(cwd, { recursive: true, force: true });
  const bare = quantile(
    [...(times.get('node -e 0') ?? [])].sort((a, b) => a - b),
    0.5,
  );
  const bareCpu = (cpu.get('node -e 0') ?? 0) / runs;
  const lines = [
    `## Start time: ${runs} runs each, interleaved, against bare \`node -e 0\``,
    '',
    '| command | median ms | middle half ms | min..max ms | ratio to node -e 0 | CPU ms (mean) | CPU ratio | goal (wall) |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  let met = true;
  for (const c of CASES) {
    const sorted = [...(times.get(c.label) ?? [])].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    const ratio = median / bare;
    const cpuMean = (cpu.get(c.label) ?? 0) / runs;
    if (c.goal !== null && ratio > c.goal) met = false;
    lines.push(
      `| ${c.label} | ${median.toFixed(0)} | ${quantile(sorted, 0.25).toFixed(0)}..${quantile(sorted, 0.75).toFixed(0)} | ${(sorted[0] ?? 0).toFixed(0)}..${(sorted.at(-1) ?? 0).toFixed(0)} | ${ratio.toFixed(2)}x | ${cpuMean.toFixed(0)} | ${bareCpu > 0 ? `${(cpuMean / bareCpu).toFixed(2)}x` : 'n/a'} | ${c.goal === null ? '' : `<= ${c.goal}x ${ratio <= c.goal ? 'met' : 'NOT met'}`} |`,
    );
  }
  const report = `${lines.join('\n')}\n\ntarget (start-time ratios): ${met ? 'met' : 'NOT met'}\n`;
  process.stdout.write(`${report}\n`);
  mkdirSync(join(root, 'bench-output'), { recursive: true });
  writeFileSync(join(root, 'bench-output', 'startup.md'), report);
}
