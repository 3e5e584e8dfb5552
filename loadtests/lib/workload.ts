// What the k6 scenarios (loadtests/k6) and the DB benchmark (loadtests/bench) share. No imports, so k6 can load
// it as well as Node.

/** The browse scenario's reads: k6's browse.ts sends them, the benchmark measures the pooler ratio on them. */
export const BROWSE_OPS = ['list_projects', 'list_episodes', 'read_episode', 'template_lookup'] as const;

/**
 * First chunk index of load-test inserts: seeded embeddings use small chunk indexes, so the benchmark (and
 * `DELETE FROM app.rag_embeddings WHERE chunk_index >= 900000` by hand) removes what load tests added.
 */
export const LOADTEST_CHUNK_BASE = 900_000;

/**
 * Each k6 run that writes embeddings takes one slot of LOADTEST_RUN_SPAN chunk indexes from LOADTEST_CHUNK_BASE up
 * (chosen at random in its setup()), so its teardown() deletes what that run wrote and nothing else. The last
 * slot ends below 2^31 (chunk_index is an integer).
 */
export const LOADTEST_RUN_SPAN = 1_000_000;
export const LOADTEST_RUN_SLOTS = 2_000;
export const LOADTEST_CHUNK_MAX = LOADTEST_CHUNK_BASE + LOADTEST_RUN_SLOTS * LOADTEST_RUN_SPAN - 1;

/** DURATION-style durations ('90s', '2m', '1m30s', '1h') in seconds. */
export function seconds(d: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = '';
  for (let m = re.exec(d); m; m = re.exec(d)) {
    total += Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2]];
    matched += m[0];
  }
  if (!matched || matched !== d) throw new Error(`duration '${d}' is not valid: expected e.g. 30s, 2m, 1m30s`);
  return total;
}

/**
 * Indexes into the data file's users, interleaved by organization: one user of each organization, then a second user
 * of each organization that has one, and so on (k6 lib/config.ts spreadOrder; the vector-search bodies of
 * loadtests/lib/vector-bodies.ts).
 */
export function interleaveByOrganization(us: ReadonlyArray<{ o: string }>): number[] {
  const byOrg = new Map<string, number[]>();
  us.forEach((u, i) => {
    let l = byOrg.get(u.o);
    if (!l) byOrg.set(u.o, (l = []));
    l.push(i);
  });
  const lists = [...byOrg.values()];
  const out: number[] = [];
  for (let round = 0; out.length < us.length; round++) {
    for (const l of lists) if (round < l.length) out.push(l[round]);
  }
  return out;
}

/**
 * The vector-search scenario's request bodies, made in Node before k6 starts (loadtests/lib/vector-bodies.ts) and
 * read by k6 from one file shared by every VU (k6/experimental/fs): a search body per topic and a bulk body per bulk
 * iteration. k6 reads a SharedArray element by parsing it in its JavaScript runtime: 6 ms for a 14 KB search vector
 * and 743 ms for a 1.4 MB bulk body (measured with k6 1.3.0 on the 2-core box), where a read of the file is 1.6 ms.
 * The index (`<file>.json`): `search[topic]` and `bulk[i]` are [byte offset, length] of a body in the file; `bulk[i]`
 * also names the user (an index into the data file's users) whose block and topics it is for.
 */
export interface VectorBodiesIndex {
  version: 1;
  dim: number;
  bulkSize: number;
  search: Array<[number, number]>;
  bulk: Array<[number, number, number]>;
}
/**
 * A bulk body ends with `"firstChunk":`, this many spaces and `}`: k6 writes the iteration's first chunk index over the
 * spaces, right-aligned (JSON allows whitespace before a number), as the run's chunk slot is picked in setup().
 */
export const FIRST_CHUNK_FIELD = 10;
/** Bulk bodies a run needs: one per bulk iteration k6 can start (rate x duration), and one more. */
export const bulkBodiesFor = (bulkRate: number, duration: string) => Math.ceil(bulkRate * seconds(duration)) + 1;
