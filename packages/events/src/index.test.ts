import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as api from './index.js';

describe('public API', () => {
  // A change to this list is an API change: it should show up in review, not slip through.
  it('exports exactly these runtime names', () => {
    assert.deepEqual(Object.keys(api).sort(), [
      'DEFAULT_TOLERANCE_SEC',
      'OMISE_EVENT_CATALOGUE',
      'OMISE_EVENT_KEYS',
      'OMISE_SIGNATURE_HEADER',
      'OMISE_SIGNATURE_TIMESTAMP_HEADER',
      'OmiseWebhookError',
      'closestEventKeys',
      'collectOmiseIds',
      'eventCreatedAt',
      'formatOmiseJson',
      'isKnownOmiseEvent',
      'isOmiseEventKey',
      'matchesEventKeyPattern',
      'parseOmiseEvent',
      'readOmiseSignatureHeaders',
      'safeParseOmiseEvent',
      'signOmisePayload',
      'verifyOmiseSignature',
    ]);
  });

  it('has the documented constant values', () => {
    assert.equal(api.OMISE_SIGNATURE_HEADER, 'Omise-Signature');
    assert.equal(api.OMISE_SIGNATURE_TIMESTAMP_HEADER, 'Omise-Signature-Timestamp');
    assert.equal(api.DEFAULT_TOLERANCE_SEC, 300);
    assert.equal(api.OMISE_EVENT_KEYS.length, 35);
  });
});

describe('library source', () => {
  const directory = new URL('./', import.meta.url);
  const libraryFiles = readdirSync(directory).filter((name) => name.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(name));

  it('imports no node: module statically, so it loads outside Node', () => {
    for (const name of libraryFiles) {
      const source = readFileSync(new URL(name, directory), 'utf8');
      assert.doesNotMatch(source, /(from\s+|import\s*\(\s*)['"]node:/, name);
    }
  });

  it('has no default exports', () => {
    for (const name of libraryFiles) {
      assert.doesNotMatch(readFileSync(new URL(name, directory), 'utf8'), /export\s+default/, name);
    }
  });

  it('keeps internal files (starting with _) out of index.ts', () => {
    const index = readFileSync(new URL('index.ts', directory), 'utf8');
    assert.doesNotMatch(index, /from '\.\/_/);
    assert.ok(
      libraryFiles.some((name) => name.startsWith('_')),
      'the check above should have something to check',
    );
  });
});
