// Every query pattern the seeds name uses its index on seeded data: a few thousand rows per table are
// generated in SQL, ANALYZEd, and EXPLAIN (FORMAT JSON) must show a scan of the named index and no
// sequential scan of the table (or of the partition that holds the rows). No enable_seqscan tricks.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setContext } from '../support/context.js';
import { ensureKeys, generateKey } from '../../src/security/keyring.js';
import { USES_INDEX_SQL } from '../../loadtests/lib/vector.js';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
let client: pg.Client;
let monthStart: string; // start of the current month (UTC): all partitioned rows are seeded after it

const O1 = '00000000-0000-4000-8000-0000000000a1';
const id = (prefix: string, g: string) => `md5('${prefix}' || ${g})::uuid`;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(p: PlanNode): PlanNode[] {
  return [p, ...(p.Plans ?? []).flatMap(nodes)];
}

async function plan(sql: string, params: unknown[] = []): Promise<PlanNode[]> {
  const r = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  return nodes(r.rows[0]['QUERY PLAN'][0].Plan);
}

/** The plan scans `index` (for partitioned tables: the partition's copy, whose name ends the same way)
 * and no sequential scan of `table` or of a partition that holds rows. */
async function expectIndex(sql: string, table: string, index: string, params: unknown[] = []) {
  const all = await plan(sql, params);
  const summary = all.map((n) => `${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`);
  const suffix = index.slice(table.length); // e.g. _session_id_created_at_idx
  const used = all.filter((n) => /Index/.test(n['Node Type']) && n['Index Name'] !== undefined
    && (n['Index Name'] === index || (n['Index Name'].startsWith(`${table}_p`) && n['Index Name'].endsWith(suffix))));
  expect(used.length, summary.join(' | ')).toBeGreaterThan(0);
  const seq = all.filter((n) => n['Node Type'] === 'Seq Scan' && (n['Relation Name'] === table || n['Relation Name']?.startsWith(`${table}_`)))
    .map((n) => n['Relation Name'] as string);
  // A sequential scan is right for an empty partition (the future months, the DEFAULT one): only a
  // sequential scan of a relation that holds rows is a failure.
  const r = await client.query<{ relname: string }>(
    "SELECT relname FROM pg_class WHERE relname = ANY($1) AND relnamespace::regnamespace::text IN ('app', 'ops', 'audit') AND reltuples > 0", [seq]);
  expect(r.rows.map((x) => x.relname), summary.join(' | ')).toEqual([]);
}

