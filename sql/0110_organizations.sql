-- 0110: app.organizations — the tenant. Every tenant table carries organization_id -> organizations(id).
--   feature flags (seed 001 "progressive feature flags"): enabled_features / experimental_features,
--     lower_snake_case codes, disjoint, at most 64 each;
--   daily_cost_limit (GBP, numeric) read by the token-cost circuit breaker (seed 001, issue 5);
--   soft delete deleted_at/deleted_by (seed 000 P1 "soft deletes on all tables").
-- Serves: seed 000 P1 (soft delete, org scoping), seed 001 (feature flags, hard cost limit),
--         seed 003 §1.3.2 (jsonb/arrays, never JSON in text), seed 004 #39 (timestamp names).

CREATE TABLE IF NOT EXISTS app.organizations (
  id                    uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  name                  text NOT NULL,
  slug                  extensions.citext NOT NULL,
  enabled_features      text[] NOT NULL DEFAULT '{}',
  experimental_features text[] NOT NULL DEFAULT '{}',
  daily_cost_limit      numeric(12,2) NOT NULL DEFAULT 50.00,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  deleted_at            timestamptz,
  deleted_by            uuid,
  CONSTRAINT organizations_slug_key UNIQUE (slug),
  CONSTRAINT organizations_name_check CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
  CONSTRAINT organizations_slug_check CHECK (slug::text ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  CONSTRAINT organizations_enabled_features_check CHECK (
    cardinality(enabled_features) <= 64
    AND array_to_string(enabled_features, ',') ~ '^([a-z][a-z0-9_]{0,62}(,[a-z][a-z0-9_]{0,62})*)?$'),
  CONSTRAINT organizations_experimental_features_check CHECK (
    cardinality(experimental_features) <= 64
    AND array_to_string(experimental_features, ',') ~ '^([a-z][a-z0-9_]{0,62}(,[a-z][a-z0-9_]{0,62})*)?$'),
  CONSTRAINT organizations_features_disjoint_check CHECK (NOT (enabled_features && experimental_features)),
  CONSTRAINT organizations_daily_cost_limit_check CHECK (daily_cost_limit > 0),
  CONSTRAINT organizations_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT organizations_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT organizations_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
COMMENT ON TABLE app.organizations IS 'Tenant. Root of every organization_id foreign key.';
COMMENT ON COLUMN app.organizations.daily_cost_limit IS 'Hard daily AI cost limit in GBP; the circuit breaker blocks queued work above it.';
COMMENT ON COLUMN app.organizations.deleted_by IS 'Actor id kept as a plain value (no FK) so erasing the actor never rewrites history.';

CREATE INDEX IF NOT EXISTS organizations_enabled_features_idx ON app.organizations USING gin (enabled_features);

CREATE OR REPLACE TRIGGER organizations_set_updated_at
  BEFORE UPDATE ON app.organizations
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
