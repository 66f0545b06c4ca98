import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flakyAnswer, GROWTH_RULE, growthVerdict, runSoak, soakOptionsFrom } from './soak.js';

test('growthVerdict compares the last quarter with the second, leaving out the warm-up quarter', () => {
  // Warm-up 10 → 50, then flat at 100 with noise: flat.
  const flat = [10, 30, 50, 100, 102, 101, 101, 100, 98, 103, 100, 99];
  assert.deepEqual(growthVerdict('fds', flat, 5), {
    metric: 'fds',
    secondQuarterMean: 101,
    lastQuarterMean: 100.66666666666667,
    limit: 101 * GROWTH_RULE.ratio + 5,
    ok: true,
  });
  // A steady climb of 10 per sample: the last quarter (200, 210, 220) is past 140 × 1.1 + 5.
  const climbing = Array.from({ length: 12 }, (_, i) => 110 + 10 * i);
  const verdict = growthVerdict('fds', climbing, 5);
  assert.equal(verdict?.secondQuarterMean, 150);
  assert.equal(verdict?.lastQuarterMean, 210);
  assert.equal(verdict?.ok, false);
  assert.equal(growthVerdict('fds', climbing.slice(0, GROWTH_RULE.minSamples - 1), 5), null);
});

test('the flaky target fails an event at most twice, so a retry schedule of five always gets through', () => {
  const answers = new Map<string, number>();
  for (let i = 0; i < 20_000; i += 1) {
    const id = `evnt_test_soak${i.toString(36)}`;
    assert.equal(flakyAnswer(id, 3), 'ok', id);
    const first = flakyAnswer(id, 1);
    answers.set(first, (answers.get(first) ?? 0) + 1);
  }
  // About 2.2 % 503, 0.5 % dropped, 0.1 % past the timeout, 1.2 % slow (deterministic for these ids).
  const share = (answer: string) => (answers.get(answer) ?? 0) / 20_000;
  assert.ok(share('status503') > 0.015 && share('status503') < 0.03, `503: ${share('status503')}`);
  assert.ok(share('destroy') > 0.002 && share('destroy') < 0.01, `destroy: ${share('destroy')}`);
  assert.ok(share('hang') > 0 && share('hang') < 0.003, `hang: ${share('hang')}`);
  assert.ok(share('slow') > 0.007 && share('slow') < 0.02, `slow: ${share('slow')}`);
});

test('soak options: flags win over variables, --seconds over --minutes, and a bad value names its flag', () => {
  assert.deepEqual(soakOptionsFrom(['--minutes', '60'], {}), {
    seconds: 3600,
    rate: 50,
    sampleEverySeconds: 10,
    reportEverySeconds: 300,
    serveArgs: [],
  });
  assert.deepEqual(
    soakOptionsFrom(['--seconds', '20', '--rate', '80'], {
      OMISE_WEBHOOK_SOAK_MINUTES: '5',
      OMISE_WEBHOOK_SOAK_RATE: '10',
      OMISE_WEBHOOK_SOAK_SERVE_ARGS: '--no-files  --no-ui',
    }),
    { seconds: 20, rate: 80, sampleEverySeconds: 1, reportEverySeconds: 5, serveArgs: ['--no-files', '--no-ui'] },
  );
  assert.equal(soakOptionsFrom(['--help'], {}), 'help');
  assert.throws(() => soakOptionsFrom([], { OMISE_WEBHOOK_SOAK_RATE: 'fast' }), {
    message: '--rate (or OMISE_WEBHOOK_SOAK_RATE) got "fast"; expected a number above 0, e.g. --rate 10',
  });
});

test('a 20-second soak of serve: nothing acknowledged is lost, every event is forwarded, statuses are exact', async () => {
  const result = await runSoak({
    seconds: 20,
    rate: 50,
    sampleEverySeconds: 1,
    reportEverySeconds: 5,
    serveArgs: [],
    progress: () => {},
  });
  assert.deepEqual(result.failures, [], result.report);
  assert.match(result.report, /shown, not judged: a load under 5 minutes is warm-up/);
  // 50/s for 20 s from the paced client, plus the duplicates (same ids).
  assert.equal(result.acknowledged, 1000, result.report);
  assert.equal(result.stored, 1000);
  assert.equal(result.forwarded, 1000);
  assert.deepEqual(Object.keys(result.statuses.valid ?? {}), ['200']);
  assert.deepEqual(Object.keys(result.statuses.unsigned ?? {}), ['401']);
  assert.deepEqual(Object.keys(result.statuses.forged ?? {}), ['401']);
  assert.deepEqual(Object.keys(result.statuses.malformed ?? {}), ['400']);
  assert.deepEqual(Object.keys(result.statuses.oversized ?? {}), ['413']);
  assert.deepEqual(Object.keys(result.statuses.duplicate ?? {}), ['200']);
  assert.ok((result.statuses.slow?.['408'] ?? 0) + (result.statuses.slow?.['0'] ?? 0) === 5, result.report);
  // One sample a second while the load ran; the probe answers unless serve's loop was stuck for 5 s.
  assert.ok(result.samples.length >= 15, `${result.samples.length} samples`);
  assert.ok(result.samples.every((s) => s.rssBytes !== null && s.fds !== null));
  assert.ok(result.samples.filter((s) => s.loop !== null).length >= 10);
});
