import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { EventStore, ForwardJob } from '../../core/ports.js';
import { makeDelivery, makeForwardAttempt } from '../../testing/delivery-fixtures.js';
import type { StoreFactory } from './store-contract-kit.js';

const T0 = Date.UTC(2026, 10, 26, 7, 0, 0);
const A = 'http://127.0.0.1:8081/a';
const B = 'http://127.0.0.1:8082/b';

/** The forward queue: jobs queued with their event, claimed in order per target, retried, failed, re-queued. */
export function describeForwardQueueContract(name: string, factory: StoreFactory): void {
  describe(`ForwardQueue contract: ${name}`, () => {
    after(async () => {
      await factory.cleanup?.();
    });

    const claim = (store: EventStore, now = T0, maxInFlightPerTarget = 10) =>
      store.claimDueForwards({ now, maxInFlightPerTarget });
    const ids = (jobs: Array<{ eventId: string; target: string }>) => jobs.map((j) => `${j.eventId}>${j.target}`);

    it('queues jobs in the same write as a new event, never for a duplicate, and claims them in order', async () => {
      const store = await factory.open();
      const deliveries = [0, 1, 2].map(() =>
        makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A, B] }),
      );
      for (const d of deliveries) await store.recordDelivery(d);
      await store.recordDelivery(deliveries[0] as (typeof deliveries)[number]);
      const [first, second, third] = deliveries.map((d) => d.eventId) as [string, string, string];
      assert.deepEqual(
        (await store.listForwardJobs(first)).map((j) => [j.target, j.state, j.attempts]),
        [
          [A, 'pending', 0],
          [B, 'pending', 0],
        ],
      );
      const claimed = await claim(store, T0, 2);
      assert.deepEqual(ids(claimed.jobs), [`${first}>${A}`, `${second}>${A}`, `${first}>${B}`, `${second}>${B}`]);
      assert.equal(claimed.nextDueAt, null);
      // In flight: not claimed twice; the window is full until one is recorded.
      assert.deepEqual((await claim(store, T0, 2)).jobs, []);
      const firstA = claimed.jobs[0] as (typeof claimed.jobs)[number];
      const recorded = await store.recordForwardAttempt(makeForwardAttempt(firstA));
      assert.equal(recorded.outcome, 'delivered');
      assert.deepEqual(ids((await claim(store, T0, 2)).jobs), [`${third}>${A}`]);
      assert.equal((await store.listForwardJobs(first))[0]?.state, 'delivered');
      await store.close();
    });

    it('does not let later events overtake one that waits for a retry, then probes with it alone', async () => {
      const store = await factory.open();
      const deliveries = [0, 1, 2].map(() =>
        makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] }),
      );
      for (const d of deliveries) await store.recordDelivery(d);
      const other = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [B] });
      await store.recordDelivery(other);
      const [head] = (await claim(store, T0, 1)).jobs;
      assert.ok(head && head.target === A);
      const retry = await store.recordForwardAttempt(
        makeForwardAttempt(head, {
          status: 503,
          outcome: 'retry',
          reason: '503 from the target',
          nextAttemptAt: T0 + 5000,
          responseExcerpt: Buffer.from('down for maintenance'),
        }),
      );
      assert.equal(retry.nextAttemptAt, new Date(T0 + 5000).toISOString());
      const blocked = await claim(store, T0 + 1000, 10);
      assert.deepEqual(
        ids(blocked.jobs).filter((id) => id.endsWith(A)),
        [],
        'nothing goes to A before its head is due',
      );
      assert.equal(blocked.nextDueAt, T0 + 5000);
      const probe = await claim(store, T0 + 5000, 10);
      assert.deepEqual(ids(probe.jobs), [`${deliveries[0]?.eventId}>${A}`], 'the failed one alone, as a probe');
      const probeJob = probe.jobs[0] as (typeof probe.jobs)[number];
      assert.equal(probeJob.attempts, 1);
      assert.equal(probeJob.attemptsInPlan, 1);
      await store.recordForwardAttempt(makeForwardAttempt(probeJob));
      assert.deepEqual(ids((await claim(store, T0 + 5000, 10)).jobs), [
        `${deliveries[1]?.eventId}>${A}`,
        `${deliveries[2]?.eventId}>${A}`,
      ]);
      const attempts = await store.listForwardAttempts(deliveries[0]?.eventId as string);
      assert.deepEqual(
        attempts.map((a) => [a.attempt, a.status, a.outcome]),
        [
          [1, 503, 'retry'],
          [2, 200, 'delivered'],
        ],
      );
      assert.equal(Buffer.from(attempts[0]?.responseExcerpt as Uint8Array).toString(), 'down for maintenance');
      await store.close();
    });

    it('lets nothing overtake a job that failed while later ones were in flight', async () => {
      const store = await factory.open();
      const queue = [0, 1, 2].map(() => makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] }));
      for (const d of queue) await store.recordDelivery(d);
      const [first, second, third] = (await claim(store, T0, 3)).jobs;
      assert.ok(first && second && third);
      await store.recordForwardAttempt(
        makeForwardAttempt(first, { status: 503, outcome: 'retry', reason: '503', nextAttemptAt: T0 + 5000 }),
      );
      const late = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] });
      await store.recordDelivery(late);
      assert.deepEqual(await claim(store, T0, 3), { jobs: [], nextDueAt: T0 + 5000 });
      await store.recordForwardAttempt(makeForwardAttempt(second));
      await store.recordForwardAttempt(makeForwardAttempt(third));
      assert.deepEqual(await claim(store, T0 + 4999, 3), { jobs: [], nextDueAt: T0 + 5000 });
      assert.deepEqual(ids((await claim(store, T0 + 5000, 3)).jobs), [`${queue[0]?.eventId}>${A}`]);
      await store.close();
    });

    it('keeps failed jobs in a list and re-queues one at the back with a fresh plan', async () => {
      const store = await factory.open();
      const d1 = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] });
      const d2 = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] });
      await store.recordDelivery(d1);
      await store.recordDelivery(d2);
      const [job] = (await claim(store, T0, 1)).jobs;
      assert.ok(job);
      await store.recordForwardAttempt(
        makeForwardAttempt(job, {
          status: null,
          responseExcerpt: null,
          error: 'connect ECONNREFUSED 127.0.0.1:8081',
          outcome: 'failed',
          reason: 'connect ECONNREFUSED 127.0.0.1:8081; gave up after 1 attempt (--retry-schedule)',
        }),
      );
      const failed = await store.listFailedForwards();
      assert.deepEqual(
        failed.map((j) => [j.eventId, j.state, j.attempts, j.lastError]),
        [[d1.eventId, 'failed', 1, 'connect ECONNREFUSED 127.0.0.1:8081; gave up after 1 attempt (--retry-schedule)']],
      );
      assert.equal(await store.retryFailedForward(job.id + 1000, T0), undefined, 'unknown job');
      const requeued = await store.retryFailedForward(job.id, T0 + 60_000);
      assert.equal(requeued?.state, 'pending');
      assert.equal(requeued?.attempts, 1);
      assert.equal(requeued?.attemptsInPlan, 0);
      assert.deepEqual(await store.listFailedForwards(), []);
      assert.equal(await store.retryFailedForward(job.id, T0), undefined, 'only a failed job can be re-queued');
      // Behind d2, which was queued after it originally.
      assert.deepEqual(ids((await claim(store, T0 + 60_000)).jobs), [`${d2.eventId}>${A}`, `${d1.eventId}>${A}`]);
      await store.close();
    });

    describe('jobs handed over at commit (claimedForwards)', () => {
      /** Records with an onCommitted listener, as serve does, and returns what it was handed. */
      const recordWithListener = async (store: EventStore, targets: string[]) => {
        const delivery = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: targets });
        let handed: ForwardJob[] | undefined;
        await store.recordDelivery(delivery, { onCommitted: (result) => (handed = result.claimedForwards) });
        return { eventId: delivery.eventId, handed: handed ?? [] };
      };

      it('are never claimed again; the rest are claimed as usual, each job exactly once', async () => {
        const store = await factory.open();
        assert.deepEqual((await claim(store)).jobs, [], 'the forwarder starts with a claim');
        const first = await recordWithListener(store, [A, B]);
        const second = await recordWithListener(store, [A]);
        const claimed = await claim(store);
        const all = [...ids(first.handed), ...ids(second.handed), ...ids(claimed.jobs)].sort();
        assert.deepEqual(all, [`${first.eventId}>${A}`, `${first.eventId}>${B}`, `${second.eventId}>${A}`].sort());
        assert.deepEqual((await claim(store)).jobs, []);
        await store.close();
      });

      it('never overtake a job waiting for its retry, nor exceed the window', async () => {
        const store = await factory.open();
        await claim(store, T0, 1);
        const first = await recordWithListener(store, [A]);
        const [job] = first.handed.length > 0 ? first.handed : (await claim(store, T0, 1)).jobs;
        assert.ok(job);
        const full = await recordWithListener(store, [A]);
        assert.deepEqual(full.handed, [], 'the window of 1 is taken by the first job');
        await store.recordForwardAttempt(
          makeForwardAttempt(job, { status: 503, outcome: 'retry', reason: '503', nextAttemptAt: T0 + 5_000 }),
        );
        const behindRetry = await recordWithListener(store, [A]);
        assert.deepEqual(behindRetry.handed, [], 'nothing overtakes the job waiting for its retry');
        assert.deepEqual((await claim(store, T0 + 1_000, 1)).jobs, [], 'not due yet, and nothing overtakes it');
        assert.deepEqual(ids((await claim(store, T0 + 5_000, 1)).jobs), [`${first.eventId}>${A}`]);
        await store.close();
      });
    });

    it('holds jobs of a pending event until it is verified, and cancels them when it fails', async () => {
      const store = await factory.open();
      const pending = { mode: 'api' as const, status: 'pending' as const, reason: 'API down', apiAttempts: 1 };
      const good = makeDelivery({ forwardTargets: [A], verification: pending });
      const bad = makeDelivery({ forwardTargets: [A], verification: pending });
      await store.recordDelivery(good);
      await store.recordDelivery(bad);
      assert.equal((await store.listForwardJobs(good.eventId))[0]?.state, 'held');
      assert.deepEqual((await claim(store)).jobs, []);
      await store.updateVerification(good.eventId, { mode: 'api', status: 'verified', reason: 'ok', apiAttempts: 2 });
      await store.updateVerification(bad.eventId, { mode: 'api', status: 'failed', reason: 'unknown', apiAttempts: 2 });
      assert.equal((await store.listForwardJobs(bad.eventId))[0]?.state, 'cancelled');
      assert.deepEqual(
        (await store.claimDueForwards({ now: T0, maxInFlightPerTarget: 10, targets: [B] })).jobs,
        [],
        'only the targets asked for',
      );
      assert.deepEqual(ids((await claim(store)).jobs), [`${good.eventId}>${A}`]);
      await store.close();
    });

    it('queues a stored event by hand and records replays without a job', async () => {
      const store = await factory.open();
      const d = makeDelivery();
      await store.recordDelivery(d);
      await assert.rejects(store.enqueueForwards('evnt_test_nosuchevent', [A], T0), /evnt_test_nosuchevent/);
      const [job] = await store.enqueueForwards(d.eventId, [B], T0);
      assert.equal(job?.state, 'pending');
      assert.deepEqual(ids((await claim(store)).jobs), [`${d.eventId}>${B}`]);
      const replay = await store.recordForwardAttempt({
        ...makeForwardAttempt({ id: 0, eventId: d.eventId, target: A, attempts: 0 }),
        jobId: null,
        kind: 'replay',
        replayMode: 'resigned',
        status: 401,
        outcome: 'failed',
        responseTruncated: true,
      });
      assert.equal(replay.jobId, null);
      const [stored] = await store.listForwardAttempts(d.eventId);
      assert.equal(stored?.kind, 'replay');
      assert.equal(stored?.replayMode, 'resigned');
      assert.equal(stored?.responseTruncated, true);
      assert.equal(stored?.latencyMs, 1.5);
      assert.equal(stored?.seq, replay.seq);
      await store.close();
    });

    if (factory.reopen) {
      const reopen = factory.reopen.bind(factory);
      it('keeps jobs and attempts across a restart, and re-sends what was in flight', async () => {
        let store = await factory.open();
        const d1 = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [A] });
        const d2 = makeDelivery({ receivedAt: new Date(T0).toISOString(), forwardTargets: [B] });
        await store.recordDelivery(d1);
        await store.recordDelivery(d2);
        const claimed = (await claim(store)).jobs;
        const jobA = claimed.find((j) => j.target === A);
        assert.ok(jobA);
        await store.recordForwardAttempt(
          makeForwardAttempt(jobA, { status: 500, outcome: 'retry', reason: '500', nextAttemptAt: T0 + 30_000 }),
        );
        store = await reopen(store);
        const after = await claim(store, T0 + 1);
        assert.deepEqual(ids(after.jobs), [`${d2.eventId}>${B}`], 'the in-flight job to B is claimable again');
        assert.equal(after.nextDueAt, T0 + 30_000);
        assert.deepEqual(
          (await store.listForwardAttempts(d1.eventId)).map((a) => [a.attempt, a.status, a.nextAttemptAt]),
          [[1, 500, new Date(T0 + 30_000).toISOString()]],
        );
        await store.close();
      });
    }
  });
}
