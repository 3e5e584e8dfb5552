// Bad input, against real PostgreSQL: every CHECK, foreign key, unique key, enum and trigger-constraint of
// the schema (sql/0100-0399) is fed a bad value and must fail with the expected SQLSTATE and constraint
// name; the good value (the table's valid base row, plus the case's own good overrides) must pass.
// A catalogue test at the end proves no constraint or enum of the schema is left without a case here.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKeys, generateKey } from '../../src/security/keyring.js';
import { migratedDatabase, type TestDb } from '../support/db.js';

// ---------------------------------------------------------------------------------------------------------
// Values: plain JS values are bound as parameters; {sql} is inlined as an SQL expression; {json} is bound
// as a JSON text (jsonb columns; plain arrays would otherwise become PostgreSQL arrays).
type Raw = { sql: string };
type Json = { json: unknown };
type Val = string | number | boolean | null | string[] | Raw | Json;
type Row = Record<string, Val>;
const sql = (s: string): Raw => ({ sql: s });
const json = (v: unknown): Json => ({ json: v });
const ago = sql("now() - interval '1 day'");
const now = sql('now()');
const long = (n: number) => 'x'.repeat(n);

// Fixture ids.
const O1 = '00000000-0000-4000-8000-0000000000a1';
const O2 = '00000000-0000-4000-8000-0000000000a2';
const U1 = '00000000-0000-4000-8000-0000000000b1';
const U2 = '00000000-0000-4000-8000-0000000000b2';
const P1 = '00000000-0000-4000-8000-0000000000c1';
const P2 = '00000000-0000-4000-8000-0000000000c2';
const E1 = '00000000-0000-4000-8000-0000000000d1';
const E2 = '00000000-0000-4000-8000-0000000000d2'; // episode of the other organization (O2, P2)
const B1 = '00000000-0000-4000-8000-0000000000e1';
const B2 = '00000000-0000-4000-8000-0000000000e2'; // block of E2 (O2)
const S1 = '00000000-0000-4000-8000-0000000000f1';
const CS1 = '00000000-0000-4000-8000-000000000101'; // open session of U1 in O1
const CS2 = '00000000-0000-4000-8000-000000000102'; // completed session
const CS3 = '00000000-0000-4000-8000-000000000103'; // soft-deleted session
const CSX = '00000000-0000-4000-8000-000000000104'; // session of another organization (O2)
const T1 = '00000000-0000-4000-8000-000000000201';
const AM1 = '00000000-0000-4000-8000-000000000301';
const M1 = '00000000-0000-4000-8000-000000000401'; // a message in CS1, client_message_id CM1
const CM1 = '00000000-0000-4000-8000-000000000402';
const vec = (seed = 1, dims = 1536) => `[${Array.from({ length: dims }, (_, i) => (((i * 7 + seed * 13) % 17) / 17 - 0.5).toFixed(4)).join(',')}]`;

let n = 0;
const next = () => ++n;

// What a table's base row needs first, inside the case's transaction: the MAC key is a singleton the bundle fills.
const baseSetup: Record<string, string> = {
  'app_private.context_mac_key': 'DELETE FROM app_private.context_mac_key',
};

// A valid new row per table (fresh unique values on every call).
const base: Record<string, () => Row> = {
  'app.organizations': () => ({ name: 'Org', slug: `org-${next()}` }),
  'app.users': () => ({ email: `user${next()}@example.com` }),
  'app.memberships': () => ({ organization_id: O2, user_id: U1, role: 'member' }),
  'app.membership_invitations': () => ({ organization_id: O2, user_id: U1, role: 'member', invited_by: U1 }),
  'app.projects': () => ({ organization_id: O1, name: 'Project' }),
  'app.episodes': () => ({ organization_id: O1, project_id: P1, episode_number: 100 + next(), title: 'Episode' }),
  'app.blocks': () => ({ organization_id: O1, episode_id: E1, position: 100 + next(), content: '# Hello', type: 'markdown' }),
  'app.highlights': () => ({ organization_id: O1, user_id: U1, episode_id: E1, block_id: B1, quote: 'quote', start_offset: 0, end_offset: 5 }),
  'app.planning_notes': () => ({
    organization_id: O1, project_id: P1, user_id: U1, note: 'More on regulation please',
    status: 'incorporated', processed_at: now, incorporated_episode_id: E1,
  }),
  'app.agent_memory': () => ({ organization_id: O1, project_id: P1, content: 'Prefers charts', memory_type: 'preference' }),
  'app.scenarios': () => ({ code: `sc_${next()}`, title: `Scenario ${n}`, emoji: '🛒' }),
  'app.chat_sessions': () => ({ organization_id: O1, user_id: U1, project_id: P1, episode_id: E1, scenario_id: S1 }),
  'app.chat_messages': () => ({
    organization_id: O1, session_id: CS1, user_id: U1, role: 'user', chat_type: 'main', content: 'hello', client_message_id: randomUUID(),
  }),
  'app.question_templates': () => ({
    code: `qt_${next()}`, focus: 'goals', depth: 'surface', category: 'reflective', template: 'What is {goal}?',
    variables: json({ placeholders: [{ key: 'goal', type: 'string', required: true }] }),
  }),
  'app.rag_embeddings': () => ({ organization_id: O1, source_type: 'chat_session', source_id: CS1, chunk_index: next(), embedding: vec(n) }),
  'app.episode_schedule_queue': () => ({
    organization_id: O1, project_id: P1, episode_id: E1, scheduled_for: sql(`now() + interval '${next()} hours'`),
    metadata: json({ user_timezone: 'Europe/London' }),
  }),
  'app.token_usage': () => ({
    organization_id: O1, project_id: P1, user_id: U1, episode_id: E1, chat_session_id: CS1,
    operation: 'chat', model_used: 'claude-3.5', input_tokens: 10, output_tokens: 5, cost_gbp: '0.010000',
  }),
  'app.token_usage_daily': () => ({
    organization_id: O1, usage_date: sql(`current_date + ${next()}`), total_input_tokens: 10, total_output_tokens: 5, total_tokens: 15,
    total_cost_gbp: '0.5', hourly_peak_tokens: 15, peak_hour: 9, operation_breakdown: json({ chat: { tokens: 15, cost: 0.5 } }),
  }),
  'app.derived_insights': () => ({
    organization_id: O1, project_id: P1, session_id: CS1, insight_type: 'topic_interest', insight_value: json({ topic: 'ai act' }),
    applied_to_episode_id: E1, applied_at: now,
  }),
  'app.user_events': () => ({ organization_id: O1, user_id: U1, event_type: 'onboarding.complete', event_data: json({ step: 3 }) }),
  'app.engagement_event_types': () => ({ code: `et_${next()}`, description: 'test' }),
  'app.engagement_events': () => ({
    organization_id: O1, user_id: U1, episode_id: E1, block_id: B1, event_type: 'scroll_depth', event_value: json({ depth: 75 }),
  }),
  'audit.audit_logs': () => ({
    organization_id: O1, user_id: U1, action: 'episode.generate', table_name: 'episodes', record_id: E1, new_data: json({ status: 'ready' }),
  }),
  'ops.log_event_types': () => ({ code: `lt_${next()}`, description: 'test' }),
  'ops.logs': () => ({ level: 'info', event_type: 'api_call_started', message: 'call', session_id: CS1, metadata: json({ code: 'E1' }) }),
  // Behaviour bundle (0600-0799).
  'ops.rate_limits': () => ({ name: `test.limit_${next()}`, organization_id: O1, min_interval: '1 second', max_events: 10, per_interval: '1 minute' }),
  'ops.job_locks': () => ({ job: `test_job_${next()}` }),
  'app_private.context_signing_keys': () => ({ kid: `user-test-${next()}`, purpose: 'user', secret: `\\x${'ab'.repeat(32)}` }),
  'app_private.context_mac_key': () => ({ key: `\\x${'cd'.repeat(32)}` }),
  'ops.partition_policies': () => ({ parent_table: `app.table_${next()}`, premake: 4, retention: '30 days' }),
  'ops.job_schedule_status': () => ({ database_name: `db_${next()}`, scheduled: false, reason: 'not the cron database', jobs: json([]) }),
};

// ---------------------------------------------------------------------------------------------------------
interface Case {
  table: string;
  constraint: string;
  label: string;
  bad: Row;
  good?: Row;
  code?: string; // default 23514 check_violation
  setup?: string; // runs inside the case's transaction first (e.g. to disable a shadowing trigger)
}

