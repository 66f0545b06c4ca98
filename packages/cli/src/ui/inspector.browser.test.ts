/**
 * Drives the real inspector page in Debian's Chromium through playwright-core: events posted
 * to the receiver appear without a reload, filters and search work and live in the URL, the
 * detail and the object's timeline show the right data, and rejected requests show why.
 * A screenshot of each main view is written to SCREENSHOT_DIR.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyOmiseSignature } from '@omise-webhook/events';
import type { Page, Request } from 'playwright-core';
import { launchTestBrowser, type TestBrowser } from '../testing/browser.js';
import { eventBody } from '../testing/delivery-fixtures.js';
import { rawRequest } from '../testing/http.js';
import { fixtureBody, STORY_CHARGE_ID, STORY_CREATE_EVENT_ID, storyBodies } from '../testing/omise-fixtures.js';
import { signForTest, TEST_WEBHOOK_SECRET } from '../testing/signing.js';
import { headerValue, startTargetServer, type TargetServer } from '../testing/target-server.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/** Where the screenshots of the main views go (the README's picture is event-detail.png from here). */
const SCREENSHOT_DIR = join(new URL('../../../..', import.meta.url).pathname, 'test-output', 'screenshots');

// In CI (CI=true) a missing Chromium throws here, failing this file, rather than skipping.
const launched = await launchTestBrowser();
const skip = 'skip' in launched ? launched.skip : false;
if (skip) process.stderr.write(`browser tests skipped: ${skip}\n`);

