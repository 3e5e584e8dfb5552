// Worker threads that parse the bulk insert's bodies (bulk-body.mjs) so the service's event loop only receives the
// bytes and hands them over: a 1.4 MB body held that loop for ~35-40 ms, and every request that arrived meanwhile
// waited (docs/loadtests.md). Round-robin over a few workers; a worker that dies fails its bodies with an error (a 500
// in the error contract, never a hang) and is replaced (after a second if it died within a second of starting).
import { Worker } from 'node:worker_threads';
import type { ParsedBulkBody } from './bulk-body.mjs';

type Answer = { id: number; ok: ParsedBulkBody } | { id: number; refused: string } | { id: number; error: string };
interface Waiting {
  resolve: (p: ParsedBulkBody) => void;
  reject: (e: Error) => void;
}

/** A body the worker refused: `message` is for the client (a 400). */
export class BulkBodyRefused extends Error {}

export class BulkBodyPool {
  /** null while a dead worker's replacement waits out its back-off. */
  private readonly workers: Array<Worker | null> = [];
  private readonly waiting: Array<Map<number, Waiting>> = [];
  private next = 0;
  private seq = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly dim: number,
    private readonly maxFirstChunk: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`bulk body workers must be a whole number of 1 or more, got ${size}`);
    for (let i = 0; i < size; i++) this.spawn(i);
  }

  private spawn(i: number): void {
    const started = Date.now();
    const w = new Worker(new URL('./bulk-body.mjs', import.meta.url), { workerData: { role: 'pgkit-bulk-body', dim: this.dim, maxFirstChunk: this.maxFirstChunk } });
    w.unref(); // never what keeps a process alive
    const waiting = new Map<number, Waiting>();
    this.workers[i] = w;
    this.waiting[i] = waiting;
    w.on('message', (a: Answer) => {
      const t = waiting.get(a.id);
      if (!t) return;
      waiting.delete(a.id);
      if ('ok' in a) t.resolve(a.ok);
      else if ('refused' in a) t.reject(new BulkBodyRefused(a.refused));
      else t.reject(new Error(`bulk body worker failed: ${a.error}`));
    });
    const fail = (why: string) => {
      for (const t of waiting.values()) t.reject(new Error(`bulk body worker ${why}`));
      waiting.clear();
      if (this.closed || this.workers[i] !== w) return;
      // A worker that dies at once (a module that cannot load) is not restarted in a tight loop: its slot refuses
      // bodies for a second first.
      this.workers[i] = null;
      const respawn = () => { if (!this.closed) this.spawn(i); };
      if (Date.now() - started < 1000) setTimeout(respawn, 1000).unref();
      else respawn();
    };
    w.on('error', (e) => fail(`crashed: ${e.message}`));
    w.on('exit', (code) => fail(`exited with code ${code}`));
  }

  /** Parses one body off the event loop. Rejects with BulkBodyRefused for a bad body, Error for a fault. */
  parse(body: Buffer): Promise<ParsedBulkBody> {
    if (this.closed) return Promise.reject(new Error('bulk body pool is closed'));
    const i = this.next;
    this.next = (this.next + 1) % this.size;
    const worker = this.workers[i];
    if (!worker) return Promise.reject(new Error('bulk body worker is restarting'));
    const id = ++this.seq;
    // A copy the worker owns (transferred, not cloned): the request's buffer may share memory with others.
    const copy = new Uint8Array(body);
    return new Promise<ParsedBulkBody>((resolve, reject) => {
      this.waiting[i].set(id, { resolve, reject });
      worker.postMessage({ id, body: copy }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w?.terminate()));
  }
}
