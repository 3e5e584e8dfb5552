// Applies pending files in bundle order (files.ts) under the migration lock: each transactional file, and every
// definition, in one transaction together with its ledger row; a `-- pgkit:no-transaction` file statement by
// statement, recorded when all passed. A versioned file rewritten with `-- pgkit:replaces` takes its new checksum
// in the ledger in the same run.
import type pg from 'pg';
import { bundleChecksum, loadMigrations, type MigrationFile } from './files.js';
import { ensureLedger, readDefinitionLedger, readLedger, recordApplied, recordDefinitionApplied, recordRewritten } from './ledger.js';
import { acquireMigrationLock, releaseMigrationLock } from './lock.js';
import { DriftError, MigrationError, OutOfOrderError, toMigrationError } from './errors.js';
import { compare } from './status.js';
import { splitStatements, type Statement } from './split.js';
import { withClient } from './connect.js';
import { formatSchemaDrift, recordCatalogue, schemaDrift } from './fingerprint.js';

export interface ApplyOptions {
  connectionString: string;
  dir?: string;
  /** Apply pending files even though applied files changed or vanished (they are not re-run). */
  allowDrift?: boolean;
  /** Apply pending files numbered below an applied one (a local database while the bundle is being written). */
  allowOutOfOrder?: boolean;
  log?: (line: string) => void;
  /** Session defaults set before each file; a file may SET its own. PostgreSQL interval syntax. */
  lockTimeout?: string;
  statementTimeout?: string;
  /** How long to wait for another runner's lock before failing. */
  lockWaitTimeoutMs?: number;
}

export interface ApplyResult {
  /** Versioned files and definitions applied by this run, in apply order. */
  applied: string[];
  alreadyApplied: number;
  checksum: string;
  /** Versioned files whose ledger checksum was updated to their rewritten content (-- pgkit:replaces). */
  rewritten: string[];
}

export const DEFAULT_LOCK_TIMEOUT = '5s';
export const DEFAULT_STATEMENT_TIMEOUT = '15min';
export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 5 * 60_000;

const TRANSACTION_CONTROL = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'prepare']);

function checkStatements(file: MigrationFile, statements: Statement[]): void {
  const bad = statements.find((s) => TRANSACTION_CONTROL.has(s.keyword));
  if (bad) {
    throw new MigrationError({
      file: file.name,
      line: bad.line,
      sqlState: undefined,
      pgMessage: `transaction control (${bad.keyword.toUpperCase()}) is not allowed in a migration file: the runner owns transactions (mark the file -- pgkit:no-transaction to run its statements one by one outside a transaction)`,
      partiallyApplied: false,
    });
  }
}

/** A clean session per file: nothing a previous file SET leaks into the next one. */
async function resetSession(client: pg.Client, lockTimeout: string, statementTimeout: string): Promise<void> {
  await client.query('RESET ALL');
  await client.query(`SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)`, [
    lockTimeout,
    statementTimeout,
  ]);
}

async function invalidIndexes(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

const EVENT_TRIGGER_DDL = /^(create|alter|drop)\s+event\s+trigger\s/i;

/**
 * Runs one statement. Event trigger DDL goes through the local RDS stand-in when this database has it and the
 * runner is not a superuser (src/local/platform.ts): on RDS the master user may run it, in vanilla PostgreSQL
 * only a superuser may. On RDS the stand-in does not exist and the statement runs as written.
 */
async function runStatement(client: pg.Client, stmt: Statement, standIn: boolean): Promise<void> {
  if (standIn && EVENT_TRIGGER_DDL.test(stmt.text)) {
    await client.query('SELECT rds_stand_in.event_trigger_ddl($1)', [stmt.text]);
    return;
  }
  await client.query(stmt.text);
}

async function usesStandIn(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(
    `SELECT to_regprocedure('rds_stand_in.event_trigger_ddl(text)') IS NOT NULL
            AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS ok`,
  );
  return rows[0].ok;
}

/** Whether this database has the bundle's security self-check (sql/definitions/app_private.assert_security_invariants.sql). */
async function hasSecurityCheck(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`SELECT to_regprocedure('app_private.assert_security_invariants()') IS NOT NULL AS ok`);
  return rows[0].ok;
}

/**
 * Runs the bundle's security self-check inside the file's transaction, so a file that breaks an invariant (a
 * tenant table without forced row-level security, an object not owned by pgkit_owner, a definer function without
 * a pinned search_path, a function PUBLIC may run, an application role that may choose an insert's id) is rolled
 * back with the check's message, and the database keeps the state that passed.
 */
async function checkSecurityInvariants(client: pg.Client, file: MigrationFile): Promise<void> {
  try {
    await client.query('SELECT app_private.assert_security_invariants()');
  } catch (e) {
    const pgErr = e as { code?: string; message?: string };
    throw new MigrationError(
      {
        file: file.name,
        line: 1,
        sqlState: pgErr.code,
        pgMessage: `the file breaks the bundle's security invariants: ${pgErr.message ?? String(e)}`,
        hint: 'Change the file so the invariants still hold (docs/security.md; sql/definitions/app_private.assert_security_invariants.sql lists them).',
        partiallyApplied: false,
      },
      { cause: e },
    );
  }
}