async function postSigned(server: TestServer, body: string, secret = TEST_WEBHOOK_SECRET) {
  const timestamp = Math.floor(Date.now() / 1000);
  return rawRequest({
    url: server.webhookUrl,
    headers: [
      ['Content-Type', 'application/json'],
      ['User-Agent', 'Omise/2019-05-29'],
      ['Omise-Signature-Timestamp', String(timestamp)],
      ['Omise-Signature', signForTest(secret, timestamp, body)],
    ],
    body,
  });
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

/** The event ids of the rows on the page, top to bottom. */
function rowIds(page: Page): Promise<string[]> {
  return page.$$eval('[data-event-id]', (rows) => rows.map((row) => row.getAttribute('data-event-id') ?? ''));
}

async function waitForRows(page: Page, expected: string[]): Promise<void> {
  await page.waitForFunction(
    (ids) =>
      JSON.stringify([...document.querySelectorAll('[data-event-id]')].map((r) => r.getAttribute('data-event-id'))) ===
      JSON.stringify(ids),
    expected,
  );
}

describe('inspector page in Chromium', { skip }, () => {
  const browser = launched as TestBrowser;
  let server: TestServer;
  let target: TargetServer;
  let page: Page;
  let base: string;

  before(async () => {
    // The developer's app: every accepted event is forwarded here, and replays go here too.
    target = await startTargetServer();
    server = await startTestServer({ ui: true, webhookSecrets: [TEST_WEBHOOK_SECRET], forwardTo: [target.url] });
    base = server.inspector?.url as string;
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
  });
  after(async () => {
    await browser.close();
    await server.close();
    await target.close();
  });

  it('says it is loading, with no counts and no stream state, until the first answers arrive', async () => {
    const other = await browser.context.newPage();
    // Hold every API answer until the loading state has been checked.
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await other.route('**/api/**', async (route) => {
      await gate;
      await route.continue();
    });
    try {
      await other.goto(base);
      await other.getByTestId('list-loading').waitFor();
      assert.equal(await other.getByTestId('list-loading').textContent(), 'Loading events…');
      assert.equal(await other.getByTestId('total-count').textContent(), '');
      assert.deepEqual(await other.locator('.chip .count').allTextContents(), ['', '', '', '']);
      assert.equal(await other.getByTestId('stream-state').textContent(), '');
      assert.equal(await other.getByTestId('empty-state').count(), 0);
      release();
      await other.getByTestId('empty-state').waitFor();
      await other.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
      assert.equal(await other.getByTestId('total-count').textContent(), '0');
      assert.equal(await other.getByTestId('list-loading').count(), 0);
    } finally {
      release();
      await other.close();
    }
  });

  it('tells a new user what to do before the first event', async () => {
    await page.goto(base);
    const empty = page.getByTestId('empty-state');
    await empty.waitFor();
    assert.equal(await page.getByTestId('dashboard-url').textContent(), 'https://<your-tunnel>/omise/webhook');
    assert.match((await page.getByTestId('verification-state').textContent()) ?? '', /^configured \(signature/);
    assert.match((await empty.textContent()) ?? '', /npx omise-webhook trigger charge\.create/);
    await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
    await screenshot(page, 'empty-state');
  });

  it('shows an event posted to the receiver without reloading the page', async () => {
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const response = await postSigned(server, pendingCreate());
    assert.equal(response.status, 200);
    await page.locator(`[data-event-id="${STORY_CREATE_EVENT_ID}"]`).waitFor();
    const row = page.locator(`[data-event-id="${STORY_CREATE_EVENT_ID}"]`);
    assert.match(
      (await row.textContent()) ?? '',
      /charge\.create.*chrg_test_5ygr5q0ekcwwfgyq1rr.*1,290\.00.*pending.*verified/,
    );
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);

    // The rest of the story and some other events, newest on top as they arrive.
    for (const { body } of storyBodies().slice(1)) assert.equal((await postSigned(server, body)).status, 200);
    await page.waitForFunction(() => document.querySelectorAll('[data-event-id]').length === 10);
    const ids = await rowIds(page);
    assert.equal(ids[0], 'evnt_test_5ha2mnzv3zfb7ql0cgs', 'the newest is on top');
    assert.equal(ids.at(-1), STORY_CREATE_EVENT_ID);
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    await screenshot(page, 'live-list');
  });

  it('filters by key and verification, searches any id, and keeps it all in the URL', async () => {
    await page.locator('button[data-key="refund.create"]').click();
    await waitForRows(page, ['evnt_test_5ygtcm1ho9qyhg6zmsw']);
    assert.equal(new URL(page.url()).searchParams.get('key'), 'refund.create');

    await page.locator('button.filter-group', { hasText: 'customer.*' }).click();
    await waitForRows(page, ['evnt_test_5ygu0n5a6t8cs1b3xmq', 'evnt_test_5ygu0b9d2yv7kvl1w4e']);
    assert.equal(new URL(page.url()).searchParams.get('key'), 'customer.*');

    await page.locator('button[data-verified="unverified"]').click();
    await page.getByTestId('no-match').waitFor();
    await page.locator('button[data-verified="unverified"]').click();
    await page.locator('button', { hasText: 'All events' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-event-id]').length === 10);

    await page.locator('#search').fill(STORY_CHARGE_ID);
    await waitForRows(page, [
      'evnt_test_5yh1fhx8shp4y2h7lzk',
      'evnt_test_5ygtcm1ho9qyhg6zmsw',
      'evnt_test_5ygr5yxi8vd0mvv3pxp',
      STORY_CREATE_EVENT_ID,
    ]);
    assert.equal(new URL(page.url()).searchParams.get('q'), STORY_CHARGE_ID);

    await page.locator('#search').fill('trsf_test_5yhk0r1tsz6h0s8v2lw');
    await waitForRows(page, ['evnt_test_5yhk2e7bq8qg4mr1v0x']);
    await page.locator('#search').fill('ลูกค้าคืนสินค้า');
    await waitForRows(page, ['evnt_test_5ygtcm1ho9qyhg6zmsw']);

    // A shared link opens the same view.
    await page.goto(`${base}?key=charge.*&q=${STORY_CHARGE_ID}`);
    await waitForRows(page, ['evnt_test_5ygr5yxi8vd0mvv3pxp', STORY_CREATE_EVENT_ID]);
    assert.equal(await page.locator('#search').inputValue(), STORY_CHARGE_ID);
    assert.equal(await page.locator('button.filter-group[aria-pressed="true"]').textContent(), 'charge.*3');
    await screenshot(page, 'filtered-list');
  });

  it("shows the detail: diagnosis, raw bytes, headers, JSON tree and the object's timeline with diffs", async () => {
    await page.goto(`${base}?event=evnt_test_5ygr5yxi8vd0mvv3pxp`);
    const detail = page.getByTestId('event-detail');
    await detail.waitFor();
    assert.equal(await detail.locator('h2').textContent(), 'charge.complete');
    assert.match(
      (await page.getByTestId('diagnosis').textContent()) ?? '',
      /^Genuine: the Omise-Signature header is an HMAC of these exact bytes made with your webhook secret/,
    );

    const timeline = detail.locator('.timeline-entry');
    await page.waitForFunction(() => document.querySelectorAll('.timeline-entry').length === 4);
    assert.deepEqual(await timeline.locator('.timeline-head strong').allTextContents(), [
      'charge.create',
      'charge.complete',
      'refund.create',
      'dispute.create',
    ]);
    const diffRows = await timeline
      .nth(1)
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent)));
    assert.deepEqual(diffRows, [
      ['transaction', 'null', '"trxn_test_5ygr5yw4cd6r7pvwdq8"'],
      ['status', '"pending"', '"successful"'],
      ['paid_at', 'null', '"2024-01-18T09:41:26Z"'],
      ['paid', 'false', 'true'],
    ]);
    assert.match((await timeline.nth(2).textContent()) ?? '', /mentions it \(refund rfnd_test_5ygtclzq3e6cjqzl6wa\)/);
    await screenshot(page, 'event-detail');

    // After each click the page re-renders asynchronously: wait for the new state, then assert it.
    await page.getByRole('tab', { name: 'Raw' }).click();
    await page.waitForURL((url) => url.searchParams.get('tab') === 'raw');
    assert.equal(await page.getByTestId('raw-body').textContent(), fixtureBody('charge.complete'));

    await page.getByTestId('copy-raw').click();
    await page.getByTestId('copy-raw').filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), fixtureBody('charge.complete'));
    await page.getByTestId('copy-curl').click();
    await page.getByTestId('copy-curl').filter({ hasText: 'Copied' }).waitFor();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(curl.startsWith(`curl -X POST '${server.webhookUrl}' \\\n  -H 'Content-Type: application/json'`), curl);
    assert.ok(curl.includes(`--data-binary '${fixtureBody('charge.complete')}'`));

    await page.getByRole('tab', { name: /Headers/ }).click();
    await page.locator('.headers-table tbody th').first().waitFor();
    const headerNames = await page.locator('.headers-table tbody th').allTextContents();
    assert.deepEqual(headerNames.slice(0, 4), ['Host', 'Content-Type', 'User-Agent', 'Omise-Signature-Timestamp']);

    await page.getByRole('tab', { name: 'JSON' }).click();
    const tree = page.locator('.json-tree');
    await tree.waitFor();
    assert.match((await tree.textContent()) ?? '', /"status": "successful"/);
    const cardToggle = tree.locator('.json-line', { hasText: '"card"' }).locator('.json-toggle');
    assert.equal(await cardToggle.getAttribute('aria-expanded'), 'true');
    await cardToggle.click();
    await tree.locator('.json-line', { hasText: '"card"' }).locator('.json-toggle[aria-expanded="false"]').waitFor();
    assert.doesNotMatch((await tree.textContent()) ?? '', /"last_digits"/);
    await screenshot(page, 'event-json');

    // Replay re-signed: the same bytes reach the app with a fresh signature that verifies.
    await page.getByRole('tab', { name: 'Overview' }).click();
    const before = target.requests.length;
    await page.getByRole('button', { name: 'Replay re-signed' }).click();
    await page.getByTestId('replay-result').filter({ hasText: 'Re-signed replay: delivered' }).waitFor();
    assert.match((await page.getByTestId('replay-result').textContent()) ?? '', new RegExp(`200 from ${target.url}`));
    const replayed = target.requests.at(-1);
    assert.ok(replayed && target.requests.length > before);
    assert.equal(replayed.body.toString('utf8'), fixtureBody('charge.complete'));
    assert.equal(headerValue(replayed, 'Omise-Webhook-Replay'), 'resigned');
    const verified = await verifyOmiseSignature({
      payload: replayed.body,
      signature: headerValue(replayed, 'Omise-Signature'),
      timestamp: headerValue(replayed, 'Omise-Signature-Timestamp'),
      secret: TEST_WEBHOOK_SECRET,
      toleranceSec: 300,
    });
    assert.equal(verified.ok, true);
    // The forwarding tab lists the forward made on receipt and the replay, with the target's answers.
    await page.getByRole('tab', { name: /Forwarding/ }).click();
    const attempts = page.getByTestId('forward-attempts');
    await attempts.locator('tbody tr').nth(1).waitFor();
    const rows = await attempts.locator('tbody tr').allTextContents();
    assert.match(rows[0] ?? '', /forward #1.*200.*✔ delivered/s);
    assert.match(rows[1] ?? '', /replay \(resigned\).*200.*✔ delivered/s);
    await screenshot(page, 'event-forwarding');
    await page.getByRole('tab', { name: 'Overview' }).click();

    // A later event of the same object appears in the open timeline, and the open detail, whose
    // own event did not change, is not fetched again.
    const detailFetches: string[] = [];
    const countDetailFetches = (request: Request) => {
      if (new URL(request.url()).pathname === '/api/events/evnt_test_5ygr5yxi8vd0mvv3pxp') {
        detailFetches.push(request.url());
      }
    };
    page.on('request', countDetailFetches);
    const refundAgain = fixtureBody('refund.create')
      .replaceAll('evnt_test_5ygtcm1ho9qyhg6zmsw', 'evnt_test_5ygtcm1second001')
      .replaceAll('rfnd_test_5ygtclzq3e6cjqzl6wa', 'rfnd_test_5ygtclzsecond01');
    assert.equal((await postSigned(server, refundAgain)).status, 200);
    await page.waitForFunction(() => document.querySelectorAll('.timeline-entry').length === 5);
    await page.locator('[data-event-id="evnt_test_5ygtcm1second001"]').waitFor();
    // The refund's forward attempt arrives in a later batch of notifications: give it time.
    await page.waitForTimeout(500);
    page.off('request', countDetailFetches);
    assert.deepEqual(detailFetches, [], 'another event arriving does not refetch the open detail');
  });

  it('lists rejected requests with their reasons', async () => {
    const forged = fixtureBody('link.create').replace('evnt_test_5yhn1x9e0u2v8q4m6k0', 'evnt_test_5yhforged00001');
    const refused = await postSigned(
      server,
      forged,
      Buffer.from('some other secret, 32 bytes long').toString('base64'),
    );
    assert.equal(refused.status, 401);
    await page.getByTestId('rejected-tab').filter({ hasText: 'Rejected 1' }).waitFor();
    await page.getByTestId('rejected-tab').click();
    const row = page.locator('[data-rejection-id]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /401.*no_signature_matched/);
    await row.click();
    await page.getByTestId('rejection-detail').waitFor();
    assert.match((await page.getByTestId('rejection-reason').textContent()) ?? '', /signature/i);
    assert.match((await page.getByTestId('rejection-diagnosis').textContent()) ?? '', /^Likely cause: /);
    assert.equal(new URL(page.url()).searchParams.get('view'), 'rejected');
    await screenshot(page, 'rejected');
  });

  it('shows the public URL to paste, exactly, when a tunnel or --public-url provides one', async () => {
    const exposed = await startTestServer({ ui: true, publicUrl: 'https://abcd.ngrok-free.app/omise/webhook' });
    const other = await browser.context.newPage();
    try {
      await other.goto(exposed.inspector?.url as string);
      await other.getByTestId('empty-state').waitFor();
      assert.equal(await other.getByTestId('dashboard-url').textContent(), 'https://abcd.ngrok-free.app/omise/webhook');
      assert.equal(
        await other.getByTestId('header-webhook-url').textContent(),
        'POST https://abcd.ngrok-free.app/omise/webhook',
      );
    } finally {
      await other.close();
      await exposed.close();
    }
  });

  it('works from the keyboard and in the dark theme', async () => {
    await page.goto(base);
    await page.waitForFunction(() => document.querySelectorAll('[data-event-id]').length === 11);
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'search');
    await page.keyboard.press('Escape');
    await page.keyboard.press('j');
    const first = (await rowIds(page))[0];
    await page.waitForFunction((id) => new URL(location.href).searchParams.get('event') === id, first);
    await page.keyboard.press('j');
    const second = (await rowIds(page))[1];
    await page.waitForFunction((id) => new URL(location.href).searchParams.get('event') === id, second);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-event-id')), second);
    await page.getByTestId('event-detail').waitFor();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('event'));

    const lightBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.getByRole('button', { name: /^Theme: auto/ }).click(); // auto -> light
    await page.getByRole('button', { name: /^Theme: light/ }).click(); // light -> dark
    // The page re-renders after the click; wait for the dark theme rather than read too early.
    await page.getByRole('button', { name: /^Theme: dark/ }).waitFor();
    await page.waitForFunction((light) => getComputedStyle(document.body).backgroundColor !== light, lightBackground);
    const darkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    // The headless browser's system scheme is light, so "auto" showed the light palette.
    assert.equal(lightBackground, 'rgb(246, 247, 249)');
    assert.equal(darkBackground, 'rgb(15, 18, 22)');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.goto(`${base}?event=evnt_test_5ygr5yxi8vd0mvv3pxp`);
    await page.getByTestId('event-detail').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.timeline-entry').length === 5);
    await screenshot(page, 'event-detail-dark');
  });

  it('fits the verification column and keeps ids whole, wide or narrow', async () => {
    // Verification off: "? unverified" with the "simulated" tag is the widest the column holds.
    const unverified = await startTestServer({ ui: true });
    const other = await browser.context.newPage();
    try {
      const simulated = eventBody({ eventId: 'evnt_test_5yhsimulated0001' });
      const answer = await rawRequest({
        url: unverified.webhookUrl,
        headers: [
          ['Content-Type', 'application/json'],
          ['Omise-Webhook-Origin', 'trigger'],
        ],
        body: simulated,
      });
      assert.equal(answer.status, 200);
      await other.goto(`${unverified.inspector?.url}?event=evnt_test_5yhsimulated0001`);
      await other.getByTestId('event-detail').waitFor();
      const cell = other.locator('[data-event-id="evnt_test_5yhsimulated0001"] .cell.verify');
      assert.match((await cell.textContent()) ?? '', /unverified\s+simulated/);
      assert.equal(await other.getByTestId('deliveries-head').textContent(), 'deliveries');
      for (const width of [1400, 1280, 900]) {
        await other.setViewportSize({ width, height: 900 });
        const fits = await cell.evaluate((element) => ({
          scrollWidth: element.scrollWidth,
          clientWidth: element.clientWidth,
        }));
        assert.ok(
          fits.scrollWidth <= fits.clientWidth,
          `at ${width} px the verification cell is cut: ${JSON.stringify(fits)}`,
        );
        const head = await other.getByTestId('deliveries-head').evaluate((element) => ({
          scrollWidth: element.scrollWidth,
          clientWidth: element.clientWidth,
        }));
        assert.ok(
          head.scrollWidth <= head.clientWidth,
          `at ${width} px the deliveries header is cut: ${JSON.stringify(head)}`,
        );
        // Every column is on screen: the last one ends inside the list pane.
        const edges = await other.evaluate(() => ({
          lastColumn: document.querySelector('[data-testid="deliveries-head"]')?.getBoundingClientRect().right ?? 0,
          pane: document.querySelector('.list-pane')?.getBoundingClientRect().right ?? 0,
        }));
        assert.ok(
          edges.lastColumn <= edges.pane,
          `at ${width} px the deliveries column is off the pane: ${JSON.stringify(edges)}`,
        );
        await screenshot(other, `columns-${width}`);
        // The id is one line, never broken inside; the title and the copy button hold it whole.
        const id = await other.getByTestId('fact-event-id').evaluate((element) => {
          const style = getComputedStyle(element);
          return {
            whiteSpace: style.whiteSpace,
            // One line is about 1.2 font sizes tall, two lines 2.4.
            oneLine: element.getBoundingClientRect().height < 2 * Number.parseFloat(style.fontSize),
            title: element.getAttribute('title'),
            text: element.textContent,
          };
        });
        assert.deepEqual(id, {
          whiteSpace: 'nowrap',
          oneLine: true,
          title: 'evnt_test_5yhsimulated0001',
          text: 'evnt_test_5yhsimulated0001',
        });
      }
      await other.getByTestId('copy-id').click();
      await other.getByTestId('copy-id').filter({ hasText: 'Copied' }).waitFor();
      assert.equal(await other.evaluate(() => navigator.clipboard.readText()), 'evnt_test_5yhsimulated0001');
    } finally {
      await other.close();
      await unverified.close();
    }
  });

  it('flags an event delivered again with another body and shows the line diff', async () => {
    const eventId = 'evnt_test_5yhdiffers0001';
    const first = eventBody({ eventId });
    assert.equal((await postSigned(server, first)).status, 200);
    const changed = first.replace('"amount": 100000', '"amount": 1');
    assert.equal((await postSigned(server, changed)).status, 200);
    await page.goto(`${base}?event=${eventId}`);
    const section = page.getByTestId('differing-bodies');
    await section.waitFor();
    assert.match((await section.textContent()) ?? '', /Body differs: 1 later delivery of this id carried another body/);
    const diff = (await page.getByTestId('differing-diff').textContent()) ?? '';
    assert.match(diff, /^- {5}"amount": 100000,$/m);
    assert.match(diff, /^\+ {5}"amount": 1,$/m);
    await page.locator(`[data-event-id="${eventId}"] [data-testid="body-differs"]`).waitFor();
    await screenshot(page, 'body-differs');
  });
});

function pendingCreate(): string {
  return (storyBodies()[0] as { body: string }).body;
}
