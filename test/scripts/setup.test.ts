// scripts/setup.sh and the PostgreSQL major (issue 14): PGKIT_PG_MAJOR other than 15 or 17 is refused before
// anything is installed; with 17 already installed (its stamp keyed by the recipe and versions), a run only checks.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { run } from '../../src/proc/run.js';

const setup = (env: Record<string, string>, ...args: string[]) =>
  run('bash', [join(repoRoot, 'scripts', 'setup.sh'), ...args], { cwd: repoRoot, env, timeoutMs: 120_000 });

const prefix = mkdtempSync(join(tmpdir(), 'pgkit-pg17-stamp-'));
afterAll(() => rmSync(prefix, { recursive: true, force: true }));

describe('scripts/setup.sh and PGKIT_PG_MAJOR', () => {
  it('refuses a major without a test target before installing anything, naming the ones there are', async () => {
    const r = await setup({ PGKIT_PG_MAJOR: '16' }, '--system');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PGKIT_PG_MAJOR=16 is not a tested target: use 15 (the default) or 17');
    expect(r.stdout).toBe('');
  });

  it('with PostgreSQL 17 installed (stamp of this recipe), a run checks in seconds and says what is there', async () => {
    const recipe = (await setup({}, '--print-pg17-recipe')).stdout.trim();
    expect(recipe).toMatch(/^pgkit-pg17-recipe-\d+ trixie-binaries postgresql-17:17\. postgresql-17-partman:5\.2\. postgresql-17-cron:1\.6\. pgbackrest:2\.55\. /);
    // Debian's own layout under the prefix (src/config.ts pgInstall(17)).
    for (const p of ['usr/lib/postgresql/17/bin/postgres', 'usr/bin/pgbackrest']) {
      mkdirSync(join(prefix, p, '..'), { recursive: true });
      writeFileSync(join(prefix, p), '#!/bin/sh\n');
      chmodSync(join(prefix, p), 0o755);
    }
    writeFileSync(join(prefix, '.pgkit-stamp'), `${recipe}\npostgresql-17=17.12 pg-partman=5.2.4\n`);
    const started = Date.now();
    const r = await setup({ PGKIT_PG_MAJOR: '17', PGKIT_PG17_PREFIX: prefix }, '--system');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`PostgreSQL 17 is in ${prefix} (postgresql-17=17.12 pg-partman=5.2.4)`);
    expect(Date.now() - started).toBeLessThan(30_000);
    // A stamp of another recipe (recipe-1 was the source build) is not taken for this one (it would reinstall).
    writeFileSync(join(prefix, '.pgkit-stamp'), 'pgkit-pg17-recipe-0 postgresql-17:17.\n');
    const check = await run('bash', ['-c', `source <(sed -n '/^pg17_installed()/,/^}/p' scripts/setup.sh); PG17_PREFIX='${prefix}'; PG17_RECIPE='${recipe}'; pg17_installed`], { cwd: repoRoot });
    expect(check.code).toBe(1);
  });
});
