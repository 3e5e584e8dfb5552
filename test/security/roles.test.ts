// Roles, ownership and privileges, read from the catalog of a migrated database, plus the secure-by-default
// behaviour for tables created after the security bundle.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { applyWithLaterFile } from '../support/later-file.js';
import { templateName } from '../support/stack.js';

let db: TestDb;
const q = async <T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, p: unknown[] = []) => (await db.pool.query<T>(sql, p)).rows;

beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('roles', () => {
  it('no pgkit group role is a superuser or bypasses RLS; the app role owns nothing and has no login of its own', async () => {
    const roles = await q(`SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname LIKE 'pgkit\\_%' ORDER BY 1`);
    for (const r of roles) expect(r, String(r.rolname)).toMatchObject({ rolsuper: false, rolbypassrls: false });
    expect(roles.find((r) => r.rolname === 'pgkit_app')).toMatchObject({ rolcanlogin: false });
    const owned = await q(`SELECT count(*)::int AS n FROM pg_class WHERE relowner = 'pgkit_app'::regrole`);
    expect(owned[0].n).toBe(0);
    // The login role really is only a member of pgkit_app (and through it pgkit_anon).
    const member = await q(`SELECT pg_has_role('pgkit_app_login', 'pgkit_app', 'MEMBER') AS app, pg_has_role('pgkit_app_login', 'pgkit_owner', 'MEMBER') AS owner,
                                   pg_has_role('pgkit_app_login', 'pgkit_maintenance', 'MEMBER') AS maint`);
    expect(member[0]).toEqual({ app: true, owner: false, maint: false });
  });

  it('every object of app, app_private, audit, ops is owned by pgkit_owner (also those of later files)', async () => {
    const bad = await q(`
      SELECT c.oid::regclass::text AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner <> 'pgkit_owner'::regrole
      UNION ALL
      SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND p.proowner <> 'pgkit_owner'::regrole`);
    expect(bad).toEqual([]);
  });

  it('every SECURITY DEFINER function pins search_path; none is executable by PUBLIC', async () => {
    const defs = await q(`SELECT p.oid::regprocedure::text AS f, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE') AS pub
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops', 'pgbouncer') AND p.prosecdef`);
    expect(defs.length).toBeGreaterThan(15);
    for (const d of defs) {
      expect((d.proconfig as string[] | null)?.some((c) => c.startsWith('search_path=')), String(d.f)).toBe(true);
    }
    const pub = await q(`SELECT p.oid::regprocedure::text AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      LEFT JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a ON true
      WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops', 'pgbouncer') AND a.grantee = 0 AND a.privilege_type = 'EXECUTE'`);
    expect(pub).toEqual([]);
  });

  it('PUBLIC cannot create in any schema nor make temporary objects', async () => {
    const rows = await q(`SELECT nspname, has_schema_privilege('pgkit_app', n.oid, 'CREATE') AS app_create
      FROM pg_namespace n WHERE nspname IN ('public', 'app', 'app_private', 'audit', 'ops', 'extensions', 'pgbouncer')`);
    for (const r of rows) expect(r.app_create, String(r.nspname)).toBe(false);
    // Database ACLs are not copied by CREATE DATABASE ... TEMPLATE, so this is read where sql/ was applied.
    const tpl = await templateName();
    const temp = await q(`SELECT has_database_privilege('pgkit_app', oid, 'TEMPORARY') AS t FROM pg_database WHERE datname = $1`, [tpl]);
    expect(temp[0].t).toBe(false);
    await db.pool.query(`REVOKE TEMPORARY ON DATABASE ${pg.escapeIdentifier(db.name)} FROM PUBLIC`); // as sql/0450 does
    // ...and really: the app login cannot.
    const c = new pg.Client({ connectionString: db.appUrl });
    await c.connect();
    try {
      await expect(c.query('CREATE TABLE app.x (id int)')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('CREATE TEMP TABLE x (id int)')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
  });

  it('the app role has no privilege on any partition, the key table or the audit schema', async () => {
    const rows = await q(`SELECT c.oid::regclass::text AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND (c.relispartition OR n.nspname IN ('app_private', 'audit'))
        AND c.relkind IN ('r', 'p')
        AND (has_table_privilege('pgkit_app', c.oid, 'SELECT') OR has_table_privilege('pgkit_app', c.oid, 'INSERT')
          OR has_table_privilege('pgkit_app', c.oid, 'UPDATE') OR has_table_privilege('pgkit_app', c.oid, 'DELETE')
          OR has_table_privilege('pgkit_app', c.oid, 'TRUNCATE'))`);
    expect(rows).toEqual([]);
  });

  it('views run with the caller\'s rights (security_invoker)', async () => {
    const rows = await q(`SELECT c.oid::regclass::text AS v, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('app', 'ops') AND c.relkind = 'v'`);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const r of rows) expect(r.reloptions as string[], String(r.v)).toContain('security_invoker=true');
  });
});

describe('secure by default', () => {
  it('a tenant table created later is owned by pgkit_owner with RLS forced and closed to the app until it gets policies', async () => {
    await db.pool.query('CREATE TABLE app.later_things (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), organization_id uuid NOT NULL, v text)');
    await db.pool.query(`INSERT INTO app.later_things (organization_id, v) VALUES (gen_random_uuid(), 'x')`);
    await db.pool.query('GRANT SELECT ON app.later_things TO pgkit_app');
    const [row] = await q(`SELECT relowner::regrole::text AS owner, relrowsecurity AS rls, relforcerowsecurity AS forced FROM pg_class WHERE oid = 'app.later_things'::regclass`);
    expect(row).toEqual({ owner: 'pgkit_owner', rls: true, forced: true });
    const c = new pg.Client({ connectionString: db.appUrl });
    await c.connect();
    try {
      expect((await c.query('SELECT * FROM app.later_things')).rowCount).toBe(0);
    } finally {
      await c.end();
    }
    // Baseline: the superuser sees the row, so 0 above is the policy at work.
    expect((await q('SELECT * FROM app.later_things')).length).toBe(1);
  });

  it('a later migration creating tables with identity and serial columns applies through the runner; tables and their sequences end up owned by pgkit_owner', async () => {
    // sql/0410's event trigger used to run ALTER SEQUENCE ... OWNER on the sequence of an identity/serial column,
    // which PostgreSQL refuses ("cannot change owner of sequence ... linked to table"), failing the whole file.
    const r = await applyWithLaterFile(db.url, '9900_later_identity.sql', [
      '-- 0800 (test only): a later file with an identity column, a serial column and a free-standing sequence.',
      'CREATE TABLE app.later_counters (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, organization_id uuid NOT NULL, n integer NOT NULL DEFAULT 0);',
      'CREATE TABLE ops.later_serials (id bigserial PRIMARY KEY, note text);',
      'CREATE SEQUENCE ops.later_free_seq;',
    ]);
    expect(r.applied).toEqual(['9900_later_identity.sql']);
    const rows = await q(`
      SELECT rel, (SELECT relowner::regrole::text FROM pg_class WHERE oid = rel::regclass) AS owner
      FROM unnest(ARRAY['app.later_counters', pg_get_serial_sequence('app.later_counters', 'id'),
                        'ops.later_serials', pg_get_serial_sequence('ops.later_serials', 'id'), 'ops.later_free_seq']) rel`);
    expect(rows).toEqual([
      { rel: 'app.later_counters', owner: 'pgkit_owner' },
      { rel: 'app.later_counters_id_seq', owner: 'pgkit_owner' },
      { rel: 'ops.later_serials', owner: 'pgkit_owner' },
      { rel: 'ops.later_serials_id_seq', owner: 'pgkit_owner' },
      { rel: 'ops.later_free_seq', owner: 'pgkit_owner' },
    ]);
    // The tenant table among them is closed like any other (RLS on and forced).
    const [t] = await q(`SELECT relrowsecurity AS rls, relforcerowsecurity AS forced FROM pg_class WHERE oid = 'app.later_counters'::regclass`);
    expect(t).toEqual({ rls: true, forced: true });
    // Nothing in the four schemas is left with another owner (what sql/0599 checks at migration time).
    expect((await q('SELECT app_private.assign_owner() AS n'))[0].n).toBe(0);
  });
});
