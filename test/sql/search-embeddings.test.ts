// app.search_embeddings (sql/0820), the product's tenant vector search, as the application role through
// PgBouncer: it returns the caller organization's nearest rows (equal to an exact search), nothing of another
// organization whatever organization id it is given, and a clear 22023 for bad arguments.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlDir } from '../../src/config.js';
import { withContext } from '../../src/db/context.js';
import { VECTOR_SEARCH_SQL } from '../../loadtests/lib/vector.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { asUser, leaveVerifiedContextBehind, setContext } from '../support/context.js';

const ORG_A = '00000000-0000-4000-8000-0000000000a1';
const ORG_B = '00000000-0000-4000-8000-0000000000b1';
const USER_A = '00000000-0000-4000-8000-00000000a001';
const USER_B = '00000000-0000-4000-8000-00000000b001';
let db: TestDb;
let app: pg.Pool;

/** A deterministic unit vector of 1536 dimensions around direction `d` (small perturbation by `i`). */
function vec(d: number, i: number): string {
  const v = Array.from({ length: 1536 }, (_, j) => (j === d ? 1 : 0) + 0.01 * Math.sin(i * 7.1 + j * 0.37));
  const n = Math.hypot(...v);
  return `[${v.map((x) => (x / n).toFixed(6)).join(',')}]`;
}

beforeAll(async () => {
  db = await migratedDatabase();
  const admin = new pg.Client({ connectionString: db.superUrl });
  await admin.connect();
  await admin.query(`INSERT INTO app.organizations (id, name, slug) VALUES ('${ORG_A}', 'A', 'org-a'), ('${ORG_B}', 'B', 'org-b');
    INSERT INTO app.users (id, email) VALUES ('${USER_A}', 'a@example.com'), ('${USER_B}', 'b@example.com');
    INSERT INTO app.memberships (organization_id, user_id) VALUES ('${ORG_A}', '${USER_A}'), ('${ORG_B}', '${USER_B}');
    INSERT INTO app.projects (id, organization_id, name) VALUES (md5('pa')::uuid, '${ORG_A}', 'A1'), (md5('pb')::uuid, '${ORG_B}', 'B1');
    INSERT INTO app.episodes (id, organization_id, project_id, episode_number, title) VALUES
      (md5('ea')::uuid, '${ORG_A}', md5('pa')::uuid, 1, 'EA'), (md5('eb')::uuid, '${ORG_B}', md5('pb')::uuid, 1, 'EB');
    INSERT INTO app.blocks (id, organization_id, episode_id, type, position, content) VALUES
      (md5('ba')::uuid, '${ORG_A}', md5('ea')::uuid, 'markdown', 0, 'a'), (md5('bb')::uuid, '${ORG_B}', md5('eb')::uuid, 'markdown', 0, 'b')`);
  // A: 40 chunks around directions 0..3; B: 40 chunks around the same directions, so B's rows are as near as A's.
  for (const [org, blk] of [[ORG_A, 'ba'], [ORG_B, 'bb']] as const) {
    for (let i = 0; i < 40; i++) {
      await admin.query(`INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding)
        VALUES ($1, 'block', md5($2)::uuid, $3, $4::extensions.vector)`, [org, blk, i, vec(i % 4, i + (org === ORG_B ? 100 : 0))]);
    }
  }
  await admin.query('ANALYZE app.rag_embeddings');
  await admin.end();
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 2 });
}, 300_000);

afterAll(async () => {
  await app?.end();
  await db?.drop();
});

const search = (org: string, user: string, target: string, q: string, k = 5, ef = 100) =>
  withContext(app, asUser(org, user), async (tx) => (await tx.query<{ id: string; distance: number }>(VECTOR_SEARCH_SQL, [q, k, target, ef])).rows);

