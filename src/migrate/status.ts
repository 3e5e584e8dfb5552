// Compares the files with the ledger: applied, pending (a new versioned file, a new or changed definition),
// drifted (a versioned file changed after apply), missing (applied, file gone). Read-only: status and plan never
// create the ledger or take the lock.
import { bundleChecksum, fileNumber, loadMigrations, type FileKind, type MigrationFile } from './files.js';
import { readDefinitionLedger, readLedger, type DefinitionApply, type LedgerEntry } from './ledger.js';
import { withClient } from './connect.js';
import { splitStatements } from './split.js';
import { formatSchemaDrift, schemaDrift, type SchemaDrift } from './fingerprint.js';

export interface PendingFile {
  name: string;
  kind: FileKind;
  transactional: boolean;
  /** Versioned files numbered below a file already applied: a fresh database would have run it earlier. */
  outOfOrder: boolean;
  /** Definitions: `new` (never applied here) or `changed` (applied with other content: re-applied). */
  reason: 'new' | 'changed';
}

/** A versioned file whose applied content it declares it replaces (-- pgkit:replaces): counted as applied. */
export interface RewrittenFile {
  name: string;
  ledgerChecksum: string;
  fileChecksum: string;
}

export interface DriftedFile {
  name: string;
  ledgerChecksum: string;
  fileChecksum: string;
}

export interface Comparison {
  /** Versioned files and definitions whose applied content is the file's (rewritten files included). */
  applied: string[];
  /** In apply order. */
  pending: PendingFile[];
  drifted: DriftedFile[];
  rewritten: RewrittenFile[];
  missing: string[];
  /** Definitions applied here whose file is gone: their objects stay until a versioned file drops them. */
  orphanedDefinitions: string[];
  /** Definitions applied here, then dropped by an applied versioned file (-- pgkit:drops). */
  droppedDefinitions: string[];
}

