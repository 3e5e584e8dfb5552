// The workload service: the product's canonical database operations over HTTP, the system under test for
// the k6 scenarios. Every request: JWT -> organization and user set as request context for one transaction
// (withContext, src/db/context.ts) -> the query, through PgBouncer as the application login role, so RLS
// decides what each request can see. Statements are unnamed (node-postgres never names them unless told):
// PgBouncer 1.18 in transaction mode does not track protocol-level prepared statements.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import pg from 'pg';
import { withContext } from '../../src/db/context.js';
import { SET_KEYS_SQL } from '../../src/security/keyring.js';
import { vectorLiteral } from '../lib/embeddings.js';
import { VECTOR_SEARCH_SQL } from '../lib/vector.js';
import { LOADTEST_CHUNK_BASE, LOADTEST_CHUNK_MAX } from '../lib/workload.js';
import { authenticate, type Principal } from './auth.js';
import { HttpError, mapError } from './errors.js';

export interface ServiceOptions {
  /** Application login role through PgBouncer. */
  databaseUrl: string;
  jwtSecret: Uint8Array;
  /** Field-encryption key material (JSON object key id -> base64), supplied per writing transaction. */
  encKeys: Record<string, string>;
  poolSize?: number;
  efSearch?: number;
  embeddingDim?: number;
  logger?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FOCUSES = new Set(['goals', 'context', 'challenges', 'market', 'technology', 'regulation', 'reflection']);
const DEPTHS = new Set(['surface', 'moderate', 'deep']);
const OPERATIONS = new Set(['episode_generation', 'project_onboarding', 'chat', 'embedding', 'insight_extraction']);

function uuid(v: unknown, what: string): string {
  if (typeof v !== 'string' || !UUID.test(v)) throw new HttpError(400, 'invalid_request', `${what} must be a uuid`);
  return v;
}
function int(v: unknown, what: string, min: number, max: number, dflt?: number): number {
  if ((v === undefined || v === '') && dflt !== undefined) return dflt;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new HttpError(400, 'invalid_request', `${what} must be a whole number from ${min} to ${max}`);
  return n;
}
function str(v: unknown, what: string, max: number, optional = false): string | null {
  if ((v === undefined || v === null) && optional) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new HttpError(400, 'invalid_request', `${what} must be a string of 1..${max} characters`);
  return v;
}
function vector(v: unknown, dim: number, what: string): string {
  if (!Array.isArray(v) || v.length !== dim || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new HttpError(400, 'invalid_request', `${what} must be an array of ${dim} finite numbers`);
  }
  return vectorLiteral(v as number[]);
}
/** Keyset cursor: base64url of JSON [sortKey, id]. */
const encodeCursor = (k: unknown, id: string) => Buffer.from(JSON.stringify([k, id])).toString('base64url');
function decodeCursor(c: unknown): [string | null, string] | null {
  if (c === undefined || c === '') return null;
  try {
    const v = JSON.parse(Buffer.from(String(c), 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && UUID.test(v[1])) return [v[0], v[1]];
  } catch {
    /* fall through */
  }
  throw new HttpError(400, 'invalid_request', 'cursor is not one this service issued');
}

export function buildService(opts: ServiceOptions): { app: FastifyInstance; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 20,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'pgkit-workload',
    // No statement_timeout startup parameter: PgBouncer refuses unknown startup parameters. Server-side
    // timeouts belong to the login role (ALTER ROLE ... SET statement_timeout); a 57014 maps to 503.
  });
  pool.on('error', () => {}); // an idle client's connection dropped: the pool replaces it
  const dim = opts.embeddingDim ?? 1536;
  const ef = opts.efSearch ?? 100;
  const encKeys = JSON.stringify(opts.encKeys);
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 8 * 1024 * 1024 });

  const ctx = (p: Principal) => ({ orgId: p.orgId, userId: p.userId });
  const principal = (req: FastifyRequest) => (req as FastifyRequest & { principal: Principal }).principal;

  app.setErrorHandler((err, _req, reply) => {
    const fe = err as { statusCode?: number; validation?: unknown; code?: string; message: string };
    const e = fe.statusCode && fe.statusCode < 500 && !(err instanceof HttpError) && !fe.code?.match(/^[0-9A-Z]{5}$/)
      ? new HttpError(fe.statusCode, fe.statusCode === 413 ? 'payload_too_large' : 'invalid_request', fe.message)
      : mapError(err);
    void reply.status(e.status).send({ error: { code: e.code, message: e.message, ...(e.detail ? { detail: e.detail } : {}) } });
  });

  app.addHook('onRequest', async (req) => {
    if (req.url === '/health') return;
    (req as FastifyRequest & { principal: Principal }).principal = await authenticate(req.headers.authorization, opts.jwtSecret);
  });

  app.get('/health', async (_req, reply) => {
    try {
      const r = await pool.query('SELECT 1 AS ok');
      return { status: 'ok', database: r.rows[0].ok === 1 ? 'ok' : 'unexpected', pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } };
    } catch (e) {
      return reply.status(503).send({ status: 'unavailable', error: { code: 'unavailable', message: `database unreachable: ${(e as Error).message}` } });
    }
  });

  // list_projects: keyset on (name, id).
  app.get('/v1/projects', async (req) => {
    const q = req.query as Record<string, string>;
    const limit = int(q.limit, 'limit', 1, 100, 20);
    const cur = decodeCursor(q.cursor);
    const rows = await withContext(pool, ctx(principal(req)), async (tx) =>
      (await tx.query(
        `SELECT id, name, is_paused, next_scheduled_at, created_at FROM app.projects
         WHERE deleted_at IS NULL AND ($1::text IS NULL OR (name, id) > ($1::text, $2::uuid))
         ORDER BY name, id LIMIT $3`,
        [cur?.[0] ?? null, cur?.[1] ?? null, limit],
      )).rows,
    );
    const last = rows[rows.length - 1];
    return { items: rows, next: rows.length === limit ? encodeCursor(last.name, last.id) : null };
  });

  // list_episodes: a project's published episodes, newest first, keyset on (published_at, id); uses
  // episodes_project_id_status_published_at_idx.
  app.get('/v1/projects/:projectId/episodes', async (req) => {
    const { projectId } = req.params as { projectId: string };
    uuid(projectId, 'projectId');
    const q = req.query as Record<string, string>;
    const limit = int(q.limit, 'limit', 1, 100, 20);
    const cur = decodeCursor(q.cursor);
    const rows = await withContext(pool, ctx(principal(req)), async (tx) => {
      const r = await tx.query(
        `SELECT id, episode_number, title, status, published_at, highlight_count, chat_message_count FROM app.episodes
         WHERE project_id = $1 AND status = 'published' AND deleted_at IS NULL
           AND ($2::timestamptz IS NULL OR (published_at, id) < ($2::timestamptz, $3::uuid))
         ORDER BY published_at DESC, id DESC LIMIT $4`,
        [projectId, cur?.[0] ?? null, cur?.[1] ?? null, limit],
      );
      if (r.rowCount === 0 && !cur) {
        const p = await tx.query('SELECT 1 FROM app.projects WHERE id = $1', [projectId]);
        if (p.rowCount === 0) throw new HttpError(404, 'not_found', `project ${projectId} not found in your organization`);
      }
      return r.rows;
    });
    const last = rows[rows.length - 1];
    return { items: rows, next: rows.length === limit ? encodeCursor(last.published_at.toISOString(), last.id) : null };
  });

  // read_episode: the episode and its blocks in order (blocks_episode_id_position_key).
  app.get('/v1/episodes/:id', async (req) => {
    const id = uuid((req.params as { id: string }).id, 'episode id');
    return withContext(pool, ctx(principal(req)), async (tx) => {
      const e = await tx.query(
        `SELECT id, project_id, episode_number, title, status, published_at, highlight_count, chat_message_count, created_at
         FROM app.episodes WHERE id = $1 AND deleted_at IS NULL`,
        [id],
      );
      if (e.rowCount === 0) throw new HttpError(404, 'not_found', `episode ${id} not found in your organization`);
      const b = await tx.query(
        `SELECT id, type, position, content, confidence, research_citations FROM app.blocks
         WHERE episode_id = $1 AND deleted_at IS NULL ORDER BY position`,
        [id],
      );
      return { ...e.rows[0], blocks: b.rows };
    });
  });

  // create_highlight: one transaction; the episode counter is maintained by the database.
  app.post('/v1/episodes/:id/highlights', async (req, reply) => {
    const episodeId = uuid((req.params as { id: string }).id, 'episode id');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const blockId = b.blockId === undefined || b.blockId === null ? null : uuid(b.blockId, 'blockId');
    const quote = str(b.quote, 'quote', 4000);
    const note = str(b.note, 'note', 4000, true);
    const start = int(b.startOffset, 'startOffset', 0, 10_000_000);
    const end = int(b.endOffset, 'endOffset', 0, 10_000_000);
    const p = principal(req);
    const row = await withContext(pool, ctx(p), async (tx) => {
      const ep = await tx.query('SELECT organization_id FROM app.episodes WHERE id = $1 AND deleted_at IS NULL', [episodeId]);
      if (ep.rowCount === 0) throw new HttpError(404, 'not_found', `episode ${episodeId} not found in your organization`);
      return (await tx.query(
        `INSERT INTO app.highlights (organization_id, user_id, episode_id, block_id, quote, note, start_offset, end_offset)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, episode_id, block_id, created_at`,
        [p.orgId, p.userId, episodeId, blockId, quote, note, start, end],
      )).rows[0];
    });
    return reply.status(201).send(row);
  });

  // post_chat_message: idempotent on clientMessageId (body) or the Idempotency-Key header; a replay returns
  // the stored message with 200 instead of 201. Content is encrypted by the database (sql/0430).
  app.post('/v1/chat-sessions/:id/messages', async (req, reply) => {
    const sessionId = uuid((req.params as { id: string }).id, 'session id');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const content = str(b.content, 'content', 8000)!;
    const key = b.clientMessageId ?? req.headers['idempotency-key'];
    const clientMessageId = key === undefined ? null : uuid(key, 'clientMessageId / Idempotency-Key');
    const p = principal(req);
    const out = await withContext(pool, ctx(p), async (tx) => {
      await tx.query(SET_KEYS_SQL, [encKeys]);
      const s = await tx.query('SELECT organization_id FROM app.chat_sessions WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL', [sessionId, p.userId]);
      if (s.rowCount === 0) throw new HttpError(404, 'not_found', `chat session ${sessionId} not found for this user`);
      const ins = await tx.query(
        `INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content, client_message_id)
         VALUES ($1, $2, $3, 'user', 'main', $4, $5)
         ON CONFLICT (session_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
         RETURNING id, session_id, client_message_id, created_at`,
        [p.orgId, sessionId, p.userId, content, clientMessageId],
      );
      if (ins.rowCount === 1) return { created: true, row: ins.rows[0] };
      const prev = await tx.query(
        'SELECT id, session_id, client_message_id, created_at FROM app.chat_messages WHERE session_id = $1 AND client_message_id = $2',
        [sessionId, clientMessageId],
      );
      return { created: false, row: prev.rows[0] };
    });
    return reply.status(out.created ? 201 : 200).send({ ...out.row, replayed: !out.created });
  });

  // record_token_usage: append-only; the daily roll-up and cost breaker run in the database (sql/0620).
  app.post('/v1/token-usage', async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const op = str(b.operation, 'operation', 40)!;
    if (!OPERATIONS.has(op)) throw new HttpError(400, 'invalid_request', `operation must be one of ${[...OPERATIONS].join(', ')}`);
    const projectId = b.projectId === undefined ? null : uuid(b.projectId, 'projectId');
    const model = str(b.model, 'model', 100)!;
    const input = int(b.inputTokens, 'inputTokens', 0, 10_000_000);
    const output = int(b.outputTokens, 'outputTokens', 0, 10_000_000);
    const cost = typeof b.costGbp === 'number' && b.costGbp >= 0 && b.costGbp < 1e6 ? b.costGbp : null;
    if (cost === null) throw new HttpError(400, 'invalid_request', 'costGbp must be a number >= 0');
    const p = principal(req);
    const row = await withContext(pool, ctx(p), async (tx) =>
      (await tx.query(
        `INSERT INTO app.token_usage (organization_id, project_id, user_id, operation, model_used, input_tokens, output_tokens, cost_gbp)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at, total_tokens`,
        [p.orgId, projectId, p.userId, op, model, input, output, cost],
      )).rows[0],
    );
    return reply.status(201).send(row);
  });

  // claim_queue_item / complete_queue_item: the queue functions (sql/0610) serve every organization, so
  // only worker tokens may call them.
  app.post('/v1/queue/claim', async (req, reply) => {
    const p = principal(req);
    if (!p.worker) throw new HttpError(403, 'forbidden', 'only worker tokens (role: worker) may claim queue items');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const worker = str(b.worker, 'worker', 200)!;
    const limit = int(b.limit, 'limit', 1, 100, 1);
    const rows = await withContext(pool, ctx(p), async (tx) =>
      (await tx.query('SELECT id, organization_id, project_id, scheduled_for, attempt_count, lease_expires_at FROM app.claim_queue_items($1, $2)', [worker, limit])).rows,
    );
    if (rows.length === 0) return reply.status(204).send();
    return { items: rows };
  });

  app.post('/v1/queue/:id/complete', async (req) => {
    const p = principal(req);
    if (!p.worker) throw new HttpError(403, 'forbidden', 'only worker tokens (role: worker) may complete queue items');
    const id = uuid((req.params as { id: string }).id, 'queue item id');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const worker = str(b.worker, 'worker', 200)!;
    const episodeId = b.episodeId === undefined ? null : uuid(b.episodeId, 'episodeId');
    const ok = await withContext(pool, ctx(p), async (tx) =>
      (await tx.query<{ ok: boolean }>('SELECT app.complete_queue_item($1, $2, $3) AS ok', [id, worker, episodeId])).rows[0].ok,
    );
    if (!ok) throw new HttpError(409, 'conflict', `queue item ${id} is not held by worker ${worker} (lease lost or never claimed)`);
    return { id, completed: true };
  });

  // vector_search: top-k of the organization's embeddings (app.search_embeddings, sql/0820).
  app.post('/v1/search', async (req) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const lit = vector(b.vector, dim, 'vector');
    const k = int(b.k, 'k', 1, 50, 5);
    const p = principal(req);
    const rows = await withContext(pool, ctx(p), async (tx) => (await tx.query(VECTOR_SEARCH_SQL, [lit, k, p.orgId, Math.max(ef, k)])).rows);
    return { items: rows };
  });

  // template_lookup: enabled templates by focus (and depth), most used first (question_templates_focus_depth_idx).
  app.get('/v1/templates', async (req) => {
    const q = req.query as Record<string, string>;
    if (!FOCUSES.has(q.focus)) throw new HttpError(400, 'invalid_request', `focus must be one of ${[...FOCUSES].join(', ')}`);
    if (q.depth !== undefined && !DEPTHS.has(q.depth)) throw new HttpError(400, 'invalid_request', `depth must be one of ${[...DEPTHS].join(', ')}`);
    const rows = await withContext(pool, ctx(principal(req)), async (tx) =>
      (await tx.query(
        `SELECT id, code, focus, depth, category, template, variables FROM app.question_templates
         WHERE focus = $1 AND ($2::app.interview_depth IS NULL OR depth = $2) AND enabled AND deleted_at IS NULL
         ORDER BY usage_count DESC, id LIMIT 10`,
        [q.focus, q.depth ?? null],
      )).rows,
    );
    return { items: rows };
  });

  // session_embedding_lookup: the embedding(s) of a chat session (rag_embeddings_source_type_source_id_... key).
  app.get('/v1/chat-sessions/:id/embedding', async (req) => {
    const id = uuid((req.params as { id: string }).id, 'session id');
    const rows = await withContext(pool, ctx(principal(req)), async (tx) =>
      (await tx.query(
        `SELECT id, chunk_index, embedding_model, embedding::text AS embedding FROM app.rag_embeddings
         WHERE source_type = 'chat_session' AND source_id = $1 ORDER BY chunk_index`,
        [id],
      )).rows,
    );
    if (rows.length === 0) throw new HttpError(404, 'not_found', `no embedding for chat session ${id} in your organization`);
    return { items: rows.map((r) => ({ ...r, embedding: JSON.parse(r.embedding) as number[] })) };
  });

  // bulk_insert_embeddings: up to 100 chunk embeddings of a block in one statement, one transaction;
  // re-embedding a chunk replaces its vector (ON CONFLICT on the source key).
  app.post('/v1/blocks/:id/embeddings', async (req, reply) => {
    const blockId = uuid((req.params as { id: string }).id, 'block id');
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!Array.isArray(b.vectors) || b.vectors.length < 1 || b.vectors.length > 100) {
      throw new HttpError(400, 'invalid_request', 'vectors must be an array of 1..100 embeddings');
    }
    const lits = b.vectors.map((v, i) => vector(v, dim, `vectors[${i}]`));
    const first = int(b.firstChunk, 'firstChunk', 0, LOADTEST_CHUNK_MAX - 99, 0);
    const p = principal(req);
    const n = await withContext(pool, ctx(p), async (tx) => {
      const blk = await tx.query('SELECT 1 FROM app.blocks WHERE id = $1', [blockId]);
      if (blk.rowCount === 0) throw new HttpError(404, 'not_found', `block ${blockId} not found in your organization`);
      const r = await tx.query(
        `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, token_count)
         SELECT $1, 'block', $2, $3 + t.i - 1, t.v::extensions.vector, NULL
         FROM unnest($4::text[]) WITH ORDINALITY AS t(v, i)
         ON CONFLICT (source_type, source_id, chunk_index, embedding_model)
         DO UPDATE SET embedding = EXCLUDED.embedding, token_count = EXCLUDED.token_count`,
        [p.orgId, blockId, first, lits],
      );
      return r.rowCount;
    });
    return reply.status(201).send({ blockId, written: n });
  });

  // Load-test clean-up (not a product operation): a k6 run's teardown() deletes the block embeddings it wrote, its
  // chunk range [fromChunk, toChunk) at or above LOADTEST_CHUNK_BASE, in the caller's organization (RLS).
  app.delete('/v1/embeddings', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const from = int(q.fromChunk, 'fromChunk', LOADTEST_CHUNK_BASE, LOADTEST_CHUNK_MAX);
    const to = int(q.toChunk, 'toChunk', from + 1, LOADTEST_CHUNK_MAX + 1);
    const n = await withContext(pool, ctx(principal(req)), async (tx) =>
      (await tx.query(
        `DELETE FROM app.rag_embeddings WHERE source_type = 'block' AND chunk_index >= $1 AND chunk_index < $2`,
        [from, to],
      )).rowCount,
    );
    return { deleted: n ?? 0 };
  });

  app.addHook('onClose', async () => {
    await pool.end();
  });
  return { app, pool };
}
