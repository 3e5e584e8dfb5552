// Key material passed only to the functions that need it, never left in a readable setting (issue 16 #7).
// Before sql/1005 a keyed transaction held the whole all-tenant keyring in the setting app.enc_keys: any SQL in
// it (an injected statement in a request that reads chat messages) got every key with current_setting(). The
// attacker here is organization A's member on the app login through PgBouncer, inside a request the service
// keyed the way it always does (withSecureContext); it tries every way it has to read the keyring back.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ORG_A, USER_A } from '../../src/security/attacks.js';
import { generateKey, SET_KEYS_SQL, withSecureContext, type Keyring } from '../../src/security/keyring.js';
import { asUser } from '../support/context.js';
import { seededTwoTenants } from './two-tenants.js';

const keyring: Keyring = { kmat1: generateKey(), kmat2: generateKey() };
const t = seededTwoTenants(keyring);
const A = asUser(ORG_A, USER_A);
/** Every form a key could take in a value: the base64 material, its bytes as hex, and the JSON keyring. */
const forms = Object.values(keyring).flatMap((k) => [k, Buffer.from(k, 'base64').toString('hex')]).concat(JSON.stringify(keyring));
const leaks = (values: unknown[]) => values.filter((v) => typeof v === 'string' && forms.some((f) => v.includes(f)));

describe('the keyring of a keyed transaction is readable by no SQL in it', () => {
  it('the control: the keyed request reads its organization\'s encrypted chat message', async () => {
    const rows = await withSecureContext(t.app, A, keyring, async (tx) => (await tx.query('SELECT content FROM app.chat_messages_decrypted')).rows);
    expect(rows.map((r) => r.content)).toEqual(['secret message of a']);
  });

  it('current_setting of the old setting, and every app.* setting, hold no key material', async () => {
    const found = await withSecureContext(t.app, A, keyring, async (tx) => {
      const old = (await tx.query("SELECT current_setting('app.enc_keys', true) AS v")).rows[0].v as string | null;
      const all = (await tx.query("SELECT name, setting FROM pg_settings WHERE name LIKE 'app.%'")).rows.map((r) => `${r.name}=${r.setting}`);
      return { old, all };
    });
    expect(leaks([found.old, ...found.all])).toEqual([]);
  });

  it('the sealed keyring opens in no other transaction: copied to session level, or replayed into the next transaction, it decrypts nothing', async () => {
    const c = await t.app.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT app.authenticate_context($1)', [A.token]);
      await c.query(SET_KEYS_SQL, [JSON.stringify(keyring)]);
      const sealed = (await c.query("SELECT current_setting('app.enc_keys_sealed', true) AS v")).rows[0].v as string;
      expect(sealed).toMatch(/^[0-9a-f]+$/);
      await c.query('COMMIT');
      await c.query("SELECT set_config('app.enc_keys_sealed', $1, false)", [sealed]); // left on the connection
      for (const replay of [false, true]) {
        await c.query('BEGIN');
        await c.query('SELECT app.authenticate_context($1)', [A.token]);
        if (replay) await c.query("SELECT set_config('app.enc_keys_sealed', $1, true)", [sealed]);
        await expect(c.query('SELECT content FROM app.chat_messages_decrypted')).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/not supplied for this transaction/) });
        await c.query('ROLLBACK');
      }
    } finally {
      await c.query('RESET ALL').catch(() => {});
      c.release();
    }
  });

  it('the app login cannot call the functions that open the seal or derive its key', async () => {
    for (const sql of ['SELECT app_private.supplied_keys()', 'SELECT app_private.keys_seal_key()', 'SELECT app_private.key_material($1)']) {
      await expect(withSecureContext(t.app, A, keyring, (tx) => tx.query(sql, sql.includes('$1') ? ['kmat1'] : []), { retries: 0 }), sql)
        .rejects.toMatchObject({ code: '42501' });
    }
  });

  it('the keyring reaches the server as a bind parameter: pg_stat_activity shows $1', async () => {
    const other = await t.app.connect();
    try {
      const texts = await withSecureContext(t.app, A, keyring, async () =>
        (await other.query<{ q: string }>("SELECT query AS q FROM pg_stat_activity WHERE usename = current_user")).rows.map((r) => r.q));
      expect(leaks(texts)).toEqual([]);
    } finally {
      other.release();
    }
  });
});
