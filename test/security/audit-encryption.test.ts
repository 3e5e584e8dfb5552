// Audit trail, field encryption and key rotation against real PostgreSQL (app role through PgBouncer).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { ORG_A, ORG_B, USER_A, seedTwoTenants } from '../../src/security/attacks.js';
import { generateKey, SET_KEYS_SQL, setKeys, withSecureContext, type Keyring } from '../../src/security/keyring.js';
import { rotateKeys } from '../../src/security/rotation.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { asUser, asWorker } from '../support/context.js';

let db: TestDb;
let app: pg.Pool;
const keyring: Keyring = { k1: generateKey() };
const A = asUser(ORG_A, USER_A);
const rotationKeys: Keyring = {};

beforeAll(async () => {
  db = await migratedDatabase();
  const admin = await db.pool.connect();
  try {
    await seedTwoTenants(admin, keyring);
  } finally {
    admin.release();
  }
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 4 });
});
afterAll(async () => {
  await app?.end();
  await db?.drop();
});

const auditCount = async () => Number((await db.pool.query('SELECT count(*) AS n FROM audit.audit_logs')).rows[0].n);

describe('audit', () => {
  it('every write of the app produces exactly one audit row with who, what, old/new values', async () => {
    const project = (await db.pool.query('SELECT id FROM app.projects WHERE organization_id = $1', [ORG_A])).rows[0].id;
    const writes: Array<[string, string, (tx: pg.PoolClient) => Promise<string>]> = [
      ['insert', 'app.projects', async (tx) => (await tx.query(`INSERT INTO app.projects (organization_id, name) VALUES ($1, 'Audited') RETURNING id`, [ORG_A])).rows[0].id],
      ['update', 'app.projects', async (tx) => (await tx.query(`UPDATE app.projects SET name = 'Renamed' WHERE id = $1 RETURNING id`, [project])).rows[0].id],
      ['update', 'app.projects', async (tx) => { await tx.query(`SELECT app.soft_delete('projects', $1)`, [project]); return project; }],
      ['insert', 'app.chat_sessions', async (tx) => (await tx.query(`INSERT INTO app.chat_sessions (organization_id, user_id) VALUES ($1, $2) RETURNING id`, [ORG_A, USER_A])).rows[0].id],
      ['insert', 'app.planning_notes', async (tx) => {
        const p = (await tx.query(`INSERT INTO app.projects (organization_id, name) VALUES ($1, 'P2') RETURNING id`, [ORG_A])).rows[0].id;
        return (await tx.query(`INSERT INTO app.planning_notes (organization_id, project_id, user_id, note) VALUES ($1, $2, $3, 'plan') RETURNING id`, [ORG_A, p, USER_A])).rows[0].id;
      }],
    ];
    for (const [action, table, write] of writes) {
      const before = await auditCount();
      const started = new Date();
      const id = await withSecureContext(app, A, keyring, write);
      const rows = (await db.pool.query(
        `SELECT action, table_name, user_id, organization_id, actor_kind, old_data, new_data, metadata FROM audit.audit_logs
         WHERE record_id = $1 AND table_name = $2 AND created_at >= $3::timestamptz - interval '1 second' ORDER BY created_at DESC`, [id, table, started])).rows;
      const total = (await auditCount()) - before;
      expect(rows[0]).toMatchObject({ action, table_name: table, user_id: USER_A, organization_id: ORG_A, actor_kind: 'user' });
      expect(rows[0].metadata.db_user).toBe('pgkit_app_login');
      if (action === 'update') expect(rows[0].old_data).not.toBeNull();
      // planning note insert: its project insert is audited too (two writes, two rows)
      expect(total).toBe(table === 'app.planning_notes' ? 2 : 1);
    }
  });

  it('the audit trail never holds the encrypted field or its plaintext', async () => {
    const r = await db.pool.query(`SELECT new_data FROM audit.audit_logs WHERE table_name IN ('app.chat_messages', 'app.planning_notes')`);
    expect(r.rowCount).toBeGreaterThan(0);
    for (const { new_data } of r.rows) {
      expect(Object.keys(new_data)).not.toContain('content_enc');
      expect(Object.keys(new_data)).not.toContain('note_enc');
      expect(JSON.stringify(new_data)).not.toMatch(/secret|plan/);
    }
  });

  it('the app role cannot read, change, delete or truncate audit rows (parent or partition)', async () => {
    const before = (await db.pool.query('SELECT md5(string_agg(to_jsonb(a)::text, \'\' ORDER BY id)) AS h FROM audit.audit_logs a')).rows[0].h;
    const part = (await db.pool.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit.audit_logs'::regclass LIMIT 1`)).rows[0].relname;
    for (const sql of ['SELECT * FROM audit.audit_logs', "UPDATE audit.audit_logs SET action = 'x'", 'DELETE FROM audit.audit_logs',
      'TRUNCATE audit.audit_logs', `DELETE FROM audit.${part}`, `UPDATE audit.${part} SET action = 'x'`,
      "INSERT INTO audit.audit_logs (action, actor_kind) VALUES ('forged', 'system')"]) {
      await expect(withContext(app, A, (tx) => tx.query(sql)), sql).rejects.toMatchObject({ code: '42501' });
    }
    // Not even the maintenance role may rewrite history; only the owner's erasure function does.
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL ROLE pgkit_maintenance');
      await expect(c.query("UPDATE audit.audit_logs SET action = 'x'")).rejects.toMatchObject({ code: '42501' });
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
    const after = (await db.pool.query('SELECT md5(string_agg(to_jsonb(a)::text, \'\' ORDER BY id)) AS h FROM audit.audit_logs a')).rows[0].h;
    expect(after).toBe(before);
  });
});

describe('field encryption', () => {
  it('stores no plaintext: content/note are NULL at rest, ciphertext carries a key id', async () => {
    const r = await db.pool.query(`SELECT content, content_enc, content_key_id FROM app.chat_messages`);
    for (const row of r.rows) {
      expect(row.content).toBeNull();
      expect(row.content_key_id).toBe('k1');
      expect(Buffer.from(row.content_enc).toString('latin1')).not.toContain('secret');
    }
    const raw = await db.pool.query(`SELECT count(*) AS n FROM app.planning_notes WHERE note IS NOT NULL OR position('secret'::bytea IN note_enc) > 0`);
    expect(Number(raw.rows[0].n)).toBe(0);
    // Bypassing the trigger cannot store plaintext either. (An assistant message: sql/0630's rate limit applies to
    // user messages only, and would refuse a user message within 500 ms of the seeded one before the CHECK runs.)
    await expect(db.pool.query(`ALTER TABLE app.chat_messages DISABLE TRIGGER chat_messages_encrypt_content; INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content, content_enc, content_key_id) SELECT organization_id, id, user_id, 'main_assistant', 'main', 'plain', '\\x00', 'k1' FROM app.chat_sessions LIMIT 1`))
      .rejects.toMatchObject({ code: '23514', constraint: 'chat_messages_content_plaintext_check' });
    await db.pool.query('ALTER TABLE app.chat_messages ENABLE TRIGGER chat_messages_encrypt_content');
  });

  it('reads need the key: without it, or with wrong material, the app gets an error, never plaintext', async () => {
    await expect(withContext(app, A, (tx) => tx.query('SELECT content FROM app.chat_messages_decrypted'))).rejects.toMatchObject({ code: '42501' });
    await expect(withSecureContext(app, A, { k1: generateKey() }, (tx) => tx.query('SELECT content FROM app.chat_messages_decrypted'))).rejects.toMatchObject({ code: '42501' });
    await expect(withContext(app, A, async (tx) => {
      await tx.query(`SELECT app.supply_encryption_keys('not json {{')`);
      return tx.query('SELECT content FROM app.chat_messages_decrypted');
    })).rejects.toThrow(/not a JSON object/);
    const ok = await withSecureContext(app, A, keyring, (tx) => tx.query('SELECT content FROM app.chat_messages_decrypted'));
    expect(ok.rows.map((r) => r.content)).toEqual(['secret message of a']);
  });

  it('the plaintext rules still hold (same constraint names)', async () => {
    const session = (await db.pool.query('SELECT id FROM app.chat_sessions WHERE organization_id = $1 AND deleted_at IS NULL LIMIT 1', [ORG_A])).rows[0].id;
    await expect(withSecureContext(app, A, keyring, (tx) => tx.query(`INSERT INTO app.chat_messages (session_id, role, chat_type, content) VALUES ($1, 'user', 'main', $2)`, [session, 'x'.repeat(8001)])))
      .rejects.toMatchObject({ code: '23514', constraint: 'chat_messages_content_check' });
    await expect(withSecureContext(app, A, keyring, (tx) => tx.query(`INSERT INTO app.chat_messages (session_id, role, chat_type, content) VALUES ($1, 'user', 'main', $2)`, [session, ''])))
      .rejects.toMatchObject({ code: '23514', constraint: 'chat_messages_content_check' });
  });

  it('rotation: resumable after a crash, safe beside live writes, old and new keys readable meanwhile, nothing left under the old key', async () => {
    const session = (await db.pool.query('SELECT id FROM app.chat_sessions WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY created_at LIMIT 1', [ORG_A])).rows[0].id;
    const written: string[] = [];
    for (let i = 0; i < 60; i++) written.push(`message ${i} ✓ ${generateKey().slice(0, 8)}`);
    await withSecureContext(app, A, keyring, async (tx) => {
      for (const m of written) await tx.query(`INSERT INTO app.chat_messages (session_id, role, chat_type, content) VALUES ($1, 'main_assistant', 'main', $2)`, [session, m]);
    });
    const plainBefore = (await withSecureContext(db.pool, asWorker({ orgId: ORG_A }), keyring, (tx) =>
      tx.query(`SELECT id, app.decrypt_text(content_enc, content_key_id) AS p FROM app.chat_messages UNION ALL SELECT id, app.decrypt_text(note_enc, note_key_id) FROM app.planning_notes`))).rows;

    const both: Keyring = { ...keyring, k2: generateKey() };
    Object.assign(rotationKeys, both);
    const maint = new pg.Client({ connectionString: db.superUrl });
    await maint.connect();
    await maint.query('SET ROLE pgkit_maintenance');
    try {
      // Crash after two batches.
      await expect(rotateKeys(maint, {
        keyring: both, newKeyId: 'k2', batchSize: 10,
        onBatch: ({ batch }) => { if (batch === 2) throw new Error('simulated crash'); },
      })).rejects.toThrow('simulated crash');
      const mid = (await maint.query('SELECT * FROM app_private.encrypted_rows_by_key() ORDER BY 1, 2')).rows;
      expect(mid.filter((r) => r.table_name === 'app.chat_messages').map((r) => r.key_id).sort()).toEqual(['k1', 'k2']);
      // During the rotation: the app reads rows under both keys and writes under the new one.
      const during = await withSecureContext(app, A, both, async (tx) => {
        await tx.query(`INSERT INTO app.chat_messages (session_id, role, chat_type, content) VALUES ($1, 'main_assistant', 'main', 'written during rotation')`, [session]);
        return (await tx.query('SELECT content, content_key_id FROM app.chat_messages_decrypted')).rows;
      });
      expect(new Set(during.map((r) => r.content_key_id))).toEqual(new Set(['k1', 'k2']));
      expect(during.find((r) => r.content === 'written during rotation')?.content_key_id).toBe('k2');
      plainBefore.push(...(await withSecureContext(db.pool, asWorker({ orgId: ORG_A }), both, (tx) => tx.query(`SELECT id, app.decrypt_text(content_enc, content_key_id) AS p FROM app.chat_messages WHERE content_key_id = 'k2' AND id <> ALL($1::uuid[])`, [plainBefore.map((r) => r.id)]))).rows);

      // A live transaction holds a row; the rotation skips it and finishes once it is released.
      const holder = new pg.Client({ connectionString: db.superUrl });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM app.chat_messages WHERE content_key_id = 'k1' LIMIT 1 FOR UPDATE`);
      setTimeout(() => void holder.query('COMMIT').then(() => holder.end()), 500);

      const res = await rotateKeys(maint, { keyring: both, batchSize: 10 });  // resume, no new key
      expect(res.finished).toBe(true);
      expect(res.targetKeyId).toBe('k2');
      expect(res.remainingByKey.every((r) => r.key_id === 'k2')).toBe(true);
      const open = (await maint.query('SELECT count(*) AS n FROM app_private.key_rotations WHERE finished_at IS NULL')).rows[0].n;
      expect(Number(open)).toBe(0);
      // The old key can now be retired, and then reads need only k2.
      await maint.query('BEGIN');
      await setKeys(maint, both);
      await maint.query(`SELECT app_private.retire_encryption_key('k1')`);
      await maint.query('COMMIT');
    } finally {
      await maint.end();
    }
    const after = (await withSecureContext(db.pool, asWorker({ orgId: ORG_A }), { k2: both.k2 }, (tx) =>
      tx.query(`SELECT id, app.decrypt_text(content_enc, content_key_id) AS p FROM app.chat_messages UNION ALL SELECT id, app.decrypt_text(note_enc, note_key_id) FROM app.planning_notes`))).rows;
    const byId = new Map(after.map((r) => [r.id, r.p]));
    expect(after.length).toBe(plainBefore.length);
    for (const r of plainBefore) expect(byId.get(r.id)).toBe(r.p);
    // Re-encryption was not an edit: no audit rows for it.
    const auditOfRotation = await db.pool.query(`SELECT count(*) AS n FROM audit.audit_logs WHERE action = 'update' AND table_name IN ('app.chat_messages', 'app.planning_notes')`);
    expect(Number(auditOfRotation.rows[0].n)).toBe(0);
  });

  it('a re-encryption that changes the plaintext is refused (messages stay immutable)', async () => {
    const c = await db.pool.connect();
    try {
      const active = (await c.query(`SELECT key_id FROM app_private.encryption_keys WHERE status = 'active'`)).rows[0].key_id;
      const id = (await c.query(`SELECT id FROM app.chat_messages WHERE organization_id = $1 LIMIT 1`, [ORG_A])).rows[0].id;
      await c.query('BEGIN');
      await c.query(SET_KEYS_SQL, [JSON.stringify({ [active]: rotationKeys[active] })]);
      // Same plaintext under the same key: allowed (that is what rotation does).
      await c.query(`UPDATE app.chat_messages SET content_enc = app_private.encrypt_with(app_private.decrypt_with(content_enc, content_key_id), content_key_id) WHERE id = $1`, [id]);
      await expect(c.query(`UPDATE app.chat_messages SET content_enc = app_private.encrypt_with('tampered', content_key_id) WHERE id = $1`, [id]))
        .rejects.toMatchObject({ code: '23514', constraint: 'chat_messages_immutable_check' });
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
  });
});

describe('GDPR erasure', () => {
  it('removes the user, scrubs the audit trail, logs that it ran; only the maintenance role may call it', async () => {
    const userB = (await db.pool.query('SELECT user_id FROM app.memberships WHERE organization_id = $1', [ORG_B])).rows[0].user_id;
    await expect(withContext(app, asUser(ORG_B, userB), (tx) => tx.query(`SELECT app_private.erase_user($1, 'x')`, [userB]))).rejects.toMatchObject({ code: '42501' });
    const c = await db.pool.connect();
    let counts: Record<string, number>;
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL ROLE pgkit_maintenance');
      counts = (await c.query(`SELECT app_private.erase_user($1, 'ticket-42') AS c`, [userB])).rows[0].c;
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    expect(counts).toMatchObject({ users: 1, chat_messages: 1, chat_sessions: 1, highlights: 1, planning_notes: 1, memberships: 1 });
    for (const t of ['app.users WHERE id = $1', 'app.chat_messages WHERE user_id = $1', 'app.chat_sessions WHERE user_id = $1', 'app.highlights WHERE user_id = $1',
      'app.planning_notes WHERE user_id = $1', 'app.user_events WHERE user_id = $1', 'app.engagement_events WHERE user_id = $1', 'ops.logs WHERE user_id = $1',
      'app.token_usage WHERE user_id = $1']) {
      expect(Number((await db.pool.query(`SELECT count(*) AS n FROM ${t}`, [userB])).rows[0].n), t).toBe(0);
    }
    const trail = await db.pool.query(`SELECT count(*) AS n FROM audit.audit_logs WHERE (old_data::text LIKE '%' || $1 || '%' OR new_data::text LIKE '%' || $1 || '%')`, [userB]);
    expect(Number(trail.rows[0].n)).toBe(0);
    const emails = await db.pool.query(`SELECT count(*) AS n FROM audit.audit_logs WHERE old_data::text LIKE '%sec-b@%' OR new_data::text LIKE '%sec-b@%'`);
    expect(Number(emails.rows[0].n)).toBe(0);
    const logged = await db.pool.query(`SELECT metadata FROM audit.audit_logs WHERE action = 'gdpr.erasure' AND record_id = $1`, [userB]);
    expect(logged.rows[0].metadata).toMatchObject({ reason: 'ticket-42' });
    expect(Number((await db.pool.query(`SELECT count(*) AS n FROM ops.logs WHERE event_type = 'gdpr_erasure'`)).rows[0].n)).toBe(1);
  });
});
