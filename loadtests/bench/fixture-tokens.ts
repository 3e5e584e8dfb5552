// The benchmark's request-context tokens, out of the app login's reach. The pgbench scripts run as the app login
// and need one signed token per fixture (sql/0930). Stored in loadtest.fixtures in clear, every app session could
// read them during a run and act as any fixture's user (what an SQL injection would do). Now each run:
//   - signs the tokens and seals them in Node (AES-256-CBC under a fresh 32-byte run key) into token_sealed /
//     worker_token_sealed: the database never sees the run key or a token in clear at rest;
//   - hands the run key to pgbench only (-D runkey=..., with -M extended so it reaches the server as a bind
//     parameter, never in statement text: pg_stat_activity shows $1), and the scripts open their fixture's token
//     inside the statement that authenticates (OPEN_TOKEN_SQL).
// An app session reading the table gets ciphertext; the key lives in the bench process and pgbench's arguments
// for the run only (docs/loadtests.md: what remains).
import { createCipheriv, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { ContextSigner } from '../../src/db/context-token.js';

/** The SQL that opens a sealed token column with the run key (pgbench variable :runkey, a bind parameter). */
export const openTokenSql = (column: 'token_sealed' | 'worker_token_sealed') =>
  `convert_from(extensions.decrypt(${column}, decode(:runkey, 'hex'), 'aes'), 'UTF8')`;

/** pgcrypto's decrypt(data, key, 'aes') with a 32-byte key: AES-256-CBC, zero IV, PKCS#7 padding. */
function seal(token: string, key: Buffer): Buffer {
  const c = createCipheriv('aes-256-cbc', key, Buffer.alloc(16));
  return Buffer.concat([c.update(token, 'utf8'), c.final()]);
}

/**
 * Signs a user token per fixture (and one queue-scoped worker token), seals them under a new run key and stores
 * only the sealed values; drops the clear-text columns earlier runs left. Returns the run key (hex) for pgbench.
 */
export async function sealFixtureTokens(admin: pg.ClientBase, signer: ContextSigner, ttlSeconds: number): Promise<string> {
  const key = randomBytes(32);
  await admin.query(`ALTER TABLE loadtest.fixtures DROP COLUMN IF EXISTS token, DROP COLUMN IF EXISTS worker_token,
    ADD COLUMN IF NOT EXISTS token_sealed bytea, ADD COLUMN IF NOT EXISTS worker_token_sealed bytea`);
  const rows = (await admin.query<{ n: number; org_id: string; user_id: string }>('SELECT n, org_id::text, user_id::text FROM loadtest.fixtures')).rows;
  const worker = seal(signer.worker('queue', ttlSeconds).token, key);
  for (let i = 0; i < rows.length; i += 5000) {
    const part = rows.slice(i, i + 5000);
    await admin.query('UPDATE loadtest.fixtures f SET token_sealed = t.s, worker_token_sealed = $3 FROM unnest($1::int[], $2::bytea[]) AS t(n, s) WHERE f.n = t.n',
      [part.map((r) => r.n), part.map((r) => seal(signer.user(r.org_id, r.user_id, ttlSeconds).token, key)), worker]);
  }
  return key.toString('hex');
}
