// The workload service: the product's canonical database operations over HTTP, the system under test for
// the k6 scenarios. Every request: JWT -> the same token forwarded as the request context of one transaction,
// which the database verifies again (withContext, src/db/context.ts, always through `contextFor`; sql/0930) -> the
// query, through PgBouncer as the application login role (the queue routes as the worker login), so RLS decides
// what each request can see. Statements are unnamed (node-postgres never
// names them unless told): PgBouncer 1.18 in transaction mode does not track protocol-level prepared statements.
//
// Issue 21: every input is validated at the edge by a JSON schema per route (ajv, without type coercion: "5" is
// not an integer), lengths are counted in code points like PostgreSQL's char_length, database errors are mapped
// by SQLSTATE (errors.ts), and no answer carries internals. Bounds: a request deadline (which also bounds the
// time to receive the body), a statement timeout per transaction, a pool wait, a body limit per route sized to
// its largest real request, and a circuit breaker (breaker.ts) in front of the database.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import pg from 'pg';
import type { ContextSigningKey } from '../../src/db/context-token.js';
import { withContext, type RequestContext } from '../../src/db/context.js';
import { SET_KEYS_SQL } from '../../src/security/keyring.js';
import { VECTOR_SEARCH_SQL } from '../lib/vector.js';
import { authenticate, MAX_TOKEN_LIFETIME_S, type Principal } from './auth.js';
import { CircuitBreaker, type BreakerOptions } from './breaker.js';
import { errorBody, HttpError, isSlow, isUnreachable, mapError, mapFrameworkError } from './errors.js';
import { LOADTEST_CHUNK_BASE, LOADTEST_CHUNK_MAX } from '../lib/workload.js';
import { BulkBodyPool, BulkBodyRefused } from './bulk-body-pool.js';
import { BodyRefused, FLOAT32_MAX, vectorText } from './bulk-body.mjs';
import { ReadRouter, type ReadTarget } from './readRouter.js';
import { formatLsn, LSN_PATTERN, parseLsn } from '../../src/db/lsn.js';

export interface ServiceOptions {
  /** Application login role through PgBouncer. */
  databaseUrl: string;
  /** The queue workers' login through PgBouncer (the queue functions are granted to it only, sql/0930). */
  workerDatabaseUrl: string;
  /** The live context signing keys (user and worker): the service checks tokens with them, the database again. */
  jwtKeys: readonly ContextSigningKey[];
  /** Field-encryption key material (JSON object key id -> base64), supplied per writing transaction. */
  encKeys: Record<string, string>;
  poolSize?: number;
  /** Worker threads that parse bulk-insert bodies off the event loop (bulk-body-pool.ts); default 1. */
  bulkBodyWorkers?: number;
  efSearch?: number;
  embeddingDim?: number;
  /** Fastify's logger option (true, or pino options such as { level, stream }). */
  logger?: FastifyServerOptions['logger'];
  /** statement_timeout of every request transaction (SET LOCAL), ms. Default 5000. */
  statementTimeoutMs?: number;
  /** Deadline of a whole request from its headers to the answer, the body's arrival included, ms. Default 15000. */
  requestTimeoutMs?: number;
  /** Longest wait for a pooled connection, ms. Default 3000. */
  poolWaitMs?: number;
  /** /health's limit for connecting and for its query, ms. Default 1000. */
  healthTimeoutMs?: number;
  maxTokenLifetimeS?: number;
  breaker?: BreakerOptions;
  /**
   * The read replica, application login through PgBouncer's read-only entry (APP_READ_DATABASE_URL): read-only
   * routes go there while its replay lag is at most readMaxLagMs and it has replayed the user's last write
   * (readRouter.ts). Unset: every request goes to databaseUrl.
   */
  readDatabaseUrl?: string | null;
  /** SERVICE_READ_MAX_LAG_MS; default 1000. */
  readMaxLagMs?: number;
  /** How often the replica's position is read, ms; default 100. */
  readPollMs?: number;
}

/** Response header of read-only routes: where the read went (replica or primary). */
export const READ_FROM_HEADER = 'x-pgkit-read-from';
/**
 * Read-your-writes across instances (readRouter.ts): a write's response carries the primary's WAL position after its
 * commit; a client that sends it back on its reads gets the replica only once the replica has replayed that far, from
 * whichever instance serves the read. Unsigned on purpose: it only steers the sender's own reads (a lower one can make
 * them stale, a higher one sends them to the primary); row-level security decides what any read may see.
 */
