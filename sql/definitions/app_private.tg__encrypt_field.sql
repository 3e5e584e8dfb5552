-- app_private.tg__encrypt_field: the current definition of this function and the triggers that call it.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

-- BEFORE INSERT (OR UPDATE OF the plaintext column): TG_ARGV = plaintext column, max characters,
-- blank allowed ('true'/'false'), constraint name for the size rule.
CREATE OR REPLACE FUNCTION app_private.tg__encrypt_field()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_col   text := TG_ARGV[0];
  v_max   integer := TG_ARGV[1]::integer;
  v_blank boolean := TG_ARGV[2]::boolean;
  v_plain text := pg_catalog.to_jsonb(NEW) ->> v_col;
  v_key   text;
BEGIN
  IF v_plain IS NULL THEN
    IF TG_OP = 'INSERT' AND pg_catalog.to_jsonb(NEW) ->> (v_col || '_enc') IS NULL THEN
      RAISE EXCEPTION '%.% is required', TG_TABLE_NAME, v_col
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[3], SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NEW;  -- already-encrypted input (restore, re-encryption) or an update of other columns
  END IF;
  IF pg_catalog.char_length(CASE WHEN v_blank THEN v_plain ELSE pg_catalog.btrim(v_plain) END) < 1
     OR pg_catalog.char_length(v_plain) > v_max THEN
    RAISE EXCEPTION '%.% must be 1 to % characters', TG_TABLE_NAME, v_col, v_max
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[3], SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME;
  END IF;
  v_key := app_private.active_key_id();
  NEW := pg_catalog.jsonb_populate_record(NEW, pg_catalog.jsonb_build_object(
           v_col, NULL,
           v_col || '_enc', app_private.encrypt_with(v_plain, v_key),
           v_col || '_key_id', v_key));
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER chat_messages_encrypt_content
  BEFORE INSERT ON app.chat_messages
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__encrypt_field('content', '8000', 'true', 'chat_messages_content_check');
CREATE OR REPLACE TRIGGER planning_notes_encrypt_note
  BEFORE INSERT OR UPDATE OF note ON app.planning_notes
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__encrypt_field('note', '4000', 'false', 'planning_notes_note_check');
