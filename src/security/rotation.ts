// Online key rotation for the encrypted fields (sql/0430). Steps, each its own committed transaction:
//   1. register the new key and activate it: from here every new write is under it;
//   2. open (or resume) the rotation record: app_private.key_rotations is the checkpoint;
//   3. per table, re-encrypt batches of rows still under an older key (FOR UPDATE SKIP LOCKED: rows a live
//      transaction holds are skipped and picked up by a later batch), committing after each batch;
//   4. close the rotation once no row names another key.
// A crash anywhere leaves committed batches done and the rotation open; running again resumes it.
// The keyring must hold the old keys (to decrypt) and the new one.
import type pg from 'pg';
import { setKeys, type Keyring } from './keyring.js';

export const ENCRYPTED_TABLES = ['app.chat_messages', 'app.planning_notes'] as const;

export interface RotationOptions {
  keyring: Keyring;
  /** The key to rotate to; must be in the keyring. Omit to resume the open rotation to the active key. */
  newKeyId?: string;
  batchSize?: number;
  log?: (line: string) => void;
  /** Called after every committed batch (tests use it to simulate a crash). */
  onBatch?: (info: { table: string; rows: number; batch: number }) => void | Promise<void>;
}

export interface RotationResult {
  rotationId: string;
  targetKeyId: string;
  rowsReencrypted: number;
  batches: number;
  remainingByKey: Array<{ table_name: string; key_id: string; row_count: number }>;
  finished: boolean;
}

async function tx<T>(client: pg.ClientBase, keyring: Keyring, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await setKeys(client, keyring);
    const r = await fn();
    await client.query('COMMIT');
    return r;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

export async function rotateKeys(client: pg.ClientBase, opts: RotationOptions): Promise<RotationResult> {
  const { keyring } = opts;
  const batchSize = opts.batchSize ?? 500;
  const log = opts.log ?? (() => {});
  if (opts.newKeyId) {
    if (!keyring[opts.newKeyId]) throw new Error(`the keyring has no material for ${opts.newKeyId}`);
    await tx(client, keyring, async () => {
      await client.query('SELECT app_private.register_encryption_key($1)', [opts.newKeyId]);
      await client.query('SELECT app_private.activate_encryption_key($1)', [opts.newKeyId]);
    });
    log(`key ${opts.newKeyId} registered and active: new writes use it`);
  }
  const { id: rotationId, target } = await tx(client, keyring, async () => {
    const r = await client.query<{ id: string }>('SELECT app_private.start_key_rotation() AS id');
    const t = await client.query<{ target_key_id: string; rows_done: string }>(
      'SELECT target_key_id, rows_done FROM app_private.key_rotations WHERE id = $1', [r.rows[0].id]);
    return { id: r.rows[0].id, target: t.rows[0].target_key_id };
  });
  log(`rotation ${rotationId} to key ${target}`);
  let rows = 0;
  let batches = 0;
  for (let pass = 0; pass < 1000; pass++) {
    let passRows = 0;
    for (const table of ENCRYPTED_TABLES) {
      for (;;) {
        const n = await tx(client, keyring, async () => {
          const r = await client.query<{ n: number }>('SELECT app_private.reencrypt_batch($1, $2, $3) AS n', [rotationId, table, batchSize]);
          return Number(r.rows[0].n);
        });
        if (n === 0) break;
        rows += n;
        passRows += n;
        batches += 1;
        log(`${table}: ${n} rows re-encrypted (batch ${batches})`);
        await opts.onBatch?.({ table, rows: n, batch: batches });
      }
    }
    const finished = await tx(client, keyring, async () => {
      const r = await client.query<{ done: boolean }>('SELECT app_private.finish_key_rotation($1) AS done', [rotationId]);
      return r.rows[0].done;
    });
    if (finished) {
      await tx(client, keyring, async () => {
        await client.query(
          "INSERT INTO ops.logs (level, event_type, message, metadata) VALUES ('info', 'key_rotation', 'encryption key rotation finished', $1)",
          [{ rotation_id: rotationId, target_key_id: target, rows_reencrypted: rows, batches }]);
      });
      break;
    }
    // Rows skipped because live transactions held them: wait a moment and take another pass.
    if (passRows === 0) await new Promise((r) => setTimeout(r, 200));
  }
  const rem = await client.query<{ table_name: string; key_id: string; row_count: string }>('SELECT * FROM app_private.encrypted_rows_by_key() ORDER BY 1, 2');
  const remainingByKey = rem.rows.map((r) => ({ ...r, row_count: Number(r.row_count) }));
  const finished = remainingByKey.every((r) => r.key_id === target);
  log(finished ? `rotation ${rotationId} finished: ${rows} rows in ${batches} batches` : `rotation ${rotationId} NOT finished`);
  return { rotationId, targetKeyId: target, rowsReencrypted: rows, batches, remainingByKey, finished };
}
