// The bulk insert's body, parsed off the service's event loop (loadtests/service/bulk-body.mjs in worker threads,
// bulk-body-pool.ts): every malformed body is refused with what was wrong, a good one becomes PostgreSQL's array
// literal, and a worker that dies fails its bodies instead of leaving the requests hanging, then is replaced.
import { describe, expect, it } from 'vitest';
import { BodyRefused, parseBulkBody } from '../../loadtests/service/bulk-body.mjs';
import { BulkBodyPool, BulkBodyRefused } from '../../loadtests/service/bulk-body-pool.js';

const DIM = 4;
const v = (x: number) => [x, 0.5, -0.25, 1];

describe('bulk insert body', () => {
  it('turns vectors into the array literal of their text forms, with the first chunk', () => {
    expect(parseBulkBody(JSON.stringify({ vectors: [v(1), v(2)], firstChunk: 7, extra: 'ignored' }), DIM, 100)).toEqual({
      literal: '{"[1,0.5,-0.25,1]","[2,0.5,-0.25,1]"}', count: 2, firstChunk: 7,
    });
    expect(parseBulkBody(JSON.stringify({ vectors: [v(1)] }), DIM, 100).firstChunk).toBe(0);
  });

  it.each([
    ['{"vectors": [', /body must be valid JSON/],
    ['[1]', /body must be object/],
    ['{}', /required property 'vectors'/],
    ['{"vectors": 3}', /body\/vectors must be array/],
    ['{"vectors": []}', /1 to 100 vectors, got 0/],
    [JSON.stringify({ vectors: Array.from({ length: 101 }, () => v(1)) }), /1 to 100 vectors, got 101/],
    [JSON.stringify({ vectors: [v(1), [1, 2, 3]] }), /body\/vectors\/1 must be an array of 4 numbers/],
    [JSON.stringify({ vectors: [[1, '2', 3, 4]] }), /body\/vectors\/0 must hold only numbers/],
    ['{"vectors": [[1e39, 0, 0, 1]]}', /body\/vectors\/0 holds a number beyond the float32 range/],
    ['{"vectors": [[1e400, 0, 0, 1]]}', /beyond the float32 range/],
    [JSON.stringify({ vectors: [[0, 0, 0, 0]] }), /body\/vectors\/0 must not be all zeros/],
    [JSON.stringify({ vectors: [[1e-46, 0, -1e-46, 0]] }), /must not be all zeros/],
    [JSON.stringify({ vectors: [v(1)], firstChunk: 101 }), /firstChunk must be a whole number from 0 to 100/],
    [JSON.stringify({ vectors: [v(1)], firstChunk: 1.5 }), /firstChunk must be a whole number/],
    [JSON.stringify({ vectors: [v(1)], firstChunk: '3' }), /firstChunk must be a whole number/],
  ])('refuses %s with what was wrong', (body, msg) => {
    expect(() => parseBulkBody(body, DIM, 100)).toThrow(BodyRefused);
    expect(() => parseBulkBody(body, DIM, 100)).toThrow(msg);
  });

  it('in a worker: a good body, a refused one, bytes that are not UTF-8; a dead worker fails its body and is replaced', async () => {
    const pool = new BulkBodyPool(1, DIM, 100);
    try {
      await expect(pool.parse(Buffer.from(JSON.stringify({ vectors: [v(3)], firstChunk: 2 })))).resolves.toEqual({ literal: '{"[3,0.5,-0.25,1]"}', count: 1, firstChunk: 2 });
      await expect(pool.parse(Buffer.from('{"vectors": []}'))).rejects.toThrow(BulkBodyRefused);
      await expect(pool.parse(Buffer.from([0x7b, 0xff, 0x7d]))).rejects.toThrow(/body must be UTF-8 text/);
      // The worker dies with a body handed to it (terminated first, so the body cannot be answered).
      const worker = (pool as unknown as { workers: Array<{ terminate(): Promise<number> }> }).workers[0];
      const dying = worker.terminate();
      const inFlight = pool.parse(Buffer.from(JSON.stringify({ vectors: [v(1)] })));
      await dying;
      await expect(inFlight).rejects.toThrow(/bulk body worker exited/);
      // Its replacement starts at once, or after a second when the worker died within a second of starting.
      await new Promise((r) => setTimeout(r, 1100));
      await expect(pool.parse(Buffer.from(JSON.stringify({ vectors: [v(4)] })))).resolves.toMatchObject({ count: 1 });
    } finally {
      await pool.close();
    }
  });
});