beforeAll(async () => {
  db = await migratedDatabase();
  client = new pg.Client({ connectionString: db.superUrl });
  await client.connect();
  // chat_messages.content is encrypted on write (sql/0430): register a test key and hand it to this session.
  const keyring = { kplans: generateKey() };
  await ensureKeys(client, keyring);
  await client.query("SELECT set_config('app.enc_keys', $1, false)", [JSON.stringify(keyring)]);
  monthStart = (await client.query<{ m: string }>("SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::text AS m")).rows[0].m;
  // Rows of partitioned tables are spread between the month start and now, so they land in this month's partition.
  const inMonth = `('${monthStart}'::timestamptz + random() * (now() - '${monthStart}'::timestamptz))`;
  const seed = `
    INSERT INTO app.organizations (id, name, slug) VALUES ('${O1}', 'Acme', 'acme');
    INSERT INTO app.users (id, email) SELECT ${id('u', 'g')}, 'user' || g || '@example.com' FROM generate_series(1, 200) g;
    INSERT INTO app.memberships (organization_id, user_id) SELECT '${O1}', ${id('u', 'g')} FROM generate_series(1, 200) g;
    INSERT INTO app.projects (id, organization_id, name) SELECT ${id('p', 'g')}, '${O1}', 'Project ' || g FROM generate_series(1, 50) g;
    INSERT INTO app.episodes (id, organization_id, project_id, episode_number, title, status, published_at, created_at)
      SELECT ${id('e', 'g')}, '${O1}', ${id('p', '(g % 50 + 1)')}, g, 'Episode ' || g,
             (ARRAY['published', 'published', 'draft', 'ready', 'archived'])[g % 5 + 1]::app.episode_status,
             CASE WHEN g % 5 IN (0, 1, 4) THEN now() - (g || ' minutes')::interval END, now() - interval '1 year'
      FROM generate_series(1, 5000) g;
    INSERT INTO app.blocks (organization_id, episode_id, position, content, research_citations)
      SELECT '${O1}', ${id('e', '(g % 1000 + 1)')}, g / 1000, 'Block ' || g,
             jsonb_build_array(jsonb_build_object('url', 'https://source.example/' || (g % 700), 'title', 'Source ' || g))
      FROM generate_series(0, 4999) g;
    INSERT INTO app.highlights (organization_id, user_id, episode_id, quote, start_offset, end_offset, created_at)
      SELECT '${O1}', ${id('u', '(g % 200 + 1)')}, ${id('e', '(g % 100 + 1)')}, 'quote ' || g, 0, 10, now() - (g || ' minutes')::interval
      FROM generate_series(1, 5000) g;
    INSERT INTO app.scenarios (id, code, title) SELECT ${id('s', 'g')}, 'scenario_' || g, 'Scenario ' || g FROM generate_series(1, 10) g;
    INSERT INTO app.chat_sessions (id, organization_id, user_id, scenario_id, is_completed, completed_at, created_at)
      SELECT ${id('cs', 'g')}, '${O1}', ${id('u', '(g % 200 + 1)')}, ${id('s', '(g % 10 + 1)')}, g % 3 = 0,
             CASE WHEN g % 3 = 0 THEN now() - (g || ' minutes')::interval END, now() - interval '1 year'
      FROM generate_series(1, 5000) g;
    INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content, created_at)
      SELECT '${O1}', ${id('cs', '(g % 100 + 1)')}, ${id('u', '((g % 100 + 1) % 200 + 1)')}, 'user', 'main', 'message ' || g,
             -- History, an hour or more old: sql/0630's rate limit (per session, 500 ms apart, 20 a minute,
             -- measured against now()) is for live writes and would refuse a burst of messages dated now.
             now() - interval '1 hour' - (g || ' seconds')::interval
      FROM generate_series(1, 5000) g
      WHERE (g % 100 + 1) % 3 <> 0;
    INSERT INTO ops.logs (level, event_type, message, session_id, metadata, created_at)
      SELECT 'info', 'api_call_completed', 'call ' || g, CASE WHEN g % 3 <> 0 THEN ${id('cs', '(g % 1000 + 1)')} END,
             jsonb_build_object('code', 'E' || (g % 500), 'latency_ms', g % 900), ${inMonth}
      FROM generate_series(1, 5000) g;
    INSERT INTO app.token_usage (organization_id, project_id, operation, model_used, input_tokens, output_tokens, cost_gbp, created_at)
      SELECT '${O1}', ${id('p', '(g % 50 + 1)')}, 'episode_generation', 'claude-3.5', 1000, 500, 0.001, ${inMonth}
      FROM generate_series(1, 5000) g;
    INSERT INTO app.engagement_events (organization_id, user_id, episode_id, event_type, event_value, created_at)
      SELECT '${O1}', ${id('u', '(g % 200 + 1)')}, ${id('e', '(g % 100 + 1)')},
             (ARRAY['episode_opened', 'scroll_depth', 'time_on_block', 'episode_completed', 'block_shared'])[g % 5 + 1],
             CASE WHEN g % 5 = 1 THEN jsonb_build_object('depth', g % 100) ELSE jsonb_build_object('duration', g % 60) END, ${inMonth}
      FROM generate_series(1, 5000) g;
    INSERT INTO app.episode_schedule_queue (organization_id, project_id, status, scheduled_for, picked_up_at, completed_at, created_at)
      SELECT '${O1}', ${id('p', '(g % 50 + 1)')},
             CASE WHEN g <= 50 THEN 'pending' ELSE 'completed' END::app.queue_status,
             now() - (g || ' hours')::interval,
             CASE WHEN g > 50 THEN now() - (g || ' hours')::interval END,
             CASE WHEN g > 50 THEN now() - (g || ' hours')::interval + interval '1 minute' END,
             now() - interval '1 year'
      FROM generate_series(1, 5000) g;
    INSERT INTO app.question_templates (code, focus, depth, template, enabled)
      SELECT 'template_' || g, (enum_range(NULL::app.interview_focus))[g % 7 + 1], (enum_range(NULL::app.interview_depth))[g % 3 + 1],
             'Question ' || g || ' about {topic}?', g % 10 <> 0
      FROM generate_series(1, 5000) g;
    -- 1,000 rows in the HNSW graph and 20 still waiting for the job (sql/1009).
    INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, embedding, token_count, in_vector_index)
      SELECT '${O1}', 'chat_session', ${id('cs', 'g')},
             (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 1536) d WHERE g > 0)::extensions.vector(1536), 100, g <= 1000
      FROM generate_series(1, 1020) g;
    ANALYZE;`;
  await client.query(seed);
}, 300_000);

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const P1 = '(md5(\'p1\')::uuid)';
const U1 = '(md5(\'u1\')::uuid)';
const E1 = '(md5(\'e1\')::uuid)';
const S1 = '(md5(\'s1\')::uuid)';
const CS1 = '(md5(\'cs1\')::uuid)';

