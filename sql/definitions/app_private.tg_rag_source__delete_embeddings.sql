-- app_private.tg_rag_source__delete_embeddings: the current definition of this function and the triggers that call it.
-- First created by sql/0142_rag_embeddings_source.sql.
-- Serves: seed 002 #2 (source validation, no orphaned embeddings).
-- pgkit:after 0142_rag_embeddings_source.sql

-- Cascade: TG_ARGV[0] is the rag_source_type of the table the trigger sits on.
CREATE OR REPLACE FUNCTION app_private.tg_rag_source__delete_embeddings()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
  DELETE FROM app.rag_embeddings e
  WHERE e.source_type = TG_ARGV[0]::app.rag_source_type AND e.source_id = OLD.id;
  RETURN OLD;
END
$$;

CREATE OR REPLACE TRIGGER chat_sessions_delete_embeddings
  AFTER DELETE ON app.chat_sessions
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_rag_source__delete_embeddings('chat_session');
CREATE OR REPLACE TRIGGER agent_memory_delete_embeddings
  AFTER DELETE ON app.agent_memory
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_rag_source__delete_embeddings('agent_memory');
CREATE OR REPLACE TRIGGER blocks_delete_embeddings
  AFTER DELETE ON app.blocks
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_rag_source__delete_embeddings('block');
CREATE OR REPLACE TRIGGER question_templates_delete_embeddings
  AFTER DELETE ON app.question_templates
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_rag_source__delete_embeddings('question_template');
