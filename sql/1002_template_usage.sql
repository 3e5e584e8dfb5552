-- 1002: question templates record their use (issue 17 #4, seed 002 #5b, Week 1 "top templates", Month 1 "disable
-- low-performing templates (< 5 uses)"). A lookup calls app.record_template_use(ids), which appends one row per
-- template to app_private.template_use_deltas; the job ops.job_fold_template_use (every minute) folds them into
-- question_templates.usage_count / last_used_at. Batched, like the episode counters (sql/0640): the most used
-- templates are the hottest rows, and an UPDATE per lookup would queue concurrent lookups on their row locks
-- (docs/behaviour.md has the measurement). ops.job_disable_unused_templates (daily) disables enabled templates
-- older than the seed's window (one month) with fewer than 5 uses.
-- No FK on template_id: a delta of a deleted template is discarded by the fold.
-- Serves: seed 002 #5b, Week 1 (top templates), Post-Deployment Month 1; seed 004 #32 (jobs logged).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

CREATE TABLE IF NOT EXISTS app_private.template_use_deltas (
  id          uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  template_id uuid NOT NULL,
  used_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE app_private.template_use_deltas IS
  'Template lookups not yet folded into app.question_templates.usage_count/last_used_at (app_private.fold_template_use).';
CREATE INDEX IF NOT EXISTS template_use_deltas_template_id_idx ON app_private.template_use_deltas (template_id);

INSERT INTO ops.job_locks (job) VALUES ('fold_template_use'), ('disable_unused_templates') ON CONFLICT DO NOTHING;

SELECT ops.schedule_jobs();