async function applyFile(client: pg.Client, file: MigrationFile, standIn: boolean, securityCheck: boolean): Promise<number> {
  const statements = splitStatements(file.sql);
  checkStatements(file, statements);
  const started = performance.now();
  if (file.transactional) {
    await client.query('BEGIN');
    for (const stmt of statements) {
      try {
        await runStatement(client, stmt, standIn);
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw toMigrationError(file.name, file.sql, stmt, e, false);
      }
    }
    try {
      // A file may SET ROLE to create objects as their owner; the ledger is written as the runner's login.
      await client.query('RESET ROLE');
      if (securityCheck) await checkSecurityInvariants(client, file);
      if (file.kind === 'definition') await recordDefinitionApplied(client, { ...file, durationMs: performance.now() - started });
      else await recordApplied(client, { ...file, durationMs: performance.now() - started });
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  } else {
    for (const [i, stmt] of statements.entries()) {
      try {
        await runStatement(client, stmt, standIn);
      } catch (e) {
        const err = toMigrationError(file.name, file.sql, stmt, e, i > 0);
        // A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would then skip.
        const invalid = await invalidIndexes(client).catch(() => []);
        if (invalid.length) {
          throw new MigrationError(
            { ...err, hint: `${err.hint ? `${err.hint} ` : ''}Invalid indexes now exist (drop them before re-running): ${invalid.join(', ')}.` },
            { cause: e },
          );
        }
        throw err;
      }
    }
    await client.query('RESET ROLE');
    await recordApplied(client, { ...file, durationMs: performance.now() - started });
  }
  return performance.now() - started;
}

export async function applyMigrations(opts: ApplyOptions): Promise<ApplyResult> {
  const log = opts.log ?? (() => undefined);
  const lockTimeout = opts.lockTimeout ?? DEFAULT_LOCK_TIMEOUT;
  const statementTimeout = opts.statementTimeout ?? DEFAULT_STATEMENT_TIMEOUT;
  const files = await loadMigrations(opts.dir);
  const checksum = bundleChecksum(files);

  return withClient(opts.connectionString, async (client) => {
    client.on('notice', (n) => {
      if (n.severity === 'WARNING') log(`  ${n.severity}: ${n.message}`);
    });
    await acquireMigrationLock(client, { waitTimeoutMs: opts.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS, log });
    try {
      await ensureLedger(client);
      const state = compare(files, await readLedger(client), await readDefinitionLedger(client));
      const driftNames = [...state.drifted.map((d) => d.name), ...state.missing];
      if (driftNames.length && !opts.allowDrift) throw new DriftError(state.drifted.map((d) => d.name), state.missing);
      if (driftNames.length) log(`drift allowed (not re-run): ${driftNames.join(', ')}`);
      const outOfOrder = state.pending.filter((p) => p.outOfOrder).map((p) => p.name);
      if (outOfOrder.length && !opts.allowOutOfOrder) throw new OutOfOrderError(outOfOrder);

      const alreadyApplied = state.applied.length + state.drifted.length;
      for (const r of state.rewritten) {
        await recordRewritten(client, { name: r.name, from: r.ledgerChecksum, to: r.fileChecksum });
        log(`  rewritten: ${r.name} (-- pgkit:replaces the content this database applied; ledger checksum updated)`);
      }
      const rewritten = state.rewritten.map((r) => r.name);
      for (const n of state.orphanedDefinitions) log(`  warning: ${n} was applied here but its file is gone (its object stays)`);
      if (state.pending.length === 0) {
        log(`nothing to apply (${alreadyApplied} applied)`);
        // A database applied before fingerprints existed gets its first one now; otherwise the recorded one stays,
        // so a change made by hand stays visible to status until a migration takes it in.
        if ((await schemaDrift(client)).recordedAt === null) {
          await recordCatalogue(client, checksum);
          log('  recorded the catalogue fingerprint (first time)');
        }
        return { applied: [], alreadyApplied, checksum, rewritten };
      }
      const before = await schemaDrift(client);
      for (const line of before.recordedAt ? formatSchemaDrift(before) : []) log(`  warning: ${line.trim()}`);
      log(`applying ${state.pending.length} file(s); defaults lock_timeout=${lockTimeout} statement_timeout=${statementTimeout} (a file may SET its own)`);
      const byName = new Map(files.map((f) => [f.name, f]));
      const applied: string[] = [];
      const standIn = await usesStandIn(client);
      let securityCheck = false;
      if (standIn) log('  event trigger DDL runs through the local RDS stand-in (rds_stand_in.event_trigger_ddl)');
      for (const p of state.pending) {
        const file = byName.get(p.name);
        if (!file) continue;
        if (p.outOfOrder) log(`  out of order (allowed): ${p.name} is numbered below a file already applied`);
        await resetSession(client, lockTimeout, statementTimeout);
        // Checked from the first file after the check exists (a fresh database builds it at sql/0480; sql/0599
        // runs it once explicitly).
        securityCheck ||= await hasSecurityCheck(client);
        const ms = await applyFile(client, file, standIn, securityCheck);
        const how = file.transactional ? (p.reason === 'changed' && file.kind === 'definition' ? ' (changed: re-applied)' : '') : ' (no transaction)';
        log(`  applied ${file.name}${how} in ${Math.round(ms)} ms`);
        applied.push(file.name);
      }
      // The catalogue as this apply leaves it: status reports any later change made outside the ledger.
      await recordCatalogue(client, checksum);
      if (before.changes.length) log(`  the ${before.changes.length} change(s) made outside the ledger above are part of the recorded catalogue from now on`);
      return { applied, alreadyApplied, checksum, rewritten };
    } finally {
      await client.query('RESET ALL').catch(() => undefined);
      await releaseMigrationLock(client).catch(() => undefined);
    }
  });
}
