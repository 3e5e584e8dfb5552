// docs/traceability.md cites only tests that exist and sql/ files that exist, and every "built" row cites a test.
// Real test names come from `vitest list --json` in a child process (without the globalSetup: collection needs
// no test stack), the same logic as `npm run check:traceability` (scripts/lib/traceability.ts explains why not a
// static read of the sources).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDocument, formatProblems, listTestFiles, listTests, parseDocument, sqlFileNames } from '../../scripts/lib/traceability.js';
import { checkSeedItems, extractSeedItems, extractSeedsDir, parseSeedItems, seedsDir } from '../../scripts/lib/seed-items.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(join(root, 'docs', 'traceability.md'), 'utf8');

describe('docs/traceability.md', () => {
  it('every proving-test reference names an existing test, every sql/ file exists, every built row cites a test', async () => {
    const tests = await listTests(root);
    expect(tests.length).toBeGreaterThan(100);
    const { problems, refs } = checkDocument(doc, tests, sqlFileNames(root), listTestFiles(root));
    expect(refs.length).toBeGreaterThan(100);
    expect(formatProblems(problems)).toBe('');
    // `vitest list` collects every test file: a minute on a quiet box, several on a loaded shared one.
  }, 600_000);

  it('the checker finds a renamed test, a missing sql/ file and a built row without a test (it can fail)', () => {
    const tests = [{ file: 'test/sql/constraints.test.ts', name: 'unique keys reject duplicates > x rejects y' }];
    const bad = [
      '`C` = `test/sql/constraints.test.ts`, `UNQ` = `unique keys reject duplicates`',
      '| id | recommendation | status | object | proving test |',
      '|---|---|---|---|---|',
      '| A | a | built | sql/0001 | `C > UNQ > x rejects y` |',
      '| B | b | built | sql/9999 | `C > UNQ > x rejects z` |',
      '| D | d | built | — | issue 6 |',
      '| E | e | declined | sql/definitions/app.f.sql, sql/definitions/app.nope.sql | — |',
    ].join('\n');
    expect(parseDocument(bad).refs.map((r) => r.name)).toEqual(['unique keys reject duplicates > x rejects y', 'unique keys reject duplicates > x rejects z']);
    const { problems } = checkDocument(bad, tests, ['0001_schemas_and_extensions.sql', 'definitions/app.f.sql'], ['test/sql/constraints.test.ts']);
    expect(problems.map((p) => p.row)).toEqual(['B', 'B', 'E', 'D']);
    expect(problems[2].message).toMatch(/no sql\/definitions\/app\.nope\.sql/);
  });

  it('every seed section and numbered item has a row or a reason (docs/seed-items.tsv), and the list holds every item of the seeds', () => {
    const items = parseSeedItems(readFileSync(join(root, 'docs', 'seed-items.tsv'), 'utf8'));
    expect(items.length).toBeGreaterThan(300);
    const dir = seedsDir(root);
    expect(checkSeedItems(items, new Set(parseDocument(doc).rows.map((r) => r.id)), dir ? extractSeedsDir(dir) : null)).toEqual([]);
  });

  it('the seed-item check finds an item without a row, a row that does not exist, and a seed item missing from the list (it can fail)', () => {
    const seed = extractSeedItems('009', ['# T', '## Plan', '### Phase 0', '- [ ] Add audit', '1. Do a thing', '```', '## not a heading (code)', '```'].join('\n'));
    expect(seed.map((i) => i.key)).toEqual(['009:h2:plan', '009:h3:phase-0', '009:c:add-audit', '009:n:1.-do-a-thing']);
    const list = parseSeedItems(['009:h2:plan\tn/a: a heading over its items\t2\tPlan', '009:h3:phase-0\t\t3\tPhase 0', '009:c:add-audit\tX-1\t4\tAdd audit'].join('\n'));
    const problems = checkSeedItems(list, new Set(['X-2']), seed);
    expect(problems).toEqual([
      'seed item 009:h3:phase-0 ("Phase 0") has no traceability row and no n/a reason',
      'seed item 009:c:add-audit names row X-1, which docs/traceability.md does not have',
      'seed 009 line 5 ("1. Do a thing") is not in docs/seed-items.tsv: run npx tsx scripts/extract-seed-items.ts --write and assign it a row',
    ]);
  });
});
