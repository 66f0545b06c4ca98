import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningFakeOmise, startFakeOmise } from '../../adapters/fake-omise/fake-omise-server.js';
import { SqliteEventStore } from '../../adapters/store/sqlite-event-store.js';
import type { StoredEvent } from '../../core/ports.js';
import { seededIdSource } from '../../core/simulate/ids.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { runCli } from '../../testing/run-cli.js';
import { TEST_WEBHOOK_SECRET } from '../../testing/signing.js';
import { startTestServer, temporaryDirectory } from '../../testing/test-server.js';

const SECRET_KEY = 'skey_test_5synctests';
const SEEDED = 260;

async function storedEvents(logDir: string): Promise<StoredEvent[]> {
  const store = new SqliteEventStore({ filename: join(logDir, 'omise-webhook.sqlite'), maxRejections: 10 });
  try {
    const events: StoredEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listEvents({ limit: 500, ...(cursor ? { cursor } : {}) });
      events.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return events;
  } finally {
    await store.close();
  }
}

/** A fetch that aborts the run when `when` says so, before sending that request. */
function abortingFetch(
  controller: AbortController,
  when: (url: URL, counts: { lists: number; gets: number }) => boolean,
) {
  const counts = { lists: 0, gets: 0 };
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    if (url.pathname === '/events') counts.lists += 1;
    else if (url.pathname.startsWith('/events/')) counts.gets += 1;
    if (when(url, counts)) controller.abort();
    return fetch(input, init);
  };
  return wrapped;
}

