import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkServerVersion } from './schema.js';

describe('checkServerVersion', () => {
  it('refuses a server older than 13, naming it and what to do', () => {
    assert.throws(() => checkServerVersion('postgres://app:****@db:5432/hooks', 120015, '12.15'), {
      name: 'UnsupportedServerError',
      message:
        'the PostgreSQL server of postgres://app:****@db:5432/hooks is version 12.15, and omise-webhook needs 13 or newer (its event feed uses pg_current_xact_id()); upgrade the server or use another one',
    });
  });

  it('accepts 13 and newer', () => {
    checkServerVersion('db', 130000, '13.0');
    checkServerVersion('db', 150018, '15.18 (Debian 15.18-0+deb12u1)');
  });
});
