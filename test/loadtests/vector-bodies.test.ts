// The vector-search scenario's request bodies (loadtests/lib/vector-bodies.ts), made before k6 starts: each body is
// where its index says, is the JSON the service takes once k6 writes the chunk index over the placeholder, and the bulk
// vectors are fresh (near their user's topics, never copies).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshVectors, writeVectorBodies } from '../../loadtests/lib/vector-bodies.js';
import { bulkBodiesFor, FIRST_CHUNK_FIELD, interleaveByOrganization } from '../../loadtests/lib/workload.js';

const work = mkdtempSync(join(tmpdir(), 'pgkit-bodies-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / (Math.hypot(...a) * Math.hypot(...b));

describe('vector-search bodies', () => {
  const dim = 64;
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const queryVectors = Array.from({ length: 4 }, () => unit(Array.from({ length: dim }, () => random() - 0.5)));
  const users = [
    { o: 'a', tp: [0, 1] },
    { o: 'a', tp: [0, 1] },
    { o: 'b', tp: [2] },
    { o: 'c', tp: [3] },
  ];
  const dataFile = join(work, 'data.json');
  writeFileSync(dataFile, JSON.stringify({ users, queryVectors }));

  it('writes a search body per topic and a bulk body per iteration where the index says, each valid JSON once the chunk is written', () => {
    const out = join(work, 'bodies');
    const index = writeVectorBodies({ dataFile, out, bulkCount: 5, bulkSize: 3, random });
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8'))).toEqual(index);
    const file = readFileSync(out);
    const at = ([o, l]: readonly number[]) => file.subarray(o, o + l);
    expect(index).toMatchObject({ version: 1, dim, bulkSize: 3 });
    expect(index.search.map((s) => JSON.parse(at(s).toString()))).toEqual(queryVectors.map((vector) => ({ vector, k: 5 })));
    expect(index.bulk).toHaveLength(5);
    // Bulk iteration i is for the i-th user of the spread order (one user of each organization first).
    expect(index.bulk.map((b) => b[2])).toEqual([...interleaveByOrganization(users), ...interleaveByOrganization(users)].slice(0, 5));
    const seen = new Set<string>();
    for (const [i, b] of index.bulk.entries()) {
      const bytes = Buffer.from(at(b));
      // As vector-search.ts does: the chunk index right-aligned over the placeholder before the closing brace.
      expect(bytes.subarray(bytes.length - 1 - FIRST_CHUNK_FIELD).toString()).toBe(`${' '.repeat(FIRST_CHUNK_FIELD)}}`);
      bytes.write(String(900_000 + i * 3).padStart(FIRST_CHUNK_FIELD, ' '), bytes.length - 1 - FIRST_CHUNK_FIELD);
      const body = JSON.parse(bytes.toString()) as { vectors: number[][]; firstChunk: number };
      expect(body.firstChunk).toBe(900_000 + i * 3);
      expect(body.vectors).toHaveLength(3);
      for (const v of body.vectors) {
        expect(v).toHaveLength(dim);
        expect(seen.has(JSON.stringify(v))).toBe(false);
        seen.add(JSON.stringify(v));
        // Near one of its user's topics, not a copy of it.
        const best = Math.max(...users[b[2]].tp.map((t) => cosine(v, queryVectors[t])));
        expect(best).toBeGreaterThan(0.9);
        expect(best).toBeLessThan(0.9999);
      }
    }
  });

  it('fresh vectors are unit length, at six decimals', () => {
    for (const v of freshVectors(queryVectors, [0, 3], 10, random)) {
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
      expect(v.every((x) => Math.round(x * 1e6) / 1e6 === x)).toBe(true);
    }
  });

  it('a run needs a bulk body per bulk iteration k6 can start, and one more', () => {
    expect(bulkBodiesFor(1, '2m')).toBe(121);
    expect(bulkBodiesFor(2, '20s')).toBe(41);
  });
});
