// The break-in suite: two organizations with a row in every tenant table, then the application role, as
// organization A, tries every way we know to read or change organization B's rows (by id, by join, COPY TO,
// views, functions, direct partition access, TRUNCATE, missing/malformed/spoofed context, a context naming an
// organization the user is not a member of, a hijacked search_path). Every attempt is counted; a leak is a row of B that came back or changed. The superuser
// first proves each probe WOULD see B's rows, so "0 leaked" means something.
// Used by test/security/isolation.test.ts and scripts/security-report.ts.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { AUTHENTICATE_SQL } from '../db/context.js';
import type { ContextSigner } from '../db/context-token.js';
import { ensureKeys, generateKey, setKeys, type Keyring } from './keyring.js';

export interface SuiteUrls {
  /** Superuser on the target database (seeding, baselines, checksums). */
  adminUrl: string;
  /** The application login role through PgBouncer (transaction pooling). */
  appPooledUrl: string;
  /** Signs A's own context (the attacker holds A's token, as a request of A's user would). */
  signer: ContextSigner;
}

/**
 * What a buggy client can leave on a pooled server connection: the context `token` verified in one transaction
 * (app.authenticate_context), then copied to session level (set_config(..., false)), MAC included, so the settings
 * outlive the transaction that verified them. Runs its own transaction on `client`.
 */
export async function leaveVerifiedContextBehind(client: pg.ClientBase, token: string): Promise<void> {
  await client.query('BEGIN');
  await client.query(AUTHENTICATE_SQL, [token]);
  const v = (await client.query("SELECT current_setting('app.org_id') o, current_setting('app.user_id') u, current_setting('app.ctx_role') r, current_setting('app.ctx_scope') s, current_setting('app.ctx_mac') m")).rows[0];
  await client.query('COMMIT');
  await client.query(
    "SELECT set_config('app.org_id', $1, false), set_config('app.user_id', $2, false), set_config('app.ctx_role', $3, false), set_config('app.ctx_scope', $4, false), set_config('app.ctx_mac', $5, false)",
    [v.o, v.u, v.r, v.s, v.m]);
}

/** Sets the context settings by hand, with a made-up MAC: what an injected statement can do without a token. */
const SPOOF_SQL = "SELECT set_config('app.org_id', $1, true), set_config('app.user_id', $2, true), set_config('app.ctx_role', 'user', true), set_config('app.ctx_scope', '', true), set_config('app.ctx_mac', md5($1 || $2), true)";

export interface Attempt {
  table: string;
  kind: string;
  /** Rows of organization B returned or changed. */
  leaked: number;
  /** How it was stopped: 'filtered' (0 rows), or an SQLSTATE. */
  outcome: string;
}

export interface SuiteResult {
  tablesWithRls: number;
  tablesTotal: number;
  tenantTablesWithForcedRls: number;
  tenantTablesTotal: number;
  policies: number;
  attempts: Attempt[];
  leaked: number;
  bChecksumBefore: string;
  bChecksumAfter: string;
  gaps: string[];
  /** Tenant tables the seed leaves empty for organization B (RLS-checked only). */
  unprobed: string[];
}

export const ORG_A = '0a000000-0000-4000-8000-00000000000a';
export const ORG_B = '0b000000-0000-4000-8000-00000000000b';
export const USER_A = '0a000000-0000-4000-8000-0000000000a1';
export const USER_B = '0b000000-0000-4000-8000-0000000000b1';

const vec = (seed: number) => `[${Array.from({ length: 1536 }, (_, i) => (((i * 7 + seed * 13) % 17) / 17 - 0.5).toFixed(3)).join(',')}]`;

/** Tables with tenant or user data (an organization_id or user_id column), parents only. */
export const TENANT_TABLES_SQL = `
  SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS relkind, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
         EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'id' AND NOT a.attisdropped) AS has_id,
         EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped) AS has_org,
         c.relispartition AS is_partition
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname IN ('app', 'audit', 'ops') AND c.relkind IN ('r', 'p')
    AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('organization_id', 'user_id') AND NOT a.attisdropped)
         OR (n.nspname, c.relname) IN (('app', 'users'), ('app', 'organizations')))
  ORDER BY 1`;

interface TenantTable { name: string; relkind: string; rls: boolean; forced: boolean; has_id: boolean; has_org: boolean; is_partition: boolean }

