-- 0141: app.rag_embeddings — vectors for retrieval (seed 002), one table for every source kind.
--   embedding extensions.vector(1536), HNSW cosine index m = 16, ef_construction = 64 (seed 002 #1);
--   polymorphic source (source_type enum app.rag_source_type + source_id), validated by trigger in 0142
--     (seed 002 #2);
--   organization_id is NULL exactly for the global question-template embeddings, set for every tenant
--     source (so RLS, issue 4, can show "own org + templates", seed 002 #3);
--   embedding_model, token_count, updated_at (seed 002 #5);
--   (source_type, source_id, ...) unique key = the session-embedding lookup index (seed 002 targets).
-- Serves: seed 002 #1, #2, #5, performance targets; seed 001 question 4 (memory similarity search);
--         seed 004 #13.

DO $$ BEGIN
  CREATE TYPE app.rag_source_type AS ENUM ('chat_session', 'question_template', 'agent_memory', 'block');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.rag_embeddings (
  id              uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id uuid,
  source_type     app.rag_source_type NOT NULL,
  source_id       uuid NOT NULL,
  chunk_index     integer NOT NULL DEFAULT 0,
  content         text,
  embedding       extensions.vector(1536) NOT NULL,
  embedding_model text NOT NULL DEFAULT 'text-embedding-ada-002',
  token_count     integer,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rag_embeddings_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT rag_embeddings_source_type_source_id_chunk_index_key
    UNIQUE (source_type, source_id, chunk_index, embedding_model),
  CONSTRAINT rag_embeddings_organization_scope_check CHECK (
    (source_type = 'question_template') = (organization_id IS NULL)),
  CONSTRAINT rag_embeddings_chunk_index_check CHECK (chunk_index >= 0),
  CONSTRAINT rag_embeddings_content_check CHECK (content IS NULL OR char_length(content) <= 32000),
  CONSTRAINT rag_embeddings_embedding_model_check CHECK (char_length(btrim(embedding_model)) BETWEEN 1 AND 100),
  CONSTRAINT rag_embeddings_token_count_check CHECK (token_count IS NULL OR token_count >= 0),
  CONSTRAINT rag_embeddings_updated_after_created_check CHECK (updated_at >= created_at)
);

CREATE INDEX IF NOT EXISTS rag_embeddings_embedding_idx
  ON app.rag_embeddings USING hnsw (embedding extensions.vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX IF NOT EXISTS rag_embeddings_organization_id_idx
  ON app.rag_embeddings (organization_id) WHERE organization_id IS NOT NULL;

CREATE OR REPLACE TRIGGER rag_embeddings_set_updated_at
  BEFORE UPDATE ON app.rag_embeddings
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
