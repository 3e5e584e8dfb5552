// Every section and numbered item of the five seed reviews must have a row in docs/traceability.md (issue 17 #9).
// How it is told: docs/seed-items.tsv is a committed list of the seeds' items, extracted from the seed files by
// extractSeedItems() below (headings of level 2 and 3, numbered list items, checklist items), each assigned the
// traceability row ids that answer it, or `n/a: <reason>` for what asks nothing (an executive summary, a
// conclusion, a score). The check fails when
//   - an item of the list names no row and gives no reason, or names a row id the document does not have;
//   - the seed files are at hand (PGKIT_SEEDS_DIR, default ../shared/seeds beside the repository) and one of their
//     items is not in the list (the seeds changed, or the list was cut): re-extract with
//     `npx tsx scripts/extract-seed-items.ts --write`, which keeps existing assignments, and assign the new ones.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SeedItem {
  /** `<seed>:<kind>:<slug>`, kind h2/h3 (heading), n (numbered item), c (checklist item). Stable across edits elsewhere. */
  key: string;
  seed: string;
  line: number;
  text: string;
}

export interface AssignedItem {
  key: string;
  /** Row ids, or empty when `reason` is given. */
  rows: string[];
  reason: string | null;
  text: string;
  line: number;
}

const slug = (t: string) =>
  t.toLowerCase().replace(/\*\*|`|#\w+/g, ' ').replace(/[^a-z0-9§.]+/g, ' ').trim().split(/\s+/).join('-').slice(0, 60).replace(/-+$/, '');

/** The items of one seed file's text. `seed` is the file's three-digit number. */
export function extractSeedItems(seed: string, text: string): SeedItem[] {
  const out: SeedItem[] = [];
  const seen = new Map<string, number>();
  let inCode = false;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*```/.test(raw)) {
      inCode = !inCode;
      return;
    }
    if (inCode) return;
    let kind: string | null = null;
    let body = '';
    let m: RegExpMatchArray | null;
    if ((m = raw.match(/^(##|###)\s+(.+?)\s*$/))) {
      kind = m[1] === '##' ? 'h2' : 'h3';
      body = m[2];
    } else if ((m = raw.match(/^(\d+)\.\s+(.+?)\s*$/))) {
      kind = 'n';
      body = `${m[1]}. ${m[2]}`;
    } else if ((m = raw.match(/^\s*- \[[ xX]\]\s+(.+?)\s*$/))) {
      kind = 'c';
      body = m[1];
    }
    if (!kind) return;
    let key = `${seed}:${kind}:${slug(body) || 'item'}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1) key += `~${n}`;
    out.push({ key, seed, line: i + 1, text: body.replace(/\t/g, ' ') });
  });
  return out;
}

/** The seed files of a folder (`NNN_*.txt`), as items. */
export function extractSeedsDir(dir: string): SeedItem[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_.*\.txt$/.test(f))
    .sort()
    .flatMap((f) => extractSeedItems(f.slice(0, 3), readFileSync(join(dir, f), 'utf8')));
}

export function seedsDir(root: string): string | null {
  const dir = process.env.PGKIT_SEEDS_DIR ?? join(root, '..', 'shared', 'seeds');
  return existsSync(dir) ? dir : null;
}

/** docs/seed-items.tsv: `key<TAB>rows or n/a: reason<TAB>line<TAB>text`, `#` comments. */
export function parseSeedItems(tsv: string): AssignedItem[] {
  return tsv
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [key, assigned = '', line = '0', ...text] = l.split('\t');
      const a = assigned.trim();
      const reason = a.startsWith('n/a') ? a.replace(/^n\/a:?\s*/, '') : null;
      return { key, rows: reason === null ? a.split(',').map((s) => s.trim()).filter(Boolean) : [], reason, text: text.join('\t'), line: Number(line) };
    });
}

export function formatSeedItems(items: AssignedItem[]): string {
  return [
    '# Seed items (issue 17 #9): every section and numbered item of the five seeds in shared/seeds/, extracted by',
    '# scripts/extract-seed-items.ts, with the docs/traceability.md row ids that answer it, or "n/a: <reason>".',
    '# Checked by npm run check:traceability. Columns: key, rows, line in the seed, the item as written.',
    ...items.map((i) => [i.key, i.reason !== null ? `n/a: ${i.reason}` : i.rows.join(','), String(i.line), i.text].join('\t')),
    '',
  ].join('\n');
}

/** Problems of the list against the document's row ids and, when given, the seeds' current items. */
export function checkSeedItems(items: AssignedItem[], rowIds: Set<string>, extracted: SeedItem[] | null): string[] {
  const problems: string[] = [];
  for (const i of items) {
    if (i.reason === null && i.rows.length === 0) problems.push(`seed item ${i.key} ("${i.text}") has no traceability row and no n/a reason`);
    if (i.reason !== null && i.reason.trim().length < 3) problems.push(`seed item ${i.key}: n/a needs a reason`);
    for (const r of i.rows) if (!rowIds.has(r)) problems.push(`seed item ${i.key} names row ${r}, which docs/traceability.md does not have`);
  }
  if (extracted) {
    const listed = new Set(items.map((i) => i.key));
    for (const e of extracted) if (!listed.has(e.key)) problems.push(`seed ${e.seed} line ${e.line} ("${e.text}") is not in docs/seed-items.tsv: run npx tsx scripts/extract-seed-items.ts --write and assign it a row`);
  }
  return problems;
}
