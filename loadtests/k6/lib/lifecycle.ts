// setup() and teardown() helpers: a run refuses to start against a service or data it cannot use (instead of
// measuring 401s or empty answers), and removes what it wrote, and only that.
import http from 'k6/http';
import { BASE_URL, queryVectors, spreadOrder, users, workerToken } from './config.ts';
import { LOADTEST_CHUNK_BASE, LOADTEST_RUN_SLOTS, LOADTEST_RUN_SPAN } from '../../lib/workload.ts';

declare const console: { log(...args: unknown[]): void };

// Set-up and tear-down requests carry their own tags, outside every operation's thresholds.
const tags = (name: string) => ({ op: 'lifecycle', name });
const auth = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });

function refuse(what: string): never {
  throw new Error(`setup: ${what}`);
}

export interface ServiceChecks {
  /** A vector search must find the organization's embeddings (vector-search, spike). */
  vectors?: boolean;
  /** The worker token must claim a due queue item (queue-workers); the item is completed at once. */
  queue?: boolean;
}

/**
 * Checks that the service answers and that the data file belongs to the database behind it: the first user's
 * token is accepted and their organization's projects are visible; optionally the vector search finds rows and the
 * queue has due items. Throws with what is wrong and how to fix it (k6 then ends the run with exit code 107).
 */
export function checkServiceAndData(checks: ServiceChecks = {}): void {
  const h = http.get(`${BASE_URL}/health`, { tags: tags('GET /health'), timeout: '10s' });
  if (h.status !== 200) {
    refuse(`the workload service at ${BASE_URL} is not healthy (GET /health -> ${h.status} ${h.error || String(h.body).slice(0, 200)}). ` +
      'Start it with `npm run service`, or point BASE_URL at it.');
  }
  if (users.length === 0) refuse('the data file has no users: run `npm run seed` (or set DATA_FILE)');
  const u = users[0];
  const r = http.get(`${BASE_URL}/v1/projects?limit=1`, { headers: auth(u.t), tags: tags('GET /v1/projects') });
  if (r.status === 401) refuse(`the service refuses the data file's tokens (401: ${String(r.body).slice(0, 200)}): the data file was signed with another secret. Seed again (\`npm run seed -- --reset\`) or run the service with the seeder's LOADTEST_JWT_SECRET.`);
  const items = r.status === 200 ? (r.json('items') as unknown[] | undefined) ?? [] : [];
  if (r.status !== 200 || items.length === 0) {
    refuse(`the data file does not match the service's database: user ${u.u} of organization ${u.o} sees no projects (GET /v1/projects -> ${r.status}). ` +
      'Seed the database the service uses (`npm run seed`) and use that seed run\'s data file (DATA_FILE).');
  }
  if (checks.vectors) {
    const s = http.post(`${BASE_URL}/v1/search`, JSON.stringify({ vector: queryVectors[u.tp[0]], k: 1 }), { headers: auth(u.t), tags: tags('POST /v1/search') });
    const found = s.status === 200 ? ((s.json('items') as unknown[] | undefined) ?? []).length : 0;
    if (found === 0) refuse(`a vector search of organization ${u.o} found nothing (POST /v1/search -> ${s.status}): seed with embeddings (\`npm run seed\` without --no-embeddings).`);
  }
  if (checks.queue) {
    const w = 'k6-setup';
    const c = http.post(`${BASE_URL}/v1/queue/claim`, JSON.stringify({ worker: w, limit: 1 }), { headers: auth(workerToken), tags: tags('POST /v1/queue/claim') });
    if (c.status === 204) refuse('the queue has no due items: the run would measure empty claims. Seed again (`npm run seed -- --reset`).');
    if (c.status !== 200) refuse(`the worker token cannot claim (POST /v1/queue/claim -> ${c.status} ${String(c.body).slice(0, 200)})`);
    const { id, lease_token: lease } = (c.json('items') as Array<{ id: string; lease_token: string }>)[0];
    const d = http.post(`${BASE_URL}/v1/queue/${id}/complete`, JSON.stringify({ leaseToken: lease }), { headers: auth(workerToken), tags: tags('POST /v1/queue/:id/complete') });
    if (d.status !== 200) refuse(`completing the set-up's queue item failed (${d.status} ${String(d.body).slice(0, 200)})`);
  }
}

/** The first chunk index of this run's slot (LOADTEST_RUN_SPAN indexes), chosen at random in setup(). */
export function runChunkBase(): number {
  return LOADTEST_CHUNK_BASE + Math.floor(Math.random() * LOADTEST_RUN_SLOTS) * LOADTEST_RUN_SPAN;
}

/**
 * Deletes the block embeddings in this run's chunk slot, in every organization (one request per organization,
 * as one of its users: row-level security scopes each delete). Returns how many rows went.
 */
export function removeRunEmbeddings(base: number): number {
  const seen = new Set<string>();
  const reqs: Array<{ method: string; url: string; params: object }> = [];
  for (let i = 0; i < spreadOrder.length; i++) {
    const u = users[spreadOrder[i]];
    if (seen.has(u.o)) break; // the spread order lists one user of each organization first
    seen.add(u.o);
    reqs.push({ method: 'DELETE', url: `${BASE_URL}/v1/embeddings?fromChunk=${base}&toChunk=${base + LOADTEST_RUN_SPAN}`, params: { headers: { Authorization: `Bearer ${u.t}` }, tags: tags('DELETE /v1/embeddings') } });
  }
  let deleted = 0;
  const failed: string[] = [];
  for (let i = 0; i < reqs.length; i += 20) {
    for (const r of http.batch(reqs.slice(i, i + 20) as Parameters<typeof http.batch>[0]) as Array<{ status: number; body: unknown; json(s: string): unknown }>) {
      if (r.status === 200) deleted += Number(r.json('deleted'));
      else failed.push(`${r.status} ${String(r.body).slice(0, 120)}`);
    }
  }
  if (failed.length) throw new Error(`teardown: ${failed.length} of ${reqs.length} organizations' deletes failed (first: ${failed[0]}); the run's rows are chunk_index ${base}..${base + LOADTEST_RUN_SPAN - 1}`);
  console.log(`teardown: removed the ${deleted} embeddings this run wrote (chunk_index ${base}..${base + LOADTEST_RUN_SPAN - 1}, ${reqs.length} organizations)`);
  return deleted;
}
