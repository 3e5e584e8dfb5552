// SVG line charts of a figure against scale (no chart library: the kit adds no npm dependency for this).
// Log-log axes by default: a straight line of slope 1 is cost proportional to the data, steeper is faster.

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  /** A dashed reference line y = k * x through the first point of the first series (slope 1 on log-log). */
  linearGuide?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

/** Tick values: powers of ten (and 2x, 5x when few) on a log axis, five even steps on a linear one. */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (!log) return Array.from({ length: 6 }, (_, i) => lo + ((hi - lo) * i) / 5);
  const out: number[] = [];
  const span = Math.log10(hi) - Math.log10(lo);
  const mult = span < 2 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mult) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out.length >= 2 ? out : [lo, hi];
}

export function lineChart(spec: ChartSpec): string {
  const logX = spec.logX ?? true;
  const logY = spec.logY ?? true;
  const W = 720, H = 400, L = 70, R = 200, T = 36, B = 50;
  const pts = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0));
  if (pts.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="40" font-family="sans-serif" font-size="14">${esc(spec.title)}: no data</text></svg>\n`;
  }
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x0 === x1) { x0 = logX ? x0 / 2 : x0 - 1; x1 = logX ? x1 * 2 : x1 + 1; }
  if (y0 === y1) { y0 = logY ? y0 / 2 : y0 - 1; y1 = logY ? y1 * 2 : y1 + 1; }
  if (logY) { y0 /= 1.3; y1 *= 1.3; } else { y0 = Math.min(0, y0); y1 *= 1.1; }
  const tx = (v: number) => (logX ? Math.log10(v) : v);
  const ty = (v: number) => (logY ? Math.log10(v) : v);
  const X = (v: number) => L + ((tx(v) - tx(x0)) / (tx(x1) - tx(x0))) * (W - L - R);
  const Y = (v: number) => T + (1 - (ty(v) - ty(y0)) / (ty(y1) - ty(y0))) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${L}" y="20" font-size="14" font-weight="bold">${esc(spec.title)}</text>`);
  for (const v of ticks(x0, x1, logX)) {
    parts.push(`<line x1="${X(v).toFixed(1)}" y1="${T}" x2="${X(v).toFixed(1)}" y2="${H - B}" stroke="#eee"/>`);
    parts.push(`<text x="${X(v).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${fmtNum(v)}</text>`);
  }
  for (const v of ticks(y0, y1, logY)) {
    parts.push(`<line x1="${L}" y1="${Y(v).toFixed(1)}" x2="${W - R}" y2="${Y(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${L - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${fmtNum(v)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(spec.xLabel)}${logX ? ' (log)' : ''}</text>`);
  parts.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}${logY ? ' (log)' : ''}</text>`);
  if (spec.linearGuide && spec.series[0]?.points.length) {
    const [gx, gy] = spec.series[0].points[0];
    const k = gy / gx;
    const a = Math.max(x0, y0 / k), b = Math.min(x1, y1 / k);
    if (b > a) parts.push(`<line x1="${X(a).toFixed(1)}" y1="${Y(k * a).toFixed(1)}" x2="${X(b).toFixed(1)}" y2="${Y(k * b).toFixed(1)}" stroke="#999" stroke-dasharray="4 4"/>`);
    parts.push(`<text x="${W - R + 10}" y="${T + 12}" fill="#666">- - - proportional to data</text>`);
  }
  spec.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0)).sort((a, b) => a[0] - b[0]);
    if (ok.length > 1) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${ok.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of ok) parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${c}"><title>${esc(s.name)}: ${fmtNum(y)} at ${fmtNum(x)}</title></circle>`);
    const ly = T + 30 + i * 16;
    parts.push(`<line x1="${W - R + 10}" y1="${ly - 4}" x2="${W - R + 28}" y2="${ly - 4}" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<text x="${W - R + 32}" y="${ly}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Least-squares slope b of log(y) = a + b log(x) (the growth exponent), with the points it used; null under 2 points. */
export function growthExponent(points: Array<[number, number]>): number | null {
  const ok = points.filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y));
  if (ok.length < 2) return null;
  const lx = ok.map(([x]) => Math.log(x));
  const ly = ok.map(([, y]) => Math.log(y));
  const mx = lx.reduce((a, b) => a + b, 0) / ok.length;
  const my = ly.reduce((a, b) => a + b, 0) / ok.length;
  let num = 0, den = 0;
  for (let i = 0; i < ok.length; i++) { num += (lx[i] - mx) * (ly[i] - my); den += (lx[i] - mx) ** 2; }
  return den === 0 ? null : num / den;
}

/** y at x from the power law fitted to the points (a stated model for extrapolation), or null. */
export function extrapolate(points: Array<[number, number]>, x: number): number | null {
  const b = growthExponent(points);
  if (b === null) return null;
  const ok = points.filter(([px, py]) => px > 0 && py > 0);
  const mx = ok.reduce((a, [px]) => a + Math.log(px), 0) / ok.length;
  const my = ok.reduce((a, [, py]) => a + Math.log(py), 0) / ok.length;
  return Math.exp(my + b * (Math.log(x) - mx));
}
