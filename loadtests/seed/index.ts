#!/usr/bin/env -S npx tsx
// `npm run seed -- --scale dev|full|<factor> [options]`: deterministic load-test data, bulk-loaded with COPY.
//
// Who writes: the owner (the stack's superuser, direct). Bulk COPY of ~1.2M rows for 1,000 organizations
// through the application role would be 1,000 COPY streams per table, each under a set org context, for no
// gain in safety: what RLS guarantees at read time — a row belongs to exactly one organization and its
// parents belong to the same one — is built into the generator (every child carries its parent's
// organization_id, a user only acts inside their own organization), CHECKs, foreign keys and the triggers that
// compute data run during COPY, the per-row tenant / counter / open-session triggers are replaced by set-based
// checks before COMMIT, and the seeder verifies tenancy afterwards through the application role itself (each
// sampled user sees only their organization's rows). See docs/loadtests.md.
import { writeFileSync, mkdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signToken, signWorkerToken } from '../service/auth.js';
import { ContextSigner, registerContextKeys, type ContextSigningKey } from '../../src/db/context-token.js';
import { applyMigrations } from '../../src/migrate/index.js';
import { withContext } from '../../src/db/context.js';
import { bin, copyBinary, copyText, iso, type CopyResult } from './copy.js';
import { vectorBinary } from '../lib/embeddings.js';
import { contextKeys, defaultDataFile, endpoints, loadtestEncKeys } from '../lib/local.js';
import { fmt } from '../lib/progress.js';
import { Rng } from '../lib/prng.js';
import { SET_KEYS_SQL } from '../../src/security/keyring.js';
import { measureRecall, type RecallResult } from '../lib/vector.js';
import { loadTargets } from '../lib/targets.js';
import { resolveScale, type Scale } from './scale.js';
import { COLUMNS, REBUILD_TABLES, REFERENCE_TABLES, dropSecondaryIndexes, ensurePastPartitions, recreateIndexes } from './tables.js';
import { World } from './world.js';
import { buildIndexes, localShmBytes } from '../../src/local/shm.js';
import { markVectorIndexFresh, SEED_MAINTENANCE_WORK_MEM_MB, seedMaintenanceWorkMemMb } from '../lib/vector-index.js';

export interface SeedOptions {
  /** The loader: COPYs below row-level security (the local superuser; see loadtests/lib/local.ts loaderDirect). */
  adminUrl: string;
  appUrl?: string;
  scale: Scale;
  seed: string;
  reset: boolean;
  embeddings: boolean;
  dataFile: string | null;
  recallQueries: number;
  log?: (line: string) => void;
  now?: number;
  /**
   * The request-context keys the data file's tokens and the seeder's own checks are signed with; registered in the
   * database first (sql/0930). Default: the stack's (loadtests/lib/local.ts contextKeys).
   */
  contextKeys?: ContextSigningKey[];
  /**
   * Free bytes of the server's /dev/shm, which a parallel HNSW build needs for its whole graph (src/local/shm.ts).
   * Default: measured here when the server is on this host (loopback or a socket), else unknown (null).
   */
  shmBytes?: number | null;
}

export { HNSW_GRAPH_BYTES_PER_VECTOR, HNSW_GRAPH_MAX_MEMORY_SHARE, SEED_MAINTENANCE_WORK_MEM_MB, seedMaintenanceWorkMemMb } from '../lib/vector-index.js';

export interface SeedReport {
  scale: Scale;
  seed: string;
  tables: CopyResult[];
  rows: number;
  dataSeconds: number;
  embeddingRows: number;
  embeddingSeconds: number;
  hnswSeconds: number;
  /** The HNSW build's max_parallel_maintenance_workers and why (src/local/shm.ts). */
  hnswBuild: { workers: number; reason: string } | null;
  recall: RecallResult | null;
  tenancyChecked: number;
  dataFile: string | null;
}

export class AlreadySeededError extends Error {}

