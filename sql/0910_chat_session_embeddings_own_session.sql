-- 0910: chat sessions and their messages are per user (sql/0450: organization AND user), but their embeddings
-- were readable, and changeable, by every member of the organization (issue 16 #4; seed 002 Critical #3 asks
-- for own-session scope). The app's policies on app.rag_embeddings now let a chat_session embedding through only
-- when its session is visible to the caller: the subquery runs under app.chat_sessions' own policy (the
-- caller's organization and user, not deleted). Other source types keep the organization scope; templates keep
-- sql/0880's rule.
-- Not closed here: rag_embeddings.content can still hold chat text in plaintext, outside field encryption.
-- Serves: seed 002 #3 (embedding scope), seed 000 P1 (tenant isolation).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

ALTER POLICY rag_embeddings_app_select ON app.rag_embeddings
  USING ((organization_id = (SELECT app.current_org_id())
          AND (source_type <> 'chat_session'
               OR EXISTS (SELECT 1 FROM app.chat_sessions s WHERE s.id = rag_embeddings.source_id)))
         OR (organization_id IS NULL AND source_type = 'question_template'
             AND EXISTS (SELECT 1 FROM app.question_templates t WHERE t.id = rag_embeddings.source_id)));

ALTER POLICY rag_embeddings_app_update ON app.rag_embeddings
  USING (organization_id = (SELECT app.current_org_id())
         AND (source_type <> 'chat_session'
              OR EXISTS (SELECT 1 FROM app.chat_sessions s WHERE s.id = rag_embeddings.source_id)));

ALTER POLICY rag_embeddings_app_delete ON app.rag_embeddings
  USING (organization_id = (SELECT app.current_org_id())
         AND (source_type <> 'chat_session'
              OR EXISTS (SELECT 1 FROM app.chat_sessions s WHERE s.id = rag_embeddings.source_id)));
