import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). */
export const CHROMIUM_PATH = process.env.OMISE_WEBHOOK_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh profile, or returns a reason to skip when it is not
 * installed (so a machine without it says what to install instead of failing).
 */
export async function launchTestBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser | { skip: string }> {
  if (!existsSync(CHROMIUM_PATH)) {
    return {
      skip: `no Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set OMISE_WEBHOOK_CHROMIUM to run the browser tests`,
    };
  }
  // Playwright takes the profile folder as an argument rather than --user-data-dir.
  const profile = mkdtempSync(join(tmpdir(), 'omise-webhook-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1440, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
    colorScheme: 'light',
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
