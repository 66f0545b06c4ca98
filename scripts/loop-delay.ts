/**
 * The measuring side of scripts/loop-delay-probe.mjs: start a child with the probe preloaded,
 * then ask it for the event-loop delay of each window.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './bench-kit.js';

/** The node flags that preload the probe; pass LOOP_DELAY_PROBE_FILE in the child's env too. */
export const LOOP_DELAY_PROBE_ARGS = ['--import', join(root, 'scripts/loop-delay-probe.mjs')] as const;

/** One window's event-loop delay in the server, in ms beyond the sampling resolution. */
export interface LoopDelayWindow {
  window: number;
  /** How long the window lasted, in ms. */
  ms: number;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  resolutionMs: number;
  /** The share of the window the main thread was working rather than waiting (event-loop utilization, 0-1). */
  busy: number;
  /** The main thread's fs.fdatasync calls in the window (what the store's acknowledgements wait for), in ms. */
  syncs?: { count: number; p50: number; p99: number; max: number; totalMs: number };
}

function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/**
 * Ends the probe's current window in process `pid` (SIGUSR2) and resolves with its numbers, or
 * null when the process did not answer within `timeoutMs` (it exited, or its loop is stuck that
 * long, which the caller reports rather than waits for).
 */
export async function loopDelayWindow(pid: number, file: string, timeoutMs = 5_000): Promise<LoopDelayWindow | null> {
  const before = lines(file).length;
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return null;
  }
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const now = lines(file);
    if (now.length > before) return JSON.parse(now[now.length - 1] as string) as LoopDelayWindow;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return null;
}