/** Seeds organizations A and B with one row in every tenant table (as superuser). */
export async function seedTwoTenants(admin: pg.ClientBase, keyring: Keyring): Promise<void> {
  await ensureKeys(admin, keyring);
  await admin.query('BEGIN');
  await setKeys(admin, keyring);
  const q = (sql: string, params: unknown[] = []) => admin.query(sql, params);
  await q(`INSERT INTO app.scenarios (id, code, title, system_prompt, is_published) VALUES ($1, 'sec_public', 'Security public', 'SECRET PROMPT', true) ON CONFLICT DO NOTHING`, [randomUUID()]);
  const tpl = randomUUID();
  await q(`INSERT INTO app.question_templates (id, code, focus, depth, template) VALUES ($1, 'sec_tpl', 'goals', 'surface', 'What are your goals?')`, [tpl]);
  await q(`INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, embedding) VALUES (NULL, 'question_template', $1, $2)`, [tpl, vec(9)]);
  for (const [org, user, tag] of [[ORG_A, USER_A, 'a'], [ORG_B, USER_B, 'b']] as const) {
    const project = randomUUID(), episode = randomUUID(), block = randomUUID(), session = randomUUID(), memory = randomUUID();
    await q(`INSERT INTO app.organizations (id, name, slug) VALUES ($1, $2, $3)`, [org, `Org ${tag}`, `sec-org-${tag}`]);
    await q(`INSERT INTO app.users (id, email, display_name) VALUES ($1, $2, $3)`, [user, `sec-${tag}@example.com`, `User ${tag}`]);
    await q(`INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'owner')`, [org, user]);
    await q(`INSERT INTO app.projects (id, organization_id, name) VALUES ($1, $2, $3)`, [project, org, `Project ${tag}`]);
    await q(`INSERT INTO app.episodes (id, organization_id, project_id, episode_number, title) VALUES ($1, $2, $3, 1, $4)`, [episode, org, project, `Episode ${tag}`]);
    await q(`INSERT INTO app.blocks (id, organization_id, episode_id, position, content) VALUES ($1, $2, $3, 0, $4)`, [block, org, episode, `# Block ${tag}`]);
    await q(`INSERT INTO app.highlights (organization_id, user_id, episode_id, block_id, quote, start_offset, end_offset) VALUES ($1, $2, $3, $4, 'quote', 0, 5)`, [org, user, episode, block]);
    await q(`INSERT INTO app.planning_notes (organization_id, project_id, user_id, note) VALUES ($1, $2, $3, $4)`, [org, project, user, `secret plan of ${tag}`]);
    await q(`INSERT INTO app.agent_memory (id, organization_id, project_id, content) VALUES ($1, $2, $3, $4)`, [memory, org, project, `memory ${tag}`]);
    await q(`INSERT INTO app.chat_sessions (id, organization_id, user_id, project_id, episode_id) VALUES ($1, $2, $3, $4, $5)`, [session, org, user, project, episode]);
    await q(`INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content) VALUES ($1, $2, $3, 'user', 'main', $4)`, [org, session, user, `secret message of ${tag}`]);
    await q(`INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for) VALUES ($1, $2, now() + interval '1 day')`, [org, project]);
    await q(`INSERT INTO app.token_usage (organization_id, project_id, user_id, operation, model_used, input_tokens, output_tokens, cost_gbp) VALUES ($1, $2, $3, 'chat', 'm', 10, 20, 0.01)`, [org, project, user]);
    await q(`INSERT INTO app.token_usage_daily (organization_id, usage_date) VALUES ($1, DATE '2030-01-01') ON CONFLICT DO NOTHING`, [org]);
    await q(`INSERT INTO app.derived_insights (organization_id, project_id, session_id, insight_type, insight_value) VALUES ($1, $2, $3, 'preference', '{"k": 1}')`, [org, project, session]);
    await q(`INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, embedding) VALUES ($1, 'chat_session', $2, $3)`, [org, session, vec(tag === 'a' ? 1 : 2)]);
    await q(`INSERT INTO app.user_events (organization_id, user_id, event_type) VALUES ($1, $2, 'onboarding.complete')`, [org, user]);
    await q(`INSERT INTO app.engagement_events (organization_id, user_id, episode_id, block_id, event_type) VALUES ($1, $2, $3, $4, 'episode_opened')`, [org, user, episode, block]);
    await q(`INSERT INTO ops.logs (event_type, message, organization_id, user_id, session_id) VALUES ('session_started', 'started', $1, $2, $3)`, [org, user, session]);
  }
  await admin.query('COMMIT');
}

/** One project, episode, block and chat session of `org` (the seed's), as the superuser sees them. */
export async function tenantParents(admin: pg.ClientBase, org: string): Promise<{ project: string; episode: string; block: string; session: string }> {
  return (await admin.query(`
    SELECT (SELECT id FROM app.projects WHERE organization_id = $1 LIMIT 1) AS project,
           (SELECT id FROM app.episodes WHERE organization_id = $1 LIMIT 1) AS episode,
           (SELECT id FROM app.blocks WHERE organization_id = $1 LIMIT 1) AS block,
           (SELECT id FROM app.chat_sessions WHERE organization_id = $1 LIMIT 1) AS session`, [org])).rows[0];
}

