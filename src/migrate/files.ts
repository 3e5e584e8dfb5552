// Migration files: which files count, in which order, and what identifies their content.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlDir } from '../config.js';

export interface MigrationFile {
  /** File name, e.g. `0100_tables.sql`; the ledger key. */
  name: string;
  /** sha256 (hex) of the content with CRLF normalised to LF, so a checkout's line endings are not drift. */
  checksum: string;
  /** False when the file contains the line `-- pgkit:no-transaction`. */
  transactional: boolean;
  sql: string;
}

export const FILE_PATTERN = /^\d{4}_[a-z0-9_]+\.sql$/;
export const NO_TRANSACTION_MARKER = '-- pgkit:no-transaction';

export function fileChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

export function isTransactional(sql: string): boolean {
  return !sql.split(/\r?\n/).some((line) => line.trim() === NO_TRANSACTION_MARKER);
}

/** The number a file's name starts with (0001_x.sql -> 1). */
export function fileNumber(name: string): number {
  return Number(name.slice(0, 4));
}

/**
 * Every `*.sql` file in `dir`, sorted by name. A `.sql` file whose name does not match FILE_PATTERN, or two
 * files sharing a number, is an error: the apply order must be obvious from the names alone.
 * Other files (README, dotfiles) and folders are ignored.
 */
export async function loadMigrations(dir: string = sqlDir): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const e of entries) {
    if (!e.isFile() || !e.name.toLowerCase().endsWith('.sql')) continue;
    if (!FILE_PATTERN.test(e.name)) {
      throw new Error(
        `migration file name ${join(dir, e.name)} is not valid: expected NNNN_name.sql matching ${FILE_PATTERN} (four digits, lower-case letters, digits and underscores)`,
      );
    }
    names.push(e.name);
  }
  names.sort();
  for (let i = 1; i < names.length; i++) {
    if (names[i].slice(0, 4) === names[i - 1].slice(0, 4)) {
      throw new Error(`migration files ${names[i - 1]} and ${names[i]} share the number ${names[i].slice(0, 4)}: renumber one of them`);
    }
  }
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name), 'utf8');
      return { name, checksum: fileChecksum(sql), transactional: isTransactional(sql), sql };
    }),
  );
}

/** One checksum for a set of files (names and content), e.g. to let Pulumi see that the bundle changed. */
export function bundleChecksum(files: MigrationFile[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.name}\0${f.checksum}\n`);
  return h.digest('hex');
}
