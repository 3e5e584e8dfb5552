// The CLI end to end: exit codes and the messages an operator reads.
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { run } from '../../src/proc/run.js';
import { freshDatabase, type TestDb } from '../support/db.js';
import { migrationDir, type MigrationDir } from './helpers.js';

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  // DATABASE_URL from the caller's environment must not leak in: only what the test passes counts.
  const r = await run(join(repoRoot, 'node_modules/.bin/tsx'), [join(repoRoot, 'scripts/migrate.ts'), ...args], { cwd: repoRoot, env: { DATABASE_URL: undefined, ...env } });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

let db: TestDb;
let dir: MigrationDir;
beforeEach(async () => {
  db = await freshDatabase();
  dir = await migrationDir({ '0001_a.sql': 'CREATE TABLE a (x int);' });
});
afterEach(async () => {
  await db.drop();
  await dir.cleanup();
});

it('plan, apply, status, then drift: exit codes and output', async () => {
  const env = { DATABASE_URL: db.url };
  const plan = await cli(['plan', '--dir', dir.path], env);
  expect([plan.code, plan.stdout]).toEqual([0, expect.stringMatching(/1 file\(s\) would be applied[\s\S]*0001_a\.sql\s+yes\s+1/)]);

  const apply = await cli(['apply', '--dir', dir.path], env);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toMatch(/0001_a\.sql\s+applied\s+yes/);

  await dir.write('0001_a.sql', 'CREATE TABLE a (x bigint);');
  const status = await cli(['status', '--dir', dir.path], env);
  expect([status.code, status.stdout]).toEqual([1, expect.stringMatching(/0001_a\.sql\s+DRIFTED/)]);
  const refused = await cli(['apply', '--dir', dir.path], env);
  expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('migrate: migration drift, nothing applied')]);
});

it('a failing file exits 1 naming file and line; usage errors exit 2', async () => {
  await dir.write('0002_bad.sql', 'SELECT 1;\nSELECT nope;');
  const r = await cli(['apply', '--dir', dir.path, '--database-url', db.url]);
  expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('migrate: 0002_bad.sql:2: ERROR 42703: column "nope" does not exist')]);
  expect((await cli(['status'])).code).toBe(2); // no DATABASE_URL
  expect((await cli(['frobnicate'])).code).toBe(2);
});
