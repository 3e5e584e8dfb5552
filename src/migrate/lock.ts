// One runner at a time per database: a session-level advisory lock held for the whole apply, on the same
// session that runs the files (non-transactional files commit statement by statement, so a transaction-level
// lock would not cover them). A session lock needs a direct connection, not a transaction-mode pooler.
import type { ClientBase } from 'pg';
import { LockTimeoutError } from './errors.js';

/** Fixed key: 'pgkit' in ASCII. Advisory locks are per database, so other databases never wait on it. */
export const MIGRATION_LOCK_KEY = '482771429748';

export async function acquireMigrationLock(
  client: ClientBase,
  opts: { waitTimeoutMs: number; log: (line: string) => void },
): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [MIGRATION_LOCK_KEY]);
  if (rows[0].ok) return;
  const holder = await client.query<{ pid: number; app: string | null; since: Date | null }>(
    `SELECT a.pid, a.application_name AS app, a.backend_start AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
      LIMIT 1`,
    [MIGRATION_LOCK_KEY],
  );
  const h = holder.rows[0];
  opts.log(
    `waiting for the migration lock (held by ${h ? `pid ${h.pid}${h.app ? ` "${h.app}"` : ''}` : 'another session'}; ` +
      `giving up after ${Math.round(opts.waitTimeoutMs / 1000)}s)`,
  );
  // lock_timeout bounds advisory lock waits too; 0 would mean wait forever, so keep at least 1 ms.
  const started = Date.now();
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${Math.max(1, Math.round(opts.waitTimeoutMs))}ms`]);
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
  } catch (e) {
    if ((e as { code?: string }).code === '55P03') throw new LockTimeoutError(Date.now() - started);
    throw e;
  } finally {
    await client.query('RESET lock_timeout').catch(() => undefined);
  }
  opts.log(`migration lock acquired after ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

export async function releaseMigrationLock(client: ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
}
