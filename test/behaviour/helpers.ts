// Fixtures shared by the behaviour tests (sql/0600-0799). Data setup runs as the superuser, direct.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { setContext } from '../support/context.js';

export interface Tenant {
  orgId: string;
  userId: string;
  projectId: string;
  episodeId: string;
}

let seq = 0;

/** An organization with one owner, one project and one episode. */
export async function tenant(db: pg.Pool | pg.Client, opts: { dailyCostLimit?: number; timezone?: string } = {}): Promise<Tenant> {
  const n = `${process.pid}-${Date.now().toString(36)}-${seq++}`;
  const orgId = randomUUID();
  const userId = randomUUID();
  const projectId = randomUUID();
  const episodeId = randomUUID();
  await db.query('INSERT INTO app.organizations (id, name, slug, daily_cost_limit) VALUES ($1, $2, $3, $4)', [
    orgId, `Org ${n}`, `org-${n}`, opts.dailyCostLimit ?? 50,
  ]);
  await db.query('INSERT INTO app.users (id, email, timezone) VALUES ($1, $2, $3)', [userId, `u-${n}@example.com`, opts.timezone ?? 'UTC']);
  await db.query("INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'owner')", [orgId, userId]);
  await db.query('INSERT INTO app.projects (id, organization_id, name) VALUES ($1, $2, $3)', [projectId, orgId, 'Project']);
  await db.query('INSERT INTO app.episodes (id, organization_id, project_id, episode_number, title) VALUES ($1, $2, $3, 1, $4)', [
    episodeId, orgId, projectId, 'Episode 1',
  ]);
  return { orgId, userId, projectId, episodeId };
}

/**
 * chat_messages.content is encrypted by the security bundle (0430) when it is present: the key material
 * must be supplied per transaction. Returns the set_config statement to run before inserting messages in a
 * transaction (or null when content is stored as it is).
 */
export async function messageKeySetup(db: pg.Pool): Promise<string | null> {
  const enc = await db.query("SELECT to_regprocedure('app_private.register_encryption_key(text)') IS NOT NULL AS on");
  if (!enc.rows[0].on) return null;
  const keyId = `test-${randomUUID().slice(0, 8)}`;
  const keys = JSON.stringify({ [keyId]: randomBytes(32).toString('base64') });
  const setKeys = `SELECT app.supply_encryption_keys('${keys}')`;
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    await c.query(setKeys);
    await c.query('SELECT app_private.register_encryption_key($1)', [keyId]);
    await c.query('SELECT app_private.activate_encryption_key($1)', [keyId]);
    await c.query('COMMIT');
  } finally {
    c.release();
  }
  return setKeys;
}

/** Runs fn in a transaction on its own connection, with the message keys set when needed. */
export async function tx<T>(db: pg.Pool, setKeys: string | null, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    if (setKeys) await c.query(setKeys);
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

/** The SQLSTATE (and constraint) a promise rejected with. */
export async function failure(p: Promise<unknown>): Promise<{ code?: string; constraint?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; constraint?: string; message: string };
    return { code: err.code, constraint: err.constraint, message: err.message };
  }
  throw new Error('expected the statement to fail, it succeeded');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (polling the database clock) until the SQL condition is true. Not an assertion: a wait. */
export async function waitUntil(db: pg.Pool, conditionSql: string, params: unknown[] = [], maxMs = 30_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const r = await db.query(`SELECT (${conditionSql}) AS ok`, params);
    if (r.rows[0].ok) return;
    if (Date.now() - start > maxMs) throw new Error(`condition not reached within ${maxMs} ms: ${conditionSql}`);
    await sleep(100);
  }
}

/** Can the app role write to this table through RLS and grants (security bundle landed)? Probed in a rolled-back transaction. */
export async function appCanInsert(appUrl: string, ctx: { orgId: string; userId: string }, insertSql: string, params: unknown[]): Promise<boolean> {
  const c = new pg.Client({ connectionString: appUrl });
  await c.connect();
  try {
    await c.query('BEGIN');
    // The organization counts only with a user who is a member of it (sql/0400).
    await setContext(c, ctx.orgId, ctx.userId);
    await c.query(insertSql, params);
    return true;
  } catch {
    return false;
  } finally {
    await c.query('ROLLBACK').catch(() => {});
    await c.end();
  }
}
