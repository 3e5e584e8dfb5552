// The request-context contract, in one place. Every transaction that touches tenant data starts with
// `SELECT app.authenticate_context($1)`, the caller's signed token as a bind parameter (sql/0930): the database
// verifies the token (key id, signature, expiry, claims) and sets the organization and user for that transaction
// only, stamped with a MAC that no client can compute. So a session that can run arbitrary SQL as the app login
// (an SQL injection) can act only as the user whose token it holds; setting app.org_id by hand, or a value left
// on a pooled server connection by an earlier transaction, counts as no context. Row-level security reads the
// context only through app.current_org_id() / app.current_user_id(). Tokens: the service forwards the user's own
// JWT; trusted platform code (seeder, tests, drills) signs short-lived ones with a ContextSigner
// (src/db/context-token.ts).
import type pg from 'pg';

export interface RequestContext {
  /** A signed context token (HS256 JWT; src/db/context-token.ts says which claims). */
  token: string;
}

export interface ContextOptions {
  /** Retries of the whole transaction on serialization failures and deadlocks (seed 003 §4.3). */
  retries?: number;
}

/** SQLSTATEs worth retrying as a whole transaction: serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(['40001', '40P01']);

/** Sets the context of the current transaction from a token ($1). Raises 28000 with the reason on a bad token. */
export const AUTHENTICATE_SQL = 'SELECT app.authenticate_context($1)';

/** Opens a transaction on `client` and authenticates its context: BEGIN, then the token as a bind parameter. */
export async function beginWithContext(client: pg.ClientBase, ctx: RequestContext): Promise<void> {
  await client.query('BEGIN');
  await client.query(AUTHENTICATE_SQL, [ctx.token]);
}

export async function withContext<T>(
  pool: pg.Pool,
  ctx: RequestContext,
  fn: (tx: pg.PoolClient) => Promise<T>,
  opts: ContextOptions = {},
): Promise<T> {
  const retries = opts.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    try {
      await beginWithContext(client, ctx);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      const code = (e as { code?: string }).code;
      if (attempt < retries && code !== undefined && RETRYABLE.has(code)) continue;
      throw e;
    } finally {
      client.release();
    }
  }
}
