// Which tables the seeder writes, their columns (in the order World yields them), and index handling.
import type pg from 'pg';

export const COLUMNS = {
  organizations: ['id', 'name', 'slug', 'created_at', 'updated_at'],
  users: ['id', 'email', 'display_name', 'timezone', 'created_at', 'updated_at'],
  memberships: ['id', 'organization_id', 'user_id', 'role', 'created_at', 'updated_at'],
  projects: ['id', 'organization_id', 'name', 'description', 'cadence_config', 'is_paused', 'created_at', 'updated_at'],
  episodes: ['id', 'organization_id', 'project_id', 'episode_number', 'title', 'status', 'published_at', 'generation_attempts', 'generation_errors', 'created_at', 'updated_at'],
  blocks: ['id', 'organization_id', 'episode_id', 'type', 'position', 'content', 'reasoning', 'confidence', 'research_citations', 'generation_metadata', 'token_count', 'created_at', 'updated_at'],
  highlights: ['id', 'organization_id', 'user_id', 'episode_id', 'block_id', 'quote', 'note', 'start_offset', 'end_offset', 'created_at', 'updated_at'],
  planning_notes: ['id', 'organization_id', 'project_id', 'user_id', 'note', 'status', 'processed_at', 'incorporated_episode_id', 'created_at', 'updated_at'],
  agent_memory: ['id', 'organization_id', 'project_id', 'memory_type', 'content', 'importance', 'expires_at', 'created_at', 'updated_at'],
  scenarios: ['id', 'code', 'title', 'emoji', 'description', 'system_prompt', 'difficulty', 'sort_order', 'is_published'],
  question_templates: ['id', 'code', 'focus', 'depth', 'category', 'template', 'variables', 'usage_count', 'last_used_at'],
  chat_sessions: ['id', 'organization_id', 'user_id', 'project_id', 'episode_id', 'scenario_id', 'title', 'created_at', 'updated_at'],
  chat_messages: ['id', 'organization_id', 'session_id', 'user_id', 'role', 'chat_type', 'content', 'client_message_id', 'created_at'],
  token_usage: ['id', 'created_at', 'organization_id', 'project_id', 'user_id', 'episode_id', 'chat_session_id', 'operation', 'model_used', 'input_tokens', 'output_tokens', 'cost_gbp'],
  episode_schedule_queue: ['id', 'organization_id', 'project_id', 'episode_id', 'status', 'scheduled_for', 'picked_up_at', 'completed_at', 'attempt_count', 'last_attempt_at', 'metadata', 'created_at'],
  user_events: ['id', 'created_at', 'organization_id', 'user_id', 'event_type', 'event_data'],
  engagement_events: ['id', 'created_at', 'organization_id', 'user_id', 'episode_id', 'block_id', 'event_type', 'event_value'],
  derived_insights: ['id', 'organization_id', 'project_id', 'session_id', 'insight_type', 'insight_value', 'confidence', 'applied_to_episode_id', 'applied_at', 'created_at', 'updated_at'],
  rag_embeddings: ['id', 'organization_id', 'source_type', 'source_id', 'chunk_index', 'content', 'embedding', 'embedding_model', 'token_count', 'created_at', 'updated_at', 'in_vector_index'],
} as const;

/**
 * Reference data that the sql/ bundle itself fills (not tenant data): `--reset` keeps these rows. Truncating
 * app_private.timezone_names would make every users.timezone CHECK fail (0100 captures the zone names once).
 */
export const REFERENCE_TABLES = ['app.engagement_event_types', 'app_private.timezone_names'];

/**
 * Tables whose plain (non-unique) secondary indexes are dropped before the bulk load and rebuilt after it:
 * one sorted build per index is much cheaper than maintaining it row by row. Primary keys and unique
 * indexes stay (they are constraints). Indexes that a trigger reads during the load stay too (KEEP).
 */
export const REBUILD_TABLES = ['episodes', 'blocks', 'highlights', 'planning_notes', 'chat_messages', 'token_usage', 'user_events', 'engagement_events', 'derived_insights', 'episode_schedule_queue'];
// (chat_messages_session_id_created_at_id_idx, read per row by the rate-limit trigger of 0630, is rebuilt too:
// the seeder defers that trigger to a set-based check, see index.ts.)
const KEEP = new Set<string>([]);

export interface DroppedIndex {
  name: string;
  table: string;
  def: string;
}

export async function dropSecondaryIndexes(c: pg.PoolClient | pg.Client, tables: string[]): Promise<DroppedIndex[]> {
  const r = await c.query<{ name: string; table: string; def: string }>(
    `SELECT i.relname AS name, t.relname AS table, pg_get_indexdef(x.indexrelid) AS def
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = 'app' AND t.relname = ANY($1) AND NOT t.relispartition
       AND NOT x.indisprimary AND NOT x.indisunique AND NOT x.indisexclusion
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
     ORDER BY t.relname, i.relname`,
    [tables],
  );
  const dropped = r.rows.filter((x) => !KEEP.has(x.name));
  for (const d of dropped) await c.query(`DROP INDEX app.${d.name}`);
  return dropped;
}

export async function recreateIndexes(c: pg.PoolClient | pg.Client, dropped: DroppedIndex[]) {
  for (const d of dropped) await c.query(cascadingIndexDef(d.def));
}

/**
 * pg_get_indexdef prints a partitioned table's index as `CREATE INDEX … ON ONLY parent …`. Run as printed, it
 * makes an invalid parent index and no index on any partition (found in a full-scale seed: token_usage,
 * user_events and engagement_events lost their secondary indexes). Without ONLY, PostgreSQL builds it on every
 * partition and attaches each one, so the parent index is valid.
 */
export function cascadingIndexDef(def: string): string {
  return def.replace(/^(CREATE (?:UNIQUE )?INDEX \S+ )ON ONLY /, '$1ON ');
}

/**
 * Monthly partitions for the months of [fromMs, now] that do not exist yet, named as pg_partman names them
 * (ops.monthly_partition_name: 4.7 and 5.x differ), so partman's maintenance and retention take them as its own.
 */
export async function ensurePastPartitions(c: pg.PoolClient | pg.Client, tables: string[], fromMs: number) {
  for (const t of tables) {
    const [schema, name] = t.split('.');
    const start = new Date(fromMs);
    let y = start.getUTCFullYear();
    let m = start.getUTCMonth();
    const now = new Date();
    while (y < now.getUTCFullYear() || (y === now.getUTCFullYear() && m <= now.getUTCMonth())) {
      const from = new Date(Date.UTC(y, m, 1)).toISOString();
      const to = new Date(Date.UTC(y, m + 1, 1)).toISOString();
      const r = await c.query<{ part: string; e: boolean }>(
        `SELECT n AS part, to_regclass(format('%I.%I', $1::text, n)) IS NOT NULL AS e
           FROM ops.monthly_partition_name($2, $3::timestamptz) AS n`,
        [schema, t, from],
      );
      const { part, e } = r.rows[0];
      if (!e) {
        await c.query(`CREATE TABLE ${schema}.${part} PARTITION OF ${schema}.${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
      }
      m++;
      if (m === 12) { m = 0; y++; }
    }
  }
}
