// What `npm start` prints about the SQL bundle: one summary line, not one line per file. The runner's lines
// are kept for an error; on a terminal the file being applied shows on one line that is overwritten as it goes.
import type { ApplyResult } from '../../src/migrate/index.js';

/** The runner's lines that speak of one file at a time, or that the summary says again. */
const PER_FILE = /^\s*(applied \S+|applying \d+ file|nothing to apply)/;

const files = (n: number) => `${n} SQL file${n === 1 ? '' : 's'}`;

/** `applied 58 SQL files in 4.2 s`, or `SQL bundle up to date (58 applied)`. */
export function migrationSummary(r: Pick<ApplyResult, 'applied' | 'alreadyApplied'>, ms: number): string {
  if (r.applied.length === 0) return `SQL bundle up to date (${r.alreadyApplied} applied)`;
  const before = r.alreadyApplied ? `; ${r.applied.length + r.alreadyApplied} applied in all` : '';
  return `applied ${files(r.applied.length)} in ${(ms / 1000).toFixed(1)} s${before}`;
}

export interface Terminal {
  isTTY?: boolean;
  write(s: string): boolean;
}

/**
 * The `log` given to applyMigrations. Every line is kept (tail() for an error). Lines about one file go to a
 * terminal only, as a progress line; anything else the runner says (a warning, a wait for the lock, allowed
 * drift) is printed through `say` as it comes.
 */
export class MigrationLog {
  readonly lines: string[] = [];
  private progressShown = false;

  constructor(
    private readonly out: Terminal,
    private readonly say: (line: string) => void,
  ) {}

  readonly line = (l: string): void => {
    this.lines.push(l);
    if (PER_FILE.test(l)) {
      if (this.out.isTTY) {
        this.out.write(`\r\x1b[2K[pgkit] sql/: ${l.trim()}`);
        this.progressShown = true;
      }
      return;
    }
    this.end();
    this.say(`migrations: ${l.trim()}`);
  };

  /** Clears the progress line, if one is shown. */
  end(): void {
    if (!this.progressShown) return;
    this.out.write('\r\x1b[2K');
    this.progressShown = false;
  }

  /** The last lines the runner said, for a failure. */
  tail(n = 10): string[] {
    return this.lines.slice(-n);
  }
}