export const WRITE_POSITION_HEADER = 'x-pgkit-write-position';
export const READ_AFTER_HEADER = 'x-pgkit-read-after';

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** PostgreSQL text cannot hold NUL (SQLSTATE 22021): refused at the edge. */
const NO_NUL_PATTERN = '^[^\\u0000]*$';
const FOCUSES = ['goals', 'context', 'challenges', 'market', 'technology', 'regulation', 'reflection'];
const DEPTHS = ['surface', 'moderate', 'deep'];
const OPERATIONS = ['episode_generation', 'project_onboarding', 'chat', 'embedding', 'insight_extraction'];

// JSON schema pieces. maxLength counts code points (ajv's default), as PostgreSQL's char_length does.
const uuidS = { type: 'string', pattern: UUID_PATTERN } as const;
const optUuidS = { anyOf: [uuidS, { type: 'null' }] } as const;
const textS = (max: number) => ({ type: 'string', minLength: 1, maxLength: max, pattern: NO_NUL_PATTERN }) as const;
const intS = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max }) as const;
const vectorS = (dim: number) => ({ type: 'array', minItems: dim, maxItems: dim, items: { type: 'number', minimum: -FLOAT32_MAX, maximum: FLOAT32_MAX } }) as const;
const idParams = { type: 'object', required: ['id'], properties: { id: uuidS } } as const;
const pageQuery = { type: 'object', properties: { limit: { type: 'string', maxLength: 10 }, cursor: { type: 'string', maxLength: 2000 } } } as const;

/** What a JSON body can weigh: a code point written as a \uXXXX\uXXXX escape pair is 12 bytes. */
export const JSON_BYTES_PER_CODE_POINT = 12;
/** The longest shortest-round-trip form of a float32 value printed as a JSON number ("-1.1754943508222875e-38") plus its comma. */
export const JSON_BYTES_PER_VECTOR_NUMBER = 24;
/** Body limits per route: the largest request each route can legitimately receive, plus 1 KiB for keys and ids. */
export function bodyLimits(dim: number) {
  return {
    /** Texts: a chat message of 8000 code points (the largest text), fully escaped. */
    text: 8000 * JSON_BYTES_PER_CODE_POINT + 1024,
    search: dim * JSON_BYTES_PER_VECTOR_NUMBER + 1024,
    bulk: 100 * (dim * JSON_BYTES_PER_VECTOR_NUMBER + 2) + 1024,
  };
}

function pageLimit(v: string | undefined): number {
  if (v === undefined) return 20;
  if (!/^[1-9][0-9]{0,2}$/.test(v) || Number(v) > 100) throw new HttpError(400, 'invalid_request', 'querystring/limit must be a whole number from 1 to 100');
  return Number(v);
}

/** A vector the database can store and compare, as pgvector's text form (bulk-body.mjs vectorText); a 400 if not. */
function vectorOf(v: number[], what: string): string {
  try {
    return vectorText(v, what);
  } catch (e) {
    throw e instanceof BodyRefused ? new HttpError(400, 'invalid_request', e.message) : e;
  }
}

/** Keyset cursor: base64url of JSON [sortKey, id]; the sort key's type is checked per list. */
const encodeCursor = (k: unknown, id: string) => Buffer.from(JSON.stringify([k, id])).toString('base64url');
const NUL = String.fromCharCode(0);
function decodeCursor(c: string | undefined, key: 'name' | 'time'): [string, string] | null {
  if (c === undefined || c === '') return null;
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && new RegExp(UUID_PATTERN).test(v[1])) {
      const ok = key === 'name' ? v[0].length >= 1 && [...v[0]].length <= 200 && !v[0].includes(NUL) : /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(v[0]) && Number.isFinite(Date.parse(v[0]));
      if (ok) return [v[0], v[1]];
    }
  } catch {
    /* fall through */
  }
  throw new HttpError(400, 'invalid_request', 'cursor is not one this service issued');
}

type Req = FastifyRequest & { principal?: Principal; bodyReceived?: boolean; readFrom?: ReadTarget; writePosition?: string };

/** The x-pgkit-read-after header as a WAL position (null when absent); a malformed one is the client's error. */
function readAfterOf(req: FastifyRequest): bigint | null {
  const h = req.headers[READ_AFTER_HEADER];
  if (h === undefined) return null;
  if (typeof h !== 'string' || !LSN_PATTERN.test(h)) {
    throw new HttpError(400, 'invalid_request', `header ${READ_AFTER_HEADER} must be a WAL position as a write's ${WRITE_POSITION_HEADER} gave it (like 0/16B3748), once`);
  }
  return parseLsn(h);
}

