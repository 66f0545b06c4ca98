/**
 * PostgreSQL for tests: the cluster `scripts/run-tests.mjs` started (or the one named by
 * OMISE_WEBHOOK_TEST_POSTGRES_URL), a fresh database per suite so suites run side by side, and
 * a `describe` that says why it skips when there is no PostgreSQL (never under CI=true).
 */
import { randomBytes } from 'node:crypto';
import { describe } from 'node:test';
import postgres from 'postgres';

export const TEST_POSTGRES_URL_ENV = 'OMISE_WEBHOOK_TEST_POSTGRES_URL';

/** The test cluster's URL, or null when there is none. */
export function postgresTestUrl(): string | null {
  const url = process.env[TEST_POSTGRES_URL_ENV];
  return url && url.trim() !== '' ? url : null;
}

export interface TestDatabase {
  /** A URL to the new, empty database. */
  url: string;
  /** Drops the database, ending any session still on it. */
  drop(): Promise<void>;
}

/** A fresh empty database on the test cluster (`CREATE DATABASE`), for one suite. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = postgresTestUrl();
  if (base === null) throw new Error(`${TEST_POSTGRES_URL_ENV} is not set: no PostgreSQL to create a database on`);
  const name = `omise_webhook_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = postgres(base, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}

/**
 * `describe` for suites that need PostgreSQL. Without one they are skipped with the reason,
 * except under CI=true, where a missing PostgreSQL is a failure, never a silent skip.
 */
export function describeWithPostgres(name: string, fn: () => void): void {
  if (postgresTestUrl() !== null) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    throw new Error(
      `${name}: ${TEST_POSTGRES_URL_ENV} is not set under CI=true; run the tests through scripts/run-tests.mjs with PostgreSQL installed`,
    );
  }
  describe(name, { skip: `no PostgreSQL (${TEST_POSTGRES_URL_ENV} is not set; install postgresql)` }, fn);
}
