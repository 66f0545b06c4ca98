// A preload for a server under measurement: `node --import ./scripts/loop-delay-probe.mjs <app>`.
//
// It watches the process's event loop with perf_hooks.monitorEventLoopDelay and, each time the
// process gets SIGUSR2, appends one JSON line to LOOP_DELAY_PROBE_FILE describing the window since
// the previous signal (or since start), then starts a new window. The measuring side decides the
// windows (one per sample of a soak, one per rate of a benchmark), so nothing has to merge
// percentiles afterwards; the app itself needs no change.
//
// A line: {"window":3,"ms":10002.1,"count":950,"p50":0.4,"p90":1.1,"p99":4.9,"max":12.3,"mean":0.6,
//          "resolutionMs":10}
// Delays are in milliseconds: how late the probe's timer ran, i.e. how long the loop was busy
// beyond the sampling resolution (Node's histogram records the whole interval; the resolution is
// subtracted here).
//
// Without LOOP_DELAY_PROBE_FILE the module does nothing, so a leaked NODE_OPTIONS cannot change
// an unrelated process.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.LOOP_DELAY_PROBE_FILE;
if (file) {
  const resolutionMs = Number(process.env.LOOP_DELAY_PROBE_RESOLUTION_MS ?? 10);
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let window = 0;
  let since = performance.now();
  const delay = (ns) => Math.round(Math.max(0, ns / 1e6 - resolutionMs) * 100) / 100;
  process.on('SIGUSR2', () => {
    window += 1;
    const now = performance.now();
    const empty = histogram.count === 0;
    const line = {
      window,
      ms: Math.round((now - since) * 10) / 10,
      count: histogram.count,
      p50: empty ? 0 : delay(histogram.percentile(50)),
      p90: empty ? 0 : delay(histogram.percentile(90)),
      p99: empty ? 0 : delay(histogram.percentile(99)),
      max: empty ? 0 : delay(histogram.max),
      mean: empty ? 0 : delay(histogram.mean),
      resolutionMs,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    histogram.reset();
    since = now;
  });
}
