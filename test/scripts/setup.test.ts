// scripts/setup.sh and the PostgreSQL major (issue 14): PGKIT_PG_MAJOR other than 15 or 17 is refused before
// anything is installed; with 17 already built (its stamp keyed by the recipe and versions), a run only checks.
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

  it('with PostgreSQL 17 built (stamp of this recipe), a run checks in seconds and says what is there', async () => {
    const recipe = (await setup({}, '--print-pg17-recipe')).stdout.trim();
    expect(recipe).toMatch(/^pgkit-pg17-recipe-\d+ postgresql-17:17\. pg-partman:5\.2\. pg-cron:1\.6\. pgbackrest:2\.55\. /);
    mkdirSync(join(prefix, 'bin'));
    for (const p of ['postgres', 'pgbackrest']) {
      writeFileSync(join(prefix, 'bin', p), '#!/bin/sh\n');
      chmodSync(join(prefix, 'bin', p), 0o755);
    }
    writeFileSync(join(prefix, '.pgkit-stamp'), `${recipe}\npostgresql-17=17.12 pg-partman=5.2.4\n`);
    const started = Date.now();
    const r = await setup({ PGKIT_PG_MAJOR: '17', PGKIT_PG17_PREFIX: prefix }, '--system');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`PostgreSQL 17 is in ${prefix} (postgresql-17=17.12 pg-partman=5.2.4)`);
    expect(Date.now() - started).toBeLessThan(30_000);
    // A stamp of another recipe is not taken for a build of this one (it would rebuild; not run here).
    writeFileSync(join(prefix, '.pgkit-stamp'), 'pgkit-pg17-recipe-0 postgresql-17:17.\n');
    const check = await run('bash', ['-c', `source <(sed -n '/^pg17_installed()/,/^}/p' scripts/setup.sh); PG17_PREFIX='${prefix}'; PG17_RECIPE='${recipe}'; pg17_installed`], { cwd: repoRoot });
    expect(check.code).toBe(1);
  });
});
