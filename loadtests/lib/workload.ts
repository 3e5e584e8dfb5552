// What the k6 scenarios (loadtests/k6) and the DB benchmark (loadtests/bench) share. No imports, so k6 can load
// it as well as Node.

/** The browse scenario's reads: k6's browse.ts sends them, the benchmark measures the pooler ratio on them. */
export const BROWSE_OPS = ['list_projects', 'list_episodes', 'read_episode', 'template_lookup'] as const;

/**
 * First chunk index of load-test inserts: seeded embeddings use small chunk indexes, so the benchmark (and
 * `DELETE FROM app.rag_embeddings WHERE chunk_index >= 900000` by hand) removes what load tests added.
 */
export const LOADTEST_CHUNK_BASE = 900_000;
