import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import { Notifier } from '../core/notifier.js';
import { RejectionBodyBudget } from '../core/rejection-budget.js';
import { FakeClock } from '../testing/fake-clock.js';
import { Receiver } from './receiver.js';

describe('receiver: a flood of refusals', () => {
  it('keeps every refusal, but past the budget without its body (no hash, no excerpt), and says so', async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 6, 7, 0, 0));
    const store = new MemoryEventStore({ maxRejections: 100 });
    const receiver = new Receiver({
      store,
      notifier: new Notifier(),
      clock,
      policy: {
        mode: 'signature',
        modeSource: 'configured',
        webhookSecrets: ['c2VjcmV0'],
        toleranceSec: 300,
        allowLive: false,
      },
      rejectionBodyBudget: new RejectionBodyBudget({ clock, perSecond: 1, burst: 2 }),
    });
    const forged = (n: number) => ({
      method: 'POST',
      path: '/omise/webhook',
      headers: [
        ['Omise-Signature', 'ab'.repeat(32)] as const,
        ['Omise-Signature-Timestamp', String(clock.now() / 1000)] as const,
      ],
      body: new TextEncoder().encode(`{"object": "event", "n": ${n}}`),
      remoteAddress: '127.0.0.1',
    });
    for (let n = 1; n <= 3; n += 1) assert.equal((await receiver.handleWebhook(forged(n))).status, 401);
    clock.advance(1000);
    assert.equal((await receiver.handleWebhook(forged(4))).status, 401);

    const kept = (await store.listRejections({ limit: 10 })).items.reverse();
    assert.deepEqual(
      kept.map((r) => [Buffer.from(r.body).toString('utf8'), r.bodySize, r.bodySha256 === null]),
      [
        ['{"object": "event", "n": 1}', 27, false],
        ['{"object": "event", "n": 2}', 27, false],
        ['', 27, true],
        ['{"object": "event", "n": 4}', 27, false],
      ],
    );
    assert.match(kept[2]?.reason ?? '', / \(body not kept: more than 1 refused requests a second; size kept\)$/);
    assert.doesNotMatch(kept[3]?.reason ?? '', /body not kept/);
    assert.equal(kept[2]?.code, 'no_signature_matched');
  });
});
