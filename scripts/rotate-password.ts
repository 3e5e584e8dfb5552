#!/usr/bin/env -S npx tsx
// `npm run rotate-password -- <app|worker|bouncer|admin>`: a new password for one login of the local stack,
// everywhere at once (secrets file, the role as a SCRAM verifier, PgBouncer's auth_file and a reload). Connected
// clients keep working; new connections need the new password (.pgkit/<stack>/env is rewritten by `npm start`).
import { stackConfig } from '../src/config.js';
import { pgbouncerRunning, postgresRunning, rotateLoginPassword } from '../src/local/stack.js';
import { fail } from './lib/fail.js';

const LOGINS = ['app', 'worker', 'bouncer', 'admin'] as const;
type Login = (typeof LOGINS)[number];
const key = process.argv[2];
try {
  if (!LOGINS.includes(key as Login)) throw new Error(`usage: npm run rotate-password -- <${LOGINS.join('|')}> (got ${key ?? 'nothing'})`);
  const cfg = stackConfig();
  if (postgresRunning(cfg) === null) throw new Error(`the ${cfg.name} stack is not running: \`npm start\` first`);
  if (key !== 'admin' && pgbouncerRunning(cfg) === null) throw new Error(`PgBouncer of the ${cfg.name} stack is not running: \`npm start\` first`);
  await rotateLoginPassword(cfg, key as Login, (l) => console.log(`[pgkit] ${l}`));
  console.log('[pgkit] run `npm start` to rewrite the connection strings in the env file');
} catch (e) {
  fail(e);
}