export interface StatusReport extends Comparison {
  /** Database name and server version, for the printout. */
  database: string;
  /** The live catalogue against the one the last apply recorded (changes outside the ledger). */
  schemaDrift: SchemaDrift;
  serverVersion: string;
  ledger: LedgerEntry[];
  definitions: DefinitionApply[];
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

export function compare(files: MigrationFile[], ledger: LedgerEntry[], definitions: DefinitionApply[] = []): Comparison {
  const byName = new Map(ledger.map((e) => [e.name, e]));
  const defByName = new Map(definitions.map((d) => [d.name, d]));
  const onDisk = new Set(files.map((f) => f.name));
  const highestApplied = Math.max(-1, ...ledger.map((e) => fileNumber(e.name)));
  const out: Comparison = { applied: [], pending: [], drifted: [], rewritten: [], missing: [], orphanedDefinitions: [], droppedDefinitions: [] };
  for (const f of files) {
    if (f.kind === 'definition') {
      const d = defByName.get(f.name);
      if (d && d.checksum === f.checksum) out.applied.push(f.name);
      else out.pending.push({ name: f.name, kind: f.kind, transactional: true, outOfOrder: false, reason: d ? 'changed' : 'new' });
      continue;
    }
    const e = byName.get(f.name);
    if (!e) {
      out.pending.push({ name: f.name, kind: f.kind, transactional: f.transactional, outOfOrder: fileNumber(f.name) < highestApplied, reason: 'new' });
    } else if (e.checksum === f.checksum) {
      out.applied.push(f.name);
    } else if (f.replaces?.includes(e.checksum)) {
      out.applied.push(f.name);
      out.rewritten.push({ name: f.name, ledgerChecksum: e.checksum, fileChecksum: f.checksum });
    } else {
      out.drifted.push({ name: f.name, ledgerChecksum: e.checksum, fileChecksum: f.checksum });
    }
  }
  out.missing = ledger.filter((e) => !onDisk.has(e.name)).map((e) => e.name);
  // A definition dropped by a versioned file (-- pgkit:drops; applied, or pending in this run) is history, not a
  // missing file.
  const dropped = new Set(files.filter((f) => f.kind === 'versioned').flatMap((f) => f.drops ?? []));
  out.orphanedDefinitions = definitions.filter((d) => !onDisk.has(d.name) && !dropped.has(d.name)).map((d) => d.name);
  out.droppedDefinitions = definitions.filter((d) => !onDisk.has(d.name) && dropped.has(d.name)).map((d) => d.name);
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
    const definitions = await readDefinitionLedger(client);
    const { rows } = await client.query<{ db: string; v: string }>(
      `SELECT current_database() AS db, current_setting('server_version') AS v`,
    );
    return {
      database: rows[0].db,
      serverVersion: rows[0].v,
      schemaDrift: await schemaDrift(client),
      ledger,
      definitions,
      checksum: bundleChecksum(files),
      ...compare(files, ledger, definitions),
    };
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
  const defByName = new Map(r.definitions.map((d) => [d.name, d]));
  const drifted = new Set(r.drifted.map((d) => d.name));
  const rewritten = new Set(r.rewritten.map((d) => d.name));
  const pending = new Map(r.pending.map((p) => [p.name, p]));
  const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19);
  const versioned = [...new Set([...r.ledger.map((e) => e.name), ...r.pending.filter((p) => p.kind === 'versioned').map((p) => p.name)])].sort();
  const rows = versioned.map((name) => {
    const e = byName.get(name);
    const p = pending.get(name);
    const state = p
      ? p.outOfOrder ? 'pending (out of order)' : 'pending'
      : drifted.has(name) ? 'DRIFTED' : r.missing.includes(name) ? 'MISSING FILE' : rewritten.has(name) ? 'applied (rewritten)' : 'applied';
    return [
      name,
      state,
      (e?.transactional ?? p?.transactional) === false ? 'no' : 'yes',
      e ? when(e.appliedAt) : '',
      e ? `${e.durationMs} ms` : '',
      e ? e.appliedBy : '',
    ];
  });
  const definitions = [...new Set([...r.definitions.map((d) => d.name), ...r.pending.filter((p) => p.kind === 'definition').map((p) => p.name)])].sort();
  const defRows = definitions.map((name) => {
    const d = defByName.get(name);
    const p = pending.get(name);
    const state = p
      ? p.reason === 'changed' ? 'pending (changed)' : 'pending'
      : r.orphanedDefinitions.includes(name) ? 'FILE GONE' : r.droppedDefinitions.includes(name) ? 'dropped' : 'applied';
    return [name, state, d ? String(d.applies) : '0', d ? when(d.appliedAt) : '', d ? `${d.durationMs} ms` : '', d ? d.appliedBy : ''];
  });
  const nDefs = definitions.length - r.orphanedDefinitions.length - r.droppedDefinitions.length;
  const summary =
    `${r.database} (PostgreSQL ${r.serverVersion}): ${r.applied.length} applied, ${r.pending.length} pending, ` +
    `${r.drifted.length} drifted, ${r.missing.length} missing (${versioned.length} versioned files, ${nDefs} definitions); ` +
    `bundle ${r.checksum.slice(0, 12)}`;
  const notes = [
    ...formatSchemaDrift(r.schemaDrift),
    ...r.rewritten.map((f) => `note: ${f.name} was rewritten (-- pgkit:replaces ${f.ledgerChecksum.slice(0, 12)}): counted as applied`),
    ...r.orphanedDefinitions.map((n) => `warning: ${n} was applied here but its file is gone; its object stays until a versioned file drops it`),
  ];
  return [
    summary,
    ...(notes.length ? ['', ...notes] : []),
    '',
    table(['file', 'state', 'txn', 'applied at (UTC)', 'took', 'by'], rows),
    '',
    table(['definition', 'state', 'applies', 'last applied (UTC)', 'took', 'by'], defRows),
  ].join('\n');
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
        p.toApply.map((f) => [
          f.name,
          f.transactional ? 'yes' : 'no',
          String(f.statements),
          f.outOfOrder ? 'out of order' : f.kind === 'definition' ? (f.reason === 'changed' ? 'definition changed: re-applied' : 'definition') : '',
        ]),
      ),
    );
  }
  return lines.join('\n');
}
