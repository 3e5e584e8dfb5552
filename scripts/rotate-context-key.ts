#!/usr/bin/env -S npx tsx
// `npm run rotate-context-key -- <user|worker> [--retire]`: rotates a request-context signing key of the local
// stack (sql/0930) with two keys live in between:
//   1. without --retire: a new key is registered in every database of the stack that holds the bundle, then
//      saved first in secrets.json, so it signs from now on; tokens of the older key still verify;
//   2. with --retire (once the older key's tokens have expired, or at once for a leaked key): the older keys
//      are retired in every database, then dropped from secrets.json; their tokens are refused.
// Restart the workload service after either step (it reads the keys at start).
import { stackConfig } from '../src/config.js';
import { postgresRunning, rotateContextKey } from '../src/local/stack.js';
import { fail } from './lib/fail.js';

const purpose = process.argv[2];
const retire = process.argv.includes('--retire');
try {
  if (purpose !== 'user' && purpose !== 'worker') throw new Error(`usage: npm run rotate-context-key -- <user|worker> [--retire] (got ${purpose ?? 'nothing'})`);
  const cfg = stackConfig();
  if (postgresRunning(cfg) === null) throw new Error(`the ${cfg.name} stack is not running: \`npm start\` first`);
  await rotateContextKey(cfg, purpose, retire, (l) => console.log(`[pgkit] ${l}`));
  if (!retire) console.log(`[pgkit] when the older ${purpose} key's tokens have expired: npm run rotate-context-key -- ${purpose} --retire`);
} catch (e) {
  fail(e);
}
