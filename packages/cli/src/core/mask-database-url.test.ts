import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskDatabaseUrl } from './mask-database-url.js';

describe('maskDatabaseUrl', () => {
  it('hides the password and keeps everything else as given', () => {
    assert.equal(
      maskDatabaseUrl('postgres://app:s3cret@db.example.com:5432/webhooks?sslmode=require'),
      'postgres://app:****@db.example.com:5432/webhooks?sslmode=require',
    );
    assert.equal(maskDatabaseUrl('postgresql://app:p%40ss@h/db'), 'postgresql://app:****@h/db');
  });

  it('hides a password holding @, / or : and one given as a query parameter', () => {
    assert.equal(maskDatabaseUrl('postgres://app:a@b:c@host/db'), 'postgres://app:****@host/db');
    assert.equal(maskDatabaseUrl('postgres://app:x@host'), 'postgres://app:****@host');
    assert.equal(
      maskDatabaseUrl('postgres://host/db?user=app&password=s3cret&sslmode=require'),
      'postgres://host/db?user=app&password=****&sslmode=require',
    );
  });

  it('leaves a URL without a password alone', () => {
    for (const url of ['postgres://app@host/db', 'postgres://host:5432/db', 'sqlite', 'not a url']) {
      assert.equal(maskDatabaseUrl(url), url);
    }
  });
});
