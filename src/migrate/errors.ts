// Errors a caller can tell apart: drift (refused before anything ran), a failing file, a lock wait that timed out.
import type { DatabaseError } from 'pg';
import { lineAt, positionToIndex, type Statement } from './split.js';

export class DriftError extends Error {
  /** Applied files whose content changed, then applied files that are gone from the folder. */
  readonly files: string[];
  constructor(changed: string[], missing: string[]) {
    const parts = [];
    if (changed.length) parts.push(`changed after they were applied: ${changed.join(', ')}`);
    if (missing.length) parts.push(`applied but missing from the folder: ${missing.join(', ')}`);
    super(
      `migration drift, nothing applied. Files ${parts.join('; ')}. Applied files are immutable: restore them ` +
        `and put the change in a new file (0800+), or pass allowDrift (--allow-drift) to apply pending files anyway.`,
    );
    this.name = 'DriftError';
    this.files = [...changed, ...missing];
  }
}

export class OutOfOrderError extends Error {
  /** Pending files numbered below a file already applied. */
  readonly files: string[];
  constructor(files: string[]) {
    super(
      `pending files numbered below a file already applied, nothing applied: ${files.join(', ')}. A fresh database ` +
        `would run them earlier, so this one would end up different. Renumber them after the last applied file ` +
        `(0800+ once a database holds data), or pass allowOutOfOrder (--allow-out-of-order), e.g. for a local database.`,
    );
    this.name = 'OutOfOrderError';
    this.files = files;
  }
}

export class LockTimeoutError extends Error {
  constructor(waitedMs: number) {
    super(`another migration runner held the migration lock for ${Math.round(waitedMs / 1000)}s; gave up waiting`);
    this.name = 'LockTimeoutError';
  }
}

export interface MigrationErrorDetails {
  file: string;
  /** 1-based line in the file: where PostgreSQL points, else the failing statement's first line. */
  line: number;
  sqlState: string | undefined;
  pgMessage: string;
  detail?: string;
  hint?: string;
  /** PostgreSQL's context (e.g. the PL/pgSQL line), when it gave one. */
  where?: string;
  /** Whether the file's earlier statements stay committed (non-transactional files only). */
  partiallyApplied: boolean;
}

export class MigrationError extends Error implements MigrationErrorDetails {
  readonly file: string;
  readonly line: number;
  readonly sqlState: string | undefined;
  readonly pgMessage: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly where?: string;
  readonly partiallyApplied: boolean;
  constructor(d: MigrationErrorDetails, options?: { cause?: unknown }) {
    const outcome = d.partiallyApplied
      ? 'file is not transactional: statements before this one stay committed, so it must be safe to re-run'
      : 'file rolled back';
    const extra = [d.detail && `DETAIL: ${d.detail}`, d.hint && `HINT: ${d.hint}`, d.where && `CONTEXT: ${d.where}`]
      .filter(Boolean)
      .join('\n  ');
    super(
      `${d.file}:${d.line}: ${d.sqlState ? `ERROR ${d.sqlState}: ` : ''}${d.pgMessage} (${outcome})${extra ? `\n  ${extra}` : ''}`,
      options,
    );
    this.name = 'MigrationError';
    this.file = d.file;
    this.line = d.line;
    this.sqlState = d.sqlState;
    this.pgMessage = d.pgMessage;
    this.detail = d.detail;
    this.hint = d.hint;
    this.where = d.where;
    this.partiallyApplied = d.partiallyApplied;
  }
}

function isDatabaseError(e: unknown): e is DatabaseError {
  return e instanceof Error && typeof (e as Partial<DatabaseError>).severity === 'string';
}

/**
 * Finds the file line of a failure in `stmt`: PostgreSQL's `position` (characters into the statement), else
 * for a dollar-quoted body (DO block, function) the `line N` of its PL/pgSQL context, else the statement's line.
 */
export function failureLine(sql: string, stmt: Statement, err: Partial<DatabaseError>): number {
  const pos = Number(err.position);
  if (Number.isInteger(pos) && pos > 0) return lineAt(sql, stmt.start + positionToIndex(stmt.text, pos));
  const plLine = /PL\/pgSQL function [^\n]* line (\d+)/.exec(err.where ?? '');
  const body = stmt.text.search(/\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/);
  if (plLine && body >= 0) return lineAt(sql, stmt.start + body) + Number(plLine[1]) - 1;
  return stmt.line;
}

export function toMigrationError(file: string, sql: string, stmt: Statement, err: unknown, partiallyApplied: boolean): MigrationError {
  if (!isDatabaseError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new MigrationError({ file, line: stmt.line, sqlState: undefined, pgMessage: message, partiallyApplied }, { cause: err });
  }
  let hint = err.hint;
  if (err.code === '25001') {
    hint = `${hint ? `${hint} ` : ''}This statement cannot run in a transaction: put it in its own file marked with the line -- pgkit:no-transaction.`;
  }
  return new MigrationError(
    {
      file,
      line: failureLine(sql, stmt, err),
      sqlState: err.code,
      pgMessage: err.message,
      detail: err.detail,
      hint,
      where: err.where,
      partiallyApplied,
    },
    { cause: err },
  );
}
