// Property-based test for the file-name guard of the event file mirror (issue 12): no event id,
// however hostile, maps to a path outside <log dir>/api/event, or to a name the file system refuses.
import assert from 'node:assert/strict';
import { basename, dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { eventFilePath } from './event-file-mirror.js';

const LOG_DIR = '/var/tmp/omise-webhook-log';
const EVENT_DIR = join(LOG_DIR, 'api', 'event');

/** Ids from noise to path tricks to real-looking ids of any length. */
const eventId = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .array(fc.constantFrom('..', '.', '/', '\\', '%2e', '%2f', '\u0000', 'evnt_test_', 'evnt_', 'a', '0', ' ', '\n'), {
      maxLength: 12,
    })
    .map((parts) => parts.join('')),
  fc.stringMatching(/^evnt_(test_)?[0-9a-z]{1,400}$/),
  fc.integer({ min: 1, max: 100_000 }).map((length) => `evnt_test_${'a'.repeat(length)}`),
);

describe('eventFilePath: any id', () => {
  it('is null, or a file directly inside <log dir>/api/event named <id>.json, at most 255 bytes', () => {
    fc.assert(
      fc.property(eventId, (id) => {
        const path = eventFilePath(LOG_DIR, id);
        if (path === null) return;
        assert.equal(resolve(path), path, 'already absolute and normal');
        assert.equal(dirname(path), EVENT_DIR);
        assert.equal(basename(path), `${id}.json`);
        assert.ok(Buffer.byteLength(basename(path)) <= 255, `a ${id.length}-character id makes too long a name`);
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps giving paths to the ids Omise sends', () => {
    for (const id of ['evnt_test_5xyz1', 'evnt_5ygr5yxi8vd0mvv3pxp', `evnt_test_${'a'.repeat(54)}`]) {
      assert.equal(eventFilePath(LOG_DIR, id), join(EVENT_DIR, `${id}.json`));
    }
  });
});