/** A checksum of every row of organization B in every tenant table (superuser view). */
export async function orgChecksum(admin: pg.ClientBase, org: string, tables: TenantTable[]): Promise<string> {
  const parts: string[] = [];
  for (const t of tables.filter((x) => !x.is_partition)) {
    const where = t.has_org ? 'organization_id = $1::uuid' : t.name === 'app.organizations' ? 'id = $1::uuid' : t.name === 'app.users' ? 'id = $2::uuid' : 'user_id = $2::uuid';
    const r = await admin.query<{ h: string }>(
      `SELECT coalesce(md5(string_agg(to_jsonb(x)::text, '|' ORDER BY to_jsonb(x)::text)), '-') AS h FROM ${t.name} x WHERE ${where} AND $1::text IS NOT NULL AND $2::text IS NOT NULL`,
      [org, USER_B]);
    parts.push(`${t.name}:${r.rows[0].h}`);
  }
  return parts.join(';');
}

function sqlstate(e: unknown): string {
  return (e as { code?: string }).code ?? 'error';
}

export async function runBreakInSuite(urls: SuiteUrls, opts: { log?: (l: string) => void } = {}): Promise<SuiteResult> {
  const log = opts.log ?? (() => {});
  const keyring: Keyring = { ksuite1: generateKey() };
  const admin = new pg.Client({ connectionString: urls.adminUrl });
  await admin.connect();
  const app = new pg.Pool({ connectionString: urls.appPooledUrl, max: 4 });
  const attempts: Attempt[] = [];
  const gaps: string[] = [];
  const unprobed: string[] = [];
  try {
    const existing = await admin.query('SELECT 1 FROM app.organizations WHERE id = $1', [ORG_B]);
    if (!existing.rowCount) await seedTwoTenants(admin, keyring);
    else await ensureKeys(admin, keyring).catch(() => undefined);

    const tables = (await admin.query<TenantTable>(TENANT_TABLES_SQL)).rows;
    const parents = tables.filter((t) => !t.is_partition);
    for (const t of tables) if (!(t.rls && t.forced)) gaps.push(t.name);
    const all = await admin.query<{ n: string; rls: string }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE relrowsecurity AND relforcerowsecurity) AS rls
       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
       WHERE s.nspname IN ('app', 'app_private', 'audit', 'ops') AND c.relkind IN ('r', 'p')`);
    const policies = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace s ON s.oid = c.relnamespace
       WHERE s.nspname IN ('app', 'app_private', 'audit', 'ops')`);

    const bChecksumBefore = await orgChecksum(admin, ORG_B, tables);

    // B's rows per table, as the superuser sees them: the baseline every probe is compared with.
    const bWhere = (t: TenantTable) =>
      t.has_org ? `organization_id = '${ORG_B}'` : t.name === 'app.organizations' ? `id = '${ORG_B}'` : t.name === 'app.users' ? `id = '${USER_B}'` : `user_id = '${USER_B}'`;
    const keyCol = (t: TenantTable) => (t.has_org ? 'organization_id' : t.name === 'app.organizations' || t.name === 'app.users' ? 'id' : 'user_id');
    const isOrgKey = (t: TenantTable) => t.has_org || t.name === 'app.organizations';
    const bIds = new Map<string, string[]>();
    for (const t of parents) {
      const r = await admin.query<{ id: string | null }>(`SELECT ${t.has_id ? 'id::text' : 'NULL::text'} AS id FROM ${t.name} WHERE ${bWhere(t)}`);
      if (r.rowCount === 0) {
        unprobed.push(t.name); // a table the seed does not fill (added by a later file): RLS-checked, not probed
        continue;
      }
      bIds.set(t.name, r.rows.map((x) => x.id).filter((x): x is string => x !== null));
    }

    const asApp = async <T>(ctx: { org?: string | null; user?: string | null; raw?: [string, string] } | null, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
      const c = await app.connect();
      try {
        await c.query('BEGIN');
        if (ctx?.raw) await c.query(SPOOF_SQL, ctx.raw);
        else if (ctx?.org && ctx.user) await c.query(AUTHENTICATE_SQL, [urls.signer.user(ctx.org, ctx.user).token]);
        else if (ctx) await c.query(SPOOF_SQL, [ctx.org ?? '', ctx.user ?? '']);
        await setKeys(c, keyring);
        const r = await fn(c);
        await c.query('COMMIT');
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        c.release();
      }
    };
    const A = { org: ORG_A, user: USER_A };
    const probe = async (table: string, kind: string, ctx: Parameters<typeof asApp>[0], fn: (c: pg.PoolClient) => Promise<number>) => {
      let leaked = 0;
      let outcome = 'filtered';
      try {
        leaked = await asApp(ctx, fn);
        if (leaked > 0) outcome = 'LEAKED';
      } catch (e) {
        outcome = sqlstate(e);
        if (!['42501', '23503', '42P01', '42883', '22023', '0A000', '3F000', '42704'].includes(outcome)) outcome = `unexpected ${outcome}: ${(e as Error).message}`;
      }
      attempts.push({ table, kind, leaked, outcome });
      if (leaked > 0 || outcome.startsWith('unexpected')) log(`!! ${table} ${kind}: ${outcome}`);
    };
    const countTenant = (rows: Array<Record<string, unknown>>) =>
      rows.filter((r) => [ORG_A, ORG_B, USER_A, USER_B].some((k) => JSON.stringify(r).includes(k))).length;
    const countB = (rows: Array<Record<string, unknown>>) => rows.filter((r) => JSON.stringify(r).includes(ORG_B) || JSON.stringify(r).includes(USER_B)).length;

    const probed = parents.filter((t) => bIds.has(t.name));
    if (probed.length < 18) throw new Error(`suite invalid: only ${probed.length} tenant tables hold a row of organization B (unprobed: ${unprobed.join(", ")})`);
    for (const t of probed) {
      const ids = bIds.get(t.name) ?? [];
      const w = bWhere(t);
      await probe(t.name, 'select all', A, async (c) => countB((await c.query(`SELECT * FROM ${t.name}`)).rows));
      await probe(t.name, 'select filtered to B', A, async (c) => (await c.query(`SELECT * FROM ${t.name} WHERE ${w}`)).rowCount ?? 0);
      if (ids.length) await probe(t.name, 'select by id', A, async (c) => (await c.query(`SELECT * FROM ${t.name} WHERE id = ANY($1::uuid[])`, [ids])).rowCount ?? 0);
      await probe(t.name, 'join', A, async (c) =>
        (await c.query(`SELECT x.* FROM ${t.name} x JOIN (VALUES ('${ORG_B}'::uuid, '${USER_B}'::uuid)) v(o, u) ON x.${keyCol(t)} = ${isOrgKey(t) ? 'v.o' : 'v.u'}`)).rowCount ?? 0);
      await probe(t.name, 'copy to', A, async (c) => {
        const out = await new Promise<string>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const s = c.query(copyTo(`COPY (SELECT * FROM ${t.name}) TO STDOUT`));
          s.on('data', (d: Buffer) => chunks.push(d));
          s.on('end', () => resolve(Buffer.concat(chunks).toString()));
          s.on('error', reject);
        });
        return out.split('\n').filter((l) => l.includes(ORG_B) || l.includes(USER_B)).length;
      });
      if (t.relkind === 'r') {
        await probe(t.name, 'copy table to', A, async (c) => {
          const out = await new Promise<string>((resolve, reject) => {
            const chunks: Buffer[] = [];
            const s = c.query(copyTo(`COPY ${t.name} TO STDOUT`));
            s.on('data', (d: Buffer) => chunks.push(d));
            s.on('end', () => resolve(Buffer.concat(chunks).toString()));
            s.on('error', reject);
          });
          return out.split('\n').filter((l) => l.includes(ORG_B) || l.includes(USER_B)).length;
        });
      }
      // UPDATE through a column the app may update, if any (else a column it may not: refused).
      const upd = await admin.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.column_privileges WHERE grantee = 'pgkit_app' AND privilege_type = 'UPDATE'
           AND table_schema || '.' || table_name = $1 ORDER BY column_name LIMIT 1`, [t.name]);
      const col = upd.rows[0]?.column_name ?? keyCol(t);
      await probe(t.name, `update ${col}`, A, async (c) => (await c.query(`UPDATE ${t.name} SET ${col} = ${col} WHERE ${w}`)).rowCount ?? 0);
      await probe(t.name, 'move to org A', A, async (c) =>
        (await c.query(`UPDATE ${t.name} SET ${keyCol(t)} = $1 WHERE ${w}`, [isOrgKey(t) ? ORG_A : USER_A])).rowCount ?? 0);
      await probe(t.name, 'delete', A, async (c) => (await c.query(`DELETE FROM ${t.name} WHERE ${w}`)).rowCount ?? 0);
      await probe(t.name, 'truncate', A, async (c) => {
        await c.query(`TRUNCATE ${t.name} CASCADE`);
        return 1;
      });
      // INSERT a copy of B's row (new id): refused by privilege, policy or tenant trigger.
      await probe(t.name, 'insert as B', A, async (c) => {
        const row = (await admin.query(`SELECT to_jsonb(x) AS j FROM ${t.name} x WHERE ${w} LIMIT 1`)).rows[0].j as Record<string, unknown>;
        if ('id' in row) row.id = randomUUID();
        for (const k of ['position', 'episode_number', 'chunk_index']) if (typeof row[k] === 'number') row[k] = (row[k] as number) + 1000;
        for (const k of ['slug', 'email', 'client_message_id', 'total_tokens', 'duration_seconds']) delete row[k];
        if (t.name === 'app.token_usage_daily') row.usage_date = '2031-01-01';
        if (t.name === 'app.chat_messages') { row.content = 'injected'; delete row.content_enc; delete row.content_key_id; }
        if (t.name === 'app.planning_notes') { row.note = 'injected'; delete row.note_enc; delete row.note_key_id; }
        const cols = Object.keys(row);
        const r = await c.query(`INSERT INTO ${t.name} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM jsonb_populate_record(NULL::${t.name}, $1)`, [row]);
        return r.rowCount ?? 0;
      });
      // A forged (or buggy) context: user A naming organization B, of which A is not a member. The organization
      // counts only for its members (sql/0400), so B's rows stay out of reach for reads and writes.
      const forged = { org: ORG_B, user: USER_A };
      await probe(t.name, 'forged org (not a member): select filtered to B', forged, async (c) => (await c.query(`SELECT * FROM ${t.name} WHERE ${w}`)).rowCount ?? 0);
      await probe(t.name, `forged org (not a member): update ${col}`, forged, async (c) => (await c.query(`UPDATE ${t.name} SET ${col} = ${col} WHERE ${w}`)).rowCount ?? 0);
      // Context missing and malformed: nothing at all comes back.
      for (const [label, ctx] of [
        ['no context', null],
        ['empty context', { org: '', user: '' }],
        ['malformed: sql', { raw: [`' OR 1=1 --`, `' OR 1=1 --`] as [string, string] }],
        ['malformed: braces', { raw: [`{${ORG_B}}`, `{${USER_B}}`] as [string, string] }],
        ['malformed: trailing space', { raw: [`${ORG_B} `, `${USER_B} `] as [string, string] }],
        ['spoofed: B set by hand with a made-up MAC', { raw: [ORG_B, USER_B] as [string, string] }],
      ] as const) {
        // Any tenant's row counts (A's too): without a valid context nothing tenant-owned may come back.
        await probe(t.name, label, ctx, async (c) => countTenant((await c.query(`SELECT * FROM ${t.name}`)).rows));
      }
    }

    // Direct partition access: no privilege on any partition.
    for (const p of tables.filter((t) => t.is_partition)) {
      await probe(p.name, 'select partition', A, async (c) => countB((await c.query(`SELECT * FROM ${p.name}`)).rows));
      await probe(p.name, 'insert into partition', A, async (c) => {
        const row = (await admin.query(`SELECT to_jsonb(x) AS j FROM ${p.name} x LIMIT 1`)).rows[0]?.j as Record<string, unknown> | undefined;
        if (!row) { await c.query(`INSERT INTO ${p.name} DEFAULT VALUES`); return 1; }
        row.id = randomUUID();
        delete row.total_tokens;
        const cols = Object.keys(row);
        return (await c.query(`INSERT INTO ${p.name} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM jsonb_populate_record(NULL::${p.name}, $1)`, [row])).rowCount ?? 0;
      });
    }

    // Cross-tenant references: a row of A pointing at B's parent.
    const bProject = (await admin.query(`SELECT id FROM app.projects WHERE organization_id = $1`, [ORG_B])).rows[0].id;
    const bEpisode = (await admin.query(`SELECT id FROM app.episodes WHERE organization_id = $1`, [ORG_B])).rows[0].id;
    const bSession = (await admin.query(`SELECT id FROM app.chat_sessions WHERE organization_id = $1`, [ORG_B])).rows[0].id;
    await probe('app.episodes', 'reference B project', A, async (c) => (await c.query(`INSERT INTO app.episodes (organization_id, project_id, episode_number, title) VALUES ($1, $2, 77, 'x')`, [ORG_A, bProject])).rowCount ?? 0);
    await probe('app.blocks', 'reference B episode', A, async (c) => (await c.query(`INSERT INTO app.blocks (organization_id, episode_id, position, content) VALUES ($1, $2, 77, 'x')`, [ORG_A, bEpisode])).rowCount ?? 0);
    await probe('app.chat_messages', 'reference B session', A, async (c) => (await c.query(`INSERT INTO app.chat_messages (session_id, role, chat_type, content) VALUES ($1, 'user', 'main', 'x')`, [bSession])).rowCount ?? 0);
    await probe('app.chat_messages', 'reference B session as A', A, async (c) => (await c.query(`INSERT INTO app.chat_messages (organization_id, user_id, session_id, role, chat_type, content) VALUES ($1, $2, $3, 'user', 'main', 'x')`, [ORG_A, USER_A, bSession])).rowCount ?? 0);
    await probe('app.highlights', 'reference B episode', A, async (c) => (await c.query(`INSERT INTO app.highlights (organization_id, user_id, episode_id, quote, start_offset, end_offset) VALUES ($1, $2, $3, 'q', 0, 1)`, [ORG_A, USER_A, bEpisode])).rowCount ?? 0);
    await probe('app.rag_embeddings', 'reference B session', A, async (c) => (await c.query(`INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, embedding) VALUES ($1, 'chat_session', $2, $3)`, [ORG_A, bSession, vec(5)])).rowCount ?? 0);
    // The HNSW graph's queue (sql/1009): B's embeddings wait outside the graph (the fixtures are inserted without
    // in_vector_index), and the search's exact scan of waiting rows must still show A none of them, whatever
    // organization A names; nor may A put rows into the graph itself or run the job that does.
    const bEmbeddings = (await admin.query<{ id: string }>(`SELECT id FROM app.rag_embeddings WHERE organization_id = $1`, [ORG_B])).rows.map((r) => r.id);
    for (const org of [ORG_B, ORG_A]) {
      await probe('app.rag_embeddings', `app.search_embeddings(B vector, org ${org === ORG_B ? 'B' : 'A'})`, A, async (c) =>
        (await c.query<{ id: string }>(`SELECT id FROM app.search_embeddings($1::extensions.vector, 100, $2, 100)`, [vec(2), org])).rows.filter((r) => bEmbeddings.includes(r.id)).length);
    }
    await probe('app.rag_embeddings', 'insert straight into the HNSW graph (in_vector_index)', A, async (c) => (await c.query(`INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, in_vector_index) SELECT $1, 'chat_session', source_id, 7, embedding, true FROM app.rag_embeddings WHERE organization_id = $1 LIMIT 1`, [ORG_A])).rowCount ?? 0);
    await probe('app.rag_embeddings', 'move own rows into the HNSW graph (UPDATE in_vector_index)', A, async (c) => (await c.query(`UPDATE app.rag_embeddings SET in_vector_index = true WHERE organization_id = $1`, [ORG_A])).rowCount ?? 0);
    await probe('app.rag_embeddings', 'run the index job (ops.job_index_pending_embeddings)', A, async (c) => Number((await c.query<{ r: { rows_affected?: number } }>(`SELECT ops.job_index_pending_embeddings(1000) AS r`)).rows[0].r.rows_affected ?? 0));

    // Views and functions.
    for (const v of ['app.chat_messages_decrypted', 'app.planning_notes_decrypted', 'app.public_scenarios', 'app.public_question_templates']) {
      await probe(v, 'select view', A, async (c) => countB((await c.query(`SELECT * FROM ${v}`)).rows));
    }
    for (const t of ['projects', 'episodes', 'blocks', 'agent_memory', 'derived_insights', 'planning_notes', 'highlights', 'chat_sessions', 'chat_messages']) {
      for (const id of bIds.get(`app.${t}`) ?? []) {
        await probe(`app.${t}`, 'app.soft_delete(B row)', A, async (c) => ((await c.query<{ ok: boolean }>('SELECT app.soft_delete($1, $2) AS ok', [t, id])).rows[0].ok ? 1 : 0));
      }
    }
    await probe('app.users', 'app.add_member(B user)', { org: ORG_B, user: USER_A }, async (c) => {
      await c.query(`SELECT app.add_member($1, 'owner')`, [USER_A]);
      return 1;
    });
    // Existence oracles (issue 16 #5): a write naming B's id must answer like one naming an id that exists
    // nowhere. A copy of A's own row (the columns the app may insert), given B's id, or a random one, plainly and
    // with ON CONFLICT DO NOTHING: different answers (a unique violation, 0 rows against 1) would tell that B's row
    // exists. Since sql/1004 naming an id is refused (42501) whatever exists.
    class Undo extends Error { constructor(readonly rows: number) { super('undo'); } }
    const answer = async (fn: (c: pg.PoolClient) => Promise<number>): Promise<string> => {
      try {
        await asApp(A, async (c) => { throw new Undo(await fn(c)); }); // rolled back: nothing of it stays
        return 'unreachable';
      } catch (e) {
        return e instanceof Undo ? `rows ${e.rows}` : sqlstate(e);
      }
    };
    const oracle = async (table: string, kind: string, fn: (c: pg.PoolClient, theirs: boolean) => Promise<number>) => {
      const theirs = await answer((c) => fn(c, true));
      const nowhere = await answer((c) => fn(c, false));
      const leaked = theirs === nowhere ? 0 : 1;
      attempts.push({ table, kind, leaked, outcome: leaked ? 'LEAKED' : theirs.startsWith('rows') ? 'filtered' : theirs });
      if (leaked) log(`!! ${table} ${kind}: B's id ${theirs}, a random id ${nowhere}`);
    };
    for (const t of probed.filter((x) => x.has_id && x.has_org)) {
      const cols = (await admin.query<{ c: string }>(
        `SELECT a.attname AS c FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
           AND (a.attname = 'id' OR has_column_privilege('pgkit_app', a.attrelid, a.attnum, 'INSERT'))`, [t.name])).rows.map((r) => r.c);
      if (cols.length <= 1) continue; // the app inserts nothing here
      const mine = (await admin.query(`SELECT to_jsonb(x) AS j FROM ${t.name} x WHERE organization_id = $1 LIMIT 1`, [ORG_A])).rows[0]?.j as Record<string, unknown> | undefined;
      const theirs = (await admin.query(`SELECT id, created_at FROM ${t.name} WHERE organization_id = $1 LIMIT 1`, [ORG_B])).rows[0];
      if (!mine || !theirs) continue;
      const row: Record<string, unknown> = Object.fromEntries(cols.map((c) => [c, mine[c] ?? null]));
      for (const k of ['position', 'episode_number', 'chunk_index']) if (typeof row[k] === 'number') row[k] = (row[k] as number) + 5000;
      if ('scheduled_for' in row) row.scheduled_for = new Date(Date.now() + 86_400_000 * 400).toISOString();
      if (t.name === 'app.chat_messages') row.content = 'probe';
      if (t.name === 'app.planning_notes') row.note = 'probe';
      if ('created_at' in row) row.created_at = theirs.created_at; // the partitioned ledgers' key is (id, created_at)
      const list = Object.keys(row).join(', ');
      for (const onConflict of [false, true]) {
        await oracle(t.name, `chosen id: B's id vs a random id${onConflict ? ' (on conflict do nothing)' : ''}`, async (c, b) => (await c.query(
          `INSERT INTO ${t.name} (${list}) SELECT ${list} FROM jsonb_populate_record(NULL::${t.name}, $1)${onConflict ? ' ON CONFLICT DO NOTHING' : ''}`,
          [{ ...row, id: b ? theirs.id : randomUUID() }])).rowCount ?? 0);
      }
    }
    // Queue items (sql/1008): the app inserts a request to run, never the workers' bookkeeping. An item already
    // leased or finished, in A's own queue, with each forbidden column: refused (42501); inserted counts as leaked.
    {
      const aProject = (await tenantParents(admin, ORG_A)).project;
      const at = new Date().toISOString();
      const forged: Array<[string, Record<string, unknown>]> = [
        ['already leased', { status: 'processing', lease_token: randomUUID(), locked_by: 'attacker', lease_expires_at: at, picked_up_at: at }],
        ['already completed', { status: 'completed', completed_at: at }],
        ['attempts used up', { attempt_count: 3 }],
        ['an error of its own', { last_error: 'forged', last_attempt_at: at, next_attempt_at: at }],
        ['a backdated creation time', { created_at: '2020-01-01T00:00:00Z' }],
      ];
      for (const [what, extra] of forged) {
        const row: Record<string, unknown> = { project_id: aProject, scheduled_for: new Date(Date.now() + 86_400_000 * 500).toISOString(), ...extra };
        const cols = Object.keys(row);
        await probe('app.episode_schedule_queue', `insert an item ${what} (sql/1008)`, A, async (c) => {
          await c.query('SAVEPOINT forged');
          const n = (await c.query(`INSERT INTO app.episode_schedule_queue (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row))).rowCount ?? 0;
          await c.query('ROLLBACK TO SAVEPOINT forged'); // counted, not kept
          return n;
        });
      }
    }
    // Logs (app.write_log): a line may name only one of the caller's own chat sessions; B's is refused (22023).
    for (const sessionId of bIds.get('app.chat_sessions') ?? []) {
      await probe('ops.logs', "app.write_log naming B's chat session", A, async (c) => {
        await c.query(`SELECT app.write_log('info', 'session_started', 'probe', '{}'::jsonb, $1)`, [sessionId]);
        return 1;
      });
    }
    // Key material (issue 16 #7): inside a keyed transaction (asApp supplies the keyring), no setting holds a key.
    await probe('app_private.encryption_keys', 'read the keyring of a keyed transaction', A, async (c) => {
      const r = (await c.query("SELECT current_setting('app.enc_keys', true) AS a, current_setting('app.enc_keys_sealed', true) AS b")).rows[0];
      return [r.a, r.b].filter((v) => typeof v === 'string' && Object.values(keyring).some((k) => v.includes(k))).length;
    });
    // Large objects (issue 16 #8): lo_* cannot be revoked; what one session of the login stores, the job removes
    // before another reads it.
    {
      let lo: number | null = null;
      await probe('pg_largeobject', 'large object stored by another session', { org: ORG_B, user: USER_B }, async (c) => {
        lo = Number((await c.query(`SELECT lo_from_bytea(0, convert_to($1, 'UTF8'))::int8 AS lo`, [`data of ${ORG_B}`])).rows[0].lo);
        return 0;
      });
      await admin.query('SELECT ops.job_remove_login_large_objects()');
      if (lo !== null) await probe('pg_largeobject', 'read a large object of another session', A, async (c) => countB([(await c.query("SELECT convert_from(lo_get($1::oid), 'UTF8') AS t", [lo])).rows[0]]));
    }
    // A slug is a public name (the residual of docs/security.md): create_organization says whether one is taken,
    // but only max_events times an hour per user. Answers beyond the limit count as leaked.
    {
      const limit = Number((await admin.query("SELECT max_events FROM ops.rate_limits WHERE name = 'organizations.create' AND organization_id IS NULL AND enabled")).rows[0]?.max_events ?? 0);
      let answered = 0;
      let refused = 0;
      for (let i = 0; i < limit + 3; i++) {
        try {
          await asApp(A, (c) => c.query("SELECT app.create_organization('probe', 'sec-org-b')"));
          answered++;
        } catch (e) {
          if (sqlstate(e) !== 'P0429') throw e;
          refused++;
        }
      }
      attempts.push({ table: 'app.organizations', kind: 'slug probes past the rate limit', leaked: Math.max(0, answered - limit), outcome: refused > 0 ? 'P0429' : 'LEAKED' });
    }
    await probe('app.scenarios', 'read system_prompt as anon', A, async (c) => {
      await c.query('SET LOCAL ROLE pgkit_anon');
      return (await c.query('SELECT system_prompt FROM app.scenarios')).rowCount ?? 0;
    });
    await probe('app_private.encryption_keys', 'read key table', A, async (c) => (await c.query('SELECT * FROM app_private.encryption_keys')).rowCount ?? 0);
    await probe('audit.audit_logs', 'read audit', A, async (c) => (await c.query('SELECT * FROM audit.audit_logs')).rowCount ?? 0);
    await probe('app_private.erase_user', 'erase B user', A, async (c) => {
      await c.query(`SELECT app_private.erase_user($1, 'attack')`, [USER_B]);
      return 1;
    });
    await probe('app_private.reencrypt_batch', 'call maintenance function', A, async (c) => {
      await c.query(`SELECT app_private.start_key_rotation()`);
      return 1;
    });

    // A hijacked search_path: the app owns a schema earlier in search_path with look-alike functions.
    await admin.query('DROP SCHEMA IF EXISTS evil CASCADE');
    await admin.query('CREATE SCHEMA evil');
    await admin.query('GRANT USAGE, CREATE ON SCHEMA evil TO pgkit_app');
    try {
      await asApp(A, async (c) => {
        await c.query(`CREATE FUNCTION evil.current_org_id() RETURNS uuid LANGUAGE sql AS $$ SELECT '${ORG_B}'::uuid $$`);
        await c.query(`CREATE FUNCTION evil.current_user_id() RETURNS uuid LANGUAGE sql AS $$ SELECT '${USER_B}'::uuid $$`);
        await c.query(`CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$ SELECT '${ORG_B}' $$`);
        await c.query(`CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT 'epoch'::timestamptz $$`);
        return 0;
      });
      for (const t of probed) {
        await probe(t.name, 'hijacked search_path', A, async (c) => {
          await c.query(`SET LOCAL search_path = evil, pg_catalog, app, extensions`);
          return (await c.query(`SELECT * FROM ${t.name} WHERE ${bWhere(t)}`)).rowCount ?? 0;
        });
      }
      for (const t of ['projects', 'chat_messages']) {
        for (const id of bIds.get(`app.${t}`) ?? []) {
          await probe(`app.${t}`, 'definer function, hijacked search_path', A, async (c) => {
            await c.query(`SET LOCAL search_path = evil, pg_catalog, app, extensions`);
            return (await c.query<{ ok: boolean }>('SELECT app.soft_delete($1, $2) AS ok', [t, id])).rows[0].ok ? 1 : 0;
          });
        }
      }
    } finally {
      await admin.query('DROP SCHEMA IF EXISTS evil CASCADE');
    }

    // Session-level SET on a pooled server connection (PgBouncer does not reset connections between clients),
    // stamped as the current transaction's context, then the pooled connections are reused by requests that set
    // their own context or none: the left-over context must act for nobody (sql/0800).
    {
      // B's own verified context (a buggy client of B's), copied to session level on a pooled connection.
      const c = await app.connect();
      try {
        await leaveVerifiedContextBehind(c, urls.signer.user(ORG_B, USER_B).token);
      } finally {
        c.release();
      }
      for (let i = 0; i < 8; i++) {
        await probe('app.projects', 'reuse after session-level SET', A, async (cc) => (await cc.query(`SELECT * FROM app.projects WHERE organization_id = $1`, [ORG_B])).rowCount ?? 0);
        await probe('app.chat_messages', 'reuse after session-level SET', A, async (cc) => (await cc.query(`SELECT * FROM app.chat_messages_decrypted WHERE organization_id = $1`, [ORG_B])).rowCount ?? 0);
        await probe('app.projects', 'reuse after session-level SET, no context of its own', null, async (cc) => (await cc.query('SELECT * FROM app.projects')).rowCount ?? 0);
        await probe('app.chat_messages', 'reuse after session-level SET, no context of its own', null, async (cc) => (await cc.query('SELECT * FROM app.chat_messages_decrypted')).rowCount ?? 0);
        // A request that authenticates in a savepoint it rolls back is back to the left-over settings, whose MAC
        // belongs to an earlier transaction.
        await probe('app.projects', 'reuse after session-level SET, own context in a rolled-back savepoint', null, async (cc) => {
          await cc.query('SAVEPOINT s');
          await cc.query(AUTHENTICATE_SQL, [urls.signer.user(ORG_A, USER_A).token]);
          await cc.query('ROLLBACK TO SAVEPOINT s');
          return (await cc.query('SELECT * FROM app.projects WHERE organization_id = $1', [ORG_B])).rowCount ?? 0;
        });
      }
    }

    const bChecksumAfter = await orgChecksum(admin, ORG_B, tables);
    const leaked = attempts.reduce((s, a) => s + a.leaked, 0);
    return {
      tablesWithRls: Number(all.rows[0].rls),
      tablesTotal: Number(all.rows[0].n),
      tenantTablesWithForcedRls: tables.filter((t) => t.rls && t.forced).length,
      tenantTablesTotal: tables.length,
      policies: Number(policies.rows[0].n),
      attempts,
      leaked,
      bChecksumBefore,
      bChecksumAfter,
      gaps,
      unprobed,
    };
  } finally {
    await app.end();
    await admin.end();
  }
}
