// The HNSW insertion off the request path (sql/1009, issue 15 #5), on a real server: an embedding the application
// writes waits outside the graph (in_vector_index false) until ops.run_index_pending_embeddings puts it in, and the
// product's search (app.search_embeddings, through PgBouncer as the application) finds it in the meantime by an exact
// scan. The break-in side: the application can neither put its rows into the graph itself nor run the job, and
// another organization's waiting rows stay out of reach whatever organization id a search names.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginWithContext, withContext } from '../../src/db/context.js';
import { VECTOR_SEARCH_SQL } from '../../loadtests/lib/vector.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { asUser } from '../support/context.js';

const ORG_A = '00000000-0000-4000-8000-0000000001a1';
const ORG_B = '00000000-0000-4000-8000-0000000001b1';
const USER_A = '00000000-0000-4000-8000-00000001a001';
const USER_B = '00000000-0000-4000-8000-00000001b001';
const BLOCK_A = '00000000-0000-4000-8000-0000000a0b01';
const BLOCK_B = '00000000-0000-4000-8000-0000000b0b01';
/** Above the exact-search threshold (1,000 rows): the search takes the HNSW branch and the waiting rows' scan. */
const INDEXED_ROWS = 1100;

let db: TestDb;
let admin: pg.Client; // pgkit_admin, the role pg_cron runs the kit's jobs as
let app: pg.Pool;

/**
 * A vector of 1536 dimensions around axis `d`, perturbed by `i` (SQL, so thousands of rows load in one statement).
 * 7.1 is 2π x 1.13 to four digits, so `i` and `i + 100` give the same vector to ~1e-6: tests pick their `i` apart.
 */
const vecSql = (d: string, i: string) =>
  `(SELECT array_agg(CASE WHEN x = (${d}) + 1 THEN 1 ELSE 0 END + 0.01 * sin((${i}) * 7.1 + x * 0.37))::real[] FROM generate_series(1, 1536) x)::extensions.vector`;
/** The same in TypeScript, for query parameters. */
function vec(d: number, i: number): string {
  return `[${Array.from({ length: 1536 }, (_, x) => (x === d ? 1 : 0) + 0.01 * Math.sin(i * 7.1 + (x + 1) * 0.37)).map((v) => v.toFixed(6)).join(',')}]`;
}

const search = (org: string, user: string, target: string, q: string, k = 5) =>
  withContext(app, asUser(org, user), async (tx) => (await tx.query<{ id: string; distance: number }>(VECTOR_SEARCH_SQL, [q, k, target, 100])).rows);

/** The application writes chunks of a block the way the workload service does: in the graph? It cannot say. */
const appInsert = (org: string, user: string, block: string, chunks: number[], axis: number) =>
  withContext(app, asUser(org, user), async (tx) => (await tx.query<{ id: string }>(
    `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding)
     SELECT $1, 'block', $2, c, ${vecSql('$3::int', 'c')} FROM unnest($4::int[]) c RETURNING id`,
    [org, block, axis, chunks])).rows.map((r) => r.id));

/**
 * `got` is the exact top 5 of A's rows for `q`: first the `near` rows (the only ones near `q`, in any order), then
 * rows at the same distances as the exact search's (the far rows lie at almost equal distances, ~0.9286, so their
 * ids may tie-break differently through the half-precision graph).
 */
async function expectExactTop5(got: Array<{ id: string; distance: number }>, q: string, near: string[]): Promise<void> {
  const exact = (await admin.query<{ id: string; d: number }>(
    `SELECT id, embedding <=> $2::extensions.vector AS d FROM app.rag_embeddings WHERE organization_id = $1
     ORDER BY (embedding <=> $2::extensions.vector) + 0 LIMIT 5`, [ORG_A, q])).rows;
  expect(got).toHaveLength(5);
  expect(got.slice(0, near.length).map((r) => r.id).sort()).toEqual([...near].sort());
  expect(exact.slice(0, near.length).map((r) => r.id).sort()).toEqual([...near].sort());
  got.forEach((r, i) => expect(r.distance, `rank ${i + 1}`).toBeCloseTo(exact[i].d, 5));
}

