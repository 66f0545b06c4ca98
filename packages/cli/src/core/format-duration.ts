/**
 * A duration the way the flags take it: `1h`, `5m`, `30s`, `250ms` (the largest unit that divides
 * it exactly), so what the banner and the messages print can be pasted back into a flag.
 */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
