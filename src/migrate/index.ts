// The migration runner: a library (npm start, the CLI, tests, Pulumi) over the numbered files in sql/.
export {
  loadMigrations,
  bundleChecksum,
  bundleOrder,
  fileChecksum,
  FILE_PATTERN,
  DEFINITIONS_DIR,
  DEFINITION_PATTERN,
  NO_TRANSACTION_MARKER,
  type MigrationFile,
  type FileKind,
} from './files.js';
export {
  applyMigrations,
  DEFAULT_LOCK_TIMEOUT,
  DEFAULT_STATEMENT_TIMEOUT,
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  type ApplyOptions,
  type ApplyResult,
} from './apply.js';
export {
  migrationStatus,
  planMigrations,
  formatStatus,
  formatPlan,
  type StatusOptions,
  type StatusReport,
  type MigrationPlan,
  type PlannedFile,
  type PendingFile,
  type DriftedFile,
  type RewrittenFile,
} from './status.js';
export { DriftError, MigrationError, LockTimeoutError, OutOfOrderError } from './errors.js';
export { lintMigrations, runSquawk, STRICT_FROM, type LintResult, type SquawkRun } from './lint.js';
export { LEDGER_SCHEMA, LEDGER_TABLE, DEFINITION_LEDGER_TABLE, type LedgerEntry, type DefinitionApply } from './ledger.js';
export { MIGRATION_LOCK_KEY } from './lock.js';
export { splitStatements, type Statement } from './split.js';
export { catalogueSnapshot, diffCatalogues, CATALOGUE_SCHEMAS, type CatalogueSnapshot } from './catalogue.js';
export { schemaDrift, recordCatalogue, liveCatalogue, formatSchemaDrift, CATALOGUE_TABLE, type SchemaDrift } from './fingerprint.js';
