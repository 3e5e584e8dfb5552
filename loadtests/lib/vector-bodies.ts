// The vector-search scenario's request bodies (loadtests/k6/vector-search.ts), written before k6 starts: JSON text of
// each topic's query vector as a search body, and of fresh vectors for each bulk insert. k6 reads them from the file
// (k6/experimental/fs: loaded once, shared by every VU) instead of making or parsing them in its JavaScript runtime,
// which cost about 0.75 s of k6 CPU per bulk insert and 3-6 ms per first search of a topic per VU (docs/loadtests.md).
// `npm run loadtest` makes the file for each vector-search run; by hand: `npm run loadtest:bodies -- --out FILE`.
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { FIRST_CHUNK_FIELD, interleaveByOrganization, type VectorBodiesIndex } from './workload.js';

export interface VectorBodiesOptions {
  /** The seeder's data file (users, their topics, the query vector of each topic). */
  dataFile: string;
  /** The bodies file; its index is written beside it as `<out>.json`. */
  out: string;
  bulkCount: number;
  bulkSize?: number;
  random?: () => number;
}

/**
 * Fresh vectors near a user's topics: each is one of the topics' query vectors plus Gaussian noise (per-dimension sigma
 * 0.02, a cosine of ~0.8 to it, like a new document on that topic), normalized, 6 decimals. Never copies: thousands of
 * exact duplicates crowd the HNSW graph's neighbour lists and slow every later search (docs/loadtests.md).
 */
export function freshVectors(queryVectors: number[][], topics: readonly number[], n: number, random: () => number = Math.random): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    const q = queryVectors[topics[Math.floor(random() * topics.length)]];
    const v = new Array<number>(q.length);
    let norm = 0;
    for (let i = 0; i < q.length; i += 2) {
      // Box-Muller: two standard normal draws per pair of uniforms.
      const r = Math.sqrt(-2 * Math.log(1 - random()));
      const a = 2 * Math.PI * random();
      v[i] = q[i] + 0.02 * r * Math.cos(a);
      norm += v[i] * v[i];
      if (i + 1 < q.length) {
        v[i + 1] = q[i + 1] + 0.02 * r * Math.sin(a);
        norm += v[i + 1] * v[i + 1];
      }
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i] = Math.round((v[i] / norm) * 1e6) / 1e6;
    out.push(v);
  }
  return out;
}

/** Writes the bodies file and its index (`<out>.json`); returns the index. */
export function writeVectorBodies(o: VectorBodiesOptions): VectorBodiesIndex {
  const data = JSON.parse(readFileSync(o.dataFile, 'utf8')) as { users: Array<{ o: string; tp: number[] }>; queryVectors: number[][] };
  const bulkSize = o.bulkSize ?? 100;
  const index: VectorBodiesIndex = { version: 1, dim: data.queryVectors[0]?.length ?? 0, bulkSize, search: [], bulk: [] };
  const fd = openSync(o.out, 'w');
  let at = 0;
  const put = (s: string): [number, number] => {
    const b = Buffer.from(s);
    writeSync(fd, b);
    at += b.length;
    return [at - b.length, b.length];
  };
  try {
    for (const q of data.queryVectors) index.search.push(put(`{"vector":${JSON.stringify(q)},"k":5}`));
    const order = interleaveByOrganization(data.users);
    for (let i = 0; i < o.bulkCount; i++) {
      const user = order[i % order.length];
      const vectors = freshVectors(data.queryVectors, data.users[user].tp, bulkSize, o.random);
      index.bulk.push([...put(`{"vectors":${JSON.stringify(vectors)},"firstChunk":${' '.repeat(FIRST_CHUNK_FIELD)}}`), user]);
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(`${o.out}.json`, JSON.stringify(index));
  return index;
}
