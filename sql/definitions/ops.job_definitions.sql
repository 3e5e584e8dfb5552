-- ops.job_definitions: the current definition of this function.
-- First created by sql/0790_schedule_jobs.sql.
-- Serves: seed 004 #30, #32, #45 (jobs scheduled, logged), seed 001 (cron-based queue processing).
-- pgkit:after 0780_updated_at_everywhere.sql
-- pgkit:requires ops.job_partition_maintenance
-- pgkit:requires ops.job_reap_queue_leases
-- pgkit:requires ops.job_release_cost_blocks
-- pgkit:requires ops.job_schedule_projects
-- pgkit:requires ops.job_fold_episode_counters
-- pgkit:requires ops.job_reset_weekly_limits
-- pgkit:requires ops.run_reset_weekly_limits

CREATE OR REPLACE FUNCTION ops.job_definitions()
RETURNS TABLE (jobname text, schedule text, command text)
LANGUAGE sql
IMMUTABLE
AS $$
  VALUES
    ('pgkit_partition_maintenance', '7 * * * *',    'SELECT ops.job_partition_maintenance()'),
    ('pgkit_reap_queue_leases',     '* * * * *',    'SELECT ops.job_reap_queue_leases()'),
    ('pgkit_release_cost_blocks',   '*/15 * * * *', 'SELECT ops.job_release_cost_blocks()'),
    ('pgkit_schedule_projects',     '*/5 * * * *',  'SELECT ops.job_schedule_projects()'),
    ('pgkit_fold_episode_counters', '* * * * *',    'SELECT ops.job_fold_episode_counters()'),
    -- issue 17 #2 (sql/1001): a procedure committing after each batch of users
    ('pgkit_reset_weekly_limits',   '5 * * * *',    'CALL ops.run_reset_weekly_limits()'),
    -- issue 16 #3 (sql/0900): a login's settings for itself are removed within a minute
    ('pgkit_guard_login_roles',     '* * * * *',    'SELECT ops.job_guard_login_roles()'),
    -- issue 16 #8 (sql/1006): large objects of the application's logins are removed within a minute
    ('pgkit_remove_login_large_objects', '* * * * *', 'SELECT ops.job_remove_login_large_objects()'),
    -- issue 17 #4 (sql/1002): template uses folded into usage_count; the Month 1 review of unused templates
    ('pgkit_fold_template_use',     '* * * * *',    'SELECT ops.job_fold_template_use()'),
    ('pgkit_disable_unused_templates', '41 4 * * *', 'SELECT ops.job_disable_unused_templates()'),
    -- issue 17 #6 (sql/1003): analytics materialized views, refreshed CONCURRENTLY
    ('pgkit_refresh_analytics',     '*/15 * * * *', 'SELECT ops.job_refresh_analytics()'),
    -- issue 15 #5 (sql/1009): new embeddings enter the HNSW graph here, not in the request that wrote them
    ('pgkit_index_pending_embeddings', '* * * * *', 'CALL ops.run_index_pending_embeddings()'),
    ('pgkit_cron_history_cleanup',  '17 3 * * *',   'DELETE FROM cron.job_run_details WHERE end_time < now() - interval ''14 days''')
$$;
