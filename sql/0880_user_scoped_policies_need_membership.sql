-- 0880: the policies that read only the user of the request context now also need its organization to be one the
-- user is an active member of (app.current_org_id() is NULL otherwise, sql/definitions/app.current_org_id.sql).
--   app.users (select, update): a context of (no organization, another tenant's user id) returned that user's
--     e-mail (issue 16 #2); now the user id alone opens nothing.
--   ops.logs (select): the same context returned that user's log lines; now only lines of the current
--     organization, or of no organization, for a member.
-- And the global template embeddings follow the templates' own visibility (issue 16 #9): rag_embeddings rows of a
-- disabled or deleted question template are no longer visible. The subquery runs under app.question_templates'
-- own policies: enabled and not deleted, for a signed-in user or through the public catalogue (pgkit_anon).
-- Not closed here: the context itself is still a pair of ids the caller asserts (issue 16's authenticated context).
-- Serves: seed 000 P1 / "validate RLS policies can't be bypassed", seed 002 #3 (embedding scope), seed 004 #18.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

ALTER POLICY users_app_select ON app.users
  USING (id = (SELECT app.current_user_id()) AND (SELECT app.current_org_id()) IS NOT NULL AND deleted_at IS NULL);
ALTER POLICY users_app_update ON app.users
  USING (id = (SELECT app.current_user_id()) AND (SELECT app.current_org_id()) IS NOT NULL AND deleted_at IS NULL)
  WITH CHECK (id = (SELECT app.current_user_id()) AND (SELECT app.current_org_id()) IS NOT NULL);

ALTER POLICY logs_app_select ON ops.logs
  USING (user_id = (SELECT app.current_user_id())
         AND (organization_id IS NULL OR organization_id = (SELECT app.current_org_id()))
         AND (SELECT app.current_org_id()) IS NOT NULL);

ALTER POLICY rag_embeddings_app_select ON app.rag_embeddings
  USING (organization_id = (SELECT app.current_org_id())
         OR (organization_id IS NULL AND source_type = 'question_template'
             AND EXISTS (SELECT 1 FROM app.question_templates t WHERE t.id = rag_embeddings.source_id)));
