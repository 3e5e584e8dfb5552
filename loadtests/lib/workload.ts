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
