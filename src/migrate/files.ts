// The bundle: which files count, in which order, and what identifies their content.
//
// Two kinds of file (docs: CONVENTIONS.md, "SQL"):
//   * versioned files, `sql/NNNN_name.sql`: what happens once (tables, data changes, CONCURRENTLY indexes).
//     Applied once, in number order; editing one after it was applied is drift, and refused.
//   * definitions, `sql/definitions/<schema>.<object>.sql`: the current form of one function or view (with
//     its comment, grants and the triggers that call it). Re-applied whenever its content changes. Each names
//     the versioned file it needs with `-- pgkit:after NNNN_name.sql` and may name other definitions it needs
//     with `-- pgkit:requires <schema>.<object>`.
// The apply order (`bundleOrder`): every versioned file in number order, each followed by the definitions
// anchored after it, those sorted so that a definition comes after the ones it requires, else by name. A fresh
// database and one that only re-applies a changed definition both follow it.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlDir } from '../config.js';

export type FileKind = 'versioned' | 'definition';

export interface MigrationFile {
  /** Ledger key: `0100_tables.sql` for a versioned file, `definitions/app.f.sql` for a definition. */
  name: string;
  kind: FileKind;
  /** sha256 (hex) of the content with CRLF normalised to LF, so a checkout's line endings are not drift. */
  checksum: string;
  /** False when the file contains the line `-- pgkit:no-transaction` (versioned files only). */
  transactional: boolean;
  sql: string;
  /** Definitions: the versioned file it is applied after (`-- pgkit:after`). */
  after?: string;
  /** Definitions: other definitions (`schema.object`) it needs (`-- pgkit:requires`). */
  requires?: string[];
  /**
   * Versioned files: checksums of earlier contents this one stands for (`-- pgkit:replaces sha256:<hex>`), after
   * definitions moved out of it into sql/definitions/. A database that applied such content counts it applied.
   */
  replaces?: string[];
  /**
   * Versioned files: definitions this file drops (`-- pgkit:drops definitions/<schema>.<object>.sql`), whose file
   * was deleted with it: once this file is applied, the definition's ledger rows are history, not a missing file.
   */
  drops?: string[];
}

export const FILE_PATTERN = /^\d{4}_[a-z0-9_]+\.sql$/;
export const DEFINITIONS_DIR = 'definitions';
export const DEFINITION_PATTERN = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.sql$/;
export const NO_TRANSACTION_MARKER = '-- pgkit:no-transaction';

export function fileChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

export function isTransactional(sql: string): boolean {
  return !sql.split(/\r?\n/).some((line) => line.trim() === NO_TRANSACTION_MARKER);
}

/** The number a versioned file's name starts with (0001_x.sql -> 1). */
export function fileNumber(name: string): number {
  return Number(name.slice(0, 4));
}

export function isDefinition(name: string): boolean {
  return name.startsWith(`${DEFINITIONS_DIR}/`);
}

/** `definitions/app.f.sql` -> `app.f` */
export function definitionObject(name: string): string {
  return name.slice(DEFINITIONS_DIR.length + 1, -'.sql'.length);
}

/** Values of `-- pgkit:<key> value` lines (alone on their line). */
function directives(sql: string, key: string): string[] {
  const re = new RegExp(`^\\s*--\\s*pgkit:${key}\\s+(\\S+)\\s*$`);
  return sql.split(/\r?\n/).flatMap((line) => {
    const m = re.exec(line);
    return m ? [m[1]] : [];
  });
}

async function sqlNames(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return entries.filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.sql')).map((e) => e.name).sort();
}

async function loadVersioned(dir: string): Promise<MigrationFile[]> {
  const names = await sqlNames(dir);
  for (const name of names) {
    if (!FILE_PATTERN.test(name)) {
      throw new Error(
        `migration file name ${join(dir, name)} is not valid: expected NNNN_name.sql matching ${FILE_PATTERN} (four digits, lower-case letters, digits and underscores)`,
      );
    }
  }
  for (let i = 1; i < names.length; i++) {
    if (names[i].slice(0, 4) === names[i - 1].slice(0, 4)) {
      throw new Error(`migration files ${names[i - 1]} and ${names[i]} share the number ${names[i].slice(0, 4)}: renumber one of them`);
    }
  }
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name), 'utf8');
      const replaces = directives(sql, 'replaces').map((v) => {
        const m = /^sha256:([0-9a-f]{64})$/.exec(v);
        if (!m) throw new Error(`${join(dir, name)}: '-- pgkit:replaces ${v}' is not valid: expected sha256:<64 hex digits>`);
        return m[1];
      });
      const drops = directives(sql, 'drops');
      for (const d of drops) {
        if (!isDefinition(d) || !DEFINITION_PATTERN.test(d.slice(DEFINITIONS_DIR.length + 1))) {
          throw new Error(`${join(dir, name)}: '-- pgkit:drops ${d}' is not valid: expected ${DEFINITIONS_DIR}/<schema>.<object>.sql`);
        }
      }
      return { name, kind: 'versioned' as const, checksum: fileChecksum(sql), transactional: isTransactional(sql), sql, replaces, drops };
    }),
  );
}

