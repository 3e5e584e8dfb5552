// ops.stale_embeddings (seed 002 post-deployment: embedding staleness by updated_at and embedding_model): an
// embedding of another model, or older than its source's last change, is listed with the reason; a fresh one is not;
// the application cannot call it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { tenant, type Tenant } from '../behaviour/helpers.js';

let db: TestDb;
let t: Tenant;
const vec = `[${Array.from({ length: 1536 }, (_, i) => ((i % 7) / 7 - 0.4).toFixed(3)).join(',')}]`;

beforeAll(async () => {
  db = await migratedDatabase();
  t = await tenant(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

async function block(): Promise<string> {
  const id = randomUUID();
  await db.pool.query("INSERT INTO app.blocks (id, organization_id, episode_id, position, content) VALUES ($1, $2, $3, (SELECT coalesce(max(position), 0) + 1 FROM app.blocks WHERE episode_id = $3), '# x')", [id, t.orgId, t.episodeId]);
  return id;
}
async function embed(source: string, model: string): Promise<string> {
  return (await db.pool.query<{ id: string }>(
    "INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, embedding, embedding_model) VALUES ($1, 'block', $2, $3, $4) RETURNING id",
    [t.orgId, source, vec, model])).rows[0].id;
}
const stale = async () => Object.fromEntries((await db.pool.query<{ embedding_id: string; reason: string }>(
  "SELECT embedding_id, reason FROM ops.stale_embeddings('model-b')")).rows.map((r) => [r.embedding_id, r.reason]));

describe('ops.stale_embeddings', () => {
  it('lists embeddings of another model and those older than their source, and not fresh ones', async () => {
    const fresh = await embed(await block(), 'model-b');
    const oldModel = await embed(await block(), 'model-a');
    const changedBlock = await block();
    const changed = await embed(changedBlock, 'model-b');
    expect(await stale()).toEqual({ [oldModel]: 'model' });
    // The source changes after its embedding was written (a later transaction: now() moves on).
    await db.pool.query("UPDATE app.blocks SET content = '# edited' WHERE id = $1", [changedBlock]);
    const s = await stale();
    expect(s).toEqual({ [oldModel]: 'model', [changed]: 'source changed' });
    expect(s[fresh]).toBeUndefined();
  });

  it('is not the application\'s to call', async () => {
    const app = new pg.Client({ connectionString: db.appUrl });
    await app.connect();
    try {
      await expect(app.query("SELECT * FROM ops.stale_embeddings('m')")).rejects.toMatchObject({ code: '42501' });
    } finally {
      await app.end();
    }
  });
});
