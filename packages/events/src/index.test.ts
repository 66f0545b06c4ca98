import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as fastifyEntry from './fastify.js';
import * as api from './index.js';
import * as nodeEntry from './node.js';

describe('public API', () => {
  // A change to this list is an API change: it should show up in review, not slip through.
  it('exports exactly these runtime names', () => {
    assert.deepEqual(Object.keys(api).sort(), [
      'DEFAULT_TOLERANCE_SEC',
      'OMISE_EVENT_CATALOGUE',
      'OMISE_EVENT_KEYS',
      'OMISE_SIGNATURE_HEADER',
      'OMISE_SIGNATURE_TIMESTAMP_HEADER',
      'OMISE_WEBHOOK_ERROR_STATUS',
      'OmiseWebhookError',
      'closestEventKeys',
      'collectOmiseIds',
      'createFetchHandler',
      'createMemoryDedupeStore',
      'createOmiseWebhooks',
      'eventCreatedAt',
      'formatOmiseJson',
      'handleOmiseWebhookRequest',
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

  it('exports exactly these runtime names from @omise-webhook/events/node and /fastify', () => {
    assert.deepEqual(Object.keys(nodeEntry).sort(), ['createNodeMiddleware']);
    assert.deepEqual(Object.keys(fastifyEntry).sort(), ['omiseWebhooksFastify']);
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
  // Tests, compile-only type tests and contract suites run under Node only and never ship.
  const libraryFiles = readdirSync(directory).filter(
    (name) => name.endsWith('.ts') && !/\.(test|test-d|contract)\.ts$/.test(name),
  );

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

  it('keeps internal files (starting with _) out of the entries (index.ts, node.ts, fastify.ts)', () => {
    for (const entry of ['index.ts', 'node.ts', 'fastify.ts']) {
      assert.doesNotMatch(readFileSync(new URL(entry, directory), 'utf8'), /from '\.\/_/, entry);
    }
    assert.ok(
      libraryFiles.some((name) => name.startsWith('_')),
      'the check above should have something to check',
    );
  });

  it('uses no Buffer, so the runtime-neutral code runs where Node is absent', () => {
    for (const name of libraryFiles) {
      // Messages and comments may mention Buffer (advice to the reader); only code counts.
      const code = readFileSync(new URL(name, directory), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(["'`])(?:\\.|(?!\1)[^\\\n])*\1/g, '""')
        .replace(/\/\/.*$/gm, '');
      assert.doesNotMatch(code, /\bBuffer\b/, name);
    }
  });

  it('gives every export of every entry a JSDoc with an example', () => {
    const missing: string[] = [];
    for (const name of libraryFiles) {
      const source = readFileSync(new URL(name, directory), 'utf8');
      if (name.startsWith('_') || ['index.ts', 'node.ts', 'fastify.ts'].includes(name)) continue;
      for (const match of source.matchAll(/^export (?:async )?(?:function|const|class|interface|type) (\w+)/gm)) {
        const before = source.slice(0, match.index);
        const doc = before.match(/\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*$/);
        if (doc === null || !doc[0].includes('@example')) missing.push(`${name}: ${match[1]}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