const pendingOf = async (org: string) => (await admin.query<{ id: string }>(
  'SELECT id FROM app.rag_embeddings WHERE organization_id = $1 AND NOT in_vector_index ORDER BY created_at, id', [org])).rows.map((r) => r.id);

beforeAll(async () => {
  db = await migratedDatabase();
  await db.pool.query(`INSERT INTO app.organizations (id, name, slug) VALUES ('${ORG_A}', 'A', 'vi-a'), ('${ORG_B}', 'B', 'vi-b');
    INSERT INTO app.users (id, email) VALUES ('${USER_A}', 'via@example.com'), ('${USER_B}', 'vib@example.com');
    INSERT INTO app.memberships (organization_id, user_id) VALUES ('${ORG_A}', '${USER_A}'), ('${ORG_B}', '${USER_B}');
    INSERT INTO app.projects (id, organization_id, name) VALUES (md5('vpa')::uuid, '${ORG_A}', 'A1'), (md5('vpb')::uuid, '${ORG_B}', 'B1');
    INSERT INTO app.episodes (id, organization_id, project_id, episode_number, title) VALUES
      (md5('vea')::uuid, '${ORG_A}', md5('vpa')::uuid, 1, 'EA'), (md5('veb')::uuid, '${ORG_B}', md5('vpb')::uuid, 1, 'EB');
    INSERT INTO app.blocks (id, organization_id, episode_id, type, position, content) VALUES
      ('${BLOCK_A}', '${ORG_A}', md5('vea')::uuid, 'markdown', 0, 'a'), ('${BLOCK_B}', '${ORG_B}', md5('veb')::uuid, 'markdown', 0, 'b')`);
  // Each organization: 1,100 rows already in the graph, spread over axes 0..7 (the seeder's state after its build).
  for (const [org, block] of [[ORG_A, BLOCK_A], [ORG_B, BLOCK_B]]) {
    await db.pool.query(`INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, in_vector_index)
      SELECT $1, 'block', $2, g, ${vecSql('g % 8', 'g')}, true FROM generate_series(1, ${INDEXED_ROWS}) g`, [org, block]);
  }
  await db.pool.query('VACUUM ANALYZE app.rag_embeddings');
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 3 });
}, 300_000);

afterAll(async () => {
  await app?.end();
  await admin?.end();
  await db?.drop();
});

