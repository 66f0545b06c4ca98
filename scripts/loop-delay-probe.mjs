// A preload for a server under measurement: `node --import ./scripts/loop-delay-probe.mjs <app>`.
//
// It watches the process's event loop with perf_hooks.monitorEventLoopDelay and, each time the
// process gets SIGUSR2, appends one JSON line to LOOP_DELAY_PROBE_FILE describing the window since
// the previous signal (or since start), then starts a new window. The measuring side decides the
// windows (one per sample of a soak, one per rate of a benchmark), so nothing has to merge
// percentiles afterwards; the app itself needs no change.
//
// A line: {"window":3,"ms":10002.1,"count":950,"p50":0.4,"p90":1.1,"p99":4.9,"max":12.3,"mean":0.6,
//          "resolutionMs":10,"busy":0.41,"syncs":{"count":480,"p50":0.3,"p99":2.1,"max":4.0,"totalMs":190}}
// (`syncs` only when the process called fs.fdatasync in the window; see below.)
// Delays are in milliseconds: how late the probe's timer ran, i.e. how long the loop was busy
// beyond the sampling resolution (Node's histogram records the whole interval; the resolution is
// subtracted here). `busy` is the share of the window the main thread spent working rather than
// waiting for I/O (performance.eventLoopUtilization): how close its loop is to saturation.
//
// Without LOOP_DELAY_PROBE_FILE the module does nothing, so a leaked NODE_OPTIONS cannot change
// an unrelated process.
import fs, { appendFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const file = process.env.LOOP_DELAY_PROBE_FILE;
// Worker threads inherit --import, but signals reach only the main thread: measure there only.
if (file && isMainThread) {
  const resolutionMs = Number(process.env.LOOP_DELAY_PROBE_RESOLUTION_MS ?? 10);
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let window = 0;
  let since = performance.now();
  let utilization = performance.eventLoopUtilization();

  // The store acknowledges a webhook once fs.fdatasync of its write-ahead log returns. Wrapping
  // fdatasync (and updating the ESM named exports, which the store imports, before the app loads)
  // times each sync without touching the app. Only the main thread's syncs are seen.
  let syncs = [];
  const originalFdatasync = fs.fdatasync;
  fs.fdatasync = function timedFdatasync(fd, callback) {
    const started = performance.now();
    return originalFdatasync.call(fs, fd, (error) => {
      if (syncs.length < 1_000_000) syncs.push(performance.now() - started);
      callback(error);
    });
  };
  syncBuiltinESMExports();
  const at = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const round = (value) => Math.round(value * 100) / 100;
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
      busy: round(performance.eventLoopUtilization(utilization).utilization),
    };
    utilization = performance.eventLoopUtilization();
    if (syncs.length > 0) {
      const sorted = syncs.sort((a, b) => a - b);
      line.syncs = {
        count: sorted.length,
        p50: round(at(sorted, 50)),
        p99: round(at(sorted, 99)),
        max: round(sorted[sorted.length - 1]),
        totalMs: round(sorted.reduce((sum, value) => sum + value, 0)),
      };
      syncs = [];
    }
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    histogram.reset();
    since = now;
  });
}
