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
 * What to do when Chromium is missing: on a developer's machine, a reason to skip that says what
 * to install; in CI (`CI=true`, as CI services and `.ci/run` set it) an error, so a CI run without
 * a browser fails instead of passing with the browser suite silently skipped.
 */
export function chromiumMissing(input: { path: string; env: Record<string, string | undefined> }): { skip: string } {
  const install = 'install it (apt-get install chromium) or set OMISE_WEBHOOK_CHROMIUM to its path';
  if (input.env.CI === 'true' || input.env.CI === '1') {
    throw new Error(
      `browser tests: no Chromium at ${input.path}, and CI=${input.env.CI} forbids skipping them: ${install} (.ci/run installs it)`,
    );
  }
  return { skip: `no Chromium at ${input.path}: ${install} to run the browser tests (in CI they fail instead)` };
}

/**
 * Starts headless Chromium with a fresh profile, or returns a reason to skip when it is not
 * installed (so a machine without it says what to install instead of failing); in CI a missing
 * Chromium throws (see chromiumMissing).
 */
export async function launchTestBrowser(
  options: {
    viewport?: { width: number; height: number };
    path?: string;
    env?: Record<string, string | undefined>;
  } = {},
): Promise<TestBrowser | { skip: string }> {
  const path = options.path ?? CHROMIUM_PATH;
  if (!existsSync(path)) return chromiumMissing({ path, env: options.env ?? process.env });
  // Playwright takes the profile folder as an argument rather than --user-data-dir.
  const profile = mkdtempSync(join(tmpdir(), 'omise-webhook-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: path,
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
