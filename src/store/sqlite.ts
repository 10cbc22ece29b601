// The Node store's entry points, where the CLI and its tests import them.
export { migrationsFolder, openSqliteStore, readAuditCheckpointFile, readAuditFile, readAuditTreeFile, type SqliteStore, type SqliteStoreOptions } from './drivers/better-sqlite3.js';
