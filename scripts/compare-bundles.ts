#!/usr/bin/env -S npx tsx
// Proves that two sql/ folders build the same database: on the test stack (`PGKIT_STACK=test npm start` brings it
// up), it builds a fresh database from each folder and a third by upgrading the first with the second, then
// compares their catalogues (src/migrate/catalogue.ts). Exit 0 when all three match, 1 with the differences.
//   npx tsx scripts/compare-bundles.ts --old <dir> --new <dir> [--keep]
// Used to check a restructuring of sql/ (moving definitions into sql/definitions/) that must change nothing.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stackConfig } from '../src/config.js';
import { connectionStrings, stackSecrets } from '../src/local/stack.js';
import { applyMigrations, catalogueSnapshot, diffCatalogues } from '../src/migrate/index.js';

const { values } = parseArgs({ options: { old: { type: 'string' }, new: { type: 'string' }, keep: { type: 'boolean', default: false } } });
if (!values.old || !values.new) {
  console.error('usage: npx tsx scripts/compare-bundles.ts --old <sql dir> --new <sql dir> [--keep]');
  process.exit(2);
}
const cfg = stackConfig('test');
const url = (db: string) => connectionStrings(cfg, stackSecrets(cfg), db).adminDirect;
const admin = new pg.Client({ connectionString: url('postgres') });
await admin.connect();
const dbs = { old: 'cmp_old', fresh: 'cmp_new', upgraded: 'cmp_upgraded' };
for (const db of Object.values(dbs)) {
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${db}`);
}
const step = async (what: string, f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  console.log(`${what}: ${Math.round(performance.now() - t)} ms`);
};
await step(`build ${dbs.old} from ${values.old}`, () => applyMigrations({ connectionString: url(dbs.old), dir: values.old }));
await step(`build ${dbs.fresh} from ${values.new}`, () => applyMigrations({ connectionString: url(dbs.fresh), dir: values.new }));
await step(`build ${dbs.upgraded} from ${values.old}`, () => applyMigrations({ connectionString: url(dbs.upgraded), dir: values.old }));
let upgrade: string[] = [];
await step(`upgrade ${dbs.upgraded} with ${values.new}`, async () => {
  const r = await applyMigrations({ connectionString: url(dbs.upgraded), dir: values.new });
  upgrade = [`applied ${r.applied.length}`, `rewritten ${r.rewritten.length}`];
});
console.log(`  upgrade: ${upgrade.join(', ')}`);
const snap = async (db: string) => {
  const c = new pg.Client({ connectionString: url(db) });
  await c.connect();
  try {
    return await catalogueSnapshot(c);
  } finally {
    await c.end();
  }
};
const [a, b, c] = [await snap(dbs.old), await snap(dbs.fresh), await snap(dbs.upgraded)];
console.log(`catalogue: ${Object.entries(a).map(([k, v]) => `${k} ${v.length}`).join(', ')}`);
let failed = false;
for (const [label, x, y] of [['old vs new (fresh)', a, b], ['old vs old upgraded by new', a, c]] as const) {
  const d = diffCatalogues(x, y);
  console.log(`${label}: ${d.length === 0 ? 'identical' : `${d.length} differences`}`);
  for (const line of d) console.log(`  ${line.split('\n')[0].slice(0, 400)}`);
  failed ||= d.length > 0;
}
if (!values.keep) for (const db of Object.values(dbs)) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
await admin.end();
process.exit(failed ? 1 : 0);
