// docs/traceability.md cites only tests that exist and sql/ files that exist, and every "built" row cites a test.
// Real test names come from `vitest list --json` in a child process (without the globalSetup: collection needs
// no test stack), the same logic as `npm run check:traceability` (scripts/lib/traceability.ts explains why not a
// static read of the sources).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDocument, formatProblems, listTestFiles, listTests, parseDocument, sqlFileNames } from '../../scripts/lib/traceability.js';

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
});