export const SEED_SCHEMA = `
CREATE SCHEMA IF NOT EXISTS loadtest;
COMMENT ON SCHEMA loadtest IS 'Load-test fixtures written by loadtests/seed (not part of sql/): seed runs, ids to sample, query vectors.';
CREATE TABLE IF NOT EXISTS loadtest.seed_runs (
  id serial PRIMARY KEY, seed text NOT NULL, scale jsonb NOT NULL, started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz, report jsonb);
CREATE TABLE IF NOT EXISTS loadtest.fixtures (
  n integer PRIMARY KEY, org_id uuid NOT NULL, user_id uuid NOT NULL, project_id uuid NOT NULL, episode_id uuid NOT NULL,
  block_id uuid NOT NULL, session_id uuid NOT NULL, topic integer NOT NULL, focus text NOT NULL, depth text NOT NULL);
`;

async function tableCount(c: pg.Client, sql: string): Promise<number> {
  const r = await c.query(sql);
  return Number(r.rows[0]?.n ?? 0);
}

export async function seed(opts: SeedOptions): Promise<SeedReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[seed] ${l}\n`));
  const { scale } = opts;
  const c = new pg.Client({ connectionString: opts.adminUrl, application_name: 'pgkit-seed' });
  await c.connect();
  const keys = signingKeys(opts.contextKeys ?? contextKeys());
  try {
    await registerContextKeys(c, [keys.user, keys.worker]);
    const existing = await tableCount(c, 'SELECT count(*) AS n FROM app.organizations');
    if (existing > 0) {
      if (!opts.reset) {
        const db = (await c.query('SELECT current_database() AS d')).rows[0].d as string;
        throw new AlreadySeededError(
          `database ${db} already holds data (${fmt(existing)} organizations). Seeding again would mix two data sets; ` +
            're-run with --reset to delete every row of the app tables (and the loadtest fixtures) first.',
        );
      }
      log('--reset: deleting the existing data');
      const t = await c.query<{ t: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('app', 'app_private') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND format('%I.%I', n.nspname, c.relname) <> ALL ($1::text[])
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')`,
        // The request-context keys are the platform's, not seed data (sql/0930): kept.
        [[...REFERENCE_TABLES, 'app_private.context_signing_keys', 'app_private.context_mac_key']],
      );
      // rate_limits' per-organization rows go with the organizations (cascade); the default row stays.
      await c.query(`TRUNCATE ${t.rows.map((r) => r.t).join(', ')} CASCADE`);
      await c.query('DROP SCHEMA IF EXISTS loadtest CASCADE');
    }
    await c.query('SET synchronous_commit = off');
    const shmKnown = opts.shmBytes === undefined ? localShmBytes(opts.adminUrl) : opts.shmBytes;
    const mwmMb = seedMaintenanceWorkMemMb(opts.embeddings ? scale.embeddings : 0, shmKnown === null ? null : totalmem());
    if (mwmMb !== SEED_MAINTENANCE_WORK_MEM_MB) log(`maintenance_work_mem ${fmt(mwmMb)} MB, so the HNSW graph of ${fmt(scale.embeddings)} vectors stays in memory`);
    await c.query(`SET maintenance_work_mem = '${mwmMb}MB'`);
    await c.query(SEED_SCHEMA);
    const run = await c.query('INSERT INTO loadtest.seed_runs (seed, scale) VALUES ($1, $2) RETURNING id', [opts.seed, scale]);

    log(`generating scale ${scale.name}: ${fmt(scale.organizations)} organizations, ${fmt(scale.users)} users, ${fmt(scale.projects)} projects, ${fmt(scale.episodes)} episodes, ${fmt(scale.embeddings)} embeddings (seed '${opts.seed}')`);
    const w = new World(scale, opts.seed, opts.now);
    const tables: CopyResult[] = [];
    const t0 = performance.now();

    // Phase 1: relational data, one transaction (all or nothing).
    await c.query('BEGIN');
    // The scheduled jobs stand aside while it runs: in a database where pg_cron runs them (the stack's own), a job
    // folding counters mid-import deadlocked with the import's table locks (seen 2026-12-06: fold_episode_counters
    // against the TRUNCATE of its deltas). Holding every job's lock row (ops.job_begin takes it FOR UPDATE SKIP
    // LOCKED) makes each run that starts meanwhile skip, logged as job_skipped; a run already going is waited for.
    await holdJobLocks(c);
    // Field encryption (0430): chat_messages.content and planning_notes.note are encrypted by trigger under
    // the active key, whose material the writer supplies per transaction.
    await ensureEncryptionKey(c);
    // The audit trail (0440) records application writes row by row. A bulk import of synthetic data is one
    // business action: the row-level audit triggers are off for this transaction only, and one
    // 'seed.import' row records the import instead (ALTER TABLE is transactional: a failure re-enables them).
    const audited = await c.query<{ t: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE g.tgname = 'audit' AND NOT g.tgisinternal AND n.nspname = 'app'`,
    );
    for (const r of audited.rows) await c.query(`ALTER TABLE ${r.t} DISABLE TRIGGER audit`);
    await ensurePastPartitions(c, ['app.token_usage', 'app.user_events', 'app.engagement_events'], w.now - 31 * 86_400_000);
    // Per-row checks and counters that have a set-based equivalent are off for the import too (measured at dev
    // scale with track_functions = all: the generic tenant trigger costs ~57 us per call, 1.8M calls at full
    // scale; the message counter ~160 us and the open-session / rate-limit check ~65 us per message). Tenant
    // consistency is then verified by one join per tenant trigger (same foreign key, parent and user rule, read
    // from the trigger's own arguments), no message may postdate its session's completion or deletion, and the
    // counters are set to the true counts, all before COMMIT: all or nothing. The rate limit is a guard on live
    // writes (its window ends at now()); the generated history spaces a session's messages 20-240 s apart.
    const deferred = await disableDeferrableTriggers(c);
    const dropped = await dropSecondaryIndexes(c, REBUILD_TABLES);
    const copy = async (table: keyof typeof COLUMNS, total: number, rows: Iterable<unknown[]>) => {
      tables.push(await copyText(c, `app.${table}`, [...COLUMNS[table]], total, rows, table));
    };
    const nHighlights = Math.round(w.episodes.length / 2);
    const nNotes = w.users.length;
    const nTokens = w.users.length * 20;
    const msgMax = 14;
    await copy('organizations', w.orgs.length, w.organizations());
    await copy('users', w.users.length, w.users_());
    await copy('memberships', w.users.length, w.memberships());
    await copy('projects', w.projects.length, w.projects_());
    await copy('scenarios', w.scenarioIds.length, w.scenarios());
    await copy('question_templates', w.templates.length, w.questionTemplates());
    await copy('episodes', w.episodes.length, w.episodes_());
    await copy('blocks', w.blockIds.length, w.blocks());
    await copy('highlights', nHighlights, w.highlights(nHighlights));
    await copy('planning_notes', nNotes, w.planningNotes(nNotes));
    await copy('agent_memory', w.memories.length, w.agentMemory());
    await copy('chat_sessions', w.sessions.length, w.chatSessions());
    await copy('chat_messages', w.sessions.length * 8, w.chatMessages(msgMax));
    await copy('derived_insights', Math.ceil(w.sessions.length / 4), w.derivedInsights());
    await copy('token_usage', nTokens, w.tokenUsage(nTokens));
    await copy('episode_schedule_queue', w.projects.length * (1 + scale.queuePerProject), w.queueItems(scale.queuePerProject));
    await copy('user_events', w.users.length * 10, w.userEvents(10));
    await copy('engagement_events', w.users.length * 20, w.engagementEvents(20));

    let ts = performance.now();
    const verified = await verifyTenantConsistency(c, deferred.tenant);
    log(`tenant consistency verified set-based for ${verified} foreign keys in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
    // Message counters and last_message_at of each session (what chat_messages_count maintains), before the
    // completion update below reads them.
    ts = performance.now();
    await c.query(`UPDATE app.chat_sessions s SET message_count_main = m.main, message_count_helper = m.helper,
        last_message_at = GREATEST(s.last_message_at, m.last, s.created_at)
      FROM (SELECT session_id, count(*) FILTER (WHERE chat_type = 'main')::int AS main,
              count(*) FILTER (WHERE chat_type = 'helper')::int AS helper, max(created_at) AS last
            FROM app.chat_messages WHERE deleted_at IS NULL GROUP BY 1) m
      WHERE s.id = m.session_id`);
    log(`session message counters set in ${((performance.now() - ts) / 1000).toFixed(1)} s`);

    // Sessions other than each user's first are mostly completed, after their last message (messages into a
    // completed session are refused by a trigger, so completion comes after the messages, as in real life).
    const done = w.sessions.filter((s) => !s.open);
    ts = performance.now();
    await c.query(
      `UPDATE app.chat_sessions s SET is_completed = true, completed_at = v.at
       FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at) WHERE s.id = v.id`,
      [done.map((s) => s.id), done.map((s) => iso(s.last + 300_000))],
    );
    log(`completed ${fmt(done.length)} chat sessions in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
    const late = await c.query<{ n: string }>(`SELECT count(*) AS n FROM app.chat_messages m JOIN app.chat_sessions s ON s.id = m.session_id
      WHERE m.created_at > LEAST(s.completed_at, s.deleted_at)`);
    if (Number(late.rows[0].n) > 0) throw new Error(`${late.rows[0].n} chat messages postdate the completion or deletion of their session`);

    // Counter caches: set to the true counts. Counters the triggers maintain already match (no-op rows are
    // skipped); pending per-episode deltas are folded in by setting the truth and clearing them.
    ts = performance.now();
    await c.query(`UPDATE app.episodes e SET highlight_count = h.n FROM (
      SELECT episode_id, count(*)::int AS n FROM app.highlights WHERE deleted_at IS NULL GROUP BY 1) h
      WHERE e.id = h.episode_id AND e.highlight_count <> h.n`);
    await c.query(`UPDATE app.episodes e SET chat_message_count = m.n FROM (
      SELECT s.episode_id, count(*)::int AS n FROM app.chat_messages m JOIN app.chat_sessions s ON s.id = m.session_id
      WHERE m.deleted_at IS NULL AND s.episode_id IS NOT NULL GROUP BY 1) m
      WHERE e.id = m.episode_id AND e.chat_message_count <> m.n`);
    if ((await c.query("SELECT to_regclass('app_private.episode_counter_deltas') IS NOT NULL AS e")).rows[0].e) {
      await c.query('TRUNCATE app_private.episode_counter_deltas');
    }
    log(`counter caches reconciled in ${((performance.now() - ts) / 1000).toFixed(1)} s`);

    ts = performance.now();
    await recreateIndexes(c, dropped);
    log(`rebuilt ${dropped.length} secondary indexes in ${((performance.now() - ts) / 1000).toFixed(1)} s`);

    // Fixtures: one row per user, the ids the benchmark and k6 sample (their own organization's rows only).
    const fr = new Rng(`${opts.seed}/fixtures`);
    const fixtures = w.users.map((u, n) => {
      const org = w.orgs[u.org];
      const withEpisodes = org.projects.filter((p) => w.projects[p].episodes.length > 0);
      const p = w.projects[fr.pick(withEpisodes)];
      const e = w.episodes[fr.pick(p.episodes)];
      const session = w.sessions.find((s) => s.user === n && s.open)!;
      return [n + 1, org.id, u.id, p.id, e.id, w.blockIds[e.blockStart], session.id, fr.pick(org.topics), fr.pick(['goals', 'context', 'challenges', 'market', 'technology', 'regulation', 'reflection']), fr.pick(['surface', 'moderate', 'deep'])];
    });
    for (const r of audited.rows) await c.query(`ALTER TABLE ${r.t} ENABLE TRIGGER audit`);
    for (const t of deferred.all) await c.query(`ALTER TABLE ${t.table} ENABLE TRIGGER ${t.trigger}`);
    await c.query(
      `INSERT INTO audit.audit_logs (actor_kind, action, metadata) VALUES ('system', 'seed.import', $1)`,
      [JSON.stringify({ seed: opts.seed, scale, tables: tables.map((t) => ({ table: t.table, rows: t.rows })) })],
    );
    await copyText(c, 'loadtest.fixtures', ['n', 'org_id', 'user_id', 'project_id', 'episode_id', 'block_id', 'session_id', 'topic', 'focus', 'depth'], fixtures.length, fixtures, 'loadtest.fixtures');
    // The benchmark sets org + user per transaction from these rows; app.current_org_id() may require the user
    // to be an active member of the organization (defense in depth), so every fixture pair must be one.
    const strangers = await c.query<{ n: string }>(`SELECT count(*) AS n FROM loadtest.fixtures f WHERE NOT EXISTS (
      SELECT 1 FROM app.memberships m WHERE m.organization_id = f.org_id AND m.user_id = f.user_id AND m.deleted_at IS NULL)`);
    if (Number(strangers.rows[0].n) > 0) throw new Error(`${strangers.rows[0].n} fixture users are not active members of their organization`);
    await c.query('COMMIT');
    const dataSeconds = (performance.now() - t0) / 1000;
    const rows = tables.reduce((a, t) => a + t.rows, 0);
    log(`relational data: ${fmt(rows)} rows in ${dataSeconds.toFixed(1)} s (${fmt(rows / dataSeconds)} rows/s)`);

    // Phase 2: embeddings (binary COPY without the HNSW index), then the HNSW build, timed apart.
    let embeddingRows = 0;
    let embeddingSeconds = 0;
    let hnswSeconds = 0;
    let hnswBuild: SeedReport['hnswBuild'] = null;
    let recall: RecallResult | null = null;
    const dim = w.space.dim;
    await c.query(`CREATE TABLE IF NOT EXISTS loadtest.query_vectors (topic integer PRIMARY KEY, embedding extensions.vector(${dim}) NOT NULL)`);
    const qr = new Rng(`${opts.seed}/queries`);
    const queryVectors = Array.from({ length: w.space.topics }, (_, t) => w.space.sample(qr, t));
    await copyBinary(c, 'loadtest.query_vectors', ['topic', 'embedding'], queryVectors.length,
      queryVectors.map((v, t) => [bin.int4(t), vectorBinary(v)]), 'loadtest.query_vectors');
    if (opts.embeddings && scale.embeddings > 0) {
      const te = performance.now();
      await c.query('BEGIN');
      const hnsw = await c.query<{ name: string; def: string }>(
        `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_am a ON a.oid = i.relam WHERE x.indrelid = 'app.rag_embeddings'::regclass AND a.amname = 'hnsw'`,
      );
      for (const h of hnsw.rows) await c.query(`DROP INDEX app.${h.name}`);
      const er = new Rng(`${opts.seed}/embeddings`);
      const model = 'text-embedding-ada-002';
      const rowsGen = function* () {
        for (const s of w.embeddingSources(scale.embeddings)) {
          yield [bin.uuid(er.uuid()), s.org ? bin.uuid(s.org) : null, bin.text(s.type), bin.uuid(s.source), bin.int4(s.chunk), null,
            vectorBinary(w.space.sample(er, s.topic)), bin.text(model), bin.int4(er.int(50, 800)), bin.timestamptz(s.created), bin.timestamptz(s.created),
            // In the graph the seeder builds next (the partial HNSW index, sql/1009), not waiting for the job.
            bin.bool(true)];
        }
      };
      const res = await copyBinary(c, 'app.rag_embeddings', [...COLUMNS.rag_embeddings], scale.embeddings, rowsGen(), 'rag_embeddings');
      embeddingRows = res.rows;
      await c.query('COMMIT');
      embeddingSeconds = (performance.now() - te) / 1000;
      const th = performance.now();
      hnswBuild = await buildIndexes(c, hnsw.rows.map((h) => h.def), opts.shmBytes === undefined ? localShmBytes(opts.adminUrl) : opts.shmBytes,
        (l) => log(`building the HNSW index over ${fmt(embeddingRows)} vectors (m = 16, ef_construction = 64): ${l}`));
      hnswSeconds = (performance.now() - th) / 1000;
      log(`HNSW index built in ${hnswSeconds.toFixed(1)} s`);
    }
    // VACUUM sets the visibility map of the embeddings, so the vector search's row count per organization is
    // an index-only scan from the start (autovacuum would do it later).
    if (embeddingRows > 0) {
      await c.query('VACUUM (ANALYZE) app.rag_embeddings');
      // The graph is freshly built over exactly these rows: the bench and the k6 runner need not rebuild it.
      await markVectorIndexFresh(c, 0);
    }
    await c.query('ANALYZE');

    if (opts.embeddings && embeddingRows > 0 && opts.recallQueries > 0) {
      const targets = loadTargets();
      const rr = new Rng(`${opts.seed}/recall`);
      const signer = new ContextSigner(keys);
      const qs = Array.from({ length: opts.recallQueries }, () => {
        const u = w.users[rr.int(0, w.users.length - 1)];
        const org = w.orgs[u.org];
        return { orgId: org.id, userId: u.id, token: signer.user(org.id, u.id, 3600).token, vector: w.space.sample(rr, rr.pick(org.topics)) };
      });
      // The tenant searches as the application role through the pooler when the seeder knows it (the product's
      // plan, under RLS); else as the owner, and the report says so.
      const app = opts.appUrl ? new pg.Client({ connectionString: opts.appUrl }) : null;
      await app?.connect();
      try {
        recall = await measureRecall(app ?? c, c, qs, 5, targets.vector.ef_search);
      } finally {
        await app?.end();
      }
      log(`recall@5 vs exact search (ef_search ${recall.efSearch}): tenant search ${recall.tenantRecall.toFixed(3)} over ${recall.queries} queries ` +
        `(${recall.tenantIndexScans} used HNSW; as ${recall.tenantRole}), unfiltered ${recall.globalRecall.toFixed(3)} over ${recall.globalQueries}`);
    }

    // Tenancy through the application role: a sample of users sees only their own organization's rows.
    let tenancyChecked = 0;
    if (opts.appUrl) tenancyChecked = await checkTenancy(opts.appUrl, w, keys);

    let dataFile: string | null = null;
    if (opts.dataFile) {
      dataFile = resolve(opts.dataFile);
      await writeDataFile(dataFile, w, queryVectors, fixtures, keys);
      log(`wrote ${dataFile}`);
    }
    const report: SeedReport = { scale, seed: opts.seed, tables, rows, dataSeconds, embeddingRows, embeddingSeconds, hnswSeconds, hnswBuild, recall, tenancyChecked, dataFile };
    await c.query('UPDATE loadtest.seed_runs SET finished_at = now(), report = $2 WHERE id = $1', [run.rows[0].id, JSON.stringify(report)]);
    return report;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await c.end();
  }
}

interface DeferredTrigger {
  table: string;
  trigger: string;
  fn: string;
  args: string[];
}

/**
 * Disables, for the import transaction, the tenant-consistency triggers (app_private.tg__tenant_parent) and
 * the counter triggers of messages and highlights on the seeded tables (partitions included).
 */
async function disableDeferrableTriggers(c: pg.Client): Promise<{ all: DeferredTrigger[]; tenant: DeferredTrigger[] }> {
  const r = await c.query<DeferredTrigger>(
    `SELECT format('%I.%I', n.nspname, k.relname) AS table, quote_ident(g.tgname) AS trigger, p.proname AS fn,
            (string_to_array(encode(g.tgargs, 'escape'), '\\000'))[1:g.tgnargs] AS args
     FROM pg_trigger g JOIN pg_class k ON k.oid = g.tgrelid JOIN pg_namespace n ON n.oid = k.relnamespace
     JOIN pg_proc p ON p.oid = g.tgfoid
     WHERE n.nspname = 'app' AND NOT g.tgisinternal AND g.tgenabled <> 'D'
       AND p.proname IN ('tg__tenant_parent', 'tg_chat_messages__count', 'tg_highlights__count', 'tg_chat_messages__session_open')
     ORDER BY k.relispartition, 1, 2`,
  );
  for (const t of r.rows) await c.query(`ALTER TABLE ${t.table} DISABLE TRIGGER ${t.trigger}`);
  // Partitions carry clones of their parent's triggers: verify the parent only.
  const parents = new Set((await c.query<{ t: string }>(
    `SELECT format('%I.%I', n.nspname, k.relname) AS t FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
     WHERE n.nspname = 'app' AND NOT k.relispartition`)).rows.map((x) => x.t));
  return { all: r.rows, tenant: r.rows.filter((t) => t.fn === 'tg__tenant_parent' && parents.has(t.table)) };
}

/**
 * The set-based form of tg__tenant_parent(fk, parent, with_user) (sql/0420): every row whose foreign key is set
 * has a parent in the same organization (and, with_user, the parent's user when the row names one). One join
 * per trigger; throws (rolling the import back) on the first violation.
 */
async function verifyTenantConsistency(c: pg.Client, triggers: DeferredTrigger[]): Promise<number> {
  for (const t of triggers) {
    const [fk, parent, withUser] = t.args;
    if (!fk || !parent) throw new Error(`unexpected arguments of ${t.trigger} on ${t.table}: ${JSON.stringify(t.args)}`);
    const col = pg.escapeIdentifier(fk);
    const userRule = withUser === 'true' ? ' OR (c.user_id IS NOT NULL AND c.user_id IS DISTINCT FROM p.user_id)' : '';
    const bad = await c.query<{ id: string; n: string }>(
      `SELECT min(c.id::text) AS id, count(*) AS n FROM ${t.table} c LEFT JOIN ${parent} p ON p.id = c.${col}
       WHERE c.${col} IS NOT NULL AND (p.id IS NULL OR c.organization_id IS DISTINCT FROM p.organization_id${userRule})`,
    );
    if (Number(bad.rows[0].n) > 0) {
      throw new Error(`tenant consistency: ${bad.rows[0].n} rows of ${t.table} whose ${fk} is not in their organization (${parent}), e.g. ${bad.rows[0].id}`);
    }
  }
  return triggers.length;
}

/**
 * The load-test encryption key: material from loadtestEncKeys() (env or the stack folder), registered and
 * activated if no key is active; supplied to this transaction in app.enc_keys.
 */
async function ensureEncryptionKey(c: pg.Client) {
  if (!(await c.query("SELECT to_regclass('app_private.encryption_keys') IS NOT NULL AS e")).rows[0].e) return;
  const keys = loadtestEncKeys();
  await c.query(SET_KEYS_SQL, [JSON.stringify(keys.material)]);
  const active = await c.query<{ key_id: string }>("SELECT key_id FROM app_private.encryption_keys WHERE status = 'active'");
  if (active.rowCount === 0) {
    await c.query('SELECT app_private.register_encryption_key($1)', [keys.activeKeyId]);
    await c.query('SELECT app_private.activate_encryption_key($1)', [keys.activeKeyId]);
  } else if (!(active.rows[0].key_id in keys.material)) {
    throw new Error(
      `the active encryption key is ${active.rows[0].key_id}, whose material the load tests do not have: set PGKIT_ENC_KEYS ` +
        `to a JSON object {"${active.rows[0].key_id}": "<base64 material>"} (or seed a fresh database)`,
    );
  }
}

/** Each of up to 20 users, through the app role under their own context, sees only their organization's projects. */
async function checkTenancy(appUrl: string, w: World, keys: SigningKeys): Promise<number> {
  const pool = new pg.Pool({ connectionString: appUrl, max: 2 });
  const signer = new ContextSigner(keys);
  try {
    const can = await pool.query("SELECT has_table_privilege('app.projects', 'SELECT') AS ok");
    if (!can.rows[0].ok) return 0; // the security bundle has not granted the app role anything yet
    let n = 0;
    const step = Math.max(1, Math.floor(w.users.length / 20));
    for (let u = 0; u < w.users.length; u += step) {
      const user = w.users[u];
      const org = w.orgs[user.org];
      const seen = await withContext(pool, signer.user(org.id, user.id), async (tx) =>
        (await tx.query<{ organization_id: string }>('SELECT DISTINCT organization_id FROM app.projects')).rows.map((r) => r.organization_id),
      );
      if (seen.length !== 1 || seen[0] !== org.id) {
        throw new Error(`tenancy check failed: user ${user.id} of organization ${org.id} sees projects of ${JSON.stringify(seen)}`);
      }
      n++;
    }
    return n;
  } finally {
    await pool.end();
  }
}

/** The k6 scenarios' data: users with their organization and a signed token, ids to sample, query vectors. */
async function writeDataFile(file: string, w: World, queryVectors: Float32Array[], fixtures: unknown[][], keys: SigningKeys) {
  const users = [];
  for (let u = 0; u < w.users.length; u++) {
    const user = w.users[u];
    const org = w.orgs[user.org];
    const f = fixtures[u];
    const token = await signToken(keys.user, { userId: user.id, orgId: org.id });
    const projects = org.projects.slice(0, 5).map((p) => w.projects[p].id);
    const episodes = org.projects.flatMap((p) => w.projects[p].episodes.slice(-3)).slice(0, 8).map((e) => w.episodes[e].id);
    users.push({ u: user.id, o: org.id, t: token, p: projects, e: episodes, ep: f[4], b: f[5], s: f[6], tp: org.topics, f: f[8] });
  }
  // A queue-scoped worker token: the worker login claims across organizations (sql/0930).
  const workerToken = await signWorkerToken(keys.worker);
  const data = {
    workerToken,
    meta: { generatedAt: new Date().toISOString(), seed: w.seed, scale: w.scale, dim: w.space.dim, embeddingSpace: w.space.opts },
    users,
    focuses: ['goals', 'context', 'challenges', 'market', 'technology', 'regulation', 'reflection'],
    queryVectors: queryVectors.map((v) => Array.from(v, (x) => Math.round(x * 1e5) / 1e5)),
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data));
}

async function ensureDatabase(adminUrl: string, create: boolean, log: (l: string) => void) {
  const u = new URL(adminUrl);
  const db = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (r.rowCount === 0) {
      if (!create) throw new Error(`database ${db} does not exist: run \`npm start\` (for the stack's own database) or pass --create`);
      log(`creating database ${db}`);
      await c.query(`CREATE DATABASE ${pg.escapeIdentifier(db)}`);
    }
  } finally {
    await c.end();
  }
  // The schema must be current: apply pending sql/ files (a no-op when up to date).
  await applyMigrations({ connectionString: adminUrl, log: (l: string) => log(`migrate: ${l}`) });
}