// CHECK constraints. good: overrides that must pass (on top of the base row).
const checks: Case[] = [
  // organizations
  { table: 'app.organizations', constraint: 'organizations_name_check', label: 'blank name', bad: { name: '  ' } },
  { table: 'app.organizations', constraint: 'organizations_slug_check', label: 'slug with spaces/capitals', bad: { slug: 'Bad Slug' }, good: { slug: 'good-slug-1' } },
  { table: 'app.organizations', constraint: 'organizations_enabled_features_check', label: 'feature code not snake_case', bad: { enabled_features: ['Chat-Beta'] }, good: { enabled_features: ['chat', 'highlights'] } },
  { table: 'app.organizations', constraint: 'organizations_experimental_features_check', label: 'feature code with space', bad: { experimental_features: ['voice mode'] }, good: { experimental_features: ['voice_mode'] } },
  { table: 'app.organizations', constraint: 'organizations_features_disjoint_check', label: 'flag both enabled and experimental', bad: { enabled_features: ['chat'], experimental_features: ['chat'] }, good: { enabled_features: ['chat'], experimental_features: ['voice'] } },
  { table: 'app.organizations', constraint: 'organizations_daily_cost_limit_check', label: 'zero daily cost limit', bad: { daily_cost_limit: 0 }, good: { daily_cost_limit: 25 } },
  // users
  { table: 'app.users', constraint: 'users_email_check', label: 'empty email', bad: { email: '' } },
  { table: 'app.users', constraint: 'users_email_check', label: 'email without domain', bad: { email: 'not-an-email' } },
  { table: 'app.users', constraint: 'users_display_name_check', label: 'empty display name', bad: { display_name: '' }, good: { display_name: 'Ada' } },
  { table: 'app.users', constraint: 'users_timezone_check', label: 'unknown time zone', bad: { timezone: 'Mars/Olympus_Mons' }, good: { timezone: 'Europe/London' } },
  { table: 'app.users', constraint: 'users_weekly_completion_limit_check', label: 'zero weekly limit', bad: { weekly_completion_limit: 0 }, good: { weekly_completion_limit: 5 } },
  { table: 'app.users', constraint: 'users_current_week_completion_count_check', label: 'negative weekly count', bad: { current_week_completion_count: -1 }, good: { current_week_completion_count: 2 } },
  { table: 'app.users', constraint: 'users_completed_scenario_count_check', label: 'negative completed count', bad: { completed_scenario_count: -1 }, good: { completed_scenario_count: 7 } },
  { table: 'app.users', constraint: 'users_week_reset_date_monday_check', label: 'reset on a Tuesday', bad: { week_reset_date: '2025-01-07 00:00:00+00' }, good: { week_reset_date: '2025-01-06 00:00:00+00' } },
  { table: 'app.users', constraint: 'users_week_reset_date_monday_check', label: 'reset Monday 09:00 UTC', bad: { week_reset_date: '2025-01-06 09:00:00+00' }, good: { week_reset_date: '2025-01-06 01:00:00+01' } },
  // projects
  { table: 'app.projects', constraint: 'projects_name_check', label: 'empty name', bad: { name: '' } },
  { table: 'app.projects', constraint: 'projects_description_check', label: 'description over 4000', bad: { description: long(4001) }, good: { description: long(4000) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'unknown mode', bad: { cadence_config: json({ mode: 'hourly', days: [1] }) }, good: { cadence_config: json({ mode: 'custom', days: [1, 3, 5], hour: 7 }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'day 7', bad: { cadence_config: json({ mode: 'weekly', days: [7] }) }, good: { cadence_config: json({ mode: 'weekly', days: [0, 6] }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'day as string', bad: { cadence_config: json({ mode: 'weekly', days: ['1'] }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'no days', bad: { cadence_config: json({ mode: 'daily', days: [] }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'hour 24', bad: { cadence_config: json({ mode: 'daily', days: [1], hour: 24 }) }, good: { cadence_config: json({ mode: 'daily', days: [1], hour: 23 }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'fractional day', bad: { cadence_config: json({ mode: 'weekly', days: [1.5] }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'not an object', bad: { cadence_config: json([1]) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'missing mode', bad: { cadence_config: json({ days: [1] }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'missing days', bad: { cadence_config: json({ mode: 'weekly' }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'days a scalar', bad: { cadence_config: json({ mode: 'weekly', days: 5 }) } },
  { table: 'app.projects', constraint: 'projects_cadence_config_check', label: 'hour as text', bad: { cadence_config: json({ mode: 'weekly', days: [1], hour: 'nine' }) } },
  // episodes
  { table: 'app.episodes', constraint: 'episodes_episode_number_check', label: 'episode number 0', bad: { episode_number: 0 } },
  { table: 'app.episodes', constraint: 'episodes_title_check', label: 'blank title', bad: { title: ' ' } },
  { table: 'app.episodes', constraint: 'episodes_published_at_status_check', label: 'published without published_at', bad: { status: 'published' }, good: { status: 'published', published_at: now } },
  { table: 'app.episodes', constraint: 'episodes_published_at_status_check', label: 'draft with published_at', bad: { status: 'draft', published_at: now }, good: { status: 'archived', published_at: now } },
  { table: 'app.episodes', constraint: 'episodes_published_after_created_check', label: 'published before created', bad: { status: 'published', published_at: ago } },
  { table: 'app.episodes', constraint: 'episodes_generation_attempts_check', label: 'negative attempts', bad: { generation_attempts: -1 }, good: { generation_attempts: 2 } },
  { table: 'app.episodes', constraint: 'episodes_generation_errors_check', label: 'errors not an array', bad: { generation_errors: json({ e: 'x' }) }, good: { generation_errors: json(['timeout']) } },
  { table: 'app.episodes', constraint: 'episodes_failed_has_error_check', label: 'failed with errors not an array', bad: { status: 'failed', generation_errors: json({ e: 'x' }) } },
  { table: 'app.episodes', constraint: 'episodes_failed_has_error_check', label: 'failed without an error', bad: { status: 'failed' }, good: { status: 'failed', generation_errors: json([{ at: '2025-01-01', error: 'rate limited' }]) } },
  { table: 'app.episodes', constraint: 'episodes_highlight_count_check', label: 'negative highlight count', bad: { highlight_count: -1 } },
  { table: 'app.episodes', constraint: 'episodes_chat_message_count_check', label: 'negative chat message count', bad: { chat_message_count: -1 } },
  // blocks
  { table: 'app.blocks', constraint: 'blocks_position_check', label: 'negative position', bad: { position: -1 } },
  { table: 'app.blocks', constraint: 'blocks_content_check', label: 'content over 200000', bad: { content: long(200001) } },
  { table: 'app.blocks', constraint: 'blocks_confidence_check', label: 'confidence 1.5', bad: { confidence: 1.5 }, good: { confidence: 0.75 } },
  { table: 'app.blocks', constraint: 'blocks_research_citations_check', label: 'citations not an array', bad: { research_citations: json({ url: 'x' }) }, good: { research_citations: json([{ url: 'https://example.com' }]) } },
  { table: 'app.blocks', constraint: 'blocks_metadata_version_check', label: 'metadata version 0', bad: { metadata_version: 0 }, good: { metadata_version: 2 } },
  { table: 'app.blocks', constraint: 'blocks_generation_metadata_check', label: 'generation metadata not an object', bad: { generation_metadata: json(['claude']) }, good: { generation_metadata: json({ model: 'claude-3.5', temperature: 0.7, promptVersion: 'v1.2' }) } },
  { table: 'app.blocks', constraint: 'blocks_token_count_check', label: 'negative token count', bad: { token_count: -1 }, good: { token_count: 1200 } },
  // highlights
  { table: 'app.highlights', constraint: 'highlights_quote_check', label: 'empty quote', bad: { quote: '' } },
  { table: 'app.highlights', constraint: 'highlights_note_check', label: 'note over 4000', bad: { note: long(4001) }, good: { note: 'why' } },
  { table: 'app.highlights', constraint: 'highlights_offsets_check', label: 'empty range', bad: { start_offset: 5, end_offset: 5 } },
  { table: 'app.highlights', constraint: 'highlights_offsets_check', label: 'negative start', bad: { start_offset: -1, end_offset: 5 } },
  // planning_notes
  { table: 'app.planning_notes', constraint: 'planning_notes_note_check', label: 'blank note', bad: { note: '   ' } },
  { table: 'app.planning_notes', constraint: 'planning_notes_processed_at_status_check', label: 'pending with processed_at', bad: { status: 'pending', processed_at: now, incorporated_episode_id: null }, good: { status: 'pending', processed_at: null, incorporated_episode_id: null } },
  { table: 'app.planning_notes', constraint: 'planning_notes_processed_at_status_check', label: 'acknowledged without processed_at', bad: { status: 'acknowledged', processed_at: null }, good: { status: 'acknowledged', processed_at: now } },
  { table: 'app.planning_notes', constraint: 'planning_notes_processed_after_created_check', label: 'processed before created', bad: { processed_at: ago } },
  { table: 'app.planning_notes', constraint: 'planning_notes_incorporated_episode_check', label: 'incorporated without episode', bad: { incorporated_episode_id: null } },
  // agent_memory
  { table: 'app.agent_memory', constraint: 'agent_memory_content_check', label: 'empty content', bad: { content: '' } },
  { table: 'app.agent_memory', constraint: 'agent_memory_importance_check', label: 'importance 1.5', bad: { importance: 1.5 }, good: { importance: 1 } },
  { table: 'app.agent_memory', constraint: 'agent_memory_expires_after_created_check', label: 'expires before created', bad: { expires_at: ago }, good: { expires_at: sql("now() + interval '30 days'") } },
  // scenarios
  { table: 'app.scenarios', constraint: 'scenarios_code_check', label: 'code with capitals', bad: { code: 'Market Place' } },
  { table: 'app.scenarios', constraint: 'scenarios_title_check', label: 'blank title', bad: { title: ' ' } },
  { table: 'app.scenarios', constraint: 'scenarios_emoji_check', label: 'emoji over 16 bytes', bad: { emoji: '🛒🛒🛒🛒🛒' }, good: { emoji: '🛒🛒🛒🛒' } },
  { table: 'app.scenarios', constraint: 'scenarios_description_check', label: 'description over 4000', bad: { description: long(4001) } },
  { table: 'app.scenarios', constraint: 'scenarios_system_prompt_check', label: 'system prompt over 32000', bad: { system_prompt: long(32001) } },
  { table: 'app.scenarios', constraint: 'scenarios_difficulty_check', label: 'difficulty 6', bad: { difficulty: 6 }, good: { difficulty: 5 } },
  // chat_sessions
  { table: 'app.chat_sessions', constraint: 'chat_sessions_title_check', label: 'title over 200', bad: { title: long(201) }, good: { title: 'Market day' } },
  { table: 'app.chat_sessions', constraint: 'chat_sessions_completed_at_check', label: 'completed_at on an open session', bad: { is_completed: false, completed_at: now }, good: { is_completed: true, completed_at: now } },
  { table: 'app.chat_sessions', constraint: 'chat_sessions_completed_after_created_check', label: 'completed before created', bad: { is_completed: true, completed_at: ago } },
  {
    table: 'app.chat_sessions', constraint: 'chat_sessions_duration_seconds_check', label: 'negative duration (temporal check dropped to expose the backstop)',
    setup: 'ALTER TABLE app.chat_sessions DROP CONSTRAINT chat_sessions_completed_after_created_check',
    bad: { is_completed: true, completed_at: ago }, good: { is_completed: true },
  },
  { table: 'app.chat_sessions', constraint: 'chat_sessions_message_counts_check', label: 'negative main count', bad: { message_count_main: -1 }, good: { message_count_main: 3, message_count_helper: 1 } },
  { table: 'app.chat_sessions', constraint: 'chat_sessions_message_counts_check', label: 'negative helper count', bad: { message_count_helper: -1 } },
  { table: 'app.chat_sessions', constraint: 'chat_sessions_last_message_after_created_check', label: 'last message before created', bad: { last_message_at: ago }, good: { last_message_at: now } },
  // chat_messages
  { table: 'app.chat_messages', constraint: 'chat_messages_role_chat_type_check', label: 'main assistant in helper chat', bad: { role: 'main_assistant', chat_type: 'helper' }, good: { role: 'main_assistant', chat_type: 'main' } },
  { table: 'app.chat_messages', constraint: 'chat_messages_role_chat_type_check', label: 'helper assistant in main chat', bad: { role: 'helper_assistant', chat_type: 'main' }, good: { role: 'helper_assistant', chat_type: 'helper' } },
  { table: 'app.chat_messages', constraint: 'chat_messages_content_check', label: 'empty content', bad: { content: '' }, good: { role: 'user', chat_type: 'helper', content: 'x' } },
  { table: 'app.chat_messages', constraint: 'chat_messages_content_check', label: 'content over 8000', bad: { content: long(8001) }, good: { content: long(8000) } },
  { table: 'app.chat_messages', constraint: 'chat_messages_deleted_by_check', label: 'deleted_reason without deleted_at', bad: { deleted_reason: 'gdpr' }, good: { deleted_at: now, deleted_reason: 'gdpr', deleted_by: U1 } },
  { table: 'app.chat_messages', constraint: 'chat_messages_deleted_reason_check', label: 'reason over 500', bad: { deleted_at: now, deleted_reason: long(501) } },
  // question_templates
  { table: 'app.question_templates', constraint: 'question_templates_code_check', label: 'code with dash', bad: { code: 'bad-code' } },
  { table: 'app.question_templates', constraint: 'question_templates_template_check', label: 'empty template', bad: { template: '' } },
  { table: 'app.question_templates', constraint: 'question_templates_variables_check', label: 'placeholders not an array', bad: { variables: json({ placeholders: 'chord' }) } },
  { table: 'app.question_templates', constraint: 'question_templates_variables_check', label: 'old flat map shape', bad: { variables: json({ '{chord}': 'placeholder' }) }, good: { variables: json({ placeholders: [] }) } },
  { table: 'app.question_templates', constraint: 'question_templates_variables_check', label: 'placeholder not an object', bad: { variables: json({ placeholders: [1] }) } },
  { table: 'app.question_templates', constraint: 'question_templates_variables_check', label: 'placeholder without key', bad: { variables: json({ placeholders: [{ description: 'x' }] }) } },
  { table: 'app.question_templates', constraint: 'question_templates_variables_check', label: 'placeholder key not a string', bad: { variables: json({ placeholders: [{ key: 7 }] }) } },
  { table: 'app.question_templates', constraint: 'question_templates_language_check', label: 'language name', bad: { language: 'english' }, good: { language: 'en-GB' } },
  { table: 'app.question_templates', constraint: 'question_templates_usage_count_check', label: 'negative usage count', bad: { usage_count: -1 }, good: { usage_count: 4, last_used_at: now } },
  { table: 'app.question_templates', constraint: 'question_templates_last_used_check', label: 'used but usage 0', bad: { last_used_at: now, usage_count: 0 } },
  // rag_embeddings
  {
    table: 'app.rag_embeddings', constraint: 'rag_embeddings_organization_scope_check', label: 'template embedding with an organization (source trigger disabled to expose the backstop)',
    setup: 'ALTER TABLE app.rag_embeddings DISABLE TRIGGER rag_embeddings_source_fkey',
    bad: { source_type: 'question_template', source_id: T1 }, good: { source_type: 'question_template', source_id: T1, organization_id: null },
  },
  {
    table: 'app.rag_embeddings', constraint: 'rag_embeddings_organization_scope_check', label: 'session embedding without an organization (source trigger disabled)',
    setup: 'ALTER TABLE app.rag_embeddings DISABLE TRIGGER rag_embeddings_source_fkey',
    bad: { organization_id: null },
  },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_chunk_index_check', label: 'negative chunk', bad: { chunk_index: -1 } },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_content_check', label: 'content over 32000', bad: { source_type: 'block', source_id: B1, content: long(32001) }, good: { source_type: 'block', source_id: B1, content: 'chunk text' } },
  // sql/0931: chat text stays encrypted in chat_messages, never in a chat session's embedding.
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_chat_session_no_content_check', label: 'chat text in a chat-session embedding', bad: { content: 'what the user said' } },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_embedding_model_check', label: 'blank model', bad: { embedding_model: ' ' }, good: { embedding_model: 'text-embedding-3-small' } },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_token_count_check', label: 'negative token count', bad: { token_count: -1 }, good: { token_count: 512 } },
  // sql/1011: the HNSW keys are half precision; a component it cannot hold would fail the index job, not the INSERT.
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_embedding_halfvec_range_check', label: 'component beyond half precision', bad: { embedding: `[-65520${',0.1'.repeat(1535)}]` }, good: { embedding: `[65504${',0.1'.repeat(1535)}]` } },
  // episode_schedule_queue
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_attempt_count_check', label: 'negative attempts', bad: { attempt_count: -1 } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_attempt_count_check', label: 'attempts above max', bad: { attempt_count: 4, max_attempts: 3 }, good: { attempt_count: 3, max_attempts: 3, last_attempt_at: now } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_max_attempts_check', label: 'max attempts 0', bad: { max_attempts: 0 }, good: { max_attempts: 5 } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_processing_check', label: 'processing without pickup', bad: { status: 'processing' }, good: { status: 'processing', picked_up_at: now, locked_by: 'worker-1', lease_expires_at: sql("now() + interval '5 minutes'") } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_completed_at_check', label: 'completed without completed_at', bad: { status: 'completed' }, good: { status: 'completed', picked_up_at: now, completed_at: now } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_completed_at_check', label: 'pending with completed_at', bad: { completed_at: now } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_completed_after_picked_up_check', label: 'completed before pickup', bad: { status: 'completed', picked_up_at: now, completed_at: ago } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_last_error_check', label: 'failed without error', bad: { status: 'failed' }, good: { status: 'failed', last_error: 'provider 529' } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_last_error_check', label: 'blocked without reason', bad: { status: 'blocked' }, good: { status: 'blocked', last_error: 'Daily limit exceeded' } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_last_error_size_check', label: 'error over 4000', bad: { last_error: long(4001) } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_last_attempt_check', label: 'last attempt with zero attempts', bad: { last_attempt_at: now }, good: { last_attempt_at: now, attempt_count: 1, next_attempt_at: sql("now() + interval '2 seconds'") } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_lease_check', label: 'locked_by without lease expiry', bad: { locked_by: 'worker-1' } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_metadata_check', label: 'metadata array', bad: { metadata: json([]) } },
  // token_usage
  { table: 'app.token_usage', constraint: 'token_usage_model_used_check', label: 'blank model', bad: { model_used: '' } },
  { table: 'app.token_usage', constraint: 'token_usage_input_tokens_check', label: 'negative input', bad: { input_tokens: -1 } },
  { table: 'app.token_usage', constraint: 'token_usage_output_tokens_check', label: 'negative output', bad: { output_tokens: -5 } },
  { table: 'app.token_usage', constraint: 'token_usage_cost_gbp_check', label: 'negative cost', bad: { cost_gbp: '-0.01' }, good: { cost_gbp: '0' } },
  // token_usage_daily
  { table: 'app.token_usage_daily', constraint: 'token_usage_daily_totals_check', label: 'negative cost', bad: { total_cost_gbp: '-1' } },
  { table: 'app.token_usage_daily', constraint: 'token_usage_daily_totals_check', label: 'negative episode count', bad: { episode_count: -1 }, good: { episode_count: 2, call_count: 9 } },
  { table: 'app.token_usage_daily', constraint: 'token_usage_daily_total_tokens_check', label: 'total not input + output', bad: { total_tokens: 16 } },
  { table: 'app.token_usage_daily', constraint: 'token_usage_daily_operation_breakdown_check', label: 'breakdown array', bad: { operation_breakdown: json([]) } },
  { table: 'app.token_usage_daily', constraint: 'token_usage_daily_peak_check', label: 'peak without hour', bad: { peak_hour: null }, good: { peak_hour: null, hourly_peak_tokens: null } },
  { table: 'app.token_usage_daily', constraint: 'token_usage_daily_peak_check', label: 'hour 24', bad: { peak_hour: 24 }, good: { peak_hour: 23 } },
  { table: 'app.token_usage_daily', constraint: 'token_usage_daily_peak_check', label: 'peak above day total', bad: { hourly_peak_tokens: 16 } },
  // derived_insights
  { table: 'app.derived_insights', constraint: 'derived_insights_insight_value_check', label: 'value not an object', bad: { insight_value: json('regulation') } },
  { table: 'app.derived_insights', constraint: 'derived_insights_confidence_check', label: 'confidence 2', bad: { confidence: 2 }, good: { confidence: 0.9 } },
  { table: 'app.derived_insights', constraint: 'derived_insights_applied_check', label: 'applied_at without episode', bad: { applied_to_episode_id: null }, good: { applied_to_episode_id: null, applied_at: null } },
  { table: 'app.derived_insights', constraint: 'derived_insights_applied_at_check', label: 'episode without applied_at', bad: { applied_at: null } },
  { table: 'app.derived_insights', constraint: 'derived_insights_applied_after_created_check', label: 'applied before created', bad: { applied_at: ago } },
  // user_events
  { table: 'app.user_events', constraint: 'user_events_event_type_check', label: 'event type with spaces', bad: { event_type: 'Onboarding Complete' }, good: { event_type: 'first_episode_opened' } },
  { table: 'app.user_events', constraint: 'user_events_event_data_check', label: 'data not an object', bad: { event_data: json([1]) } },
  { table: 'app.user_events', constraint: 'user_events_event_data_check', label: 'data over 16 kB', bad: { event_data: json({ blob: long(20000) }) } },
  // engagement
  { table: 'app.engagement_event_types', constraint: 'engagement_event_types_code_check', label: 'code with capitals', bad: { code: 'Opened' } },
  { table: 'app.engagement_events', constraint: 'engagement_events_event_value_check', label: 'value not an object', bad: { event_value: json(75) } },
  { table: 'app.engagement_events', constraint: 'engagement_events_scroll_depth_check', label: 'scroll_depth without depth', bad: { event_value: json({ blockId: 'x' }) } },
  { table: 'app.engagement_events', constraint: 'engagement_events_scroll_depth_check', label: 'depth 150', bad: { event_value: json({ depth: 150 }) }, good: { event_value: json({ depth: 100 }) } },
  { table: 'app.engagement_events', constraint: 'engagement_events_scroll_depth_check', label: 'depth as text', bad: { event_value: json({ depth: 'deep' }) }, good: { event_type: 'time_on_block', event_value: json({ duration: 45 }) } },
  // audit_logs
  { table: 'audit.audit_logs', constraint: 'audit_logs_action_check', label: 'action with spaces', bad: { action: 'Episode Generate' }, good: { action: 'update' } },
  { table: 'audit.audit_logs', constraint: 'audit_logs_table_record_check', label: 'table without record', bad: { record_id: null }, good: { table_name: null, record_id: null } },
  { table: 'audit.audit_logs', constraint: 'audit_logs_user_actor_check', label: 'user actor without user', bad: { user_id: null }, good: { user_id: null, actor_kind: 'system' } },
  { table: 'audit.audit_logs', constraint: 'audit_logs_old_data_check', label: 'old data array', bad: { old_data: json([]) }, good: { old_data: json({ status: 'draft' }) } },
  { table: 'audit.audit_logs', constraint: 'audit_logs_new_data_check', label: 'new data scalar', bad: { new_data: json(1) } },
  { table: 'audit.audit_logs', constraint: 'audit_logs_metadata_check', label: 'metadata array', bad: { metadata: json([]) } },
  // logs
  { table: 'ops.log_event_types', constraint: 'log_event_types_code_check', label: 'code with dots', bad: { code: 'api.call' } },
  { table: 'ops.logs', constraint: 'logs_message_check', label: 'empty message', bad: { message: '' } },
  { table: 'ops.logs', constraint: 'logs_metadata_check', label: 'metadata array', bad: { metadata: json(['x']) } },
  // membership_invitations (sql/0920)
  { table: 'app.membership_invitations', constraint: 'membership_invitations_accepted_after_created_check', label: 'accepted before created', bad: { accepted_at: '2000-01-01T00:00:00Z' } },
  // request-context keys (sql/0930)
  { table: 'app_private.context_signing_keys', constraint: 'context_signing_keys_kid_check', label: 'kid with a space', bad: { kid: 'user key' } },
  { table: 'app_private.context_signing_keys', constraint: 'context_signing_keys_purpose_check', label: 'purpose admin', bad: { purpose: 'admin' }, good: { purpose: 'worker' } },
  { table: 'app_private.context_signing_keys', constraint: 'context_signing_keys_secret_check', label: 'a 16-byte secret', bad: { secret: `\\x${'ab'.repeat(16)}` } },
  { table: 'app_private.context_signing_keys', constraint: 'context_signing_keys_retired_after_created_check', label: 'retired before created', bad: { created_at: '2026-01-02T00:00:00Z', retired_at: '2026-01-01T00:00:00Z' } },
  { table: 'app_private.context_mac_key', constraint: 'context_mac_key_singleton_check', label: 'a second key row', bad: { singleton: false } },
  // job_locks (sql/0890)
  { table: 'ops.job_locks', constraint: 'job_locks_job_check', label: 'job name with capitals', bad: { job: 'Reset-Limits' } },
  // rate_limits (sql/0630)
  { table: 'ops.rate_limits', constraint: 'rate_limits_name_check', label: 'name with spaces', bad: { name: 'Chat Messages' }, good: { name: 'chat_messages.assistant' } },
  { table: 'ops.rate_limits', constraint: 'rate_limits_min_interval_check', label: 'negative min interval', bad: { min_interval: '-1 second' }, good: { min_interval: '0' } },
  { table: 'ops.rate_limits', constraint: 'rate_limits_min_interval_check', label: 'min interval over a day', bad: { min_interval: '25 hours' }, good: { min_interval: '1 day' } },
  { table: 'ops.rate_limits', constraint: 'rate_limits_max_events_check', label: 'max events 0', bad: { max_events: 0 }, good: { max_events: 1 } },
  { table: 'ops.rate_limits', constraint: 'rate_limits_max_events_check', label: 'max events over 100000', bad: { max_events: 100001 }, good: { max_events: 100000 } },
  { table: 'ops.rate_limits', constraint: 'rate_limits_per_interval_check', label: 'zero window', bad: { per_interval: '0' } },
  { table: 'ops.rate_limits', constraint: 'rate_limits_per_interval_check', label: 'window over a day', bad: { per_interval: '2 days' }, good: { per_interval: '1 day' } },
  // partition_policies (sql/0700)
  { table: 'ops.partition_policies', constraint: 'partition_policies_parent_table_check', label: 'unqualified table name', bad: { parent_table: 'logs' }, good: { parent_table: 'ops.some_table' } },
  { table: 'ops.partition_policies', constraint: 'partition_policies_parent_table_check', label: 'name with SQL in it', bad: { parent_table: 'ops.logs; drop table x' } },
  { table: 'ops.partition_policies', constraint: 'partition_policies_premake_check', label: 'premake 0', bad: { premake: 0 }, good: { premake: 1 } },
  { table: 'ops.partition_policies', constraint: 'partition_policies_premake_check', label: 'premake 25', bad: { premake: 25 }, good: { premake: 24 } },
  { table: 'ops.partition_policies', constraint: 'partition_policies_retention_check', label: 'retention of an hour', bad: { retention: '1 hour' }, good: { retention: null } },
  // job_schedule_status (sql/0600)
  { table: 'ops.job_schedule_status', constraint: 'job_schedule_status_reason_check', label: 'empty reason', bad: { reason: '' } },
  { table: 'ops.job_schedule_status', constraint: 'job_schedule_status_reason_check', label: 'reason over 2000', bad: { reason: long(2001) }, good: { reason: long(2000) } },
  { table: 'ops.job_schedule_status', constraint: 'job_schedule_status_jobs_check', label: 'jobs an object', bad: { jobs: json({ jobname: 'x' }) }, good: { scheduled: true, jobs: json([{ jobname: 'x' }]) } },
];

// Unique keys: the bad row collides with a fixture row.
const uniques: Case[] = ([
  { table: 'app.organizations', constraint: 'organizations_slug_key', label: 'slug taken', bad: { slug: 'acme' } },
  { table: 'app.users', constraint: 'users_email_key', label: 'email taken (case-insensitive)', bad: { email: 'U1@Example.COM' } },
  { table: 'app.memberships', constraint: 'memberships_organization_id_user_id_key', label: 'second membership of a user in an org', bad: { organization_id: O1 } },
  { table: 'app.episodes', constraint: 'episodes_project_id_episode_number_key', label: 'episode number reused in project', bad: { episode_number: 1 } },
  { table: 'app.blocks', constraint: 'blocks_episode_id_position_key', label: 'two blocks at one position', bad: { position: 0 } },
  { table: 'app.scenarios', constraint: 'scenarios_code_key', label: 'code taken', bad: { code: 'marketplace' } },
  { table: 'app.scenarios', constraint: 'scenarios_title_key', label: 'title taken (case-insensitive)', bad: { title: 'MARKETPLACE' } },
  { table: 'app.chat_messages', constraint: 'chat_messages_session_id_client_message_id_key', label: 'retried write with the same idempotency key', bad: { client_message_id: CM1 }, good: { client_message_id: null } },
  { table: 'app.question_templates', constraint: 'question_templates_code_key', label: 'code taken', bad: { code: 'goals_surface_1' } },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_source_type_source_id_chunk_index_key', label: 'same source chunk and model twice', bad: { chunk_index: 0 }, good: { chunk_index: 0, embedding_model: 'text-embedding-3-small' } },
  { table: 'app.episode_schedule_queue', constraint: 'episode_schedule_queue_project_id_scheduled_for_key', label: 'second live item for one slot', bad: { scheduled_for: '2030-01-07 09:00:00+00' }, good: { scheduled_for: '2030-01-07 09:00:00+00', project_id: P2, organization_id: O2, episode_id: E2 } },
  // The default limit has organization_id NULL; NULLS NOT DISTINCT makes a second default a duplicate.
  { table: 'ops.rate_limits', constraint: 'rate_limits_name_organization_id_key', label: 'second default for a limit (NULLS NOT DISTINCT)', bad: { name: 'chat_messages.user', organization_id: null }, good: { name: 'chat_messages.user', organization_id: O1 } },
  { table: 'app.token_usage_daily', constraint: 'token_usage_daily_pkey', label: 'second row for an org and day', bad: { usage_date: '2030-01-01' } },
  { table: 'app.engagement_event_types', constraint: 'engagement_event_types_pkey', label: 'type code taken', bad: { code: 'scroll_depth' } },
  { table: 'ops.log_event_types', constraint: 'log_event_types_pkey', label: 'type code taken', bad: { code: 'api_call_started' } },
] as Case[]).map((c) => ({ ...c, code: '23505' }));

// Trigger-constraints: raised like a CHECK / FK would be.
const triggerChecks: Case[] = [
  { table: 'app.chat_messages', constraint: 'chat_messages_session_open_check', label: 'message into a completed session', bad: { session_id: CS2 } },
  { table: 'app.chat_messages', constraint: 'chat_messages_session_open_check', label: 'message into a soft-deleted session', bad: { session_id: CS3 } },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_source_fkey', label: 'session that does not exist', bad: { source_id: randomUUID() }, code: '23503' },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_source_fkey', label: 'session of another organization', bad: { source_id: CSX }, code: '23503', good: { source_id: CSX, organization_id: O2 } },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_source_fkey', label: 'template that does not exist', bad: { source_type: 'question_template', source_id: randomUUID(), organization_id: null }, code: '23503', good: { source_type: 'question_template', source_id: T1, organization_id: null } },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_source_fkey', label: 'memory that does not exist', bad: { source_type: 'agent_memory', source_id: randomUUID() }, code: '23503', good: { source_type: 'agent_memory', source_id: AM1 } },
  { table: 'app.rag_embeddings', constraint: 'rag_embeddings_source_fkey', label: 'block that does not exist', bad: { source_type: 'block', source_id: randomUUID() }, code: '23503', good: { source_type: 'block', source_id: B1 } },
];

// Tenant trigger-constraints (sql/0420 app_private.tg__tenant_parent, triggers _tenant_parent_<fk>): a child row's
// organization_id (and, for messages, user_id) must be its parent's. They raise 23503 named
// <table>_<fk>_tenant_fkey, the same whether the parent is missing or belongs to another organization (no oracle).
// This file writes as the superuser, so 0420's other layer (_tenant_context_<fk>, for writes under the app's
// policies: the parent must be in the request context) never fires here; test/security/tenant-error-oracle
// attacks it through PgBouncer as the app.
const otherOrgParent: Record<string, string> = { 'app.projects': P2, 'app.episodes': E2, 'app.blocks': B2, 'app.chat_sessions': CSX };
const tenantParents: [table: string, fk: string, parent: string][] = [
  ['app.episodes', 'project_id', 'app.projects'],
  ['app.blocks', 'episode_id', 'app.episodes'],
  ['app.highlights', 'episode_id', 'app.episodes'],
  ['app.highlights', 'block_id', 'app.blocks'],
  ['app.planning_notes', 'project_id', 'app.projects'],
  ['app.planning_notes', 'incorporated_episode_id', 'app.episodes'],
  ['app.agent_memory', 'project_id', 'app.projects'],
  ['app.chat_sessions', 'project_id', 'app.projects'],
  ['app.chat_sessions', 'episode_id', 'app.episodes'],
  ['app.chat_messages', 'session_id', 'app.chat_sessions'],
  ['app.episode_schedule_queue', 'project_id', 'app.projects'],
  ['app.episode_schedule_queue', 'episode_id', 'app.episodes'],
  ['app.token_usage', 'project_id', 'app.projects'],
  ['app.token_usage', 'episode_id', 'app.episodes'],
  ['app.token_usage', 'chat_session_id', 'app.chat_sessions'],
  ['app.derived_insights', 'project_id', 'app.projects'],
  ['app.derived_insights', 'session_id', 'app.chat_sessions'],
  ['app.derived_insights', 'applied_to_episode_id', 'app.episodes'],
  ['app.engagement_events', 'episode_id', 'app.episodes'],
  ['app.engagement_events', 'block_id', 'app.blocks'],
];
const tenantChecks: Case[] = [
  ...tenantParents.flatMap(([table, fk, parent]): Case[] => {
    const constraint = `${table.split('.')[1]}_${fk}_tenant_fkey`;
    return [
      { table, constraint, label: `${fk} that does not exist`, bad: { [fk]: randomUUID() }, code: '23503' },
      { table, constraint, label: `${fk} of another organization`, bad: { [fk]: otherOrgParent[parent] }, code: '23503' },
    ];
  }),
  { table: 'app.chat_messages', constraint: 'chat_messages_session_id_tenant_fkey', label: 'user_id other than the session owner', bad: { user_id: U2 }, code: '23503' },
];

// Enums: a value outside the type fails with 22P02 naming the type.
const enums: { table: string; column: string; type: string; good: string }[] = [
  { table: 'app.memberships', column: 'role', type: 'app.membership_role', good: 'viewer' },
  { table: 'app.episodes', column: 'status', type: 'app.episode_status', good: 'generating' },
  { table: 'app.blocks', column: 'type', type: 'app.block_type', good: 'quote' },
  { table: 'app.planning_notes', column: 'status', type: 'app.planning_note_status', good: 'archived' },
  { table: 'app.agent_memory', column: 'memory_type', type: 'app.agent_memory_type', good: 'fact' },
  { table: 'app.chat_messages', column: 'role', type: 'app.chat_message_role', good: 'user' },
  { table: 'app.chat_messages', column: 'chat_type', type: 'app.chat_type', good: 'helper' },
  { table: 'app.question_templates', column: 'focus', type: 'app.interview_focus', good: 'regulation' },
  { table: 'app.question_templates', column: 'depth', type: 'app.interview_depth', good: 'deep' },
  { table: 'app.question_templates', column: 'category', type: 'app.template_category', good: 'technical' },
  { table: 'app.rag_embeddings', column: 'source_type', type: 'app.rag_source_type', good: 'chat_session' },
  { table: 'app.episode_schedule_queue', column: 'status', type: 'app.queue_status', good: 'cancelled' },
  { table: 'app.token_usage', column: 'operation', type: 'app.token_operation', good: 'embedding' },
  { table: 'app.derived_insights', column: 'insight_type', type: 'app.insight_type', good: 'confusion_point' },
  { table: 'audit.audit_logs', column: 'actor_kind', type: 'audit.actor_kind', good: 'service' },
  { table: 'ops.logs', column: 'level', type: 'ops.log_level', good: 'error' },
];

// Foreign keys whose bad value needs more than "point the column at nothing".
const fkSetup: Record<string, string> = {
  // The polymorphic source trigger runs first and would report the organization mismatch itself.
  rag_embeddings_organization_id_fkey: 'ALTER TABLE app.rag_embeddings DISABLE TRIGGER rag_embeddings_source_fkey',
  // The encryption triggers (sql/0430) overwrite the key id with the active key's: write the stored form directly.
  chat_messages_content_key_id_fkey: 'ALTER TABLE app.chat_messages DISABLE TRIGGER chat_messages_encrypt_content',
  planning_notes_note_key_id_fkey: 'ALTER TABLE app.planning_notes DISABLE TRIGGER planning_notes_encrypt_note',
};
// ... and the row those cases start from (ciphertext already in place, plaintext input column NULL).
const fkRow: Record<string, Row> = {
  chat_messages_content_key_id_fkey: { content: null, content_enc: sql("'\\x00'::bytea"), content_key_id: 'ktest' },
  planning_notes_note_key_id_fkey: { note: null, note_enc: sql("'\\x00'::bytea"), note_key_id: 'ktest' },
};

// Encrypted fields (sql/0430): the plaintext input column must be NULL at rest. The encryption trigger NULLs it,
// so the CHECK is exposed with the trigger disabled.
const plaintextChecks: Case[] = [
  {
    table: 'app.chat_messages', constraint: 'chat_messages_content_plaintext_check', label: 'plaintext stored (encryption trigger disabled)',
    setup: 'ALTER TABLE app.chat_messages DISABLE TRIGGER chat_messages_encrypt_content',
    bad: { content_enc: sql("'\\x00'::bytea"), content_key_id: 'ktest' }, good: fkRow.chat_messages_content_key_id_fkey,
  },
  {
    table: 'app.planning_notes', constraint: 'planning_notes_note_plaintext_check', label: 'plaintext stored (encryption trigger disabled)',
    setup: 'ALTER TABLE app.planning_notes DISABLE TRIGGER planning_notes_encrypt_note',
    bad: { note_enc: sql("'\\x00'::bytea"), note_key_id: 'ktest' }, good: fkRow.planning_notes_note_key_id_fkey,
  },
];

// ---------------------------------------------------------------------------------------------------------
let db: TestDb;
let client: pg.Client;
const tested = new Set<string>();

function insertSql(table: string, row: Row): { text: string; values: unknown[] } {
  const cols: string[] = [];
  const exprs: string[] = [];
  const values: unknown[] = [];
  for (const [k, v] of Object.entries(row)) {
    cols.push(pg.escapeIdentifier(k));
    if (v !== null && typeof v === 'object' && 'sql' in v) exprs.push(v.sql);
    else {
      values.push(v !== null && typeof v === 'object' && 'json' in v ? JSON.stringify(v.json) : v);
      exprs.push(`$${values.length}`);
    }
  }
  return { text: `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${exprs.join(', ')})`, values };
}

async function insert(table: string, row: Row) {
  const q = insertSql(table, row);
  await client.query(q.text, q.values);
}

/** Runs fn in a transaction that is always rolled back, so cases never see each other. */
async function rolledBack(fn: () => Promise<void>) {
  await client.query('BEGIN');
  try {
    await fn();
  } finally {
    await client.query('ROLLBACK');
  }
}

async function expectError(fn: () => Promise<unknown>): Promise<pg.DatabaseError> {
  await client.query('SAVEPOINT bad');
  try {
    await fn();
  } catch (e) {
    await client.query('ROLLBACK TO SAVEPOINT bad');
    return e as pg.DatabaseError;
  }
  throw new Error('expected the statement to fail, it succeeded');
}

async function runCase(c: Case) {
  await rolledBack(async () => {
    if (baseSetup[c.table]) await client.query(baseSetup[c.table]);
    if (c.setup) await client.query(c.setup);
    const err = await expectError(() => insert(c.table, { ...base[c.table](), ...c.bad }));
    expect({ code: err.code, constraint: err.constraint }).toEqual({ code: c.code ?? '23514', constraint: c.constraint });
    await insert(c.table, { ...base[c.table](), ...(c.good ?? {}) });
  });
  tested.add(c.constraint);
}

beforeAll(async () => {
  db = await migratedDatabase();
  client = new pg.Client({ connectionString: db.superUrl });
  await client.connect();
  // chat_messages.content / planning_notes.note are encrypted on write (sql/0430): register a test key and
  // hand it to this session (session-level is fine for a superuser test client; the app sets it per transaction).
  const keyring = { ktest: generateKey() };
  await ensureKeys(client, keyring);
  await client.query("SELECT set_config('app.enc_keys', $1, false)", [JSON.stringify(keyring)]);
  const fixture: [string, Row][] = [
    ['app.organizations', { id: O1, name: 'Acme', slug: 'acme' }],
    ['app.organizations', { id: O2, name: 'Globex', slug: 'globex' }],
    ['app.users', { id: U1, email: 'u1@example.com' }],
    ['app.users', { id: U2, email: 'u2@example.com' }],
    ['app.memberships', { organization_id: O1, user_id: U1, role: 'owner' }],
    ['app.memberships', { organization_id: O2, user_id: U2, role: 'owner' }],
    ['app.projects', { id: P1, organization_id: O1, name: 'EU AI regulation' }],
    ['app.projects', { id: P2, organization_id: O2, name: 'Other' }],
    ['app.episodes', { id: E1, organization_id: O1, project_id: P1, episode_number: 1, title: 'First' }],
    ['app.episodes', { id: E2, organization_id: O2, project_id: P2, episode_number: 1, title: 'Other first' }],
    ['app.blocks', { id: B1, organization_id: O1, episode_id: E1, position: 0, content: '# One' }],
    ['app.blocks', { id: B2, organization_id: O2, episode_id: E2, position: 0, content: '# Other' }],
    ['app.scenarios', { id: S1, code: 'marketplace', title: 'Marketplace', emoji: '🛒' }],
    ['app.chat_sessions', { id: CS1, organization_id: O1, user_id: U1, project_id: P1, scenario_id: S1 }],
    ['app.chat_sessions', { id: CS2, organization_id: O1, user_id: U1, scenario_id: S1, is_completed: true }],
    ['app.chat_sessions', { id: CS3, organization_id: O1, user_id: U1, deleted_at: now, deleted_by: U1 }],
    ['app.chat_sessions', { id: CSX, organization_id: O2, user_id: U2 }],
    ['app.chat_messages', { id: M1, organization_id: O1, session_id: CS1, user_id: U1, role: 'user', chat_type: 'main', content: 'first', client_message_id: CM1,
      // An hour old: sql/0630's rate limit (user messages >= 500 ms apart per session) must not refuse the cases' messages.
      created_at: sql("now() - interval '1 hour'") }],
    ['app.question_templates', { id: T1, code: 'goals_surface_1', focus: 'goals', depth: 'surface', template: 'What do you want to learn?' }],
    ['app.agent_memory', { id: AM1, organization_id: O1, project_id: P1, content: 'Likes regulation news' }],
    ['app.rag_embeddings', { organization_id: O1, source_type: 'chat_session', source_id: CS1, chunk_index: 0, embedding: vec(0) }],
    ['app.episode_schedule_queue', { organization_id: O1, project_id: P1, scheduled_for: '2030-01-07 09:00:00+00' }],
    ['app.token_usage_daily', { organization_id: O1, usage_date: '2030-01-01' }],
  ];
  for (const [t, r] of fixture) await insert(t, r);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe('every table accepts its valid base row', () => {
  for (const table of Object.keys(base)) {
    it(`${table} base row inserts`, async () => {
      await rolledBack(async () => {
        if (baseSetup[table]) await client.query(baseSetup[table]);
        const q = insertSql(table, base[table]());
        const r = await client.query(`${q.text} RETURNING 1 AS ok`, q.values);
        expect(r.rows).toEqual([{ ok: 1 }]);
      });
    });
  }
});

describe('CHECK constraints reject the bad value, accept the good one', () => {
  for (const c of checks) it(`${c.constraint} rejects ${c.label}`, () => runCase(c));
});

describe('unique keys reject duplicates', () => {
  for (const c of uniques) it(`${c.constraint} rejects ${c.label}`, () => runCase(c));
});

describe('trigger-constraints reject the bad value, accept the good one', () => {
  for (const c of triggerChecks) it(`${c.constraint} rejects ${c.label}`, () => runCase(c));
  for (const c of plaintextChecks) it(`${c.constraint} rejects ${c.label}`, () => runCase(c));

  it('chat_messages_immutable_check rejects an edit of content, accepts a soft delete', async () => {
    await rolledBack(async () => {
      const err = await expectError(() => client.query("UPDATE app.chat_messages SET content = 'edited' WHERE id = $1", [M1]));
      expect({ code: err.code, constraint: err.constraint }).toEqual({ code: '23514', constraint: 'chat_messages_immutable_check' });
      const err2 = await expectError(() => client.query('UPDATE app.chat_messages SET session_id = $2 WHERE id = $1', [M1, CS2]));
      expect({ code: err2.code, constraint: err2.constraint }).toEqual({ code: '23514', constraint: 'chat_messages_immutable_check' });
      const ok = await client.query("UPDATE app.chat_messages SET deleted_at = now(), deleted_by = $2, deleted_reason = 'gdpr' WHERE id = $1", [M1, U1]);
      expect(ok.rowCount).toBe(1);
    });
    tested.add('chat_messages_immutable_check');
  });

  it('chat_messages_session_open_check: completing a session closes it to new messages', async () => {
    await rolledBack(async () => {
      await insert('app.chat_messages', base['app.chat_messages']());
      await client.query('UPDATE app.chat_sessions SET is_completed = true WHERE id = $1', [CS1]);
      const err = await expectError(() => insert('app.chat_messages', base['app.chat_messages']()));
      expect({ code: err.code, constraint: err.constraint }).toEqual({ code: '23514', constraint: 'chat_messages_session_open_check' });
    });
  });
});

describe('tenant-consistency trigger-constraints (sql/0420) reject a parent of another organization or none', () => {
  for (const c of tenantChecks) it(`${c.constraint} rejects ${c.label}`, () => runCase(c));

  it('a child row without organization_id (and a message without user_id) gets its parent\'s', async () => {
    await rolledBack(async () => {
      const { rows: [b] } = await client.query(
        "INSERT INTO app.blocks (episode_id, position, content) VALUES ($1, 500, 'x') RETURNING organization_id", [E2]);
      expect(b.organization_id).toBe(O2);
      const { rows: [m] } = await client.query(
        "INSERT INTO app.chat_messages (session_id, role, chat_type, content) VALUES ($1, 'user', 'main', 'hi') RETURNING organization_id, user_id", [CSX]);
      expect(m).toEqual({ organization_id: O2, user_id: U2 });
    });
  });
});

describe('foreign keys reject a row pointing at nothing', () => {
  // Every foreign key of the schema, read from the catalogue, so a new one cannot be missed.
  let fks: { table: string; constraint: string; column: string; type: string; nullable: boolean }[] = [];
  beforeAll(async () => {
    const r = await client.query(`
      SELECT format('%I.%I', n.nspname, c.relname) AS table, k.conname AS constraint, a.attname AS column,
             format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
      FROM pg_constraint k
      JOIN pg_class c ON c.oid = k.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
      WHERE k.contype = 'f' AND n.nspname IN ('app', 'audit', 'ops') AND NOT c.relispartition
      ORDER BY 1, 2`);
    fks = r.rows;
  });

  // The tenant-consistency triggers of sql/0420 are BEFORE ROW triggers named to fire before every other BEFORE
  // trigger of their table (`_tenant_…`: PostgreSQL fires them in name order), and a foreign key is checked after
  // the row is written, so for a row pointing at nothing the tenant trigger answers first — before, too, the
  // guards that read the parent (0630's session-open check and rate limit, 0620's cost breaker) — with the same
  // SQLSTATE (23503) under its own name <table>_<fk>_tenant_fkey:
  //   * the bad column has a tenant trigger (project_id, episode_id, session_id, ...): the parent is not found;
  //   * the bad column is organization_id (or user_id, where the parent carries the owner): the row's parents
  //     exist but in another organization, so the first tenant trigger (by trigger name, PostgreSQL's firing
  //     order) whose column is set in the base row fires.
  // The case asserts exactly that answer, then disables the table's tenant triggers (inside the rolled-back
  // transaction) and asserts that the real foreign key rejects the same row by itself.
  let tenantTriggers: { table: string; trigger: string; fk: string; withUser: boolean }[] = [];
  beforeAll(async () => {
    const r = await client.query<{ table: string; trigger: string; args: Buffer }>(`
      SELECT format('%I.%I', n.nspname, c.relname) AS table, t.tgname AS trigger, t.tgargs AS args
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgfoid = 'app_private.tg__tenant_parent()'::regprocedure AND NOT c.relispartition
      ORDER BY 1, 2`);
    tenantTriggers = r.rows.map((t) => {
      const [fk, , withUser] = t.args.toString('utf8').split('\0');
      return { table: t.table, trigger: t.trigger, fk, withUser: withUser === 't' || withUser === 'true' };
    });
  });

  function expectedAnswer(table: string, column: string, constraint: string, row: Row): string {
    const rel = table.split('.')[1];
    const mine = tenantTriggers.filter((t) => t.table === table);
    if (mine.some((t) => t.fk === column)) return `${rel}_${column}_tenant_fkey`;
    const preempting = mine.filter((t) => (column === 'organization_id' || (column === 'user_id' && t.withUser)) && row[t.fk] != null);
    return preempting.length > 0 ? `${rel}_${preempting[0].fk}_tenant_fkey` : constraint;
  }

  it('every foreign key rejects a row pointing at nothing (23503: the tenant trigger first where one applies, then the key itself) and accepts the base row', async () => {
    expect(fks.length).toBeGreaterThan(40);
    expect(tenantTriggers.length).toBe(tenantParents.length);
    let preempted = 0;
    for (const fk of fks) {
      expect(base[fk.table], `no base row for ${fk.table}`).toBeDefined();
      await rolledBack(async () => {
        if (fkSetup[fk.constraint]) await client.query(fkSetup[fk.constraint]);
        const bad = fk.type === 'uuid' ? randomUUID() : 'no_such_code';
        const start = (): Row => ({ ...base[fk.table](), ...(fkRow[fk.constraint] ?? {}) });
        const row = { ...start(), [fk.column]: bad };
        const expected = expectedAnswer(fk.table, fk.column, fk.constraint, row);
        const err = await expectError(() => insert(fk.table, row)).catch((e: Error) => { throw new Error(`${fk.constraint}: ${e.message}`); });
        expect({ fk: fk.constraint, code: err.code, constraint: err.constraint }).toEqual({ fk: fk.constraint, code: '23503', constraint: expected });
        if (expected !== fk.constraint) {
          preempted++;
          for (const t of tenantTriggers.filter((x) => x.table === fk.table)) {
            await client.query(`ALTER TABLE ${fk.table} DISABLE TRIGGER ${pg.escapeIdentifier(t.trigger)}`);
          }
          const err2 = await expectError(() => insert(fk.table, { ...start(), [fk.column]: bad }))
            .catch((e: Error) => { throw new Error(`${fk.constraint} without tenant triggers: ${e.message}`); });
          expect({ fk: fk.constraint, code: err2.code, constraint: err2.constraint, without: 'tenant triggers' })
            .toEqual({ fk: fk.constraint, code: '23503', constraint: fk.constraint, without: 'tenant triggers' });
        }
        await insert(fk.table, start());
      });
      tested.add(fk.constraint);
    }
    // Guard against the rule above silently matching nothing (e.g. trigger arguments read wrongly).
    expect(preempted).toBeGreaterThan(20);
  });

  it('every foreign key has an index whose leading column is the key', async () => {
    const r = await client.query(`
      SELECT k.conrelid::regclass::text AS table, k.conname
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE k.contype = 'f' AND c.relnamespace::regnamespace::text IN ('app', 'audit', 'ops') AND NOT c.relispartition
        AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = k.conrelid AND i.indkey[0] = k.conkey[1])`);
    expect(r.rows).toEqual([]);
  });

  it('every foreign key states ON DELETE and ON UPDATE deliberately (no default NO ACTION)', async () => {
    const r = await client.query(`
      SELECT k.conname, k.confdeltype, k.confupdtype
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE k.contype = 'f' AND c.relnamespace::regnamespace::text IN ('app', 'audit', 'ops') AND NOT c.relispartition
        AND (k.confdeltype = 'a' OR k.confupdtype = 'a')`);
    expect(r.rows).toEqual([]);
  });
});

describe('enums reject values outside the type', () => {
  for (const e of enums) {
    it(`${e.type} rejects 'bogus' in ${e.table}.${e.column}, accepts '${e.good}'`, async () => {
      await rolledBack(async () => {
        const err = await expectError(() => insert(e.table, { ...base[e.table](), [e.column]: 'bogus' }));
        expect(err.code).toBe('22P02');
        // The type is shown schema-qualified unless its schema is on the search_path.
        expect(err.message).toMatch(new RegExp(`^invalid input value for enum (${e.type.split('.')[0]}\\.)?${e.type.split('.')[1]}: "bogus"$`));
        const row: Row = { ...base[e.table](), [e.column]: e.good };
        if (e.table === 'app.planning_notes') row.incorporated_episode_id = null;
        await insert(e.table, row);
      });
      tested.add(e.type);
    });
  }
});

describe('generic timestamp and soft-delete checks', () => {
  const generic: { suffix: string; column: string; label: string; bad: Row; good: Row }[] = [
    { suffix: 'updated_after_created_check', column: 'updated_at', label: 'updated before created', bad: { updated_at: ago }, good: { updated_at: now } },
    { suffix: 'deleted_after_created_check', column: 'deleted_at', label: 'deleted before created', bad: { deleted_at: ago }, good: { deleted_at: now } },
    { suffix: 'deleted_by_check', column: 'deleted_by', label: 'deleted_by without deleted_at', bad: { deleted_by: U1 }, good: { deleted_at: now, deleted_by: U1 } },
  ];
  const withUpdated = [...['organizations', 'users', 'memberships', 'projects', 'episodes', 'blocks', 'highlights', 'planning_notes', 'agent_memory',
    'scenarios', 'chat_sessions', 'question_templates', 'rag_embeddings', 'episode_schedule_queue', 'token_usage_daily', 'derived_insights'].map((t) => `app.${t}`),
    'ops.rate_limits', 'ops.partition_policies'];
  const withDeleted = ['organizations', 'users', 'memberships', 'projects', 'episodes', 'blocks', 'highlights', 'planning_notes', 'agent_memory',
    'scenarios', 'chat_sessions', 'chat_messages', 'question_templates', 'derived_insights'].map((t) => `app.${t}`);

  it('a table has updated_at / deleted_at / deleted_by exactly when it has the matching check, and the lists below name them all', async () => {
    for (const g of generic) {
      const { rows } = await client.query<{ rel: string; has_col: boolean; has_check: boolean }>(`
        SELECT format('%s.%s', c.relnamespace::regnamespace, c.relname) AS rel,
               EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $1 AND NOT a.attisdropped) AS has_col,
               EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.conname = c.relname || '_' || $2) AS has_check
        FROM pg_class c WHERE c.relnamespace::regnamespace::text IN ('app', 'audit', 'ops') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY 1`, [g.column, g.suffix]);
      for (const r of rows) expect({ rel: r.rel, check: r.has_check }).toEqual({ rel: r.rel, check: r.has_col });
      const expected = g.column === 'updated_at' ? withUpdated : withDeleted;
      expect(rows.filter((r) => r.has_col).map((r) => r.rel).sort()).toEqual([...expected].sort());
    }
  });

  for (const g of generic) {
    for (const table of g.column === 'updated_at' ? withUpdated : withDeleted) {
      const c: Case = { table, constraint: `${table.split('.')[1]}_${g.suffix}`, label: g.label, bad: g.bad, good: g.good };
      it(`${c.constraint} rejects ${g.label}`, () => runCase(c));
    }
  }
});

describe('generated and automatic columns', () => {
  it('chat_sessions.duration_seconds cannot be written', async () => {
    await rolledBack(async () => {
      const err = await expectError(() => insert('app.chat_sessions', { ...base['app.chat_sessions'](), duration_seconds: -5 }));
      expect(err.code).toBe('428C9');
    });
  });

  it('completing a session sets completed_at and duration; reopening clears them (seed 004 #1)', async () => {
    await rolledBack(async () => {
      const { rows: [s] } = await client.query(
        "INSERT INTO app.chat_sessions (organization_id, user_id, created_at) VALUES ($1, $2, now() - interval '90 seconds') RETURNING id", [O1, U1]);
      const { rows: [done] } = await client.query('UPDATE app.chat_sessions SET is_completed = true WHERE id = $1 RETURNING completed_at, duration_seconds', [s.id]);
      expect(done.completed_at).not.toBeNull();
      expect(done.duration_seconds).toBe(90);
      const { rows: [open] } = await client.query('UPDATE app.chat_sessions SET is_completed = false WHERE id = $1 RETURNING completed_at, duration_seconds', [s.id]);
      expect(open).toEqual({ completed_at: null, duration_seconds: null });
    });
  });

  it('updated_at moves on a real change only', async () => {
    await rolledBack(async () => {
      const { rows: [p] } = await client.query("INSERT INTO app.projects (organization_id, name, created_at, updated_at) VALUES ($1, 'x', now() - interval '1 hour', now() - interval '1 hour') RETURNING id, updated_at", [O1]);
      const { rows: [same] } = await client.query("UPDATE app.projects SET name = 'x' WHERE id = $1 RETURNING updated_at", [p.id]);
      expect(same.updated_at).toEqual(p.updated_at);
      const { rows: [changed] } = await client.query("UPDATE app.projects SET name = 'y' WHERE id = $1 RETURNING updated_at", [p.id]);
      expect(changed.updated_at.getTime()).toBeGreaterThan(p.updated_at.getTime());
    });
  });

  it('users.week_reset_date defaults to the next Monday 00:00 UTC', async () => {
    const { rows: [r] } = await client.query(`SELECT extract(isodow FROM week_reset_date AT TIME ZONE 'UTC') AS dow,
        (week_reset_date AT TIME ZONE 'UTC')::time AS t, week_reset_date > now() AS future, week_reset_date <= now() + interval '7 days' AS within_week
      FROM app.users WHERE id = $1`, [U1]);
    expect(r).toEqual({ dow: '1', t: '00:00:00', future: true, within_week: true });
  });

  it('token_usage.total_tokens is input + output', async () => {
    await rolledBack(async () => {
      const q = insertSql('app.token_usage', base['app.token_usage']());
      const { rows: [r] } = await client.query(`${q.text} RETURNING total_tokens`, q.values);
      expect(r.total_tokens).toBe(15);
    });
  });

  it('rag embedding dimensions are fixed at 1536', async () => {
    await rolledBack(async () => {
      const err = await expectError(() => insert('app.rag_embeddings', { ...base['app.rag_embeddings'](), embedding: '[1,2,3]' }));
      expect(err.code).toBe('22000');
      expect(err.message).toContain('expected 1536 dimensions');
    });
  });
});

describe('polymorphic ON DELETE CASCADE of rag_embeddings (seed 002 #2)', () => {
  for (const [table, type, id] of [
    ['app.agent_memory', 'agent_memory', AM1], ['app.blocks', 'block', B1], ['app.chat_sessions', 'chat_session', CS1], ['app.question_templates', 'question_template', T1],
  ] as const) {
    it(`deleting a ${type} deletes its embeddings`, async () => {
      await rolledBack(async () => {
        await insert('app.rag_embeddings', { ...base['app.rag_embeddings'](), source_type: type, source_id: id, organization_id: type === 'question_template' ? null : O1 });
        const before = await client.query('SELECT count(*)::int AS n FROM app.rag_embeddings WHERE source_type = $1 AND source_id = $2', [type, id]);
        expect(before.rows[0].n).toBeGreaterThan(0);
        await client.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
        const after = await client.query('SELECT count(*)::int AS n FROM app.rag_embeddings WHERE source_type = $1 AND source_id = $2', [type, id]);
        expect(after.rows[0].n).toBe(0);
      });
    });
  }
});

describe('partitioned append-only tables', () => {
  const parts = ['app.token_usage', 'app.user_events', 'app.engagement_events', 'audit.audit_logs', 'ops.logs'];
  for (const t of parts) {
    it(`${t} is range-partitioned by created_at with DEFAULT, this month and two ahead; rows land in this month`, async () => {
      const { rows } = await client.query(`
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [t]);
      const rel = t.split('.')[1];
      const names = rows.map((r) => r.relname);
      expect(names).toContain(`${rel}_default`);
      // This month's partition, by pg_partman's name for it (4.7: _pYYYY_MM, 5.x: _pYYYYMMDD).
      const { rows: [m] } = await client.query(`SELECT ops.monthly_partition_name($1, now()) AS p`, [t]);
      expect(names).toContain(m.p);
      expect(names.length).toBeGreaterThanOrEqual(4);
      const key = await client.query("SELECT pg_get_partkeydef($1::regclass) AS k", [t]);
      expect(key.rows[0].k).toBe('RANGE (created_at)');
      await rolledBack(async () => {
        const q = insertSql(t, base[t]());
        const { rows: [r] } = await client.query(`${q.text} RETURNING tableoid::int AS part_oid`, q.values);
        const { rows: [p] } = await client.query("SELECT format('%I.%I', relnamespace::regnamespace, relname) AS part FROM pg_class WHERE oid = $1", [r.part_oid]);
        expect(p.part).toBe(`${t.split('.')[0]}.${m.p}`);
      });
      // Re-running the helper creates nothing new.
      await rolledBack(async () => {
        const again = await client.query('SELECT app_private.create_month_partitions($1::regclass, 2) AS made', [t]);
        expect(again.rows[0].made).toBe(0);
      });
    });
  }
});

describe('coverage: every constraint and enum of the schema has a case in this file', () => {
  it('no CHECK, FOREIGN KEY, UNIQUE, unique index, trigger-constraint or enum is untested', async () => {
    const { rows } = await client.query<{ name: string }>(`
      SELECT k.conname AS name FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE k.contype IN ('c', 'f', 'u') AND c.relnamespace::regnamespace::text IN ('app', 'audit', 'ops') AND NOT c.relispartition
      UNION
      SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
      WHERE i.indisunique AND NOT i.indisprimary AND c.relnamespace::regnamespace::text IN ('app', 'audit', 'ops') AND NOT c.relispartition
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
      UNION
      SELECT format('%s.%s', t.typnamespace::regnamespace, t.typname) FROM pg_type t
      WHERE t.typtype = 'e' AND t.typnamespace::regnamespace::text IN ('app', 'audit', 'ops')
      UNION
      -- sql/0420's tenant-consistency triggers raise as <table>_<fk>_tenant_fkey (fk = first trigger argument).
      SELECT c.relname || '_' || split_part(encode(t.tgargs, 'escape'), '\\000', 1) || '_tenant_fkey'
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE t.tgfoid = 'app_private.tg__tenant_parent()'::regprocedure AND NOT c.relispartition
      UNION
      SELECT unnest(ARRAY['chat_messages_session_open_check', 'chat_messages_immutable_check', 'rag_embeddings_source_fkey'])`);
    const names = rows.map((r) => r.name.replace(/^(app|audit|ops)\.(?=[a-z_]+_key$)/, ''));
    const untested = names.filter((nm) => !tested.has(nm));
    expect(untested).toEqual([]);
    expect(names.length).toBeGreaterThan(150);
  });
});