/** The request's principal (set by the onRequest hook on every route but /health). */
const principal = (req: FastifyRequest) => (req as Req).principal!;

/**
 * The request's database context: the ONE place that says whom a request acts as: the request's own bearer
 * token, which the database verifies again (sql/0930); every route goes through here.
 */
export function contextFor(req: FastifyRequest): RequestContext {
  return { token: principal(req).token };
}

type UserPrincipal = Principal & { userId: string; orgId: string };
/** The principal of a user route: worker tokens carry no user and get 403. */
const userOf = (req: FastifyRequest): UserPrincipal => {
  const p = principal(req);
  if (p.worker || p.userId === null || p.orgId === null) throw new HttpError(403, 'forbidden', 'this route needs a user token');
  return p as UserPrincipal;
};

/** First statement of every request transaction: its statement timeout, and whether the context holds. */
const TX_SETUP_SQL = "SELECT set_config('statement_timeout', $1, true) AS statement_timeout, app.current_org_id() AS org";

export function buildService(opts: ServiceOptions): { app: FastifyInstance; pool: pg.Pool; breaker: CircuitBreaker; reads: ReadRouter | null } {
  const statementTimeoutMs = opts.statementTimeoutMs ?? 5000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
  const healthTimeoutMs = opts.healthTimeoutMs ?? 1000;
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 20,
    connectionTimeoutMillis: opts.poolWaitMs ?? 3000,
    idleTimeoutMillis: 30_000,
    application_name: 'pgkit-workload',
    // No statement_timeout startup parameter: PgBouncer refuses unknown startup parameters. The timeout is set
    // per transaction (TX_SETUP_SQL), under the login role's own (issue 17).
    // The client-side bound: a query with no answer a second after the server's own timeout never reached a
    // working server (PgBouncer queues it while PostgreSQL is down, up to its query_wait_timeout).
    query_timeout: statementTimeoutMs + 1000,
  });
  pool.on('error', () => {}); // an idle client's connection dropped: the pool replaces it
  // A connection whose query timed out on the client side still has that query in flight: end it, so the
  // ROLLBACK that follows fails at once and the pool drops the connection instead of lending it again.
  pool.on('connect', (client) => {
    // A connection that drops while lent out (the pooler or server stopped) reports to its query; the event
    // itself must not crash the process.
    client.on('error', () => {});
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      const out = query(...a);
      if (out instanceof Promise) {
        out.catch((e: Error) => {
          if (/Query read timeout/.test(e?.message ?? '')) void client.end().catch(() => {});
        });
      }
      return out;
    };
  });
  // The worker login's pool: the queue routes only (a few connections).
  const workerPool = new pg.Pool({
    connectionString: opts.workerDatabaseUrl,
    max: 4,
    connectionTimeoutMillis: opts.poolWaitMs ?? 3000,
    idleTimeoutMillis: 30_000,
    application_name: 'pgkit-workload-worker',
    query_timeout: statementTimeoutMs + 1000,
  });
  workerPool.on('error', () => {});
  workerPool.on('connect', (client) => client.on('error', () => {}));
  // The replica's pool: the same bounds as the primary's; its connections are read-only (a hot standby).
  const readPool = opts.readDatabaseUrl
    ? new pg.Pool({ connectionString: opts.readDatabaseUrl, max: opts.poolSize ?? 20, connectionTimeoutMillis: opts.poolWaitMs ?? 3000, idleTimeoutMillis: 30_000, application_name: 'pgkit-workload-read', query_timeout: statementTimeoutMs + 1000 })
    : null;
  readPool?.on('error', () => {});
  readPool?.on('connect', (client) => client.on('error', () => {}));
  const reads = readPool ? new ReadRouter({ primary: pool, replica: readPool, maxLagMs: opts.readMaxLagMs ?? 1000, pollMs: opts.readPollMs }).start() : null;
  const breaker = new CircuitBreaker(opts.breaker);
  const dim = opts.embeddingDim ?? 1536;
  const ef = opts.efSearch ?? 100;
  const encKeys = JSON.stringify(opts.encKeys);
  const limits = bodyLimits(dim);
  const app = Fastify({
    logger: opts.logger ?? false,
    // Only what went wrong is logged (refusals with database details at info, failures at error), not every request.
    disableRequestLogging: true,
    bodyLimit: limits.text,
    genReqId: () => randomUUID(),
    // The deadline runs from the headers to the answer, so it bounds a body sent slowly too (408 before the body
    // is in, 503 after). Node's own request timeout is the backstop for a request that never reaches a route.
    handlerTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs + 5000,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    frameworkErrors: (err, req, reply) => sendError(req, reply, mapFrameworkError(err, false) ?? mapError(err)),
    clientErrorHandler,
  });
  // Only JSON bodies: a text/plain body is refused with 415 instead of being parsed.
  app.removeContentTypeParser('text/plain');

  function sendError(req: FastifyRequest, reply: FastifyReply, e: HttpError, cause?: unknown) {
    if (e.status >= 500 || e.internal) {
      const fields = { requestId: req.id, status: e.status, code: e.code, ...(e.internal ?? {}), ...(cause && !(cause instanceof HttpError) ? { cause: (cause as Error).message } : {}) };
      if (e.status >= 500) req.log.error(fields, 'request failed');
      else req.log.info(fields, 'request refused');
    }
    void reply.status(e.status).headers(e.headers).header('x-request-id', req.id).send(errorBody(e, req.id));
  }

  /** Errors Node's HTTP parser raises before there is a request (431, garbage, slow headers): the same contract. */
  function clientErrorHandler(err: Error & { code?: string }, socket: Socket) {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const e =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new HttpError(431, 'headers_too_large', 'the request headers are too large')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT'
          ? new HttpError(408, 'request_timeout', 'the request was not received in time')
          : new HttpError(400, 'invalid_request', 'the request is not valid HTTP');
    const id = randomUUID();
    app.log.info({ requestId: id, status: e.status, parserError: err.code }, 'client error');
    const body = JSON.stringify(errorBody(e, id));
    socket.end(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  app.setErrorHandler((err, req, reply) => {
    const e = err instanceof HttpError ? err : (mapFrameworkError(err as Parameters<typeof mapFrameworkError>[0], (req as Req).bodyReceived === true) ?? mapError(err));
    sendError(req, reply, e, err);
  });
  app.setNotFoundHandler((req, reply) => sendError(req, reply, new HttpError(404, 'not_found', `no such route: ${req.method} (see docs/loadtests.md for the routes)`)));

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    if (req.routeOptions.url === '/health' || req.routeOptions.url === undefined) return;
    (req as Req).principal = await authenticate(req.headers.authorization, opts.jwtKeys, opts.maxTokenLifetimeS ?? MAX_TOKEN_LIFETIME_S);
  });
  app.addHook('onSend', async (req, reply) => {
    const from = (req as Req).readFrom;
    if (from) void reply.header(READ_FROM_HEADER, from);
    const wrote = (req as Req).writePosition;
    if (wrote) void reply.header(WRITE_POSITION_HEADER, wrote);
  });
  app.addHook('preValidation', async (req) => {
    (req as Req).bodyReceived = true;
  });

  /**
   * One request transaction: the breaker, the context (contextFor), a statement timeout, and the membership the
   * database sees (app.current_org_id(): NULL when the user is deleted or no longer a member) checked first.
   */
  async function inTx<T>(req: FastifyRequest, fn: (tx: pg.PoolClient) => Promise<T>, as: 'user' | 'worker' = 'user'): Promise<T> {
    if (as === 'user') userOf(req);
    const out = await guarded(() => txOn(as === 'worker' ? workerPool : pool, req, fn, as));
    // Read-your-writes: the user's next reads wait for this commit on the replica (readRouter.ts), on this instance by
    // its memory, on any instance by the position the client sends back.
    if (reads && as === 'user') {
      const at = await reads.noteWrite(principal(req).userId!);
      if (at !== null) (req as Req).writePosition = formatLsn(at);
    }
    return out;
  }

  /** A read-only request transaction: on the replica when the router says so (else, or if it fails to connect, the primary). */
  async function readTx<T>(req: FastifyRequest, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
    const target = reads && readPool ? reads.route(userOf(req).userId, readAfterOf(req)) : 'primary';
    (req as Req).readFrom = target;
    if (target === 'replica' && readPool) {
      try {
        return await txOn(readPool, req, fn, 'user');
      } catch (e) {
        if (!isUnreachable(e)) throw e;
        reads!.markDown();
        (req as Req).readFrom = 'primary';
      }
    }
    return guarded(() => txOn(pool, req, fn, 'user'));
  }

  async function txOn<T>(on: pg.Pool, req: FastifyRequest, fn: (tx: pg.PoolClient) => Promise<T>, as: 'user' | 'worker'): Promise<T> {
    return withContext(on, contextFor(req), async (tx) => {
      const s = await tx.query<{ org: string | null }>(TX_SETUP_SQL, [String(statementTimeoutMs)]);
      if (as === 'user' && s.rows[0].org === null) throw new HttpError(401, 'unauthorized', "the token's user is deleted or no longer a member of its organization", { 'www-authenticate': 'Bearer' });
      return fn(tx);
    });
  }

  /** The circuit breaker in front of the primary. */
  async function guarded<T>(fn: () => Promise<T>): Promise<T> {
    const settle = breaker.enter();
    try {
      const out = await fn();
      settle('ok');
      return out;
    } catch (e) {
      settle(isUnreachable(e) ? 'unreachable' : 'other');
      throw e;
    }
  }

  // /health: its own short connection (not the request pool, which may be full of slow requests), so it can
  // tell "database slow" (connected, but no answer in time) from "database unreachable" (no connection).
  app.get('/health', async (req, reply) => {
    const poolInfo = { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    const client = new pg.Client({ connectionString: opts.databaseUrl, application_name: 'pgkit-workload-health' });
    client.on('error', () => {});
    let phase: 'connect' | 'query' = 'connect';
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(Object.assign(new Error('health deadline'), { deadline: true })), healthTimeoutMs);
    });
    const started = Date.now();
    try {
      await Promise.race([client.connect(), deadline]);
      phase = 'query';
      await Promise.race([client.query('SELECT 1'), deadline]);
      return { status: 'ok', database: 'ok', latencyMs: Date.now() - started, breaker: breaker.state, pool: poolInfo, ...(reads ? { replica: reads.state } : {}) };
    } catch (e) {
      const slow = (phase === 'query' && (e as { deadline?: boolean }).deadline === true) || isSlow(e);
      const database = slow ? 'slow' : 'unreachable';
      req.log.warn({ requestId: req.id, phase, cause: (e as Error).message, sqlstate: (e as { code?: string }).code }, `health: database ${database}`);
      const err = slow
        ? new HttpError(503, 'timeout', `database slow: no answer within ${healthTimeoutMs} ms`, { 'retry-after': '1' })
        : new HttpError(503, 'unavailable', 'database unreachable', { 'retry-after': '1' });
      return reply
        .status(503)
        .headers(err.headers)
        .send({ status: 'unavailable', database, breaker: breaker.state, pool: poolInfo, ...errorBody(err, req.id) });
    } finally {
      clearTimeout(timer);
      void client.end().catch(() => {});
    }
  });

  // list_projects: keyset on (name, id).
  app.get('/v1/projects', { schema: { querystring: pageQuery } }, async (req) => {
    const q = req.query as { limit?: string; cursor?: string };
    const limit = pageLimit(q.limit);
    const cur = decodeCursor(q.cursor, 'name');
    const rows = await readTx(req, async (tx) =>
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
  // episodes_project_id_status_published_at_idx. An empty page of a project the caller cannot see is 404,
  // with or without a cursor.
  app.get('/v1/projects/:projectId/episodes', { schema: { params: { type: 'object', required: ['projectId'], properties: { projectId: uuidS } }, querystring: pageQuery } }, async (req) => {
    const { projectId } = req.params as { projectId: string };
    const q = req.query as { limit?: string; cursor?: string };
    const limit = pageLimit(q.limit);
    const cur = decodeCursor(q.cursor, 'time');
    const rows = await readTx(req, async (tx) => {
      const r = await tx.query(
        `SELECT id, episode_number, title, status, published_at, highlight_count, chat_message_count FROM app.episodes
         WHERE project_id = $1 AND status = 'published' AND deleted_at IS NULL
           AND ($2::timestamptz IS NULL OR (published_at, id) < ($2::timestamptz, $3::uuid))
         ORDER BY published_at DESC, id DESC LIMIT $4`,
        [projectId, cur?.[0] ?? null, cur?.[1] ?? null, limit],
      );
      if (r.rowCount === 0) {
        const p = await tx.query('SELECT 1 FROM app.projects WHERE id = $1 AND deleted_at IS NULL', [projectId]);
        if (p.rowCount === 0) throw new HttpError(404, 'not_found', `project ${projectId} not found in your organization`);
      }
      return r.rows;
    });
    const last = rows[rows.length - 1];
    return { items: rows, next: rows.length === limit ? encodeCursor(last.published_at.toISOString(), last.id) : null };
  });

  // read_episode: the episode and its blocks in order (blocks_episode_id_position_key).
  app.get('/v1/episodes/:id', { schema: { params: idParams } }, async (req) => {
    const { id } = req.params as { id: string };
    return readTx(req, async (tx) => {
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

  // create_highlight: one transaction; the episode counter is maintained by the database. A block must be one
  // of this episode's.
  app.post(
    '/v1/episodes/:id/highlights',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['quote', 'startOffset', 'endOffset'],
          properties: { blockId: optUuidS, quote: textS(4000), note: { anyOf: [textS(4000), { type: 'null' }] }, startOffset: intS(0, 10_000_000), endOffset: intS(0, 10_000_000) },
        },
      },
    },
    async (req, reply) => {
      const { id: episodeId } = req.params as { id: string };
      const b = req.body as { blockId?: string | null; quote: string; note?: string | null; startOffset: number; endOffset: number };
      if (b.endOffset <= b.startOffset) throw new HttpError(400, 'invalid_request', 'endOffset must be greater than startOffset');
      const p = userOf(req);
      const row = await inTx(req, async (tx) => {
        const ep = await tx.query<{ block_ok: boolean }>(
          `SELECT ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM app.blocks bl WHERE bl.id = $2 AND bl.episode_id = e.id AND bl.deleted_at IS NULL)) AS block_ok
           FROM app.episodes e WHERE e.id = $1 AND e.deleted_at IS NULL`,
          [episodeId, b.blockId ?? null],
        );
        if (ep.rowCount === 0) throw new HttpError(404, 'not_found', `episode ${episodeId} not found in your organization`);
        if (!ep.rows[0].block_ok) throw new HttpError(404, 'not_found', `block ${b.blockId} is not a block of episode ${episodeId}`);
        return (await tx.query(
          `INSERT INTO app.highlights (organization_id, user_id, episode_id, block_id, quote, note, start_offset, end_offset)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, episode_id, block_id, created_at`,
          [p.orgId, p.userId, episodeId, b.blockId ?? null, b.quote, b.note ?? null, b.startOffset, b.endOffset],
        )).rows[0];
      });
      return reply.status(201).send(row);
    },
  );

  // post_chat_message: idempotent on clientMessageId (body) or the Idempotency-Key header; a replay of the same
  // content returns the stored message with 200 instead of 201, the same key with other content is 409.
  // Content is encrypted by the database (sql/0430).
  app.post(
    '/v1/chat-sessions/:id/messages',
    {
      schema: {
        params: idParams,
        headers: { type: 'object', properties: { 'idempotency-key': uuidS } },
        body: { type: 'object', required: ['content'], properties: { content: textS(8000), clientMessageId: optUuidS } },
      },
    },
    async (req, reply) => {
      const { id: sessionId } = req.params as { id: string };
      const b = req.body as { content: string; clientMessageId?: string | null };
      const clientMessageId = b.clientMessageId ?? (req.headers['idempotency-key'] as string | undefined) ?? null;
      const p = userOf(req);
      const out = await inTx(req, async (tx) => {
        await tx.query(SET_KEYS_SQL, [encKeys]);
        const s = await tx.query('SELECT organization_id FROM app.chat_sessions WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL', [sessionId, p.userId]);
        if (s.rowCount === 0) throw new HttpError(404, 'not_found', `chat session ${sessionId} not found for this user`);
        const ins = await tx.query(
          `INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content, client_message_id)
           VALUES ($1, $2, $3, 'user', 'main', $4, $5)
           ON CONFLICT (session_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
           RETURNING id, session_id, client_message_id, created_at`,
          [p.orgId, sessionId, p.userId, b.content, clientMessageId],
        );
        if (ins.rowCount === 1) return { created: true, row: ins.rows[0] };
        const prev = await tx.query<{ content: string | null }>(
          'SELECT id, session_id, client_message_id, created_at, content FROM app.chat_messages_decrypted WHERE session_id = $1 AND client_message_id = $2',
          [sessionId, clientMessageId],
        );
        const { content, ...row } = prev.rows[0];
        if (content !== b.content) throw new HttpError(409, 'conflict', 'this idempotency key was already used for a message with other content');
        return { created: false, row };
      });
      return reply.status(out.created ? 201 : 200).send({ ...out.row, replayed: !out.created });
    },
  );

  // record_token_usage: append-only; the daily roll-up and cost breaker run in the database (sql/0620).
  app.post(
    '/v1/token-usage',
    {
      schema: {
        body: {
          type: 'object',
          required: ['operation', 'model', 'inputTokens', 'outputTokens', 'costGbp'],
          properties: {
            operation: { type: 'string', enum: OPERATIONS },
            projectId: optUuidS,
            model: textS(100),
            inputTokens: intS(0, 10_000_000),
            outputTokens: intS(0, 10_000_000),
            costGbp: { type: 'number', minimum: 0, exclusiveMaximum: 1e6 },
          },
        },
      },
    },
    async (req, reply) => {
      const b = req.body as { operation: string; projectId?: string | null; model: string; inputTokens: number; outputTokens: number; costGbp: number };
      if (b.model.trim() === '') throw new HttpError(400, 'invalid_request', 'body/model must not be blank');
      const p = userOf(req);
      const row = await inTx(req, async (tx) =>
        (await tx.query(
          `INSERT INTO app.token_usage (organization_id, project_id, user_id, operation, model_used, input_tokens, output_tokens, cost_gbp)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at, total_tokens`,
          [p.orgId, b.projectId ?? null, p.userId, b.operation, b.model, b.inputTokens, b.outputTokens, b.costGbp],
        )).rows[0],
      );
      return reply.status(201).send(row);
    },
  );

  // claim_queue_item / complete_queue_item: the queue functions (sql/0610, 0930) serve every organization, so only
  // worker tokens may call them, through the worker login; each claim returns its item's random lease token, which
  // completing needs (the worker name is a label for the logs), so a worker completes only what it claimed.
  const requireWorker = (p: Principal, what: string) => {
    if (!p.worker) throw new HttpError(403, 'forbidden', `only worker tokens (role: worker) may ${what} queue items`);
  };
  app.post(
    '/v1/queue/claim',
    { schema: { body: { type: 'object', required: ['worker'], properties: { worker: textS(200), limit: intS(1, 100) } } } },
    async (req, reply) => {
      requireWorker(principal(req), 'claim');
      const b = req.body as { worker: string; limit?: number };
      const rows = await inTx(req, async (tx) =>
        (await tx.query('SELECT id, organization_id, project_id, scheduled_for, attempt_count, lease_expires_at, lease_token FROM app.claim_queue_items($1, $2)', [b.worker, b.limit ?? 1])).rows,
      'worker');
      if (rows.length === 0) return reply.status(204).send();
      return { items: rows };
    },
  );

  app.post(
    '/v1/queue/:id/complete',
    { schema: { params: idParams, body: { type: 'object', required: ['leaseToken'], properties: { leaseToken: uuidS, episodeId: optUuidS } } } },
    async (req) => {
      requireWorker(principal(req), 'complete');
      const { id } = req.params as { id: string };
      const b = req.body as { leaseToken: string; episodeId?: string | null };
      const ok = await inTx(req, async (tx) =>
        (await tx.query<{ ok: boolean }>('SELECT app.complete_queue_item($1, $2, $3) AS ok', [id, b.leaseToken, b.episodeId ?? null])).rows[0].ok,
      'worker');
      if (!ok) throw new HttpError(409, 'conflict', `queue item ${id} is not held with this lease token (lease lost, or never claimed)`);
      return { id, completed: true };
    },
  );

  // vector_search: top-k of the organization's embeddings (app.search_embeddings, sql/0820).
  app.post(
    '/v1/search',
    { bodyLimit: limits.search, schema: { body: { type: 'object', required: ['vector'], properties: { vector: vectorS(dim), k: intS(1, 50) } } } },
    async (req) => {
      const b = req.body as { vector: number[]; k?: number };
      const lit = vectorOf(b.vector, 'body/vector');
      const k = b.k ?? 5;
      const p = userOf(req);
      const rows = await readTx(req, async (tx) => (await tx.query(VECTOR_SEARCH_SQL, [lit, k, p.orgId, Math.max(ef, k)])).rows);
      return { items: rows };
    },
  );

  // template_lookup: enabled templates by focus (and depth), most used first (question_templates_focus_depth_idx).
  app.get(
    '/v1/templates',
    { schema: { querystring: { type: 'object', required: ['focus'], properties: { focus: { type: 'string', enum: FOCUSES }, depth: { type: 'string', enum: DEPTHS } } } } },
    async (req) => {
      const q = req.query as { focus: string; depth?: string };
      const rows = await inTx(req, async (tx) => {
        const found = (await tx.query(
          `SELECT id, code, focus, depth, category, template, variables FROM app.question_templates
           WHERE focus = $1 AND ($2::app.interview_depth IS NULL OR depth = $2) AND enabled AND deleted_at IS NULL
           ORDER BY usage_count DESC, id LIMIT 10`,
          [q.focus, q.depth ?? null],
        )).rows;
        // The lookup counts as a use of what it returned (usage_count, folded every minute: sql/1002, issue 17 #4).
        // That makes this read a write transaction, and its COMMIT would wait for a WAL flush: the disk's latency
        // was the template lookup's p99 (k6 browse, 2026-12-06). A usage count is statistics, so this transaction
        // commits asynchronously: a crash may lose the last ~0.6 s of counts (3 x wal_writer_delay), nothing else.
        if (found.length) {
          await tx.query('SET LOCAL synchronous_commit = off');
          await tx.query('SELECT app.record_template_use($1::uuid[])', [found.map((r) => r.id)]);
        }
        return found;
      });
      return { items: rows };
    },
  );

  // session_embedding_lookup: the embedding(s) of a chat session (rag_embeddings_source_type_source_id_... key).
  app.get('/v1/chat-sessions/:id/embedding', { schema: { params: idParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const rows = await readTx(req, async (tx) =>
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
  // The body arrives as bytes (this route's own JSON parser, in an encapsulated scope) and is parsed and checked in a
  // worker thread (bulk-body.mjs): ~35-40 ms of work per 100 vectors that would otherwise hold the event loop.
  const bulkBodies = new BulkBodyPool(opts.bulkBodyWorkers ?? 1, dim, LOADTEST_CHUNK_MAX - 99);
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: limits.bulk }, (_req, body, done) => done(null, body));
    scope.post(
      '/v1/blocks/:id/embeddings',
      { bodyLimit: limits.bulk, schema: { params: idParams } },
      async (req, reply) => {
        const { id: blockId } = req.params as { id: string };
        const p = userOf(req);
        if (!Buffer.isBuffer(req.body)) throw new HttpError(400, 'invalid_request', "body must have required property 'vectors'");
        const b = await bulkBodies.parse(req.body).catch((e: unknown) => {
          throw e instanceof BulkBodyRefused ? new HttpError(400, 'invalid_request', e.message) : e;
        });
        const n = await inTx(req, async (tx) => {
          const blk = await tx.query('SELECT 1 FROM app.blocks WHERE id = $1', [blockId]);
          if (blk.rowCount === 0) throw new HttpError(404, 'not_found', `block ${blockId} not found in your organization`);
          const r = await tx.query(
            `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, token_count)
             SELECT $1, 'block', $2, $3 + t.i - 1, t.v::extensions.vector, NULL
             FROM unnest($4::text[]) WITH ORDINALITY AS t(v, i)
             ON CONFLICT (source_type, source_id, chunk_index, embedding_model)
             DO UPDATE SET embedding = EXCLUDED.embedding, token_count = EXCLUDED.token_count`,
            [p.orgId, blockId, b.firstChunk, b.literal],
          );
          return r.rowCount;
        });
        return reply.status(201).send({ blockId, written: n });
      },
    );
  });

  // Load-test clean-up (not a product operation): a k6 run's teardown() deletes the block embeddings it wrote, its
  // chunk range [fromChunk, toChunk) at or above LOADTEST_CHUNK_BASE, in the caller's organization (RLS).
  app.delete(
    '/v1/embeddings',
    { schema: { querystring: { type: 'object', required: ['fromChunk', 'toChunk'], properties: { fromChunk: { type: 'string', pattern: '^[0-9]{1,10}$' }, toChunk: { type: 'string', pattern: '^[0-9]{1,10}$' } } } } },
    async (req) => {
      const q = req.query as { fromChunk: string; toChunk: string };
      const from = Number(q.fromChunk);
      const to = Number(q.toChunk);
      if (from < LOADTEST_CHUNK_BASE || to <= from || to > LOADTEST_CHUNK_MAX + 1) {
        throw new HttpError(400, 'invalid_request', `fromChunk must be ${LOADTEST_CHUNK_BASE} or more and toChunk above it, at most ${LOADTEST_CHUNK_MAX + 1}`);
      }
      const n = await inTx(req, async (tx) =>
        (await tx.query(
          `DELETE FROM app.rag_embeddings WHERE source_type = 'block' AND chunk_index >= $1 AND chunk_index < $2`,
          [from, to],
        )).rowCount,
      );
      return { deleted: n ?? 0 };
    },
  );

  app.addHook('onClose', async () => {
    await bulkBodies.close();
    await reads?.stop();
    await Promise.all([pool.end(), workerPool.end(), readPool?.end()]);
  });
  return { app, pool, breaker, reads };
}
