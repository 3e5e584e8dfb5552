#!/usr/bin/env -S npx tsx
// `npm stop`: stops PgBouncer and PostgreSQL of the local stack; the data stays for the next start.
import { stackConfig } from '../src/config.js';
import { stopStack } from '../src/local/stack.js';
import { fail } from './lib/fail.js';

const cfg = stackConfig();
try {
  const stopped = await stopStack(cfg, (l) => console.log(`[pgkit] ${l}`));
  console.log(stopped.length ? `[pgkit] stopped: ${stopped.join(', ')} (data kept in ${cfg.home})` : `[pgkit] the ${cfg.name} stack is not running: nothing to stop`);
} catch (e) {
  fail(e);
}
