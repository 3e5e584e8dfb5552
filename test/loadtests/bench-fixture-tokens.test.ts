// The benchmark's fixture tokens are out of the app login's reach (issue 16): the pgbench scripts run as the app
// login, and the tokens used to sit in clear in loadtest.fixtures, which every app session can read (an SQL
// injection during a run could act as any fixture's user). Now loadtests/bench/fixture-tokens.ts seals them under
// a per-run key that only pgbench holds (-D runkey, sent as a bind parameter with -M extended). The test builds
// the fixtures the seeder builds, seals them as the benchmark does, attacks the table as the app login, and runs
// the benchmark's own context check with pgbench through PgBouncer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { ORG_A, ORG_B, USER_A, USER_B, seedTwoTenants, tenantParents } from '../../src/security/attacks.js';
import { generateKey } from '../../src/security/keyring.js';
import { sealFixtureTokens } from '../../loadtests/bench/fixture-tokens.js';
import { pgbench } from '../../loadtests/bench/pgbench.js';
import { SEED_SCHEMA } from '../../loadtests/seed/index.js';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
let work: string;
let runKey: string;
const keyring = { kbench: generateKey() };

beforeAll(async () => {
  db = await migratedDatabase();
  const admin = await db.pool.connect();
  try {
    await seedTwoTenants(admin, keyring);
    await admin.query(SEED_SCHEMA);
    for (const [n, org, user] of [[1, ORG_A, USER_A], [2, ORG_B, USER_B]] as const) {
      const p = await tenantParents(admin, org);
      await admin.query(`INSERT INTO loadtest.fixtures (n, org_id, user_id, project_id, episode_id, block_id, session_id, topic, focus, depth)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'goals', 'surface')`, [n, org, user, p.project, p.episode, p.block, p.session]);
    }
    // Due queue items for the claim script (the benchmark tops the queue up the same way).
    const a = await tenantParents(admin, ORG_A);
    await admin.query(`INSERT INTO app.episode_schedule_queue (organization_id, project_id, status, scheduled_for)
      SELECT $1, $2, 'pending', now() - make_interval(mins => g) FROM generate_series(1, 5) g`, [ORG_A, a.project]);
    // What the benchmark grants the app login for its scripts (loadtests/bench/index.ts).
    await admin.query('GRANT USAGE ON SCHEMA loadtest TO pgkit_app; GRANT SELECT ON ALL TABLES IN SCHEMA loadtest TO pgkit_app');
    // A clear-text token column as an earlier run left it: the sealing drops it.
    await admin.query('ALTER TABLE loadtest.fixtures ADD COLUMN token text');
    await admin.query('UPDATE loadtest.fixtures SET token = $1', [db.signer.user(ORG_B, USER_B).token]);
    runKey = await sealFixtureTokens(admin, db.signer, 600);
  } finally {
    admin.release();
  }
  work = mkdtempSync(join(tmpdir(), 'pgkit-bench-test-'));
});

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  await db?.drop();
});

describe('the benchmark\'s fixture tokens', () => {
  it('the app login reads no value in loadtest.fixtures that authenticates as anyone', async () => {
    const app = new pg.Client({ connectionString: db.appUrl });
    await app.connect();
    try {
      const rows = (await app.query('SELECT * FROM loadtest.fixtures')).rows;
      expect(rows).toHaveLength(2);
      expect(Object.keys(rows[0])).not.toContain('token');
      const values = rows.flatMap((r) => Object.values(r)).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)));
      const accepted: string[] = [];
      for (const v of values) {
        await app.query('BEGIN');
        try {
          await app.query('SELECT app.authenticate_context($1)', [v]);
          accepted.push(v);
        } catch {
          // refused, as it must be
        } finally {
          await app.query('ROLLBACK');
        }
      }
      expect(accepted).toEqual([]);
      expect(values.some((v) => /^eyJ/.test(v))).toBe(false); // no JWT in clear
    } finally {
      await app.end();
    }
  });

  it('pgbench, holding the run key, authenticates each fixture\'s context through PgBouncer (the benchmark\'s context check); a wrong key fails', async () => {
    const script = join(repoRoot, 'loadtests', 'bench', 'scripts', 'context_check.sql');
    const args = (key: string) => ['-n', '-M', 'extended', '-c', '1', '-t', '10', '-f', script, '-D', 'nfix=2', '-D', `runkey=${key}`];
    const ok = await pgbench(db.appPooledUrl, args(runKey), work);
    expect(ok).toMatch(/number of transactions actually processed: 10\/10/);
    expect(ok).not.toMatch(/number of failed transactions: [1-9]|aborted/);
    const wrong = await pgbench(db.appPooledUrl, args('00'.repeat(32)), work).catch((e: Error) => e.message);
    expect(wrong).toMatch(/aborted|decrypt|failed/);
  });

  // The operation scripts as the benchmark runs them (-M extended, the run key; vector_search and
  // bulk_insert_embeddings need the seeder's vectors, which this fixture does not build).
  it.each(['list_projects', 'list_episodes', 'read_episode', 'template_lookup', 'session_embedding_lookup', 'create_highlight', 'record_token_usage', 'post_chat_message', 'claim_queue_item'])(
    '%s runs with the sealed tokens and fails no transaction', async (op) => {
      const url = op === 'claim_queue_item' ? db.workerPooledUrl : db.appPooledUrl;
      // The seed wrote a user message into each fixture's session (seedTwoTenants); the database allows one every
      // 0.5 s per session (sql/0630), and on a fast machine this case could start sooner. Seen in a fresh-clone CI run.
      if (op === 'post_chat_message') await new Promise((r) => setTimeout(r, 600));
      const out = await pgbench(url, ['-n', '-M', 'extended', '-c', '1', '-t', '2', '-f', join(repoRoot, 'loadtests', 'bench', 'scripts', `${op}.sql`),
        '-D', 'nfix=2', '-D', 'i=0', '-D', 'clients=1', '-D', `runkey=${runKey}`, '-D', `enckeys=${JSON.stringify(keyring)}`], work);
      expect(out).toMatch(/number of transactions actually processed: 2\/2/);
      expect(out).not.toMatch(/number of failed transactions: [1-9]|aborted/);
    });
});
