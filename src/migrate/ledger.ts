// The ledger: one row per applied versioned file, and one row per apply of a definition (the latest row of a
// definition is what the database holds). The runner owns schema pgkit_migrations, so it works on an empty
// database before any sql/ file ran, and no sql/ file can break it.
import type { ClientBase } from 'pg';

export const LEDGER_SCHEMA = 'pgkit_migrations';
export const LEDGER_TABLE = `${LEDGER_SCHEMA}.ledger`;
export const DEFINITION_LEDGER_TABLE = `${LEDGER_SCHEMA}.definition_applies`;

export interface LedgerEntry {
  name: string;
  checksum: string;
  transactional: boolean;
  appliedAt: Date;
  appliedBy: string;
  durationMs: number;
  pgVersion: string;
  /** Timeouts in effect when the file finished (the runner's defaults unless the file SET its own). */
  lockTimeout: string;
  statementTimeout: string;
}

const DDL = `
CREATE SCHEMA IF NOT EXISTS ${LEDGER_SCHEMA};
COMMENT ON SCHEMA ${LEDGER_SCHEMA} IS 'pgkit migration runner: ledger of applied sql/ files (owned by the runner, not by sql/)';
CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} (
  name text PRIMARY KEY CHECK (name ~ '^[0-9]{4}_[a-z0-9_]+[.]sql$'),
  checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  transactional boolean NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text NOT NULL DEFAULT current_user,
  duration_ms bigint NOT NULL,
  pg_version text NOT NULL,
  lock_timeout text NOT NULL,
  statement_timeout text NOT NULL
);
REVOKE ALL ON ${LEDGER_TABLE} FROM PUBLIC;
`;

// Added with sql/definitions/: created by ensureLedger on ledgers made before it as well.
const DEFINITION_DDL = `
CREATE TABLE IF NOT EXISTS ${DEFINITION_LEDGER_TABLE} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL CHECK (name ~ '^definitions/[a-z_][a-z0-9_]*[.][a-z_][a-z0-9_]*[.]sql$'),
  checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text NOT NULL DEFAULT current_user,
  duration_ms bigint NOT NULL,
  pg_version text NOT NULL
);
CREATE INDEX IF NOT EXISTS definition_applies_name_id_idx ON ${DEFINITION_LEDGER_TABLE} (name, id);
COMMENT ON TABLE ${DEFINITION_LEDGER_TABLE} IS 'pgkit migration runner: every apply of a sql/definitions/ file; the latest row per name is what the database holds';
ALTER TABLE ${LEDGER_TABLE} ADD COLUMN IF NOT EXISTS replaced_checksum text;
COMMENT ON COLUMN ${LEDGER_TABLE}.replaced_checksum IS 'the checksum applied before the file was rewritten (its definitions moved to sql/definitions/; -- pgkit:replaces)';
REVOKE ALL ON ${DEFINITION_LEDGER_TABLE} FROM PUBLIC;
`;

/** Creates the ledger if needed. Call it while holding the migration lock, so two runners never race here. */
export async function ensureLedger(client: ClientBase): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [LEDGER_TABLE]);
  if (!rows[0].ok) await client.query(DDL);
  const { rows: defs } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [DEFINITION_LEDGER_TABLE]);
  if (!defs[0].ok) await client.query(DEFINITION_DDL);
}

export interface DefinitionApply {
  name: string;
  checksum: string;
  appliedAt: Date;
  appliedBy: string;
  durationMs: number;
  /** How many times this definition was applied. */
  applies: number;
}

/** The latest apply of each definition; empty when the table does not exist yet. */
export async function readDefinitionLedger(client: ClientBase): Promise<DefinitionApply[]> {
  const { rows: exists } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [DEFINITION_LEDGER_TABLE]);
  if (!exists[0].ok) return [];
  const { rows } = await client.query<{ name: string; checksum: string; applied_at: Date; applied_by: string; duration_ms: string; applies: string }>(
    `SELECT DISTINCT ON (name) name, checksum, applied_at, applied_by, duration_ms, count(*) OVER (PARTITION BY name) AS applies
     FROM ${DEFINITION_LEDGER_TABLE} ORDER BY name, id DESC`,
  );
  return rows.map((r) => ({
    name: r.name,
    checksum: r.checksum,
    appliedAt: r.applied_at,
    appliedBy: r.applied_by,
    durationMs: Number(r.duration_ms),
    applies: Number(r.applies),
  }));
}

/** Records one apply of a definition, inside the definition's own transaction. */
export async function recordDefinitionApplied(client: ClientBase, entry: { name: string; checksum: string; durationMs: number }): Promise<void> {
  await client.query(
    `INSERT INTO ${DEFINITION_LEDGER_TABLE} (name, checksum, duration_ms, pg_version) VALUES ($1, $2, $3, current_setting('server_version'))`,
    [entry.name, entry.checksum, Math.round(entry.durationMs)],
  );
}

/** A versioned file rewritten without changing what it does (-- pgkit:replaces): the ledger takes the new checksum. */
export async function recordRewritten(client: ClientBase, entry: { name: string; from: string; to: string }): Promise<void> {
  await client.query(`UPDATE ${LEDGER_TABLE} SET checksum = $3, replaced_checksum = $2 WHERE name = $1 AND checksum = $2`, [
    entry.name,
    entry.from,
    entry.to,
  ]);
}

/** The ledger in file order; empty when it does not exist yet (status and plan never create it). */
export async function readLedger(client: ClientBase): Promise<LedgerEntry[]> {
  const { rows: exists } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [LEDGER_TABLE]);
  if (!exists[0].ok) return [];
  const { rows } = await client.query<{
    name: string;
    checksum: string;
    transactional: boolean;
    applied_at: Date;
    applied_by: string;
    duration_ms: string;
    pg_version: string;
    lock_timeout: string;
    statement_timeout: string;
  }>(`SELECT * FROM ${LEDGER_TABLE} ORDER BY name`);
  return rows.map((r) => ({
    name: r.name,
    checksum: r.checksum,
    transactional: r.transactional,
    appliedAt: r.applied_at,
    appliedBy: r.applied_by,
    durationMs: Number(r.duration_ms),
    pgVersion: r.pg_version,
    lockTimeout: r.lock_timeout,
    statementTimeout: r.statement_timeout,
  }));
}

/** Records a file; for a transactional file this runs inside the file's own transaction. */
export async function recordApplied(
  client: ClientBase,
  entry: { name: string; checksum: string; transactional: boolean; durationMs: number },
): Promise<void> {
  await client.query(
    `INSERT INTO ${LEDGER_TABLE} (name, checksum, transactional, duration_ms, pg_version, lock_timeout, statement_timeout)
     VALUES ($1, $2, $3, $4, current_setting('server_version'), current_setting('lock_timeout'), current_setting('statement_timeout'))`,
    [entry.name, entry.checksum, entry.transactional, Math.round(entry.durationMs)],
  );
}
