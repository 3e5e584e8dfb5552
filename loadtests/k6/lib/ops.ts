// One function per service operation, each tagged `op:<name>` so thresholds and summaries are per operation, and
// `name:<METHOD route>` so k6 groups the URLs that carry ids into one time series per route (k6's convention for
// dynamic URLs: without it every id is its own `url` tag value, one series each).
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, pick, queryVectorJson, uuid4, type LoadUser } from './config.ts';

// Built once: k6 recommends not creating the callbacks per request.
const OK_OR_RATE_LIMITED = http.expectedStatuses(200, 201, 429);
const FOUND_OR_NOT = http.expectedStatuses(200, 404);
const CLAIMED_OR_EMPTY = http.expectedStatuses(200, 204);

/** The route of each operation: the `name` tag. */
export const ROUTES: Record<string, string> = {
  list_projects: 'GET /v1/projects',
  list_episodes: 'GET /v1/projects/:id/episodes',
  read_episode: 'GET /v1/episodes/:id',
  create_highlight: 'POST /v1/episodes/:id/highlights',
  post_chat_message: 'POST /v1/chat-sessions/:id/messages',
  record_token_usage: 'POST /v1/token-usage',
  vector_search: 'POST /v1/search',
  template_lookup: 'GET /v1/templates',
  session_embedding_lookup: 'GET /v1/chat-sessions/:id/embedding',
  bulk_insert_embeddings: 'POST /v1/blocks/:id/embeddings',
  claim_queue_item: 'POST /v1/queue/claim',
  complete_queue_item: 'POST /v1/queue/:id/complete',
};

export const tagsOf = (op: string) => ({ op, name: ROUTES[op] });

const json = (u: LoadUser, op: string) => ({
  headers: { Authorization: `Bearer ${u.t}`, 'Content-Type': 'application/json' },
  tags: tagsOf(op),
});

function ok(res: http.RefinedResponse<'text'>, op: string, statuses: number[]) {
  check(res, { [`${op} status ${statuses.join('/')}`]: (r) => statuses.includes(r.status) });
}

export function listProjects(u: LoadUser) {
  const r = http.get(`${BASE_URL}/v1/projects?limit=20`, json(u, 'list_projects'));
  ok(r, 'list_projects', [200]);
}

export function listEpisodes(u: LoadUser) {
  const r = http.get(`${BASE_URL}/v1/projects/${pick(u.p)}/episodes?limit=20`, json(u, 'list_episodes'));
  ok(r, 'list_episodes', [200]);
}

export function readEpisode(u: LoadUser) {
  const r = http.get(`${BASE_URL}/v1/episodes/${u.e.length ? pick(u.e) : u.ep}`, json(u, 'read_episode'));
  ok(r, 'read_episode', [200]);
}

export function createHighlight(u: LoadUser) {
  const start = Math.floor(Math.random() * 100);
  const body = JSON.stringify({ blockId: u.b, quote: 'load test quote', startOffset: start, endOffset: start + 15 });
  const r = http.post(`${BASE_URL}/v1/episodes/${u.ep}/highlights`, body, json(u, 'create_highlight'));
  ok(r, 'create_highlight', [201]);
}

/** 429 (the database's per-session rate limit) is an expected answer under load, not a failure. */
export function postChatMessage(u: LoadUser) {
  const body = JSON.stringify({ content: 'What changed this week in the market?', clientMessageId: uuid4() });
  const params = { ...json(u, 'post_chat_message'), responseCallback: OK_OR_RATE_LIMITED };
  const r = http.post(`${BASE_URL}/v1/chat-sessions/${u.s}/messages`, body, params);
  ok(r, 'post_chat_message', [200, 201, 429]);
}

export function recordTokenUsage(u: LoadUser) {
  const body = JSON.stringify({ operation: 'chat', model: 'gpt-4o-mini', inputTokens: 800, outputTokens: 200, costGbp: 0.0012, projectId: pick(u.p) });
  const r = http.post(`${BASE_URL}/v1/token-usage`, body, json(u, 'record_token_usage'));
  ok(r, 'record_token_usage', [201]);
}

export function vectorSearch(u: LoadUser) {
  vectorSearchWith(u, `{"vector":${queryVectorJson(pick(u.tp))},"k":5}`);
}

/** A vector search with a prepared body (vector-search reads its bodies from a file: lib/workload.ts VectorBodiesIndex). */
export function vectorSearchWith(u: LoadUser, body: string | ArrayBuffer) {
  const r = http.post(`${BASE_URL}/v1/search`, body, json(u, 'vector_search'));
  ok(r, 'vector_search', [200]);
}

export function templateLookup(u: LoadUser) {
  const r = http.get(`${BASE_URL}/v1/templates?focus=${u.f}`, json(u, 'template_lookup'));
  ok(r, 'template_lookup', [200]);
}

export function sessionEmbeddingLookup(u: LoadUser) {
  // Not every session has an embedding: 404 is a correct answer for those.
  const params = { ...json(u, 'session_embedding_lookup'), responseCallback: FOUND_OR_NOT };
  const r = http.get(`${BASE_URL}/v1/chat-sessions/${u.s}/embedding`, params);
  ok(r, 'session_embedding_lookup', [200, 404]);
}

/** One bulk insert of a prepared body (`{"vectors":[...100 vectors...],"firstChunk":N}`) into the user's block. */
export function bulkInsertEmbeddings(u: LoadUser, body: ArrayBuffer) {
  const r = http.post(`${BASE_URL}/v1/blocks/${u.b}/embeddings`, body, json(u, 'bulk_insert_embeddings'));
  ok(r, 'bulk_insert_embeddings', [201]);
}

/** A queue worker: claim one due item, then complete it. 204 = nothing due. */
export function claimAndComplete(workerToken: string, workerId: string) {
  const params = (op: string) => ({ headers: { Authorization: `Bearer ${workerToken}`, 'Content-Type': 'application/json' }, tags: tagsOf(op) });
  const c = http.post(`${BASE_URL}/v1/queue/claim`, JSON.stringify({ worker: workerId, limit: 1 }), { ...params('claim_queue_item'), responseCallback: CLAIMED_OR_EMPTY });
  ok(c, 'claim_queue_item', [200, 204]);
  if (c.status !== 200) return;
  const item = (c.json('items') as Array<{ id: string; lease_token: string }> | undefined)?.[0];
  check(c, { 'claim_queue_item 200 carries an item': () => item !== undefined });
  if (!item) return;
  const d = http.post(`${BASE_URL}/v1/queue/${item.id}/complete`, JSON.stringify({ leaseToken: item.lease_token }), params('complete_queue_item'));
  ok(d, 'complete_queue_item', [200]);
}
