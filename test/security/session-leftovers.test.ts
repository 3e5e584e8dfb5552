// PgBouncer does not reset server connections between clients, so whatever one client leaves on a session with a
// session-level SET is still there for the next transaction on it. The request context (sql/0800) and the
// encryption keys (sql/0840, sealed since sql/1005) must count only in the transaction that set them. Proven on one application-login
// session (a direct connection: the same backend for every transaction, as a pooled server connection is for its
// successive clients); test/local/stack.test.ts shows the same through PgBouncer.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKeys, generateKey, SET_KEYS_SQL } from '../../src/security/keyring.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { leaveVerifiedContextBehind, setContext } from '../support/context.js';

const ORG = '00000000-0000-4000-8000-0000000000d1';
const USER = '00000000-0000-4000-8000-00000000d001';
const keyring = { kleft1: generateKey() };
const keys = JSON.stringify(keyring);
let db: TestDb;
let admin: pg.Client;
let app: pg.Client;
let secret: Buffer;

beforeAll(async () => {
  db = await migratedDatabase();
  admin = new pg.Client({ connectionString: db.superUrl });
  await admin.connect();
  await ensureKeys(admin, keyring);
  await admin.query(`INSERT INTO app.organizations (id, name, slug) VALUES ('${ORG}', 'D', 'org-d');
    INSERT INTO app.users (id, email) VALUES ('${USER}', 'd@example.com');
    INSERT INTO app.memberships (organization_id, user_id) VALUES ('${ORG}', '${USER}');
    INSERT INTO app.projects (organization_id, name) VALUES ('${ORG}', 'D1')`);
  await admin.query('BEGIN');
  await admin.query(SET_KEYS_SQL, [keys]);
  secret = (await admin.query<{ e: Buffer }>("SELECT app_private.encrypt_with('the secret', 'kleft1') AS e")).rows[0].e;
  await admin.query('COMMIT');
  app = new pg.Client({ connectionString: db.appUrl });
  await app.connect();
});

afterAll(async () => {
  await app?.end();
  await admin?.end();
  await db?.drop();
});

async function inTx<T>(fn: () => Promise<T>): Promise<T> {
  await app.query('BEGIN');
  try {
    return await fn();
  } finally {
    await app.query('ROLLBACK');
  }
}
const decrypt = () => app.query<{ t: string }>("SELECT app.decrypt_text($1, 'kleft1') AS t", [secret]).then((r) => r.rows[0].t);
const context = () => app.query<{ o: string | null; u: string | null; n: number }>(
  'SELECT app.current_org_id()::text AS o, app.current_user_id()::text AS u, (SELECT count(*)::int FROM app.projects) AS n').then((r) => r.rows[0]);

describe('state left on a session by a session-level SET', () => {
  it('the control: keys and context set for the transaction work in it', async () => {
    await inTx(async () => {
      await app.query(SET_KEYS_SQL, [keys]);
      await setContext(app, ORG, USER);
      expect(await decrypt()).toBe('the secret');
      expect(await context()).toEqual({ o: ORG, u: USER, n: 1 });
    });
  });

  it('left-over key material does not decrypt in a later transaction that supplied none', async () => {
    // The sealed keyring of one transaction, copied to session level (what a buggy client could leave behind).
    await app.query('BEGIN');
    await app.query(SET_KEYS_SQL, [keys]);
    const sealed = (await app.query("SELECT current_setting('app.enc_keys_sealed') AS k")).rows[0].k as string;
    await app.query('COMMIT');
    await app.query("SELECT set_config('app.enc_keys_sealed', $1, false)", [sealed]);
    expect((await app.query("SELECT current_setting('app.enc_keys_sealed') AS k")).rows[0].k).toBe(sealed); // it is still there
    await expect(inTx(decrypt)).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/not supplied for this transaction/) });
  });

  it('nor plain key material set by hand (the contract before sql/1005), session level or in the transaction', async () => {
    await app.query("SELECT set_config('app.enc_keys', $1, false)", [keys]);
    await expect(inTx(decrypt)).rejects.toMatchObject({ code: '42501' });
    await expect(inTx(async () => {
      await app.query("SELECT set_config('app.enc_keys', $1, true)", [keys]);
      return decrypt();
    })).rejects.toMatchObject({ code: '42501' });
  });

  it('a left-over organization and user act for nobody, even with the MAC of the transaction that verified them', async () => {
    await app.query(`SELECT set_config('app.org_id', '${ORG}', false), set_config('app.user_id', '${USER}', false)`);
    await inTx(async () => expect(await context()).toEqual({ o: null, u: null, n: 0 }));
    await leaveVerifiedContextBehind(app, ORG, USER);
    expect((await app.query("SELECT current_setting('app.ctx_mac') AS m")).rows[0].m).not.toBe(''); // it is still there
    await inTx(async () => expect(await context()).toEqual({ o: null, u: null, n: 0 }));
  });
});
