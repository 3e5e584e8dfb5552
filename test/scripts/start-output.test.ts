// What `npm start` says about the SQL bundle (scripts/lib/start-output.ts): one line, nothing per file off a
// terminal. test/local/stack.test.ts runs scripts/start.ts itself against its private stack.
import { describe, expect, it } from 'vitest';
import { migrationSummary, MigrationLog, type Terminal } from '../../scripts/lib/start-output.js';

// What applyMigrations says while applying three files after a lock wait and with one warning.
const RUNNER_LINES = [
  'waiting for the migration lock (held by pid 42 "other"; giving up after 300s)',
  'migration lock acquired after 1.2s',
  'applying 3 file(s); defaults lock_timeout=5s statement_timeout=15min (a file may SET its own)',
  '  applied 0001_schemas.sql in 12 ms',
  '  WARNING: something to know',
  '  applied 0002_roles.sql in 8 ms',
  '  applied 0800_index.sql (no transaction) in 30 ms',
];

function terminal(isTTY: boolean): Terminal & { written: string } {
  const t = { isTTY, written: '', write: (s: string) => ((t.written += s), true) };
  return t;
}

function feed(isTTY: boolean) {
  const out = terminal(isTTY);
  const said: string[] = [];
  const log = new MigrationLog(out, (l) => said.push(l));
  for (const l of RUNNER_LINES) log.line(l);
  log.end();
  return { out, said, log };
}

describe('npm start output: the SQL bundle', () => {
  it('one summary line: what was applied and how long it took, or that the bundle is up to date', () => {
    expect(migrationSummary({ applied: Array.from({ length: 58 }, (_, i) => `${i}.sql`), alreadyApplied: 0 }, 4213)).toBe('applied 58 SQL files in 4.2 s');
    expect(migrationSummary({ applied: ['0900_x.sql'], alreadyApplied: 58 }, 310)).toBe('applied 1 SQL file in 0.3 s; 59 applied in all');
    expect(migrationSummary({ applied: [], alreadyApplied: 58 }, 20)).toBe('SQL bundle up to date (58 applied)');
  });

  it('off a terminal nothing per file is printed; what is not about one file (lock waits, warnings) is', () => {
    const { out, said, log } = feed(false);
    expect(out.written).toBe('');
    expect(said).toEqual([
      'migrations: waiting for the migration lock (held by pid 42 "other"; giving up after 300s)',
      'migrations: migration lock acquired after 1.2s',
      'migrations: WARNING: something to know',
    ]);
    // Every line is kept, for a failure.
    expect(log.lines).toEqual(RUNNER_LINES);
    expect(log.tail(2)).toEqual(RUNNER_LINES.slice(-2));
  });

  it('on a terminal the file being applied shows on one line, overwritten, and cleared at the end', () => {
    const { out, said } = feed(true);
    expect(said).toHaveLength(3);
    expect(out.written).toContain('\r\x1b[2K[pgkit] sql/: applied 0002_roles.sql in 8 ms');
    expect(out.written).not.toContain('\n');
    expect(out.written.endsWith('\r\x1b[2K')).toBe(true);
  });
});
