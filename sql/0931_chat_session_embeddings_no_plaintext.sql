-- 0931: no plaintext chat text outside field encryption (issue 16 #4, second half). A chat session's embedding
-- keeps no `content`: the conversation's text lives in app.chat_messages, encrypted under the field-encryption
-- keys (sql/0430), and a caller who may read it decrypts it there. Any content such rows held is cleared first,
-- then a CHECK keeps it so (NOT VALID, then VALIDATE: the table stays readable while it is checked).
-- Serves: seed 000 P1 (tenant isolation and PII), seed 002 Critical #3 (chat-session embeddings), seed 004 #6
--         (field encryption of chat text).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '5min';

UPDATE app.rag_embeddings SET content = NULL WHERE source_type = 'chat_session' AND content IS NOT NULL;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'rag_embeddings_chat_session_no_content_check'
                 AND conrelid = 'app.rag_embeddings'::regclass) THEN
    ALTER TABLE app.rag_embeddings ADD CONSTRAINT rag_embeddings_chat_session_no_content_check
      CHECK (source_type <> 'chat_session' OR content IS NULL) NOT VALID;
  END IF;
END
$$;
ALTER TABLE app.rag_embeddings VALIDATE CONSTRAINT rag_embeddings_chat_session_no_content_check;