describe('app.search_embeddings', () => {
  it("returns the caller organization's k nearest rows, nearest first, equal to an exact search", async () => {
    const q = vec(2, 999);
    const got = await search(ORG_A, USER_A, ORG_A, q);
    expect(got).toHaveLength(5);
    const exact = await withContext(app, asUser(ORG_A, USER_A), async (tx) =>
      (await tx.query<{ id: string }>(`SELECT id FROM app.rag_embeddings WHERE organization_id = $1 ORDER BY (embedding <=> $2::extensions.vector) + 0 LIMIT 5`, [ORG_A, q])).rows);
    expect(got.map((r) => r.id)).toEqual(exact.map((r) => r.id));
    const d = got.map((r) => r.distance);
    expect([...d].sort((a, b) => a - b)).toEqual(d);
    expect(d[4]).toBeLessThan(0.1); // all five lie around direction 2 (another direction is at distance ~1)
  });

  it("given another organization's id, returns nothing of it (row-level security still applies)", async () => {
    expect(await search(ORG_A, USER_A, ORG_B, vec(1, 5))).toEqual([]);
    // And B, asking for A's rows, gets none either; for its own, its own.
    expect(await search(ORG_B, USER_B, ORG_A, vec(1, 5))).toEqual([]);
    expect(await search(ORG_B, USER_B, ORG_B, vec(1, 5))).toHaveLength(5);
  });

  it('without a request context, or with one left on the session by an earlier transaction, returns nothing', async () => {
    const c = await app.connect();
    try {
      const r = await c.query(VECTOR_SEARCH_SQL, [vec(0, 1), 5, ORG_A, 100]);
      expect(r.rows).toEqual([]);
    } finally {
      c.release();
    }
    // One direct session (the same backend for both transactions): a verified context copied to session level,
    // MAC included, in one transaction and used in the next.
    const direct = new pg.Client({ connectionString: db.appUrl });
    await direct.connect();
    try {
      await direct.query('BEGIN');
      await setContext(direct, ORG_A, USER_A);
      expect((await direct.query(VECTOR_SEARCH_SQL, [vec(0, 1), 5, ORG_A, 100])).rows).toHaveLength(5); // the control
      await direct.query('COMMIT');
      await leaveVerifiedContextBehind(direct, ORG_A, USER_A);
      expect((await direct.query("SELECT current_setting('app.org_id') AS o")).rows[0].o).toBe(ORG_A); // still set
      expect((await direct.query(VECTOR_SEARCH_SQL, [vec(0, 1), 5, ORG_A, 100])).rows).toEqual([]);
    } finally {
      await direct.end();
    }
  });

  it.each([
    [0, 100, /k must be from 1 to 100, got 0/],
    [101, 200, /k must be from 1 to 100, got 101/],
    [10, 5, /ef_search must be from k \(10\) to 1000, got 5/],
    [5, 5000, /ef_search must be from k \(5\) to 1000, got 5000/],
  ])('k = %i, ef_search = %i is refused with 22023 and what was wrong', async (k, ef, msg) => {
    const e = await search(ORG_A, USER_A, ORG_A, vec(0, 1), k, ef).catch((x: unknown) => x as { code?: string; message: string });
    expect(e).toMatchObject({ code: '22023' });
    expect((e as { message: string }).message).toMatch(msg);
  });

  it('leaves the caller with its own planner settings (enable_sort and iterative scan end with the call)', async () => {
    const s = await withContext(app, asUser(ORG_A, USER_A), async (tx) => {
      await tx.query(VECTOR_SEARCH_SQL, [vec(0, 1), 5, ORG_A, 64]);
      return (await tx.query<{ s: string; i: string; ef: string }>("SELECT current_setting('enable_sort') AS s, current_setting('hnsw.iterative_scan') AS i, current_setting('hnsw.ef_search') AS ef")).rows[0];
    });
    expect(s).toEqual({ s: 'on', i: 'off', ef: '64' });
  });

  it('sql/0820 refuses, with what to do, a pgvector older than 0.8 (its guard, run against a faked catalogue in a rolled-back transaction)', async () => {
    const file = readFileSync(join(sqlDir, '0820_search_embeddings.sql'), 'utf8');
    const guard = /^DO \$\$[\s\S]*?^\$\$;$/m.exec(file)![0];
    const admin = new pg.Client({ connectionString: db.superUrl });
    await admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query(guard); // the installed 0.8.0 passes
      await admin.query("UPDATE pg_extension SET extversion = '0.7.4' WHERE extname = 'vector'");
      const e = await admin.query(guard).catch((x: unknown) => x as { code?: string; message: string; hint?: string });
      expect(e).toMatchObject({ code: '0A000' });
      expect((e as { message: string }).message).toMatch(/pgvector 0\.7\.4 is installed, and app\.search_embeddings needs 0\.8\.0 or later/);
      expect((e as { hint?: string }).hint).toMatch(/ALTER EXTENSION vector UPDATE/);
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
  });
});
