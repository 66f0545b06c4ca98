/**
 * What `doctor` reports about a PostgreSQL store: reachable, the server's version, the schema's
 * version against this code's, and whether this user may create the schema and write to it.
 */
import postgres from 'postgres';
import { maskDatabaseUrl } from '../../../core/mask-database-url.js';
import { explainConnectionError, withTimeout } from './connection.js';
import { POSTGRES_SCHEMA_VERSION, readSchemaVersion } from './schema.js';

export interface PostgresInspection {
  reachable: boolean;
  /** What went wrong and what to do, when something did (never the password). */
  error?: string;
  serverVersion?: string;
  /** The database's schema version; null when omise-webhook never migrated it. */
  schemaVersion?: number | null;
  codeSchemaVersion: number;
  /** May create the tables (needed when the schema is missing or older). */
  canCreate?: boolean;
  /** May insert into and update the events and forward tables. */
  canWrite?: boolean;
}

/**
 * Never throws: every failure is in `error`, with what to do.
 *
 * @example
 * const report = await inspectPostgres('postgres://app:pw@db:5432/webhooks');
 * if (!report.reachable) console.log(report.error);
 */
export async function inspectPostgres(url: string, options: { timeoutMs?: number } = {}): Promise<PostgresInspection> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const where = maskDatabaseUrl(url);
  const base = { codeSchemaVersion: POSTGRES_SCHEMA_VERSION };
  if (!/^postgres(ql)?:\/\//.test(url)) {
    return {
      ...base,
      reachable: false,
      error: `${JSON.stringify(where)} is not a PostgreSQL URL; expected postgres://user:password@host:5432/database (--store)`,
    };
  }
  let sql: postgres.Sql;
  try {
    sql = postgres(url, {
      max: 1,
      connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
      onnotice: () => {},
      connection: { application_name: 'omise-webhook doctor' },
    });
  } catch (error) {
    return { ...base, reachable: false, error: explainConnectionError(error, where, timeoutMs) };
  }
  try {
    const [server] = await withTimeout(
      sql<{ version: string }[]>`SELECT current_setting('server_version') AS version`,
      timeoutMs,
    );
    const report: PostgresInspection = { ...base, reachable: true, serverVersion: server?.version };
    try {
      report.schemaVersion = await withTimeout(readSchemaVersion(sql), timeoutMs);
      const [privileges] = await withTimeout(
        sql<{ can_create: boolean; can_write: boolean | null }[]>`
          SELECT has_schema_privilege(current_schema(), 'CREATE') AS can_create,
            CASE WHEN to_regclass('events') IS NULL THEN NULL
              ELSE has_table_privilege('events', 'INSERT, UPDATE')
                AND has_table_privilege('forward_jobs', 'INSERT, UPDATE') END AS can_write`,
        timeoutMs,
      );
      report.canCreate = privileges?.can_create ?? false;
      // No tables yet: whoever may create them may write them.
      report.canWrite = privileges?.can_write ?? report.canCreate;
      if (report.schemaVersion !== null && report.schemaVersion > POSTGRES_SCHEMA_VERSION) {
        report.error = `${where} has schema version ${report.schemaVersion}, newer than this omise-webhook knows (${POSTGRES_SCHEMA_VERSION}); upgrade omise-webhook`;
      } else if ((report.schemaVersion ?? 0) < POSTGRES_SCHEMA_VERSION && !report.canCreate) {
        report.error = `the schema in ${where} is ${report.schemaVersion === null ? 'missing' : `at version ${report.schemaVersion}`} and this user may not create tables: GRANT CREATE ON SCHEMA ${'public'} to it, or start omise-webhook once as the database's owner`;
      } else if (!report.canWrite) {
        report.error = `this user may not write the omise-webhook tables in ${where}: GRANT INSERT, UPDATE, DELETE, SELECT on them to it`;
      }
    } catch (error) {
      report.error = explainConnectionError(error, where, timeoutMs);
    }
    return report;
  } catch (error) {
    return { ...base, reachable: false, error: explainConnectionError(error, where, timeoutMs) };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
