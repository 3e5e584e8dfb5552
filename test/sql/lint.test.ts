// squawk over every sql/ file, plus proof that the strict rules (0800+) do flag unsafe changes, so the
// lint cannot pass by being misconfigured.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { INITIAL_BUNDLE_CONFIG, lintMigrations, STRICT_CONFIG } from '../../src/migrate/lint.js';
import { migrationDir, type MigrationDir } from '../migrate/helpers.js';

let dir: MigrationDir | undefined;
afterEach(async () => {
  await dir?.cleanup();
  dir = undefined;
});

const ruleNames = (output: string) => [...new Set([...output.matchAll(/warning\[([a-z-]+)\]/g)].map((m) => m[1]))].sort();

async function excludedRules(config: string): Promise<string[]> {
  const toml = (await readFile(config, 'utf8')).replace(/#.*$/gm, '');
  const list = /excluded_rules\s*=\s*\[([^\]]*)\]/.exec(toml)?.[1] ?? '';
  return [...list.matchAll(/"([a-z-]+)"/g)].map((m) => m[1]);
}

it('every file in sql/ passes squawk', async () => {
  const result = await lintMigrations();
  expect(result.runs.length).toBeGreaterThan(0);
  expect(result.ok, result.report).toBe(true);
});

describe('the lint itself', () => {
  const UNSAFE = [
    'CREATE INDEX things_name_idx ON app.things (name);',
    'ALTER TABLE app.things ADD CONSTRAINT things_n_check CHECK (n > 0);',
    'ALTER TABLE app.things ADD CONSTRAINT things_org_fkey FOREIGN KEY (org_id) REFERENCES app.orgs (id) ON DELETE CASCADE ON UPDATE CASCADE;',
  ].join('\n');

  it('flags an unsafe 0800+ migration: plain index, constraints without NOT VALID, no timeouts', async () => {
    dir = await migrationDir({ '0800_unsafe.sql': UNSAFE });
    const result = await lintMigrations(dir.path);
    expect(result.ok).toBe(false);
    expect(result.runs.map((r) => r.config)).toEqual([STRICT_CONFIG]);
    expect(ruleNames(result.report)).toEqual(
      expect.arrayContaining([
        'require-concurrent-index-creation',
        'constraint-missing-not-valid',
        'adding-foreign-key-constraint',
        'require-lock-timeout',
        'require-statement-timeout',
      ]),
    );
    expect(result.report).toContain('0800_unsafe.sql');
  });

  it('flags CONCURRENTLY in a file the runner would wrap in a transaction, and VALIDATE in the same one', async () => {
    dir = await migrationDir({
      '0800_idx.sql': "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS things_name_idx ON app.things (name);",
      '0801_check.sql': "SET LOCAL lock_timeout = '1s';\nSET LOCAL statement_timeout = '1min';\nALTER TABLE app.things ADD CONSTRAINT things_n_check CHECK (n > 0) NOT VALID;\nALTER TABLE app.things VALIDATE CONSTRAINT things_n_check;",
    });
    const result = await lintMigrations(dir.path);
    expect(ruleNames(result.report)).toEqual(['ban-concurrent-index-creation-in-transaction', 'constraint-missing-not-valid']);
  });

  it('passes the online-safe way of writing the same changes', async () => {
    dir = await migrationDir({
      '0800_idx.sql': "-- pgkit:no-transaction\nSET lock_timeout = '1s';\nSET statement_timeout = '1min';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS things_name_idx ON app.things (name);",
      '0801_check.sql': "SET LOCAL lock_timeout = '1s';\nSET LOCAL statement_timeout = '1min';\nALTER TABLE app.things ADD CONSTRAINT things_n_check CHECK (n > 0) NOT VALID;",
      '0802_check_validate.sql': "SET LOCAL lock_timeout = '1s';\nSET LOCAL statement_timeout = '10min';\nALTER TABLE app.things VALIDATE CONSTRAINT things_n_check;",
    });
    const result = await lintMigrations(dir.path);
    expect(result.ok, result.report).toBe(true);
    expect(result.runs.map((r) => r.assumeInTransaction).sort()).toEqual([false, true]);
  });

  it('lints the initial bundle with its relaxed set only: the same file numbered 0100 passes, schema rules still apply', async () => {
    dir = await migrationDir({ '0100_unsafe.sql': UNSAFE });
    const relaxed = await lintMigrations(dir.path);
    expect(relaxed.runs.map((r) => r.config)).toEqual([INITIAL_BUNDLE_CONFIG]);
    expect(relaxed.ok, relaxed.report).toBe(true);

    await dir.write('0100_unsafe.sql', 'CREATE TABLE IF NOT EXISTS app.t (id uuid PRIMARY KEY, name varchar(20), at timestamp);');
    expect(ruleNames((await lintMigrations(dir.path)).report)).toEqual(['prefer-text-field', 'prefer-timestamp-tz']);
  });

  it('the initial-bundle config excludes everything the strict one does, and pins PostgreSQL 15', async () => {
    const strict = await excludedRules(STRICT_CONFIG);
    const initial = await excludedRules(INITIAL_BUNDLE_CONFIG);
    expect(strict.length).toBeGreaterThan(0);
    expect(initial).toEqual(expect.arrayContaining(strict));
    for (const config of [STRICT_CONFIG, INITIAL_BUNDLE_CONFIG]) {
      expect(await readFile(config, 'utf8')).toMatch(/^pg_version = "15"$/m);
    }
  });
});
