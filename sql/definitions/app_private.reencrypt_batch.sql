-- app_private.reencrypt_batch: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

-- One batch: up to p_batch rows of p_table not under the target key are re-encrypted under it. Rows locked
-- by live transactions are skipped (the next batch gets them). Commit after each call.
CREATE OR REPLACE FUNCTION app_private.reencrypt_batch(p_rotation_id uuid, p_table text, p_batch integer DEFAULT 500)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_target text;
  v_old    text[];
  v_n      integer;
BEGIN
  SELECT r.target_key_id INTO v_target FROM app_private.key_rotations r WHERE r.id = p_rotation_id AND r.finished_at IS NULL;
  IF v_target IS NULL THEN
    RAISE EXCEPTION 'rotation % is not open', p_rotation_id USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF v_target <> app_private.active_key_id() THEN
    RAISE EXCEPTION 'key % is no longer the active key; restart the rotation', v_target USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  v_old := ARRAY(SELECT k.key_id FROM app_private.encryption_keys k WHERE k.key_id <> v_target);
  IF p_table = 'app.chat_messages' THEN
    WITH c AS (
      SELECT m.id FROM app.chat_messages m WHERE m.content_key_id = ANY (v_old)
      LIMIT p_batch FOR UPDATE SKIP LOCKED)
    UPDATE app.chat_messages m
       SET content_enc = app_private.encrypt_with(app_private.decrypt_with(m.content_enc, m.content_key_id), v_target),
           content_key_id = v_target
      FROM c WHERE m.id = c.id;
  ELSIF p_table = 'app.planning_notes' THEN
    WITH c AS (
      SELECT n.id FROM app.planning_notes n WHERE n.note_key_id = ANY (v_old)
      LIMIT p_batch FOR UPDATE SKIP LOCKED)
    UPDATE app.planning_notes n
       SET note_enc = app_private.encrypt_with(app_private.decrypt_with(n.note_enc, n.note_key_id), v_target),
           note_key_id = v_target
      FROM c WHERE n.id = c.id;
  ELSE
    RAISE EXCEPTION 'no encrypted field in %', p_table USING ERRCODE = 'invalid_parameter_value';
  END IF;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  UPDATE app_private.key_rotations
     SET rows_done = rows_done + v_n, batches = batches + 1, updated_at = pg_catalog.now()
   WHERE id = p_rotation_id;
  RETURN v_n;
END
$$;
GRANT EXECUTE ON FUNCTION app_private.reencrypt_batch(uuid, text, integer) TO pgkit_maintenance;
