// COPY helpers: text-format rows streamed in 256 KB chunks (pg-copy-streams), and the binary format for the
// embeddings table (a 1536-dimension vector is 6 KB in binary, ~12 KB as text that the server must parse).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Progress } from '../lib/progress.js';

/** A value in COPY text format: NULL as \N, text escaped, Date as ISO-8601 UTC, objects as JSON. */
export function cv(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v instanceof Date) return v.toISOString();
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export const iso = (ms: number) => new Date(ms).toISOString();

export interface CopyResult {
  table: string;
  rows: number;
  seconds: number;
}

/** COPY `rows` (arrays of column values) into table(columns), with a progress bar. */
export async function copyText(
  client: pg.PoolClient | pg.Client,
  table: string,
  columns: string[],
  total: number,
  rows: Iterable<unknown[]>,
  label = table,
): Promise<CopyResult> {
  const bar = new Progress(label, total);
  let n = 0;
  // Timestamp columns (*_at, scheduled_for) may be given as epoch milliseconds.
  const isTime = columns.map((c) => c.endsWith('_at') || c === 'scheduled_for');
  const cell = (v: unknown, i: number) => (isTime[i] && typeof v === 'number' ? new Date(v).toISOString() : cv(v));
  function* chunks() {
    let buf = '';
    let inBuf = 0;
    for (const r of rows) {
      buf += r.map(cell).join('\t') + '\n';
      inBuf++;
      if (buf.length > 262144) {
        yield buf;
        n += inBuf;
        bar.add(inBuf);
        buf = '';
        inBuf = 0;
      }
    }
    if (buf) {
      yield buf;
      n += inBuf;
      bar.add(inBuf);
    }
  }
  const sql = `COPY ${table} (${columns.join(', ')}) FROM STDIN`;
  try {
    await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
  } catch (e) {
    bar.finish();
    throw new Error(`COPY into ${table} failed after ${n} rows: ${(e as Error).message}`, { cause: e });
  }
  return { table, rows: n, seconds: bar.finish() };
}

/** Binary COPY field encoders. */
export const bin = {
  uuid(s: string): Buffer {
    return Buffer.from(s.replace(/-/g, ''), 'hex');
  },
  int4(n: number): Buffer {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n, 0);
    return b;
  },
  text(s: string): Buffer {
    return Buffer.from(s, 'utf8');
  },
  bool(b: boolean): Buffer {
    return Buffer.from([b ? 1 : 0]);
  },
  timestamptz(ms: number): Buffer {
    // microseconds since 2000-01-01 UTC
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(BigInt(Math.round(ms - 946684800000)) * 1000n, 0);
    return b;
  },
};

/** COPY ... (FORMAT binary): each row is a list of already-encoded fields (null for NULL). */
export async function copyBinary(
  client: pg.PoolClient | pg.Client,
  table: string,
  columns: string[],
  total: number,
  rows: Iterable<Array<Buffer | null>>,
  label = table,
): Promise<CopyResult> {
  const bar = new Progress(label, total);
  let n = 0;
  function* chunks() {
    const header = Buffer.alloc(19);
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1').copy(header, 0);
    yield header; // flags (4 bytes) and extension length (4 bytes) stay zero
    let parts: Buffer[] = [];
    let size = 0;
    let inBuf = 0;
    for (const r of rows) {
      const head = Buffer.allocUnsafe(2);
      head.writeInt16BE(r.length, 0);
      parts.push(head);
      for (const f of r) {
        const len = Buffer.allocUnsafe(4);
        if (f === null) {
          len.writeInt32BE(-1, 0);
          parts.push(len);
        } else {
          len.writeInt32BE(f.length, 0);
          parts.push(len, f);
          size += f.length;
        }
      }
      inBuf++;
      if (size > 1 << 20) {
        yield Buffer.concat(parts);
        n += inBuf;
        bar.add(inBuf);
        parts = [];
        size = 0;
        inBuf = 0;
      }
    }
    const trailer = Buffer.allocUnsafe(2);
    trailer.writeInt16BE(-1, 0);
    parts.push(trailer);
    yield Buffer.concat(parts);
    n += inBuf;
    bar.add(inBuf);
  }
  const sql = `COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`;
  try {
    await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
  } catch (e) {
    bar.finish();
    throw new Error(`COPY into ${table} failed after ${n} rows: ${(e as Error).message}`, { cause: e });
  }
  return { table, rows: n, seconds: bar.finish() };
}