async function loadDefinitions(dir: string, versioned: Set<string>): Promise<MigrationFile[]> {
  const defDir = join(dir, DEFINITIONS_DIR);
  const names = await sqlNames(defDir);
  const objects = new Set(names.map((n) => n.slice(0, -'.sql'.length)));
  return Promise.all(
    names.map(async (file) => {
      const path = join(defDir, file);
      if (!DEFINITION_PATTERN.test(file)) {
        throw new Error(`definition file name ${path} is not valid: expected <schema>.<object>.sql matching ${DEFINITION_PATTERN} (lower-case)`);
      }
      const sql = await readFile(path, 'utf8');
      if (!isTransactional(sql)) {
        throw new Error(`${path}: a definition always runs in one transaction; '${NO_TRANSACTION_MARKER}' belongs in a versioned file`);
      }
      const after = directives(sql, 'after');
      if (after.length !== 1) {
        throw new Error(
          `${path}: needs exactly one '-- pgkit:after NNNN_name.sql' line naming the versioned file it must follow (found ${after.length})`,
        );
      }
      if (!versioned.has(after[0])) {
        throw new Error(`${path}: '-- pgkit:after ${after[0]}' names no versioned file in ${dir}`);
      }
      const requires = directives(sql, 'requires');
      for (const r of requires) {
        if (!objects.has(r)) throw new Error(`${path}: '-- pgkit:requires ${r}' names no definition (expected ${join(defDir, `${r}.sql`)})`);
      }
      return { name: `${DEFINITIONS_DIR}/${file}`, kind: 'definition' as const, checksum: fileChecksum(sql), transactional: true, sql, after: after[0], requires };
    }),
  );
}

/** The apply order: versioned files by number, each followed by its definitions (requires first, then by name). */
export function bundleOrder(files: MigrationFile[]): MigrationFile[] {
  const versioned = files.filter((f) => f.kind === 'versioned').sort((a, b) => a.name.localeCompare(b.name));
  const defs = files.filter((f) => f.kind === 'definition').sort((a, b) => a.name.localeCompare(b.name));
  const byObject = new Map(defs.map((d) => [definitionObject(d.name), d]));
  const position = new Map(versioned.map((v, i) => [v.name, i]));
  for (const d of defs) {
    for (const r of d.requires ?? []) {
      const req = byObject.get(r);
      if (req && (position.get(req.after ?? '') ?? 0) > (position.get(d.after ?? '') ?? 0)) {
        throw new Error(
          `sql/${d.name} requires ${r}, which is applied after ${req.after}, later than its own anchor ${d.after}: anchor it after ${req.after} or later`,
        );
      }
    }
  }
  const out: MigrationFile[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (d: MigrationFile, anchor: string) => {
    if (placed.has(d.name)) return;
    if (visiting.has(d.name)) throw new Error(`definitions require each other in a cycle: ${[...visiting, d.name].join(' -> ')}`);
    visiting.add(d.name);
    for (const r of d.requires ?? []) {
      const req = byObject.get(r);
      if (req && req.after === anchor) place(req, anchor);
    }
    visiting.delete(d.name);
    placed.add(d.name);
    out.push(d);
  };
  for (const v of versioned) {
    out.push(v);
    for (const d of defs) if (d.after === v.name) place(d, v.name);
  }
  return out;
}

/**
 * Every file of the bundle in `dir`, in apply order (bundleOrder). A `.sql` file whose name does not match its
 * pattern, two versioned files sharing a number, or a definition without a valid anchor is an error: the apply
 * order must be obvious from the files alone. Other files (README, dotfiles) are ignored.
 */
export async function loadMigrations(dir: string = sqlDir): Promise<MigrationFile[]> {
  const versioned = await loadVersioned(dir);
  const defs = await loadDefinitions(dir, new Set(versioned.map((v) => v.name)));
  return bundleOrder([...versioned, ...defs]);
}

/** One checksum for a set of files (names and content), e.g. to let Pulumi see that the bundle changed. */
export function bundleChecksum(files: MigrationFile[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.name}\0${f.checksum}\n`);
  return h.digest('hex');
}
