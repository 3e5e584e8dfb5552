// npm run rotate-keys -- <command>: field-encryption key management (sql/0430, docs/security.md).
//   status              keys, their status, rows per key, open rotation
//   new-key             prints a fresh key id and key (base64) to add to the secret store; touches nothing
//   register            registers every key of PGKIT_ENC_KEYS (activates one if none is active)
//   rotate --to ID      activates ID and re-encrypts every row under it, in batches (resumes an open rotation)
//   resume              continues the open rotation
//   retire --key ID     marks an old key retired once no row uses it (then drop it from the secret store)
// Connection: --database-url or DATABASE_URL, a role with pgkit_maintenance (or the migration user).
// Keys: PGKIT_ENC_KEYS = {"<id>": "<base64>", ...} holding the old and the new key during a rotation.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ensureKeys, generateKey, loadKeyring, newKeyId, setKeys } from '../src/security/keyring.js';
import { rotateKeys } from '../src/security/rotation.js';
import { fail } from './lib/fail.js';

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'database-url': { type: 'string' }, to: { type: 'string' }, key: { type: 'string' }, 'batch-size': { type: 'string', default: '500' } },
  });
  const cmd = positionals[0];
  if (cmd === 'new-key') {
    console.log(JSON.stringify({ [newKeyId()]: generateKey() }));
    return;
  }
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (!url || !cmd) throw new Error('usage: rotate-keys <status|new-key|register|rotate --to ID|resume|retire --key ID> [--database-url URL]');
  const client = new pg.Client({ connectionString: url, application_name: 'pgkit rotate-keys' });
  await client.connect();
  try {
    switch (cmd) {
      case 'status': {
        console.table((await client.query('SELECT key_id, status, created_at, activated_at, retired_at FROM app_private.encryption_keys ORDER BY created_at')).rows);
        console.table((await client.query('SELECT * FROM app_private.encrypted_rows_by_key() ORDER BY 1, 2')).rows);
        console.table((await client.query('SELECT * FROM app_private.key_rotations ORDER BY started_at DESC LIMIT 5')).rows);
        break;
      }
      case 'register':
        console.log(`active key: ${await ensureKeys(client, loadKeyring())}`);
        break;
      case 'rotate':
      case 'resume': {
        if (cmd === 'rotate' && !values.to) throw new Error('rotate needs --to <key id>');
        const r = await rotateKeys(client, { keyring: loadKeyring(), newKeyId: values.to, batchSize: Number(values['batch-size']), log: (l) => console.log(l) });
        console.table(r.remainingByKey);
        if (!r.finished) process.exitCode = 1;
        break;
      }
      case 'retire': {
        if (!values.key) throw new Error('retire needs --key <key id>');
        await client.query('BEGIN');
        await setKeys(client, loadKeyring());
        await client.query('SELECT app_private.retire_encryption_key($1)', [values.key]);
        await client.query('COMMIT');
        console.log(`key ${values.key} retired: remove it from the secret store`);
        break;
      }
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  } finally {
    await client.end();
  }
}

main().catch(fail);