describe('sync: more than 250 events from the fake Omise API', () => {
  let fake: RunningFakeOmise;
  let seeded: string[];
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 8, 0, 0));
  let env: Record<string, string>;
  before(async () => {
    fake = await startFakeOmise({ secretKey: SECRET_KEY, clock, ids: seededIdSource('sync') });
    seeded = fake.seedEvents(SEEDED);
    env = { OMISE_SECRET_KEY: SECRET_KEY, OMISE_API_URL: fake.url };
  });
  after(() => fake.close());

  it('pages through every event, stores each with Omise’s exact text, and reports each delivery log', async () => {
    const logDir = temporaryDirectory();
    const requestsBefore = fake.requests.length;
    const result = await runCli(['sync', '--log-dir', logDir], { env, clock });
    assert.equal(result.code, 0, result.stderr);

    const requests = fake.requests.slice(requestsBefore);
    const lists = requests.filter((request) => request.startsWith('GET /events?'));
    assert.deepEqual(
      lists.map((request) => new URLSearchParams(request.slice('GET /events?'.length)).get('offset')),
      ['0', '100', '200'],
    );
    for (const list of lists) {
      const params = new URLSearchParams(list.slice('GET /events?'.length));
      assert.equal(params.get('limit'), '100');
      assert.equal(params.get('order'), 'chronological');
      assert.equal(params.get('from'), '1970-01-01T00:00:00Z');
      assert.equal(params.get('to'), '2026-06-01T08:00:00Z');
    }
    assert.equal(requests.filter((request) => /^GET \/events\/evnt_/.test(request)).length, SEEDED);

    const events = await storedEvents(logDir);
    assert.equal(events.length, SEEDED);
    for (const event of events) {
      assert.equal(Buffer.from(event.body).toString('utf8'), fake.eventText(event.eventId), 'the API’s exact text');
      assert.equal(event.origin, 'sync');
      assert.equal(event.deliveryCount, 1);
      assert.deepEqual(event.headers, []);
      assert.equal(event.verification.mode, 'api');
      assert.equal(event.verification.status, 'verified');
      assert.equal(
        event.verification.reason,
        `fetched from the Omise API (GET ${fake.url}/events/${event.eventId}) by sync; it was not received as a webhook`,
      );
    }

    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, SEEDED + 2);
    const expectedText = ['delivered 200', 'failed 500', 'never delivered'];
    seeded.forEach((id, index) => {
      assert.ok(lines[index]?.startsWith(`${id}  `), `line ${index} is ${id}, oldest first`);
      assert.ok(lines[index]?.endsWith(`  ${expectedText[index % 3]}`), lines[index]);
    });
    assert.equal(
      lines[SEEDED],
      `synced ${fake.url}/events from 1970-01-01T00:00:00Z to 2026-06-01T08:00:00Z: 260 event(s) in 3 page(s); 260 new, 0 already stored`,
    );
    assert.equal(
      lines[SEEDED + 1],
      "Omise's delivery log for the new events: 87 delivered, 87 failed, 86 never delivered",
    );
    assert.equal(
      result.stderr,
      [
        `syncing ${fake.url}/events from the beginning: the first sync for this store (limit it with --since) into ${logDir}`,
        'page 1/3: 100/260 events looked at, 100 new',
        'page 2/3: 200/260 events looked at, 200 new',
        'page 3/3: 260/260 events looked at, 260 new',
        '',
      ].join('\n'),
    );
    const file = join(logDir, 'api', 'event', `${seeded[0]}.json`);
    assert.ok(existsSync(file), 'the seed-compatible file is written');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), JSON.parse(fake.eventText(seeded[0] as string) as string));

    // Run again: nothing new, nothing counted twice, and only the last second is looked at again.
    const again = await runCli(['sync', '--log-dir', logDir], { env, clock });
    assert.equal(again.code, 0, again.stderr);
    const lastCreatedAt = JSON.parse(fake.eventText(seeded.at(-1) as string) as string).created_at;
    assert.equal(
      again.stdout,
      `synced ${fake.url}/events from ${lastCreatedAt} to 2026-06-01T08:00:00Z: 1 event(s) in 1 page(s); 0 new, 1 already stored\n`,
    );
    assert.match(again.stderr, new RegExp(`since ${lastCreatedAt} \\(where the last sync got to\\)`));
    assert.ok((await storedEvents(logDir)).every((event) => event.deliveryCount === 1));
  });

  it('resumes after an interruption between pages, storing each event once', async () => {
    const logDir = temporaryDirectory();
    const controller = new AbortController();
    const interrupted = await runCli(['sync', '--log-dir', logDir], {
      env,
      clock,
      signal: controller.signal,
      fetch: abortingFetch(controller, (_url, counts) => counts.lists === 2),
    });
    assert.equal(interrupted.code, 130);
    const checkpoint = JSON.parse(fake.eventText(seeded[99] as string) as string).created_at;
    assert.match(
      interrupted.stderr,
      new RegExp(
        `omise-webhook: sync interrupted after 100 of 260 event\\(s\\); 100 new event\\(s\\) were stored\\. Run \`omise-webhook sync\` again to resume from ${checkpoint}\\.\\n$`,
      ),
    );
    assert.equal((await storedEvents(logDir)).length, 100);

    const resumed = await runCli(['sync', '--log-dir', logDir], { env, clock });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /: 161 event\(s\) in 2 page\(s\); 160 new, 1 already stored\n/);
    const events = await storedEvents(logDir);
    assert.deepEqual(events.map((event) => event.eventId).sort(), [...seeded].sort());
    assert.ok(events.every((event) => event.deliveryCount === 1));
  });

  it('resumes after an interruption in the middle of a page', async () => {
    const logDir = temporaryDirectory();
    const controller = new AbortController();
    const interrupted = await runCli(['sync', '--log-dir', logDir], {
      env,
      clock,
      signal: controller.signal,
      fetch: abortingFetch(controller, (_url, counts) => counts.gets === 150),
    });
    assert.equal(interrupted.code, 130);
    const kept = (await storedEvents(logDir)).length;
    assert.ok(kept > 100 && kept < 150, `stored ${kept} before stopping`);
    const resumed = await runCli(['sync', '--log-dir', logDir], { env, clock });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`; ${SEEDED - kept} new, 1 already stored\\n`));
    const events = await storedEvents(logDir);
    assert.equal(events.length, SEEDED);
    assert.ok(events.every((event) => event.deliveryCount === 1));
  });

  it('an API outage mid-way stops with Omise’s message, keeps what was stored, and the next run carries on', async () => {
    const logDir = temporaryDirectory();
    const controller = new AbortController();
    const failing = await runCli(['sync', '--log-dir', logDir], {
      env,
      clock,
      fetch: abortingFetch(controller, (_url, counts) => {
        if (counts.lists === 2) fake.setOutage(503);
        return false;
      }),
    });
    fake.setOutage(null);
    assert.equal(failing.code, 1);
    const checkpoint = JSON.parse(fake.eventText(seeded[99] as string) as string).created_at;
    assert.match(
      failing.stderr,
      new RegExp(
        `omise-webhook: sync stopped: the Omise API said: the fake Omise API is in a simulated outage \\(503 service_unavailable\\)\\. Omise had a problem; try again in a moment \\(status: https://status\\.omise\\.co\\)\\. 100 new event\\(s\\) were stored before it\\. Run \`omise-webhook sync\` again to carry on from ${checkpoint}\\.\\n$`,
      ),
    );
    const resumed = await runCli(['sync', '--log-dir', logDir], { env, clock });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((await storedEvents(logDir)).length, SEEDED);
  });

  it('--since fetches only newer events', async () => {
    const logDir = temporaryDirectory();
    const result = await runCli(['sync', '--log-dir', logDir, '--since', '30m'], { env, clock });
    assert.equal(result.code, 0, result.stderr);
    // Events are a minute apart up to a minute ago: 07:30..07:59 is 30 events.
    assert.match(
      result.stdout,
      /from 2026-06-01T07:30:00Z to 2026-06-01T08:00:00Z: 30 event\(s\) in 1 page\(s\); 30 new, 0 already stored\n/,
    );
    const iso = await runCli(['sync', '--log-dir', temporaryDirectory(), '--since', '2026-06-01T07:50:00Z', '--json'], {
      env,
      clock,
    });
    const summary = JSON.parse(iso.stdout.trim().split('\n').at(-1) as string);
    assert.equal(summary.type, 'summary');
    assert.equal(summary.new, 10);
    assert.deepEqual(summary.deliveryLog, { delivered: 3, failed: 4, never: 3 });
    const first = JSON.parse(iso.stdout.split('\n')[0] as string);
    assert.deepEqual(Object.keys(first), ['type', 'id', 'key', 'createdAt', 'deliveries']);
  });

  it('draws a progress bar on a terminal', async () => {
    const result = await runCli(['sync', '--log-dir', temporaryDirectory(), '--since', '5m'], {
      env,
      clock,
      stderrIsTTY: true,
    });
    assert.equal(result.code, 0);
    assert.ok(
      result.stderr.includes('\r\x1b[2Ksyncing [##############################] 5/5 events, page 1/1, 5 new\n'),
      JSON.stringify(result.stderr),
    );
  });

  it('bad input and API errors: precise messages', async () => {
    const noKey = await runCli(['sync'], { env: { OMISE_API_URL: fake.url } });
    assert.equal(noKey.code, 2);
    assert.equal(
      noKey.stderr,
      'omise-webhook: sync reads the Omise Events API with your secret key: set OMISE_SECRET_KEY=skey_test_... in .env (dashboard: Keys, test mode)\n',
    );
    const live = await runCli(['sync'], {
      env: { OMISE_SECRET_KEY: 'skey_live_5livekeyabcd', OMISE_API_URL: fake.url },
    });
    assert.equal(live.code, 2);
    assert.equal(
      live.stderr,
      'omise-webhook: OMISE_SECRET_KEY is a live key (skey_live_••••abcd); sync stores live events only with --allow-live (OMISE_WEBHOOK_ALLOW_LIVE=true)\n',
    );
    const since = await runCli(['sync', '--since', 'last tuesday'], { env });
    assert.equal(since.code, 2);
    assert.equal(
      since.stderr,
      'omise-webhook: --since (OMISE_WEBHOOK_SYNC_SINCE) got "last tuesday"; expected a time like 2026-11-26T07:00:00Z or 2026-11-26, or a duration ago like 30m, 2h or 7d\n',
    );
    const wrongKey = await runCli(['sync', '--log-dir', temporaryDirectory()], {
      env: { OMISE_SECRET_KEY: 'skey_test_5otheraccount', OMISE_API_URL: fake.url },
    });
    assert.equal(wrongKey.code, 1);
    assert.match(
      wrongKey.stderr,
      /omise-webhook: sync stopped: the Omise API said: authentication failed \(401 authentication_failure\)\. Check that OMISE_SECRET_KEY is your test secret key/,
    );
  });
});