describe('EXPLAIN: each named query pattern uses its index on seeded data', () => {
  it('the seed is in place (and partitioned rows are in this month\'s partitions)', async () => {
    const r = await client.query(`SELECT (SELECT count(*) FROM app.episodes)::int AS episodes, (SELECT count(*) FROM ops.logs_default)::int AS logs_default,
      (SELECT count(*) FROM ops.logs)::int AS logs, (SELECT count(*) FROM app.rag_embeddings)::int AS embeddings`);
    // Nothing but the seeded lines: 5 GBP of token usage stays under the daily cost limit even when every row
    // lands on the same day (on the 1st of a month the whole month so far is today).
    const extra = await client.query("SELECT level, event_type, message FROM ops.logs WHERE event_type <> 'api_call_completed'");
    expect(extra.rows).toEqual([]);
    expect(r.rows[0]).toEqual({ episodes: 5000, logs_default: 0, logs: 5000, embeddings: 1020 });
  });

  it('episodes of a project by status, newest published first (seed 000 P4)', async () => {
    await expectIndex(`SELECT id, title, published_at FROM app.episodes WHERE project_id = ${P1} AND status = 'published'
      ORDER BY published_at DESC LIMIT 20`, 'episodes', 'episodes_project_id_status_published_at_idx');
  });

  it('highlights of a user in an episode, newest first (seed 000 P4)', async () => {
    await expectIndex(`SELECT id, quote FROM app.highlights WHERE user_id = ${U1} AND episode_id = ${E1} ORDER BY created_at DESC LIMIT 20`,
      'highlights', 'highlights_user_id_episode_id_created_at_idx');
  });

  it('blocks of an episode in position order (seed 000 P4)', async () => {
    await expectIndex(`SELECT id, content FROM app.blocks WHERE episode_id = ${E1} ORDER BY position`, 'blocks', 'blocks_episode_id_position_key');
  });

  it('blocks citing a source: GIN on research_citations (seed 000 P4)', async () => {
    await expectIndex(`SELECT id FROM app.blocks WHERE research_citations @> '[{"url": "https://source.example/42"}]'`,
      'blocks', 'blocks_research_citations_idx');
  });

  it('chat messages keyset pagination on (session_id, created_at, id) (seed 004 #21)', async () => {
    await expectIndex(`SELECT id, content FROM app.chat_messages WHERE session_id = ${CS1}
      AND (created_at, id) > (now() - interval '30 seconds', '00000000-0000-0000-0000-000000000000'::uuid)
      ORDER BY created_at, id LIMIT 20`, 'chat_messages', 'chat_messages_session_id_created_at_id_idx');
  });

  it('a user\'s completed history of a scenario: partial index (seed 004 #20)', async () => {
    await expectIndex(`SELECT id, completed_at FROM app.chat_sessions WHERE user_id = ${U1} AND scenario_id = ${S1} AND is_completed
      ORDER BY completed_at DESC LIMIT 10`, 'chat_sessions', 'chat_sessions_user_id_scenario_id_completed_at_idx');
  });

  it('a user\'s sessions by scenario and state (seed 004 #20)', async () => {
    await expectIndex(`SELECT id FROM app.chat_sessions WHERE user_id = ${U1} AND scenario_id = ${S1} AND NOT is_completed`,
      'chat_sessions', 'chat_sessions_user_id_scenario_id_is_completed_idx');
  });

  it('sessions by scenario: how many completed scenario X (seed 004 #41)', async () => {
    await expectIndex(`SELECT count(*) FROM app.chat_sessions WHERE scenario_id = ${S1} AND is_completed`,
      'chat_sessions', 'chat_sessions_scenario_id_is_completed_idx');
  });

  it('logs of a session, newest first: partial index on the partitions (seed 004 #19)', async () => {
    await expectIndex(`SELECT id, message FROM ops.logs WHERE session_id = ${CS1} ORDER BY created_at DESC LIMIT 50`,
      'logs', 'logs_session_id_created_at_idx');
  });

  it('logs by metadata: GIN on the partitions (seed 004 #23)', async () => {
    await expectIndex(`SELECT id FROM ops.logs WHERE metadata @> '{"code": "E42"}'`, 'logs', 'logs_metadata_idx');
  });

  it('token usage of a project over a period (seed 000 P2)', async () => {
    await expectIndex(`SELECT sum(cost_gbp) FROM app.token_usage WHERE project_id = ${P1} AND created_at >= now() - interval '30 days'`,
      'token_usage', 'token_usage_project_id_created_at_idx');
  });

  it('engagement events of a user on an episode (seed 000 P3)', async () => {
    await expectIndex(`SELECT event_type, event_value FROM app.engagement_events WHERE user_id = ${U1} AND episode_id = ${E1}`,
      'engagement_events', 'engagement_events_user_id_episode_id_idx');
  });

  it('engagement events of a type in a time window (seed 000 P3)', async () => {
    await expectIndex(`SELECT count(*) FROM app.engagement_events WHERE event_type = 'scroll_depth' AND created_at >= now() - interval '10 minutes'`,
      'engagement_events', 'engagement_events_event_type_created_at_idx');
  });

  it('due queue items: partial index on scheduled_for where pending (seed 001 queue processing)', async () => {
    await expectIndex(`SELECT id FROM app.episode_schedule_queue WHERE status = 'pending' AND scheduled_for <= now()
      ORDER BY scheduled_for LIMIT 5 FOR UPDATE SKIP LOCKED`, 'episode_schedule_queue', 'episode_schedule_queue_scheduled_for_idx');
  });

  it('enabled templates by focus and depth (seed 002 template lookup)', async () => {
    await expectIndex(`SELECT id, template FROM app.question_templates WHERE focus = 'goals' AND depth = 'deep' AND enabled AND deleted_at IS NULL`,
      'question_templates', 'question_templates_focus_depth_idx');
  });

  it('vector similarity top-5 uses the HNSW cosine index (seed 002 #1)', async () => {
    const q = (await client.query(`SELECT embedding::text AS v FROM app.rag_embeddings LIMIT 1`)).rows[0].v;
    await expectIndex(`SELECT id, source_id FROM app.rag_embeddings WHERE in_vector_index ORDER BY (embedding::extensions.halfvec(1536)) OPERATOR(extensions.<=>) $1::extensions.vector(1536)::extensions.halfvec(1536) LIMIT 5`,
      'rag_embeddings', 'rag_embeddings_indexed_embedding_halfvec_idx', [q]);
    const idx = await client.query(`SELECT pg_get_indexdef('app.rag_embeddings_indexed_embedding_halfvec_idx'::regclass) AS d`);
    // Half-precision keys (sql/0830), the seed's graph parameters, only the rows the job has put in (sql/1009).
    expect(idx.rows[0].d).toMatch(/USING hnsw \(\(\(embedding\)::(extensions\.)?halfvec\(1536\)\) (extensions\.)?halfvec_cosine_ops\) WITH \(m='?16'?, ef_construction='?64'?\) WHERE in_vector_index$/);
    // The full-precision index and the full half-precision one are gone: one graph, maintained by the job.
    expect((await client.query("SELECT to_regclass('app.rag_embeddings_embedding_idx') AS a, to_regclass('app.rag_embeddings_embedding_halfvec_idx') AS b")).rows[0]).toEqual({ a: null, b: null });
  });

  it("an organization's rows waiting for the HNSW graph, and the job's oldest first, are read from their partial indexes (sql/1009)", async () => {
    // Another organization than the seeded one, whose waiting rows are all there are here: a typical organization
    // holds a small share of them.
    await expectIndex(`SELECT id FROM app.rag_embeddings WHERE organization_id = md5('another org')::uuid AND NOT in_vector_index`,
      'rag_embeddings', 'rag_embeddings_pending_organization_id_idx');
    await expectIndex(`SELECT id FROM app.rag_embeddings WHERE NOT in_vector_index AND created_at > '-infinity' ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED`,
      'rag_embeddings', 'rag_embeddings_pending_created_at_idx');
    // And the search's scan (the seeded organization: every waiting row is its own) cannot take the age index,
    // which would read every organization's waiting rows.
    const all = await plan(`SELECT id FROM app.rag_embeddings WHERE organization_id = '${O1}' AND NOT in_vector_index`);
    expect(all.map((n) => n['Index Name']).filter(Boolean)).not.toContain('rag_embeddings_pending_created_at_idx');
  });

  it('embeddings of a session by (source_type, source_id) (seed 002 session embedding lookup)', async () => {
    await expectIndex(`SELECT id, chunk_index FROM app.rag_embeddings WHERE source_type = 'chat_session' AND source_id = ${CS1}`,
      'rag_embeddings', 'rag_embeddings_source_id_idx');
  });

  // As the application role, under RLS: the query's own enum predicate (source_type = ...) is not leakproof,
  // so it cannot reach an index before the policy runs; the leakproof uuid equality on source_id can (sql/0810).
  // Without rag_embeddings_source_id_idx the plan is a bitmap scan over all of the organization's embeddings.
  it('as the application role, the session embedding lookup is one probe of rag_embeddings_source_id_idx (sql/0810)', async () => {
    await client.query('BEGIN');
    try {
      await setContext(client, O1, (await client.query<{ u: string }>(`SELECT ${id('u', '1')}::text AS u`)).rows[0].u);
      await client.query('SET LOCAL ROLE pgkit_app');
      expect((await client.query<{ o: string }>('SELECT app.current_org_id()::text AS o')).rows[0].o).toBe(O1);
      await expectIndex(`SELECT id, chunk_index FROM app.rag_embeddings WHERE source_type = 'chat_session' AND source_id = ${CS1}`,
        'rag_embeddings', 'rag_embeddings_source_id_idx');
      const all = await plan(`SELECT id FROM app.rag_embeddings WHERE source_type = 'chat_session' AND source_id = ${CS1}`);
      expect(all.map((n) => n['Index Name']).filter(Boolean)).not.toContain('rag_embeddings_organization_id_source_type_source_id_idx');
    } finally {
      await client.query('ROLLBACK');
    }
  });

  // The vector search counts an organization's rows (up to 1,001) to pick exact or HNSW search; under RLS the
  // count can be answered from rag_embeddings_organization_id_source_type_source_id_idx alone (an index-only scan),
  // because that index holds every column the select policy reads (sql/0810).
  it('as the application role, the vector search scope count is an index-only scan (sql/0810)', async () => {
    await client.query('VACUUM app.rag_embeddings');
    await client.query('BEGIN');
    try {
      await setContext(client, O1, (await client.query<{ u: string }>(`SELECT ${id('u', '1')}::text AS u`)).rows[0].u);
      await client.query('SET LOCAL ROLE pgkit_app');
      const all = await plan(USES_INDEX_SQL, [O1]);
      const scans = all.filter((n) => n['Relation Name'] === 'rag_embeddings').map((n) => `${n['Node Type']} ${n['Index Name'] ?? ''}`);
      expect(scans).toEqual(['Index Only Scan rag_embeddings_organization_id_source_type_source_id_idx']);
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
