export { maskDatabaseUrl } from '../../../core/mask-database-url.js';
export { inspectPostgres, type PostgresInspection } from './inspect-postgres.js';
export {
  DEFAULT_FORWARD_LEASE_MS,
  openPostgresStore,
  PostgresEventStore,
  type PostgresStoreOptions,
} from './postgres-event-store.js';
export { NewerSchemaError, POSTGRES_SCHEMA_VERSION } from './schema.js';
