import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { launchTestBrowser } from './browser.js';
import { temporaryDirectory } from './test-server.js';

describe('launchTestBrowser without Chromium', () => {
  const path = join(temporaryDirectory(), 'no-chromium-here');

  it('fails in CI rather than letting the browser suite skip', async () => {
    for (const CI of ['true', '1']) {
      await assert.rejects(launchTestBrowser({ path, env: { CI } }), {
        message: `browser tests: no Chromium at ${path}, and CI=${CI} forbids skipping them: install it (apt-get install chromium) or set OMISE_WEBHOOK_CHROMIUM to its path (.ci/run installs it)`,
      });
    }
  });

  it('skips with the reason and what to install elsewhere', async () => {
    for (const env of [{}, { CI: 'false' }]) {
      assert.deepEqual(await launchTestBrowser({ path, env }), {
        skip: `no Chromium at ${path}: install it (apt-get install chromium) or set OMISE_WEBHOOK_CHROMIUM to its path to run the browser tests (in CI they fail instead)`,
      });
    }
  });
});
