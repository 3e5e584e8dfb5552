-- app_private.decrypt_with: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
--   PL/pgSQL, not SQL: a SQL function with a SET clause is never inlined, and PostgreSQL parses, analyses and
--   plans its body again in every statement that calls it (issue 16's profile of the request context).
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql
-- pgkit:requires app_private.key_material

CREATE OR REPLACE FUNCTION app_private.decrypt_with(p_enc bytea, p_key_id text)
RETURNS text
LANGUAGE plpgsql
STABLE
STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN extensions.pgp_sym_decrypt(p_enc, app_private.key_material(p_key_id));
END
$$;
