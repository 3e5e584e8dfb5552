-- app_private.tg_rag_embeddings__source_fkey: the current definition of this function and the triggers that call it.
-- First created by sql/0142_rag_embeddings_source.sql.
-- Serves: seed 002 #2 (source validation, no orphaned embeddings).
-- pgkit:after 0142_rag_embeddings_source.sql

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
