// withContext (src/db/context.ts), the one request-context helper, through PgBouncer as the application role:
// one transaction per call (all writes or none, seed 003 §2.1), whole-transaction retries of serialization
// failures and deadlocks only (seed 003 §4.3), and the context set for exactly that transaction.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginWithContext, withContext } from '../../src/db/context.js';
import { asUser } from '../support/context.js';
import { migratedDatabase, type TestDb } from '../support/db.js';

const ORG = '00000000-0000-4000-8000-0000000000c1';
const USER = '00000000-0000-4000-8000-00000000c001';
let db: TestDb;
let admin: pg.Client;
let app: pg.Pool;

beforeAll(async () => {
  db = await migratedDatabase();
  admin = new pg.Client({ connectionString: db.superUrl });
  await admin.connect();
  await admin.query(`INSERT INTO app.organizations (id, name, slug) VALUES ('${ORG}', 'C', 'org-c');
    INSERT INTO app.users (id, email) VALUES ('${USER}', 'c@example.com');
    INSERT INTO app.memberships (organization_id, user_id) VALUES ('${ORG}', '${USER}');
    CREATE TABLE public.ctx_probe (id integer PRIMARY KEY, note text);
    GRANT SELECT, INSERT ON public.ctx_probe TO pgkit_app`);
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 2 });
});

afterAll(async () => {
  await app?.end();
  await admin?.end();
  await db?.drop();
});

const rows = async () => (await admin.query<{ id: number }>('SELECT id FROM public.ctx_probe ORDER BY id')).rows.map((r) => r.id);
const raise = (code: string) => `DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '${code}'; END $$`;

describe('withContext', () => {
  it('runs the callback in one transaction with the context set, and commits', async () => {
    const seen = await withContext(app, asUser(ORG, USER), async (tx) => {
      await tx.query("INSERT INTO public.ctx_probe VALUES (1, 'a')");
      return (await tx.query<{ o: string; u: string; tx: boolean }>(
        "SELECT app.current_org_id()::text AS o, app.current_user_id()::text AS u, now() = statement_timestamp() AS tx")).rows[0];
    });
    expect(seen.o).toBe(ORG);
    expect(seen.u).toBe(USER);
    expect(seen.tx).toBe(false); // inside an open transaction: now() is its start, not this statement's
    expect(await rows()).toEqual([1]);
  });

  it('a failing second write leaves nothing of the first (all or nothing)', async () => {
    await expect(withContext(app, asUser(ORG, USER), async (tx) => {
      await tx.query("INSERT INTO public.ctx_probe VALUES (2, 'first')");
      await tx.query("INSERT INTO public.ctx_probe VALUES (1, 'duplicate key')");
    })).rejects.toMatchObject({ code: '23505' });
    expect(await rows()).toEqual([1]);
  });

  it.each(['40001', '40P01'])('retries the whole transaction after %s and commits once', async (code) => {
    let attempts = 0;
    const id = code === '40001' ? 3 : 4;
    const r = await withContext(app, asUser(ORG, USER), async (tx) => {
      attempts++;
      await tx.query('INSERT INTO public.ctx_probe VALUES ($1, $2)', [id, `attempt ${attempts}`]);
      if (attempts === 1) await tx.query(raise(code));
      return attempts;
    });
    expect(r).toBe(2);
    expect((await admin.query('SELECT note FROM public.ctx_probe WHERE id = $1', [id])).rows).toEqual([{ note: 'attempt 2' }]);
  });

  it('gives up after its retries and raises the last error, having written nothing', async () => {
    let attempts = 0;
    await expect(withContext(app, asUser(ORG, USER), async (tx) => {
      attempts++;
      await tx.query("INSERT INTO public.ctx_probe VALUES (5, 'never')");
      await tx.query(raise('40001'));
    }, { retries: 2 })).rejects.toMatchObject({ code: '40001' });
    expect(attempts).toBe(3);
    expect(await rows()).not.toContain(5);
  });

  it('does not retry other errors', async () => {
    let attempts = 0;
    await expect(withContext(app, asUser(ORG, USER), async (tx) => {
      attempts++;
      await tx.query(raise('23514'));
    })).rejects.toMatchObject({ code: '23514' });
    expect(attempts).toBe(1);
  });

  it('the token travels as a bind parameter: no id and no token appear in the statement text the server shows', async () => {
    const ctx = asUser(ORG, USER);
    const seen = await withContext(app, ctx, async (tx) =>
      (await tx.query<{ q: string }>("SELECT string_agg(query, ' | ') AS q FROM pg_stat_activity WHERE usename = current_user")).rows[0].q);
    expect(seen).not.toContain(ORG);
    expect(seen).not.toContain(USER);
    expect(seen).not.toContain(ctx.token.split('.')[2]);
    expect(await rows()).toEqual([1, 3, 4]);
  });

  it('a bad token fails the transaction with 28000 and writes nothing', async () => {
    await expect(withContext(app, { token: `${ORG}'; DROP TABLE public.ctx_probe; --` }, async (tx) => {
      await tx.query("INSERT INTO public.ctx_probe VALUES (9, 'never')");
    })).rejects.toMatchObject({ code: '28000' });
    expect(await rows()).toEqual([1, 3, 4]);
  });

  it('the context does not outlive its transaction on the same server connection', async () => {
    const c = await app.connect();
    try {
      await beginWithContext(c, asUser(ORG, USER));
      expect((await c.query('SELECT app.current_org_id()::text AS o')).rows[0].o).toBe(ORG);
      await c.query('COMMIT');
      expect((await c.query('SELECT app.current_org_id() AS o, app.current_user_id() AS u')).rows[0]).toEqual({ o: null, u: null });
    } finally {
      c.release();
    }
  });
});
