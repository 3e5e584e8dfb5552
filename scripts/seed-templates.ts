#!/usr/bin/env -S npx tsx
// `npm run seed:templates [-- --database-url URL]`: inserts the initial question templates (src/seed/templates.ts,
// seed 002 Week 1) into a database the bundle was applied to. Default: the local stack, as its admin. Idempotent:
// templates already there (by code) are kept as they are. Exit 1 on failure, saying what to do.
import { parseArgs } from 'node:util';
import { stackConfig } from '../src/config.js';
import { connectionStrings, stackSecrets } from '../src/local/stack.js';
import { INITIAL_TEMPLATES, seedTemplates } from '../src/seed/templates.js';
import { fail } from './lib/fail.js';

try {
  const { values } = parseArgs({ options: { 'database-url': { type: 'string' } } });
  const url = values['database-url'] ?? process.env.DATABASE_URL ?? (() => {
    const cfg = stackConfig();
    return connectionStrings(cfg, stackSecrets(cfg)).adminDirect;
  })();
  const inserted = await seedTemplates(url).catch((e: Error & { code?: string }) => {
    if (e.code === '42P01') throw new Error(`app.question_templates does not exist: apply the bundle first (npm start, or npm run migrate -- apply)`);
    throw e;
  });
  console.log(`[seed:templates] ${inserted.length} of ${INITIAL_TEMPLATES.length} template(s) inserted${inserted.length ? `: ${inserted.join(', ')}` : ' (all were there already: kept as they are)'}`);
} catch (e) {
  fail(e);
}
