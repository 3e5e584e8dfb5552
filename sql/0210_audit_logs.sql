-- 0210: audit.audit_logs — the audit trail (seed 000 P1, seed 001 AuditLog, seed 003 §5.3). Written by
-- issue 4's audit trigger (row changes) and by the application for business actions ('episode.generate').
-- Append-only, monthly range partitions on created_at (PK includes created_at).
--   action: lower-case dotted code ('insert', 'update', 'delete', 'read', 'episode.generate');
--   old_data / new_data / metadata are jsonb (seed 001 proposed plain strings: declined, seed 003 §1.3.2);
--   organization_id / user_id deliberately have NO foreign key: an audit row must outlive the
--     organization, user or row it describes (a cascade would erase the evidence; SET NULL would
--     rewrite it). organization_id is NULL only for changes to global catalogue tables.
-- Serves: seed 000 P1 audit_logs, seed 001 AuditLog, seed 003 §5.3, seed 004 #30.

DO $$ BEGIN
  CREATE TYPE audit.actor_kind AS ENUM ('user', 'service', 'system');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS audit.audit_logs (
  id              uuid NOT NULL DEFAULT extensions.gen_random_uuid(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  organization_id uuid,
  user_id         uuid,
  actor_kind      audit.actor_kind NOT NULL DEFAULT 'user',
  action          text NOT NULL,
  table_name      text,
  record_id       text,
  old_data        jsonb,
  new_data        jsonb,
  metadata        jsonb NOT NULL DEFAULT '{}',
  transaction_id  bigint NOT NULL DEFAULT txid_current(),
  CONSTRAINT audit_logs_pkey PRIMARY KEY (id, created_at),
  CONSTRAINT audit_logs_action_check CHECK (action ~ '^[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62}){0,3}$'),
  CONSTRAINT audit_logs_table_record_check CHECK ((table_name IS NULL) = (record_id IS NULL)),
  CONSTRAINT audit_logs_user_actor_check CHECK (actor_kind <> 'user' OR user_id IS NOT NULL),
  CONSTRAINT audit_logs_old_data_check CHECK (old_data IS NULL OR jsonb_typeof(old_data) = 'object'),
  CONSTRAINT audit_logs_new_data_check CHECK (new_data IS NULL OR jsonb_typeof(new_data) = 'object'),
  CONSTRAINT audit_logs_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
) PARTITION BY RANGE (created_at);

CREATE INDEX IF NOT EXISTS audit_logs_organization_id_created_at_idx ON audit.audit_logs (organization_id, created_at DESC);
CREATE INDEX IF NOT EXISTS audit_logs_table_name_record_id_idx ON audit.audit_logs (table_name, record_id) WHERE table_name IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_logs_user_id_created_at_idx ON audit.audit_logs (user_id, created_at DESC) WHERE user_id IS NOT NULL;

SELECT app_private.create_month_partitions('audit.audit_logs', 2);
