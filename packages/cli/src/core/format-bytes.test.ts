import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// The library's internal copy, read from its source: it is not exported, and must not drift.
import { bodyTooLargeError } from '../../../events/src/_body-errors.js';
import { looksLikeOmiseId } from './event-lookup-fields.js';
import { formatBytes } from './format-bytes.js';

/** The page's module is plain JavaScript without types: typed here by what the test uses. */
const ui = (await import(new URL('../ui/format.js', import.meta.url).href)) as {
  formatBytes(bytes: number): string;
  looksLikeOmiseId(text: string): boolean;
};

const SIZES = [0, 1, 1023, 1024, 1536, 1587, 10 * 1024 - 1, 64 * 1024, 1024 * 1024 - 1, 1024 * 1024, 2.4 * 1024 * 1024];

describe('formatBytes', () => {
  it('uses binary units with one decimal and no trailing .0', () => {
    assert.deepEqual(
      SIZES.map((size) => formatBytes(size)),
      ['0 B', '1 B', '1023 B', '1 KiB', '1.5 KiB', '1.5 KiB', '10 KiB', '64 KiB', '1024 KiB', '1 MiB', '2.4 MiB'],
    );
  });

  it("agrees with the inspector page's copy and the library's", () => {
    for (const size of SIZES) {
      assert.equal(ui.formatBytes(size), formatBytes(size), `ui/format.js for ${size}`);
      const library = bodyTooLargeError(size, size, 'given').message;
      assert.ok(
        library.startsWith(`request body is ${formatBytes(size)}; the limit is ${formatBytes(size)} `),
        `the library for ${size}: ${library}`,
      );
    }
  });
});

describe("the inspector page's looksLikeOmiseId", () => {
  it('agrees with the core rule', () => {
    for (const text of [
      'chrg_test_5x1',
      'evnt_5x1',
      'cust_test_ABC',
      'ab_1',
      'charge',
      'rfnd_test_',
      'trxn_test_5xq',
    ]) {
      assert.equal(ui.looksLikeOmiseId(text), looksLikeOmiseId(text), text);
    }
  });
});
