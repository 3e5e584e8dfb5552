-- app_private.key_check_value: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

-- The check value: HMAC-SHA256 keyed with the material over a constant naming the key id.
CREATE OR REPLACE FUNCTION app_private.key_check_value(p_key_id text, p_material text)
RETURNS bytea
LANGUAGE sql
IMMUTABLE
STRICT
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT extensions.hmac(pg_catalog.convert_to('pgkit-key-check:' || p_key_id, 'UTF8'),
                         pg_catalog.convert_to(p_material, 'UTF8'), 'sha256')
$$;
