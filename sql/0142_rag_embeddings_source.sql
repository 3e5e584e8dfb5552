-- 0142: the polymorphic foreign key of app.rag_embeddings, made real (seed 002 #2).
--   rag_embeddings_source_fkey: on INSERT/UPDATE the source row must exist, and a tenant source must
--     belong to the embedding's organization; raises 23503 foreign_key_violation with that name.
--   ON DELETE CASCADE for the polymorphic key: deleting a source deletes its embeddings, so no
--     embedding is ever orphaned.
-- Serves: seed 002 #2 (source validation, no orphaned embeddings).

CREATE OR REPLACE FUNCTION app_private.tg_rag_embeddings__source_fkey()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
  v_org   uuid;
  v_found boolean;
BEGIN
  CASE NEW.source_type
    WHEN 'chat_session' THEN
      SELECT true, s.organization_id INTO v_found, v_org FROM app.chat_sessions s WHERE s.id = NEW.source_id;
    WHEN 'agent_memory' THEN
      SELECT true, m.organization_id INTO v_found, v_org FROM app.agent_memory m WHERE m.id = NEW.source_id;
    WHEN 'block' THEN
      SELECT true, b.organization_id INTO v_found, v_org FROM app.blocks b WHERE b.id = NEW.source_id;
    WHEN 'question_template' THEN
      SELECT true, NULL::uuid INTO v_found, v_org FROM app.question_templates t WHERE t.id = NEW.source_id;
  END CASE;

  IF v_found IS NULL THEN
    RAISE EXCEPTION 'rag embedding source % % does not exist', NEW.source_type, NEW.source_id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'rag_embeddings_source_fkey',
            SCHEMA = 'app', TABLE = 'rag_embeddings';
  END IF;
  IF v_org IS DISTINCT FROM NEW.organization_id THEN
    RAISE EXCEPTION 'rag embedding source % % belongs to another organization', NEW.source_type, NEW.source_id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'rag_embeddings_source_fkey',
            SCHEMA = 'app', TABLE = 'rag_embeddings';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER rag_embeddings_source_fkey
  BEFORE INSERT OR UPDATE OF source_type, source_id, organization_id ON app.rag_embeddings
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_rag_embeddings__source_fkey();

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
