#!/usr/bin/env -S npx tsx
// `npm run rotate-password -- <app|worker|bouncer|admin>`: a new password for one login of the local stack,
// everywhere at once (secrets file, the role as a SCRAM verifier, PgBouncer's auth_file and a reload). Connected
// clients keep working; new connections need the new password (.pgkit/<stack>/env is rewritten by `npm start`).
import { stackConfig } from '../src/config.js';
import { pgbouncerRunning, postgresRunning, ROTATABLE_LOGINS, rotateLoginPassword, type RotatableLogin } from '../src/local/stack.js';
import { fail } from './lib/fail.js';

const key = process.argv[2];
try {
  if (!ROTATABLE_LOGINS.includes(key as RotatableLogin)) throw new Error(`usage: npm run rotate-password -- <${ROTATABLE_LOGINS.join('|')}> (got ${key ?? 'nothing'})`);
  const cfg = stackConfig();
  if (postgresRunning(cfg) === null) throw new Error(`the ${cfg.name} stack is not running: \`npm start\` first`);
  if (key !== 'admin' && pgbouncerRunning(cfg) === null) throw new Error(`PgBouncer of the ${cfg.name} stack is not running: \`npm start\` first`);
  await rotateLoginPassword(cfg, key as RotatableLogin, (l) => console.log(`[pgkit] ${l}`));
  console.log('[pgkit] run `npm start` to rewrite the connection strings in the env file');
} catch (e) {
  fail(e);
}
