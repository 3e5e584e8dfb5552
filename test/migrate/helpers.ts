// Temp folders of small migration files for the runner tests.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type pg from 'pg';

export interface MigrationDir {
  path: string;
  write(name: string, sql: string): Promise<void>;
  remove(name: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function migrationDir(files: Record<string, string> = {}): Promise<MigrationDir> {
  const path = await mkdtemp(join(tmpdir(), 'pgkit-migrate-'));
  const dir: MigrationDir = {
    path,
    write: async (name, sql) => {
      await mkdir(dirname(join(path, name)), { recursive: true });
      await writeFile(join(path, name), sql);
    },
    remove: (name) => rm(join(path, name)),
    cleanup: () => rm(path, { recursive: true, force: true }),
  };
  for (const [name, sql] of Object.entries(files)) await dir.write(name, sql);
  return dir;
}

export async function ledgerRows(pool: pg.Pool) {
  const { rows } = await pool.query<{ name: string; checksum: string; transactional: boolean; lock_timeout: string; statement_timeout: string }>(
    'SELECT name, checksum, transactional, lock_timeout, statement_timeout FROM pgkit_migrations.ledger ORDER BY name',
  );
  return rows;
}

export async function tableExists(pool: pg.Pool, name: string): Promise<boolean> {
  const { rows } = await pool.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [name]);
  return rows[0].ok;
}

export async function definitionApplies(pool: pg.Pool) {
  const { rows } = await pool.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM pgkit_migrations.definition_applies ORDER BY id',
  );
  return rows;
}
