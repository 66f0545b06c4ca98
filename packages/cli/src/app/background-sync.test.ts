import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startFakeOmise } from '../adapters/fake-omise/fake-omise-server.js';
import { startupBanner } from '../cli/commands/serve.js';
import { runCli, testCliContext } from '../testing/run-cli.js';
import { startTargetServer } from '../testing/target-server.js';
import { startTestServer } from '../testing/test-server.js';

const SECRET_KEY = 'skey_test_5backgroundsync';

describe('serve --sync', () => {
  it('fetches missed events at start, reports them, checkpoints, and fetches new ones on the next run', async () => {
    const fake = await startFakeOmise({ secretKey: SECRET_KEY });
    const seeded = fake.seedEvents(5);
    const server = await startTestServer({
      secretKey: SECRET_KEY,
      apiUrl: fake.url,
      syncIntervalMs: 60_000,
      verify: 'none',
    });
    try {
      assert.ok(server.sync, 'the background sync runs');
      await server.sync.idle();
      for (const id of seeded) {
        const stored = await server.store.getEvent(id);
        assert.equal(stored?.origin, 'sync');
        assert.equal(Buffer.from(stored.body).toString('utf8'), fake.eventText(id));
      }
      assert.equal(
        server.stderr.text,
        "omise-webhook: sync stored 5 event(s) from the Omise API that were not here (Omise's delivery log: 2 delivered, 2 failed, 1 never delivered)\n",
      );
      // Synced events go through the notifier like received ones: console lines and files.
      assert.equal(server.stdout.lines.length, 5);
      await server.mirror?.idle();
      assert.ok(existsSync(join(server.config.logDir, 'api', 'event', `${seeded[0]}.json`)));
      assert.ok(existsSync(join(server.config.logDir, 'sync-checkpoint.json')));
      assert.match(
        startupBanner(server, testCliContext()),
        new RegExp(`\\nsync: every 1m, events missing here are fetched from ${fake.url}/events and stored\\n`),
      );

      const missed = fake.simulateEvent('dispute.create');
      const next = await server.sync.runOnce();
      assert.equal(next?.newEvents.length, 1);
      assert.equal(next?.newEvents[0]?.eventId, missed);
      assert.equal(next?.startedFrom, 'checkpoint');
    } finally {
      await server.close();
      await fake.close();
    }
  });

  it('forwards synced events to the developer’s app, byte for byte, like received ones', {
    timeout: 15_000,
  }, async () => {
    const fake = await startFakeOmise({ secretKey: SECRET_KEY });
    const target = await startTargetServer();
    const seeded = fake.seedEvents(3);
    const server = await startTestServer({
      secretKey: SECRET_KEY,
      apiUrl: fake.url,
      syncIntervalMs: 60_000,
      verify: 'none',
      forwardTo: [target.url],
    });
    try {
      await server.sync?.idle();
      const received = await target.waitForRequests(3);
      assert.deepEqual(
        received.map((request) => request.body.toString('utf8')).sort(),
        seeded.map((id) => fake.eventText(id)).sort(),
      );
    } finally {
      await server.close();
      await target.close();
      await fake.close();
    }
  });

  it('without OMISE_SECRET_KEY the banner says sync is off and why', async () => {
    const server = await startTestServer({ syncIntervalMs: 300_000 });
    try {
      assert.equal(server.sync, null);
      assert.match(
        startupBanner(server, testCliContext()),
        /\nsync: OFF: --sync needs your secret key to read the Omise Events API; set OMISE_SECRET_KEY=skey_test_\.\.\. in \.env\n/,
      );
    } finally {
      await server.close();
    }
  });

  it('an unreachable API is reported, and serving goes on', async () => {
    const server = await startTestServer({
      secretKey: SECRET_KEY,
      apiUrl: 'http://127.0.0.1:1',
      syncIntervalMs: 60_000,
      verify: 'none',
    });
    try {
      await server.sync?.idle();
      assert.match(
        server.stderr.text,
        /^omise-webhook: sync failed: could not reach the Omise API at http:\/\/127\.0\.0\.1:1 .*; trying again in 1m\n$/,
      );
    } finally {
      await server.close();
    }
  });

  it('--sync has a variable and takes a duration', async () => {
    const help = await runCli(['serve', '--help']);
    assert.match(help.stdout.replace(/\s+/g, ' '), /--sync <interval> [^[]*\[env: OMISE_WEBHOOK_SYNC\]/);
    const bad = await runCli(['serve', '--sync', 'often']);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'omise-webhook: --sync (OMISE_WEBHOOK_SYNC) got "often"; expected a duration like 500ms, 10s, 2m, 1h or 7d\n',
    );
  });
});
