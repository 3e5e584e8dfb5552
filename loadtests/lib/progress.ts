// A progress bar per table on stderr (redrawn in place on a terminal, one line per table otherwise) and a
// summary of rows and rows/s.
const isTty = process.stderr.isTTY === true;

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {
    this.draw(true);
  }

  add(n: number) {
    this.done += n;
    const now = performance.now();
    if (now - this.lastDraw > 150) this.draw(false);
  }

  private line(): string {
    const width = 28;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const secs = (performance.now() - this.started) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    return `  ${this.label.padEnd(26)} [${bar}] ${fmt(this.done).padStart(9)}/${fmt(this.total).padEnd(9)} ${fmt(rate).padStart(8)} rows/s ${secs.toFixed(1).padStart(6)} s`;
  }

  private draw(first: boolean) {
    this.lastDraw = performance.now();
    if (isTty) process.stderr.write(`\r${this.line()}`);
    else if (first) return;
  }

  /** Final line; returns elapsed seconds. */
  finish(): number {
    const secs = (performance.now() - this.started) / 1000;
    if (isTty) process.stderr.write(`\r${this.line()}\n`);
    else process.stderr.write(`${this.line()}\n`);
    return secs;
  }
}
