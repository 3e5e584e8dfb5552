#!/usr/bin/env -S npx tsx
// Extracts the seeds' sections and numbered items (scripts/lib/seed-items.ts) and prints those missing from
// docs/seed-items.tsv; with --write, adds them (unassigned) and keeps every existing assignment.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from './lib/fail.js';
import { extractSeedsDir, formatSeedItems, parseSeedItems, seedsDir } from './lib/seed-items.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
try {
  const dir = seedsDir(root);
  if (!dir) throw new Error('no seeds folder: set PGKIT_SEEDS_DIR to the folder of the seed .txt files');
  const path = join(root, 'docs', 'seed-items.tsv');
  const existing = existsSync(path) ? parseSeedItems(readFileSync(path, 'utf8')) : [];
  const byKey = new Map(existing.map((i) => [i.key, i]));
  const extracted = extractSeedsDir(dir);
  const merged = extracted.map((e) => ({ ...(byKey.get(e.key) ?? { rows: [], reason: null }), key: e.key, text: e.text, line: e.line }));
  const missing = extracted.filter((e) => !byKey.has(e.key));
  console.log(`[seed-items] ${extracted.length} items in ${dir}; ${missing.length} not in docs/seed-items.tsv`);
  for (const m of missing) console.log(`  ${m.key}\t${m.text}`);
  if (process.argv.includes('--write')) {
    writeFileSync(path, formatSeedItems(merged));
    console.log(`[seed-items] wrote ${path}`);
  }
} catch (e) {
  fail(e);
}
