// Issue 16 #10: sql/0450's policy loop ran before sql/0630 created ops.rate_limits, so the job role saw none of its
// rows under forced row-level security. Every RLS table of app and ops, including ones created after the bundle,
// now carries the analytics and job roles' policies (app_private.ensure_service_role_policies, called by the event
// trigger and by sql/0870).
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function asRole<T>(role: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SET LOCAL ROLE ${role}`);
    return await fn(c);
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    c.release();
  }
}

describe('service role policies', () => {
  it('every RLS table of app and ops has the readonly and maintenance policies', async () => {
    const { rows } = await db.pool.query<{ t: string }>(
      `SELECT c.oid::regclass::text AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname IN ('app', 'ops') AND c.relkind IN ('r', 'p') AND c.relrowsecurity AND NOT c.relispartition
         AND (NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = c.relname || '_maintenance_all')
           OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = c.relname || '_readonly_select'))`,
    );
    expect(rows).toEqual([]);
  });

  it('the job role reads and changes ops.rate_limits (it saw no row before)', async () => {
    const total = Number((await db.pool.query('SELECT count(*) AS n FROM ops.rate_limits')).rows[0].n);
    expect(total).toBeGreaterThan(0);
    const seen = await asRole('pgkit_maintenance', async (c) => Number((await c.query('SELECT count(*) AS n FROM ops.rate_limits')).rows[0].n));
    expect(seen).toBe(total);
  });

  it('a tenant table created after the bundle is closed, and gets the service roles policies too', async () => {
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL ROLE ${'pgkit_owner'}`);
      await c.query('CREATE TABLE app.later_tenant_table (id int PRIMARY KEY, organization_id uuid NOT NULL)');
      const { rows } = await c.query<{ polname: string }>(
        "SELECT polname FROM pg_policy WHERE polrelid = 'app.later_tenant_table'::regclass ORDER BY 1",
      );
      expect(rows.map((r) => r.polname)).toEqual(['later_tenant_table_maintenance_all', 'later_tenant_table_owner_all', 'later_tenant_table_readonly_select']);
      const { rows: rls } = await c.query("SELECT relrowsecurity AS on, relforcerowsecurity AS forced FROM pg_class WHERE oid = 'app.later_tenant_table'::regclass");
      expect(rls[0]).toEqual({ on: true, forced: true });
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      c.release();
    }
  });
});