describe('embeddings enter the HNSW graph off the request path (sql/1009)', () => {
  it("a row the application writes waits outside the graph, and the search finds it at once, among the graph's rows, equal to an exact search", async () => {
    // Axis 40 is far from every indexed row (axes 0..7): only the new chunks lie near the query.
    const ids = await appInsert(ORG_A, USER_A, BLOCK_A, [2001, 2002, 2003], 40);
    expect(await pendingOf(ORG_A)).toEqual(expect.arrayContaining(ids));
    const q = vec(40, 2002);
    const got = await search(ORG_A, USER_A, ORG_A, q);
    expect(got).toHaveLength(5);
    expect(got.slice(0, 3).map((r) => r.id).sort()).toEqual([...ids].sort());
    // The other two come from the graph: the result is the exact top 5 over all of A's rows.
    await expectExactTop5(got, q, ids);
    const d = got.map((r) => r.distance);
    expect([...d].sort((a, b) => a - b)).toEqual(d);
  });

  it("another organization's waiting rows stay out of reach: B's id names nothing for A, and B's search shows only B's", async () => {
    const bIds = await appInsert(ORG_B, USER_B, BLOCK_B, [3001, 3002], 41);
    const q = vec(41, 3001);
    expect(await search(ORG_A, USER_A, ORG_B, q)).toEqual([]);
    const own = await search(ORG_A, USER_A, ORG_A, q);
    expect(own).toHaveLength(5);
    expect(own.map((r) => r.id)).not.toEqual(expect.arrayContaining([bIds[0]]));
    expect(own.map((r) => r.id)).not.toEqual(expect.arrayContaining([bIds[1]]));
    const b = await search(ORG_B, USER_B, ORG_B, q);
    expect(b.slice(0, 2).map((r) => r.id).sort()).toEqual([...bIds].sort());
    // And the direct read of the waiting rows (what the exact branch reads) shows A nothing of B's.
    const direct = await withContext(app, asUser(ORG_A, USER_A), async (tx) =>
      (await tx.query('SELECT id FROM app.rag_embeddings WHERE NOT in_vector_index AND organization_id = $1', [ORG_B])).rows);
    expect(direct).toEqual([]);
  });

  it('the application cannot put a row into the graph itself, nor run the job that does', async () => {
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['INSERT naming in_vector_index', () => withContext(app, asUser(ORG_A, USER_A), (tx) => tx.query(
        `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, in_vector_index)
         VALUES ($1, 'block', $2, 4001, ${vecSql('1', '4001')}, true)`, [ORG_A, BLOCK_A]))],
      ['UPDATE of in_vector_index', () => withContext(app, asUser(ORG_A, USER_A), (tx) => tx.query(
        'UPDATE app.rag_embeddings SET in_vector_index = true WHERE organization_id = $1 AND NOT in_vector_index', [ORG_A]))],
      ['the job function', () => withContext(app, asUser(ORG_A, USER_A), (tx) => tx.query('SELECT ops.job_index_pending_embeddings(1000)'))],
      // sql/1011: the queue's order is created_at, and '-infinity' is outside the job's index: not the app's to choose.
      ['INSERT naming created_at', () => withContext(app, asUser(ORG_A, USER_A), (tx) => tx.query(
        `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, created_at)
         VALUES ($1, 'block', $2, 4002, ${vecSql('1', '4002')}, '-infinity')`, [ORG_A, BLOCK_A]))],
      ['INSERT naming updated_at', () => withContext(app, asUser(ORG_A, USER_A), (tx) => tx.query(
        `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, updated_at)
         VALUES ($1, 'block', $2, 4003, ${vecSql('1', '4003')}, now() - interval '1 year')`, [ORG_A, BLOCK_A]))],
    ];
    for (const [what, attempt] of attempts) {
      const e = await attempt().then(() => null, (x: unknown) => x as { code?: string });
      expect(e, what).toMatchObject({ code: '42501' });
    }
    // The procedure, as pg_cron would call it: outside a transaction block.
    const c = new pg.Client({ connectionString: db.appUrl });
    await c.connect();
    try {
      const e = await c.query('CALL ops.run_index_pending_embeddings()').then(() => null, (x: unknown) => x as { code?: string });
      expect(e).toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
    expect((await pendingOf(ORG_A)).length).toBe(3);
  });

  it('one job run puts the oldest waiting rows into the graph, skips a row a request holds, and leaves updated_at alone', async () => {
    // Besides the outliers of the tests above, three chunks among A's rows of axis 3.
    const [inTopic] = await appInsert(ORG_A, USER_A, BLOCK_A, [2501, 2502, 2503], 3);
    const waiting = [...(await pendingOf(ORG_A)), ...(await pendingOf(ORG_B))];
    const before = new Map((await admin.query<{ id: string; updated_at: Date }>(
      'SELECT id, updated_at FROM app.rag_embeddings WHERE id = ANY($1)', [waiting])).rows.map((r) => [r.id, r.updated_at.toISOString()]));
    const oldest = (await admin.query<{ id: string }>('SELECT id FROM app.rag_embeddings WHERE NOT in_vector_index ORDER BY created_at, id LIMIT 1')).rows[0].id;
    // A request holds the oldest row (an update of its content in an open transaction).
    const held = await app.connect();
    try {
      await beginWithContext(held, asUser(ORG_A, USER_A));
      const upd = await held.query("UPDATE app.rag_embeddings SET content = 'edited' WHERE id = $1", [oldest]);
      expect(upd.rowCount).toBe(1);
      const r = (await admin.query<{ r: Record<string, unknown> }>('SELECT ops.job_index_pending_embeddings(2) AS r')).rows[0].r;
      expect(r).toMatchObject({ status: 'completed', rows_affected: 2, more: true, pending: waiting.length - 2 });
      expect(await admin.query('SELECT 1 FROM app.rag_embeddings WHERE id = $1 AND NOT in_vector_index', [oldest])).toMatchObject({ rowCount: 1 });
      await held.query('COMMIT');
    } finally {
      held.release();
    }
    const rest = (await admin.query<{ r: Record<string, unknown> }>('SELECT ops.job_index_pending_embeddings(100) AS r')).rows[0].r;
    expect(rest).toMatchObject({ status: 'completed', rows_affected: waiting.length - 2, more: false, pending: 0, oldest_pending_seconds: null });
    const after = (await admin.query<{ id: string; updated_at: Date; in_vector_index: boolean; content: string | null }>(
      'SELECT id, updated_at, in_vector_index, content FROM app.rag_embeddings WHERE id = ANY($1)', [waiting])).rows;
    expect(after.every((r) => r.in_vector_index)).toBe(true);
    for (const r of after) {
      // The request's edit moved updated_at; entering the graph moved no row's.
      if (r.id === oldest) expect(r.content === 'edited' && r.updated_at.toISOString() > before.get(r.id)!).toBe(true);
      else expect(r.updated_at.toISOString(), r.id).toBe(before.get(r.id));
    }
    const logged = (await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ops.logs WHERE event_type = 'job_completed' AND metadata->>'job' = 'index_pending_embeddings'")).rows[0].n;
    expect(logged).toBe(2);
    // Now from the graph: a chunk is found through it (its own vector as the query: distance 0, first). The
    // outliers of axis 40 are not asked for here: three points far from everything else are where an HNSW graph
    // is weakest, and that is the graph's behaviour whoever inserts them, not this change's.
    const got = await search(ORG_A, USER_A, ORG_A, vec(3, 2501));
    expect(got).toHaveLength(5);
    expect(got[0]).toMatchObject({ id: inTopic });
    expect(got[0].distance).toBeLessThan(1e-6);
    const d = got.map((r) => r.distance);
    expect([...d].sort((a, b) => a - b)).toEqual(d);
    const orgs = (await admin.query<{ o: string }>('SELECT DISTINCT organization_id::text AS o FROM app.rag_embeddings WHERE id = ANY($1)', [got.map((r) => r.id)])).rows;
    expect(orgs).toEqual([{ o: ORG_A }]);
  });

  it('the scheduled procedure drains a backlog in committed batches and says when a row waited too long', async () => {
    const ids = await appInsert(ORG_A, USER_A, BLOCK_A, Array.from({ length: 7 }, (_, i) => 5001 + i), 42);
    const runsBefore = (await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ops.logs WHERE event_type = 'job_completed' AND metadata->>'job' = 'index_pending_embeddings'")).rows[0].n;
    await admin.query('CALL ops.run_index_pending_embeddings(3, 30)');
    expect(await pendingOf(ORG_A)).toEqual([]);
    const runs = (await admin.query<{ rows: string }>(
      `SELECT metadata->>'rows_affected' AS rows FROM ops.logs WHERE event_type = 'job_completed' AND metadata->>'job' = 'index_pending_embeddings'
       ORDER BY created_at OFFSET $1`, [runsBefore])).rows.map((r) => Number(r.rows));
    expect(runs).toEqual([3, 3, 1]);
    expect((await admin.query('SELECT 1 FROM app.rag_embeddings WHERE id = ANY($1) AND in_vector_index', [ids])).rowCount).toBe(7);

    // A re-embedded chunk written days ago waits again, but only since its vector changed: no warning.
    const [reembedded] = await appInsert(ORG_B, USER_B, BLOCK_B, [5901], 43);
    await admin.query('CALL ops.run_index_pending_embeddings()');
    await db.pool.query("ALTER TABLE app.rag_embeddings DISABLE TRIGGER rag_embeddings_set_updated_at");
    await db.pool.query("UPDATE app.rag_embeddings SET created_at = now() - interval '3 days', updated_at = now() - interval '3 days' WHERE id = $1", [reembedded]);
    await db.pool.query("ALTER TABLE app.rag_embeddings ENABLE TRIGGER rag_embeddings_set_updated_at");
    await withContext(app, asUser(ORG_B, USER_B), (tx) => tx.query(`UPDATE app.rag_embeddings SET embedding = ${vecSql('43', '5977')} WHERE id = $1`, [reembedded]));
    const [fresh] = await appInsert(ORG_B, USER_B, BLOCK_B, [5902], 43);
    const notices: string[] = [];
    admin.on('notice', (n) => notices.push(n.message ?? ''));
    // A request holds the re-embedded row, so the batch of one takes the fresh row and the re-embedded one is left
    // waiting: three days old by created_at, seconds by updated_at.
    const held = await app.connect();
    try {
      await beginWithContext(held, asUser(ORG_B, USER_B));
      await held.query("UPDATE app.rag_embeddings SET content = 'held' WHERE id = $1", [reembedded]);
      const quiet = (await admin.query<{ r: Record<string, unknown> }>("SELECT ops.job_index_pending_embeddings(1, interval '1 hour') AS r")).rows[0].r;
      expect(quiet).toMatchObject({ status: 'completed', rows_affected: 1, pending: 1 });
      expect(Number(quiet.oldest_pending_seconds)).toBeLessThan(600);
      expect((await admin.query('SELECT 1 FROM app.rag_embeddings WHERE id = $1 AND in_vector_index', [fresh])).rowCount).toBe(1);
      await held.query('ROLLBACK');
    } finally {
      held.release();
    }
    expect(notices).toEqual([]);
    await admin.query('CALL ops.run_index_pending_embeddings()');

    // Two rows that have waited ten minutes (written so, by the platform: the application cannot choose its
    // timestamps); one batch of one leaves the other: the job warns.
    const old = (await db.pool.query<{ id: string }>(
      `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, created_at, updated_at)
       SELECT $1, 'block', $2, c, ${vecSql('43', 'c')}, now() - interval '10 minutes', now() - interval '10 minutes'
       FROM unnest(ARRAY[6001, 6002]) c RETURNING id`, [ORG_B, BLOCK_B])).rows.map((r) => r.id);
    expect(old).toHaveLength(2);
    const r = (await admin.query<{ r: Record<string, unknown> }>('SELECT ops.job_index_pending_embeddings(1) AS r')).rows[0].r;
    expect(r).toMatchObject({ status: 'completed', rows_affected: 1, pending: 1 });
    expect(Number(r.oldest_pending_seconds)).toBeGreaterThanOrEqual(600);
    expect(notices.some((n) => /^pgkit vector index backlog: 1 embedding\(s\) wait for the HNSW graph, the oldest for \d+(\.\d)? s \(alarm above 00:05:00\)$/.test(n))).toBe(true);
    const warn = (await admin.query<{ level: string; metadata: Record<string, unknown> }>(
      "SELECT level, metadata FROM ops.logs WHERE event_type = 'vector_index_backlog' ORDER BY created_at DESC LIMIT 1")).rows[0];
    expect(warn).toMatchObject({ level: 'warn', metadata: { pending: 1 } });
    // Under the alarm's age nothing is said.
    notices.length = 0;
    await appInsert(ORG_B, USER_B, BLOCK_B, [6003], 43);
    await admin.query('CALL ops.run_index_pending_embeddings()');
    expect(notices).toEqual([]);
    expect(await pendingOf(ORG_B)).toEqual([]);
  });

  it("a changed vector leaves the graph until the job puts the new one in; the search finds the new vector meanwhile, and updated_at moves", async () => {
    const [id] = await appInsert(ORG_A, USER_A, BLOCK_A, [8001], 5);
    await admin.query('CALL ops.run_index_pending_embeddings()');
    const row = async () => (await admin.query<{ in_vector_index: boolean; updated_at: Date }>(
      'SELECT in_vector_index, updated_at FROM app.rag_embeddings WHERE id = $1', [id])).rows[0];
    const indexed = await row();
    expect(indexed.in_vector_index).toBe(true);
    // A content-only change keeps the row in the graph (and moves updated_at, as any real change does).
    await withContext(app, asUser(ORG_A, USER_A), (tx) => tx.query("UPDATE app.rag_embeddings SET content = 'c' WHERE id = $1", [id]));
    const edited = await row();
    expect(edited.in_vector_index).toBe(true);
    expect(edited.updated_at.getTime()).toBeGreaterThan(indexed.updated_at.getTime());
    // The bulk insert's upsert of the same chunk with another vector, as the workload service writes it.
    await withContext(app, asUser(ORG_A, USER_A), (tx) => tx.query(
      `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding)
       VALUES ($1, 'block', $2, 8001, ${vecSql('5', '8038')})
       ON CONFLICT (source_type, source_id, chunk_index, embedding_model) DO UPDATE SET embedding = EXCLUDED.embedding`, [ORG_A, BLOCK_A]));
    const moved = await row();
    expect(moved.in_vector_index).toBe(false);
    expect(moved.updated_at.getTime()).toBeGreaterThan(edited.updated_at.getTime());
    const got = await search(ORG_A, USER_A, ORG_A, vec(5, 8038));
    expect(got[0]).toMatchObject({ id });
    expect(got[0].distance).toBeLessThan(1e-6);
    // The old vector is not found under the row's id any more (its old version was in the graph).
    expect((await search(ORG_A, USER_A, ORG_A, vec(5, 8001))).find((r) => r.id === id && r.distance < 1e-6)).toBeUndefined();
    await admin.query('CALL ops.run_index_pending_embeddings()');
    const back = await row();
    expect(back.in_vector_index).toBe(true);
    expect(back.updated_at).toEqual(moved.updated_at);
    expect((await search(ORG_A, USER_A, ORG_A, vec(5, 8038)))[0]).toMatchObject({ id });
  });

  it('a vector the half-precision graph cannot hold is refused in its own INSERT, and the queue keeps moving (sql/1011)', async () => {
    const e = await withContext(app, asUser(ORG_A, USER_A), (tx) => tx.query(
      `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding)
       VALUES ($1, 'block', $2, 8501, ('[' || 70000 || repeat(',0.5', 1535) || ']')::extensions.vector)`, [ORG_A, BLOCK_A]))
      .then(() => null, (x: unknown) => x as { code?: string; constraint?: string });
    expect(e).toMatchObject({ code: '23514', constraint: 'rag_embeddings_embedding_halfvec_range_check' });
    // The largest finite half is accepted, and enters the graph.
    const [ok] = await withContext(app, asUser(ORG_A, USER_A), async (tx) => (await tx.query<{ id: string }>(
      `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding)
       VALUES ($1, 'block', $2, 8502, ('[' || 65504 || repeat(',0.5', 1535) || ']')::extensions.vector) RETURNING id`, [ORG_A, BLOCK_A])).rows.map((r) => r.id));
    await admin.query('CALL ops.run_index_pending_embeddings()');
    expect((await admin.query('SELECT 1 FROM app.rag_embeddings WHERE id = $1 AND in_vector_index', [ok])).rowCount).toBe(1);
  });

  it('bad arguments are a logged job failure with what was wrong, and nothing changes', async () => {
    const id = (await appInsert(ORG_A, USER_A, BLOCK_A, [7001], 44))[0];
    for (const [sql, msg] of [
      ['SELECT ops.job_index_pending_embeddings(0) AS r', /batch must be from 1 to 10000, got 0/],
      ["SELECT ops.job_index_pending_embeddings(10, interval '0') AS r", /backlog_alarm must be a positive interval, got 00:00:00/],
    ] as const) {
      const r = (await admin.query<{ r: Record<string, unknown> }>(sql)).rows[0].r;
      expect(r).toMatchObject({ status: 'failed', sqlstate: '22023' });
      expect(String(r.error)).toMatch(msg);
    }
    const e = await admin.query('CALL ops.run_index_pending_embeddings(10, 0)').then(() => null, (x: unknown) => x as { code?: string; message: string });
    expect(e).toMatchObject({ code: '22023', message: expect.stringMatching(/max_seconds must be >= 1, got 0/) });
    expect(await pendingOf(ORG_A)).toEqual([id]);
  });
});