/** The newest live key of each purpose signs (secrets.json lists them newest first). */
type SigningKeys = { user: ContextSigningKey; worker: ContextSigningKey };
function signingKeys(keys: ContextSigningKey[]): SigningKeys {
  const user = keys.find((k) => k.purpose === 'user');
  const worker = keys.find((k) => k.purpose === 'worker');
  if (!user || !worker) throw new Error('the stack has no user or worker context key: run npm start (it creates them)');
  return { user, worker };
}

async function main() {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: 'dev' },
      database: { type: 'string' },
      create: { type: 'boolean', default: false },
      reset: { type: 'boolean', default: false },
      seed: { type: 'string', default: 'pgkit-loadtest-1' },
      embeddings: { type: 'string' },
      'no-embeddings': { type: 'boolean', default: false },
      'data-file': { type: 'string', default: defaultDataFile },
      'recall-queries': { type: 'string', default: '200' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run seed -- [--scale tiny|dev|full|<factor>] [--database NAME] [--create] [--reset]
       [--seed STR] [--embeddings N] [--no-embeddings] [--data-file PATH] [--recall-queries N]`);
    return;
  }
  const log = (l: string) => process.stderr.write(`[seed] ${l}\n`);
  const scale = resolveScale(values.scale!, values.embeddings !== undefined ? Number(values.embeddings) : undefined);
  const ep = endpoints(values.database);
  await ensureDatabase(ep.adminDirect, values.create!, log);
  const started = performance.now();
  const r = await seed({
    adminUrl: ep.loaderDirect,
    appUrl: ep.appPooled,
    scale,
    seed: values.seed!,
    reset: values.reset!,
    embeddings: !values['no-embeddings'],
    dataFile: values['data-file'] ?? null,
    recallQueries: Number(values['recall-queries']),
    log,
  });
  const total = (performance.now() - started) / 1000;
  const allRows = r.rows + r.embeddingRows;
  console.log(
    `seeded ${ep.database}: ${fmt(r.rows)} rows in ${r.dataSeconds.toFixed(1)} s (${fmt(r.rows / r.dataSeconds)} rows/s)` +
      (r.embeddingRows ? `; ${fmt(r.embeddingRows)} embeddings in ${r.embeddingSeconds.toFixed(1)} s + HNSW build ${r.hnswSeconds.toFixed(1)} s` : '') +
      (r.recall ? `; recall@5 ${r.recall.tenantRecall.toFixed(3)} (tenant) / ${r.recall.globalRecall.toFixed(3)} (unfiltered)` : '') +
      (r.tenancyChecked ? `; tenancy verified for ${r.tenancyChecked} users through the app role` : '') +
      `; total ${fmt(allRows)} rows in ${total.toFixed(1)} s (${fmt(allRows / total)} rows/s)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(`seed failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof AlreadySeededError ? 2 : 1);
  });
}

/** Takes every scheduled job's lock row for the rest of the transaction (see phase 1); nothing where the jobs are not installed. */
async function holdJobLocks(c: pg.PoolClient | pg.Client) {
  if (!(await c.query("SELECT to_regclass('ops.job_locks') IS NOT NULL AND to_regprocedure('ops.job_definitions()') IS NOT NULL AS e")).rows[0].e) return;
  // Job names: ops.job_begin's name is the pg_cron job's name without its "pgkit_" prefix.
  await c.query(`INSERT INTO ops.job_locks (job) SELECT substring(d.jobname from 7) FROM ops.job_definitions() d ON CONFLICT DO NOTHING`);
  await c.query('SELECT 1 FROM ops.job_locks FOR UPDATE');
}
