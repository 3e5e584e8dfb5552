// The request-context contract, in one place: every transaction that touches tenant data starts by setting
// the organization and user with set_config(..., true) (SET LOCAL semantics), so the values die with the
// transaction, plus app.ctx_xact = app.context_stamp(org, user), which attests that this transaction set those
// two values: a value left on a pooled server connection by an earlier transaction (a session-level SET) is
// ignored (sql/0800), so PgBouncer need not reset connections between clients. Row-level security reads them only
// through app.current_org_id() / app.current_user_id().
import type pg from 'pg';

export interface RequestContext {
  orgId: string;
  userId?: string | null;
}

export interface ContextOptions {
  /** Retries of the whole transaction on serialization failures and deadlocks (seed 003 §4.3). */
  retries?: number;
}

/** SQLSTATEs worth retrying as a whole transaction: serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(['40001', '40P01']);

export const SET_CONTEXT_SQL =
  "SELECT set_config('app.org_id', $1, true), set_config('app.user_id', $2, true), set_config('app.ctx_xact', app.context_stamp($1, $2), true)";

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/**
 * BEGIN and the context in one simple-protocol message (one round trip instead of two, through PgBouncer too),
 * when both ids are canonical uuids and so safe as literals; otherwise null, and the caller sends the values
 * as parameters (the database then treats a malformed one as missing).
 */
export function beginWithContextSql(ctx: RequestContext): string | null {
  const user = ctx.userId ?? '';
  if (!UUID.test(ctx.orgId) || (user !== '' && !UUID.test(user))) return null;
  return `BEGIN; SELECT set_config('app.org_id', '${ctx.orgId}', true), set_config('app.user_id', '${user}', true), set_config('app.ctx_xact', app.context_stamp('${ctx.orgId}', '${user}'), true)`;
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
      const begin = beginWithContextSql(ctx);
      if (begin) await client.query(begin);
      else {
        await client.query('BEGIN');
        await client.query(SET_CONTEXT_SQL, [ctx.orgId, ctx.userId ?? '']);
      }
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
