-- 0112: app.memberships — who belongs to which organization, with which role (enum app.membership_role).
-- One membership per (organization, user). RLS (issue 4) derives "may act in org X" from this table.
-- Serves: seed 000 P1 (org-scoped access), seed 003 §3.4 (access levels), seed 004 #13 (real enums), #40 (FK actions).

DO $$ BEGIN
  CREATE TYPE app.membership_role AS ENUM ('owner', 'admin', 'member', 'viewer');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.memberships (
  id              uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  role            app.membership_role NOT NULL DEFAULT 'member',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  deleted_by      uuid,
  CONSTRAINT memberships_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT memberships_organization_id_user_id_key UNIQUE (organization_id, user_id),
  CONSTRAINT memberships_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT memberships_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT memberships_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
-- organization_id is served by the unique key's leading column; user_id needs its own.
CREATE INDEX IF NOT EXISTS memberships_user_id_idx ON app.memberships (user_id);

CREATE OR REPLACE TRIGGER memberships_set_updated_at
  BEFORE UPDATE ON app.memberships
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
