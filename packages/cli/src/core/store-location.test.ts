import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeStoreLocation, isPostgresUrl, parseStoreLocation } from './store-location.js';

function problem(value: string): string {
  const result = parseStoreLocation(value);
  assert.equal(result.ok, false, `${value} was accepted`);
  return result.ok ? '' : result.problem;
}

describe('parseStoreLocation', () => {
  it('accepts sqlite and memory', () => {
    assert.deepEqual(parseStoreLocation('sqlite'), { ok: true, location: { kind: 'sqlite' } });
    assert.deepEqual(parseStoreLocation(' memory '), { ok: true, location: { kind: 'memory' } });
  });

  it('accepts postgres:// and postgresql:// URLs, keeping the URL and a masked copy', () => {
    assert.deepEqual(parseStoreLocation('postgres://app:s3cret@db.example.com:5432/webhooks'), {
      ok: true,
      location: {
        kind: 'postgres',
        url: 'postgres://app:s3cret@db.example.com:5432/webhooks',
        masked: 'postgres://app:****@db.example.com:5432/webhooks',
      },
    });
    const plain = parseStoreLocation('postgresql://localhost/webhooks?sslmode=require');
    assert.deepEqual(plain, {
      ok: true,
      location: {
        kind: 'postgres',
        url: 'postgresql://localhost/webhooks?sslmode=require',
        masked: 'postgresql://localhost/webhooks?sslmode=require',
      },
    });
    assert.equal(parseStoreLocation('postgres:///webhooks?host=/var/run/postgresql').ok, true);
  });

  it('refuses other databases, naming the scheme and hiding the password', () => {
    assert.equal(
      problem('mysql://root:hunter2@db/app'),
      'got a mysql: URL (mysql://root:****@db/app); only PostgreSQL is supported as a shared store: expected sqlite, memory, or a postgres://user:password@host:5432/database URL',
    );
    assert.doesNotMatch(problem('redis://:hunter2@cache:6379'), /hunter2/);
  });

  it('refuses a PostgreSQL URL without a host or a database', () => {
    assert.equal(
      problem('postgres:///webhooks'),
      'got "postgres:///webhooks", which names no host; expected sqlite, memory, or a postgres://user:password@host:5432/database URL (for a local server: postgres://user:password@localhost:5432/database)',
    );
    assert.equal(
      problem('postgres://app:pw@db:5432'),
      'got "postgres://app:****@db:5432", which names no database; expected sqlite, memory, or a postgres://user:password@host:5432/database URL',
    );
    assert.match(problem('postgres://app:pw@db:5432/a/b'), /names the path \/a\/b, not one database/);
    assert.match(problem('postgres://db:0/x'), /whose port is 0/);
    assert.match(problem('postgres://app:pw@db:99999/x'), /not a valid URL/);
  });

  it('refuses anything else, quoting it', () => {
    assert.equal(
      problem('sqllite'),
      'got "sqllite"; expected sqlite, memory, or a postgres://user:password@host:5432/database URL',
    );
    assert.match(problem(''), /^got ""/);
  });
});

describe('isPostgresUrl and describeStoreLocation', () => {
  it('tells PostgreSQL URLs from others and names each store as the banner does', () => {
    assert.equal(isPostgresUrl('postgresql://x/y'), true);
    assert.equal(isPostgresUrl('mysql://x/y'), false);
    assert.equal(describeStoreLocation({ kind: 'sqlite' }, './log'), './log/omise-webhook.sqlite');
    assert.equal(describeStoreLocation({ kind: 'memory' }, './log'), 'memory (forgotten on exit)');
    assert.equal(
      describeStoreLocation({ kind: 'postgres', url: 'postgres://a:b@h/d', masked: 'postgres://a:****@h/d' }, './log'),
      'postgres://a:****@h/d',
    );
  });
});
