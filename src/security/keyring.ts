// Field-encryption keys on the client side. Key material lives in the application's secret store (AWS:
// Secrets Manager, env PGKIT_ENC_KEYS locally) and reaches PostgreSQL once per transaction through
// app.supply_encryption_keys($1), a bind parameter (never inlined into SQL text, so pg_stat_activity and
// pg_stat_statements show `$1`), which seals it for that transaction where no SQL can read it back (sql/1005).
// The database stores key ids and HMAC check values only (sql/0430).
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { withContext, type ContextOptions, type RequestContext } from '../db/context.js';

/** Key id -> base64 of 32 random bytes. */
export type Keyring = Record<string, string>;

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const B64 = /^[A-Za-z0-9+/=_-]{43,}$/;

/** Supplies the keyring ($1, JSON) to this transaction, sealed for it (sql/1005: readable by no SQL, refused in any other transaction). */
export const SET_KEYS_SQL = 'SELECT app.supply_encryption_keys($1)';

/** A new random 256-bit key, base64. */
export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

/** A key id that sorts by creation time, e.g. k20250101t120000z. */
export function newKeyId(now = new Date()): string {
  return `k${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase()}`;
}

export function parseKeyring(json: string): Keyring {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new Error('keyring is not valid JSON (expected {"<key id>": "<base64 key>"})'); // never echo the value
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('keyring must be a JSON object');
  const ring: Keyring = {};
  for (const [id, key] of Object.entries(v as Record<string, unknown>)) {
    if (!KEY_ID.test(id)) throw new Error(`keyring: bad key id ${JSON.stringify(id)}`);
    if (typeof key !== 'string' || !B64.test(key)) throw new Error(`keyring: key ${id} is not base64 of at least 32 bytes`);
    ring[id] = key;
  }
  return ring;
}

/** The keyring from PGKIT_ENC_KEYS (JSON); throws when it is missing. */
export function loadKeyring(env: NodeJS.ProcessEnv = process.env): Keyring {
  const raw = env.PGKIT_ENC_KEYS;
  if (!raw) throw new Error('PGKIT_ENC_KEYS is not set: a JSON object {"<key id>": "<base64 of 32 bytes>"} from the secret store');
  return parseKeyring(raw);
}

/** Hands the keyring to the current transaction (must be inside BEGIN ... COMMIT). */
export async function setKeys(client: pg.ClientBase, keyring: Keyring): Promise<void> {
  await client.query(SET_KEYS_SQL, [JSON.stringify(keyring)]);
}

/** withContext plus the keyring: what a request that reads or writes encrypted fields uses. */
export function withSecureContext<T>(
  pool: pg.Pool,
  ctx: RequestContext,
  keyring: Keyring,
  fn: (tx: pg.PoolClient) => Promise<T>,
  opts?: ContextOptions,
): Promise<T> {
  return withContext(pool, ctx, async (tx) => {
    await setKeys(tx, keyring);
    return fn(tx);
  }, opts);
}

/** Registers every key of the keyring and, when no key is active yet, activates `activeId` (default: the
 * greatest id). Needs pgkit_maintenance (or the owner/superuser). Idempotent. Returns the active key id. */
export async function ensureKeys(client: pg.ClientBase, keyring: Keyring, activeId?: string): Promise<string> {
  const ids = Object.keys(keyring).sort();
  if (ids.length === 0) throw new Error('keyring is empty');
  await client.query('BEGIN');
  try {
    await setKeys(client, keyring);
    for (const id of ids) await client.query('SELECT app_private.register_encryption_key($1)', [id]);
    const cur = await client.query<{ key_id: string }>("SELECT key_id FROM app_private.encryption_keys WHERE status = 'active'");
    let active = cur.rows[0]?.key_id;
    if (!active) {
      active = activeId ?? ids[ids.length - 1];
      await client.query('SELECT app_private.activate_encryption_key($1)', [active]);
    }
    await client.query('COMMIT');
    return active;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
