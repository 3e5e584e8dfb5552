// Request contexts for tests, signed with the test stack's keys (registered in every migrated test database,
// test/support/db.ts): what trusted platform code does with src/db/context-token.ts.
import { AUTHENTICATE_SQL, type RequestContext } from '../../src/db/context.js';
import type { ContextSigner } from '../../src/db/context-token.js';
import { contextKeysOf } from '../../src/local/secrets.js';
import { stackSecrets, stackSigner } from '../../src/local/stack.js';
import { testStack } from './stack.js';

const signer = () => stackSigner(stackSecrets(testStack));

/** The context of `userId` acting in `orgId` (the database still checks the membership). */
export const asUser = (orgId: string, userId: string): RequestContext => signer().user(orgId, userId);

/** A worker's context for one organization, or across the queue. */
export const asWorker = (scope: { orgId: string } | 'queue'): RequestContext => signer().worker(scope);

/** Authenticates the open transaction on `client` as `userId` in `orgId` (an empty user: a worker of the organization). */
export async function setContext(client: { query: (sql: string, params: unknown[]) => Promise<unknown> }, orgId: string, userId: string | null, by: ContextSigner = signer()): Promise<void> {
  const ctx = userId ? by.user(orgId, userId) : by.worker({ orgId });
  await client.query(AUTHENTICATE_SQL, [ctx.token]);
}

/**
 * What a buggy client could leave on a pooled server connection: a context this session verified in one
 * transaction (`app.authenticate_context`), copied to session level (set_config(..., false)), so the settings,
 * MAC included, outlive it. Runs its own transaction on `client`.
 */
export async function leaveVerifiedContextBehind(client: { query: (sql: string, params?: unknown[]) => Promise<{ rows: Array<Record<string, string>> }> }, orgId: string, userId: string, by: ContextSigner = signer()): Promise<void> {
  await client.query('BEGIN');
  await client.query(AUTHENTICATE_SQL, [by.user(orgId, userId).token]);
  const v = (await client.query("SELECT current_setting('app.org_id') o, current_setting('app.user_id') u, current_setting('app.ctx_role') r, current_setting('app.ctx_scope') s, current_setting('app.ctx_mac') m")).rows[0];
  await client.query('COMMIT');
  await client.query(
    "SELECT set_config('app.org_id', $1, false), set_config('app.user_id', $2, false), set_config('app.ctx_role', $3, false), set_config('app.ctx_scope', $4, false), set_config('app.ctx_mac', $5, false)",
    [v.o, v.u, v.r, v.s, v.m]);
}

/** The test stack's live context keys (registered in every migrated test database): for the seeder's `contextKeys`. */
export const testContextKeys = () => contextKeysOf(stackSecrets(testStack));

/** A transaction with no request context at all (what a request that authenticated nothing sees). */
export async function withoutContext<T>(pool: { connect: () => Promise<{ query: (sql: string) => Promise<unknown>; release: () => void }> }, fn: (tx: never) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const r = await fn(c as never);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}