describe('sync after webhooks: events already received are not stored again', () => {
  it('counts delivered events as already stored and fetches only the missed ones', async () => {
    const receiver = await startTestServer({ webhookSecrets: [TEST_WEBHOOK_SECRET] });
    const fake = await startFakeOmise({
      secretKey: SECRET_KEY,
      webhookUrl: receiver.webhookUrl,
      webhookSecret: TEST_WEBHOOK_SECRET,
    });
    try {
      const delivered = ['charge.create', 'refund.create', 'dispute.create'].map((key) =>
        fake.simulateEvent(key as 'charge.create'),
      );
      await fake.deliveriesSettled();
      await receiver.close();
      // The receiver is down now: these two are missed.
      const missed = [fake.simulateEvent('transfer.fail'), fake.simulateEvent('schedule.suspend')];
      await fake.deliveriesSettled();
      const result = await runCli(['sync', '--log-dir', receiver.config.logDir], {
        env: { OMISE_SECRET_KEY: SECRET_KEY, OMISE_API_URL: fake.url },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /: 5 event\(s\) in 1 page\(s\); 2 new, 3 already stored\n/);
      for (const id of missed)
        assert.match(result.stdout, new RegExp(`^${id} .* failed \\(could not deliver: .*ECONNREFUSED.*\\)$`, 'm'));
      const events = await storedEvents(receiver.config.logDir);
      assert.deepEqual(
        events.map((event) => [event.eventId, event.origin]).sort(),
        [...delivered.map((id) => [id, 'webhook']), ...missed.map((id) => [id, 'sync'])].sort(),
      );
    } finally {
      await fake.close();
    }
  });
});
