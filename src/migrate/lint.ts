// Runs squawk (squawk-cli, a dev dependency) over migration files the way the runner applies them:
// versioned files 0800+ with the strict .squawk.toml; the initial bundle (0001-0799) and the definitions with
// .squawk.initial-bundle.toml (a definition is CREATE OR REPLACE of one object, run under the runner's default
// lock and statement timeouts, so the strict file's per-file timeout rules do not apply); files marked
// `-- pgkit:no-transaction` without squawk's assume-in-transaction.
import { join } from 'node:path';
import { repoRoot } from '../config.js';
import { run } from '../proc/run.js';
import { fileNumber, loadMigrations, type MigrationFile } from './files.js';

/** First number of the "later changes" range, linted with every online-safety rule. */
export const STRICT_FROM = 800;
export const STRICT_CONFIG = join(repoRoot, '.squawk.toml');
export const INITIAL_BUNDLE_CONFIG = join(repoRoot, '.squawk.initial-bundle.toml');
const SQUAWK_BIN = join(repoRoot, 'node_modules', '.bin', 'squawk');

export interface SquawkRun {
  files: string[];
  config: string;
  assumeInTransaction: boolean;
  exitCode: number;
  /** squawk's report without terminal colours. */
  output: string;
}

// squawk colours its output and adds OSC 8 hyperlinks even when not writing to a terminal.
const ANSI = /\u001b\[[0-9;]*m|\u001b\]8;;[^\u001b]*\u001b\\/g;

export async function runSquawk(paths: string[], opts: { config: string; assumeInTransaction: boolean }): Promise<SquawkRun> {
  const args = ['-c', opts.config, opts.assumeInTransaction ? '--assume-in-transaction' : '--no-assume-in-transaction', ...paths];
  // Through the kit's process runner (src/proc/run.ts); squawk's exit code says whether it found problems.
  const r = await run(SQUAWK_BIN, args, { cwd: repoRoot });
  return { files: paths, ...opts, exitCode: r.code, output: `${r.stdout}${r.stderr}`.replace(ANSI, '') };
}

export interface LintResult {
  ok: boolean;
  runs: SquawkRun[];
  /** The output of every failing run, for a test failure or the CLI. */
  report: string;
}

/** Lints every migration file of `dir` (default sql/). */
export async function lintMigrations(dir?: string): Promise<LintResult> {
  const files = await loadMigrations(dir);
  const base = dir ?? join(repoRoot, 'sql');
  const groups = new Map<string, { config: string; assumeInTransaction: boolean; files: MigrationFile[] }>();
  for (const f of files) {
    const config = f.kind === 'versioned' && fileNumber(f.name) >= STRICT_FROM ? STRICT_CONFIG : INITIAL_BUNDLE_CONFIG;
    const key = `${config}|${f.transactional}`;
    if (!groups.has(key)) groups.set(key, { config, assumeInTransaction: f.transactional, files: [] });
    groups.get(key)?.files.push(f);
  }
  const runs: SquawkRun[] = [];
  for (const g of groups.values()) {
    runs.push(await runSquawk(g.files.map((f) => join(base, f.name)), g));
  }
  const failing = runs.filter((r) => r.exitCode !== 0);
  return {
    ok: failing.length === 0,
    runs,
    report: failing.map((r) => `squawk -c ${r.config} (assume in transaction: ${r.assumeInTransaction})\n${r.output}`).join('\n'),
  };
}
