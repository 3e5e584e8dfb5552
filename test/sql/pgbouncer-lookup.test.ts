// The PgBouncer auth_query lookup hands out SCRAM verifiers of ordinary login roles only: never of
// superusers, CREATEROLE roles or members of RDS's rds_superuser (the RDS master user).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
const tag = `lk${process.pid}`;

beforeAll(async () => {
  db = await migratedDatabase();
  await db.pool.query(`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_superuser') THEN CREATE ROLE rds_superuser NOLOGIN; END IF;
  END $$`);
  await db.pool.query(`CREATE ROLE ${tag}_plain LOGIN PASSWORD 'x-plain-pw'`);
  await db.pool.query(`CREATE ROLE ${tag}_creator LOGIN CREATEROLE PASSWORD 'x-creator-pw'`);
  await db.pool.query(`CREATE ROLE ${tag}_master LOGIN PASSWORD 'x-master-pw' IN ROLE rds_superuser`);
  await db.pool.query(`CREATE ROLE ${tag}_nopw LOGIN`);
});

afterAll(async () => {
  for (const r of ['plain', 'creator', 'master', 'nopw']) await db.pool.query(`DROP ROLE IF EXISTS ${tag}_${r}`);
  await db.drop();
});

async function lookup(name: string) {
  const r = await db.pool.query<{ usename: string; passwd: string }>('SELECT usename, passwd FROM pgbouncer.user_lookup($1)', [name]);
  return r.rows.filter((row) => row.usename !== null);
}

describe('pgbouncer.user_lookup', () => {
  it('returns the SCRAM verifier of an ordinary login role', async () => {
    const rows = await lookup(`${tag}_plain`);
    expect(rows).toHaveLength(1);
    expect(rows[0].passwd).toMatch(/^SCRAM-SHA-256\$4096:/);
  });

  it.each(['postgres', `${tag}_creator`, `${tag}_master`, `${tag}_nopw`, 'no_such_role'])('refuses %s', async (name) => {
    expect(await lookup(name)).toEqual([]);
  });

  it('is executable by the pooler role only, not by PUBLIC or the app', async () => {
    const r = await db.pool.query<{ who: string; ok: boolean }>(
      `SELECT who, has_function_privilege(who, 'pgbouncer.user_lookup(text)', 'EXECUTE') AS ok
       FROM unnest(ARRAY['pgkit_pgbouncer', 'pgkit_app', 'pgkit_readonly']) AS who`,
    );
    expect(Object.fromEntries(r.rows.map((x) => [x.who, x.ok]))).toEqual({ pgkit_pgbouncer: true, pgkit_app: false, pgkit_readonly: false });
  });

  it('pins its search_path (a hijacked search_path cannot redirect pg_shadow)', async () => {
    const r = await db.pool.query<{ cfg: string[] }>("SELECT proconfig AS cfg FROM pg_proc WHERE oid = 'pgbouncer.user_lookup(text)'::regprocedure");
    expect(r.rows[0].cfg).toContain('search_path=pg_catalog, pg_temp');
  });
});
