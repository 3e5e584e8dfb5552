// Compares the files with the ledger: applied, pending, drifted (changed after apply), missing (applied, file
// gone). Read-only: status and plan never create the ledger or take the lock.
import { bundleChecksum, fileNumber, loadMigrations, type MigrationFile } from './files.js';
import { readLedger, type LedgerEntry } from './ledger.js';
import { withClient } from './connect.js';
import { splitStatements } from './split.js';

export interface PendingFile {
  name: string;
  transactional: boolean;
  /** Numbered below a file already applied: a fresh database would have run it earlier. */
  outOfOrder: boolean;
}

export interface DriftedFile {
  name: string;
  ledgerChecksum: string;
  fileChecksum: string;
}

export interface Comparison {
  applied: string[];
  pending: PendingFile[];
  drifted: DriftedFile[];
  missing: string[];
}

export interface StatusReport extends Comparison {
  /** Database name and server version, for the printout. */
  database: string;
  serverVersion: string;
  ledger: LedgerEntry[];
  /** bundleChecksum of the files on disk. */
  checksum: string;
}

export interface PlannedFile extends PendingFile {
  statements: number;
}

export interface MigrationPlan {
  database: string;
  toApply: PlannedFile[];
  drifted: DriftedFile[];
  missing: string[];
  /** Why apply would refuse (drift without allowDrift, out-of-order files without allowOutOfOrder); then nothing runs. */
  refusal: string | null;
  alreadyApplied: number;
  checksum: string;
}

export function compare(files: MigrationFile[], ledger: LedgerEntry[]): Comparison {
  const byName = new Map(ledger.map((e) => [e.name, e]));
  const onDisk = new Set(files.map((f) => f.name));
  const highestApplied = Math.max(-1, ...ledger.map((e) => fileNumber(e.name)));
  const out: Comparison = { applied: [], pending: [], drifted: [], missing: [] };
  for (const f of files) {
    const e = byName.get(f.name);
    if (!e) out.pending.push({ name: f.name, transactional: f.transactional, outOfOrder: fileNumber(f.name) < highestApplied });
    else if (e.checksum !== f.checksum) out.drifted.push({ name: f.name, ledgerChecksum: e.checksum, fileChecksum: f.checksum });
    else out.applied.push(f.name);
  }
  out.missing = ledger.filter((e) => !onDisk.has(e.name)).map((e) => e.name);
  return out;
}

export interface StatusOptions {
  connectionString: string;
  dir?: string;
}

export async function migrationStatus(opts: StatusOptions): Promise<StatusReport> {
  const files = await loadMigrations(opts.dir);
  return withClient(opts.connectionString, async (client) => {
    const ledger = await readLedger(client);
    const { rows } = await client.query<{ db: string; v: string }>(
      `SELECT current_database() AS db, current_setting('server_version') AS v`,
    );
    return { database: rows[0].db, serverVersion: rows[0].v, ledger, checksum: bundleChecksum(files), ...compare(files, ledger) };
  });
}

export async function planMigrations(
  opts: StatusOptions & { allowDrift?: boolean; allowOutOfOrder?: boolean },
): Promise<MigrationPlan> {
  const files = await loadMigrations(opts.dir);
  const report = await migrationStatus(opts);
  const sqlOf = new Map(files.map((f) => [f.name, f.sql]));
  const drift = [...report.drifted.map((d) => d.name), ...report.missing];
  const outOfOrder = report.pending.filter((p) => p.outOfOrder).map((p) => p.name);
  const refusal =
    drift.length && !opts.allowDrift
      ? `drift in ${drift.join(', ')} (see status; --allow-drift to override)`
      : outOfOrder.length && !opts.allowOutOfOrder
        ? `out-of-order files ${outOfOrder.join(', ')} (renumber them, or --allow-out-of-order)`
        : null;
  return {
    database: report.database,
    toApply: report.pending.map((p) => ({ ...p, statements: splitStatements(sqlOf.get(p.name) ?? '').length })),
    drifted: report.drifted,
    missing: report.missing,
    refusal,
    alreadyApplied: report.applied.length + report.drifted.length,
    checksum: report.checksum,
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatStatus(r: StatusReport): string {
  const byName = new Map(r.ledger.map((e) => [e.name, e]));
  const drifted = new Set(r.drifted.map((d) => d.name));
  const pending = new Map(r.pending.map((p) => [p.name, p]));
  const names = [...new Set([...r.ledger.map((e) => e.name), ...r.pending.map((p) => p.name)])].sort();
  const rows = names.map((name) => {
    const e = byName.get(name);
    const p = pending.get(name);
    const state = p
      ? p.outOfOrder ? 'pending (out of order)' : 'pending'
      : drifted.has(name) ? 'DRIFTED' : r.missing.includes(name) ? 'MISSING FILE' : 'applied';
    return [
      name,
      state,
      (e?.transactional ?? p?.transactional) === false ? 'no' : 'yes',
      e ? e.appliedAt.toISOString().replace('T', ' ').slice(0, 19) : '',
      e ? `${e.durationMs} ms` : '',
      e ? e.appliedBy : '',
    ];
  });
  const summary =
    `${r.database} (PostgreSQL ${r.serverVersion}): ${r.applied.length} applied, ${r.pending.length} pending, ` +
    `${r.drifted.length} drifted, ${r.missing.length} missing; bundle ${r.checksum.slice(0, 12)}`;
  return [summary, '', table(['file', 'state', 'txn', 'applied at (UTC)', 'took', 'by'], rows)].join('\n');
}

export function formatPlan(p: MigrationPlan): string {
  const lines: string[] = [];
  if (p.refusal) {
    lines.push(`apply would REFUSE and change nothing: ${p.refusal}`);
  } else if (p.drifted.length || p.missing.length) {
    lines.push(`drift allowed in ${[...p.drifted.map((d) => d.name), ...p.missing].join(', ')}: these are not re-run`);
  }
  if (p.toApply.length === 0) {
    lines.push(`${p.database}: nothing to apply (${p.alreadyApplied} applied)`);
  } else {
    lines.push(`${p.database}: ${p.toApply.length} file(s) would be applied, in this order (${p.alreadyApplied} already applied):`, '');
    lines.push(
      table(
        ['file', 'txn', 'statements', 'note'],
        p.toApply.map((f) => [f.name, f.transactional ? 'yes' : 'no', String(f.statements), f.outOfOrder ? 'out of order' : '']),
      ),
    );
  }
  return lines.join('\n');
}
