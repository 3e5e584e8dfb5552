// A later migration arriving on a database that already holds the bundle: sql/ copied to a temporary folder with one
// more file, applied through the runner as `npm run migrate -- apply` would, the folder removed afterwards.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlDir } from '../../src/config.js';
import { applyMigrations, type ApplyResult } from '../../src/migrate/index.js';

/** Applies sql/ plus the file `name` holding `lines` to the database at `connectionString`. */
export async function applyWithLaterFile(connectionString: string, name: string, lines: string[]): Promise<ApplyResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pgkit-later-'));
  try {
    await cp(sqlDir, dir, { recursive: true });
    await writeFile(join(dir, name), [...lines, ''].join('\n'));
    return await applyMigrations({ connectionString, dir, log: () => {} });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
