// The benchmark's pgbench scripts all set the request context with the same statement, the one the benchmark's
// preflight (loadtests/bench/scripts/context_check.sql) proves takes before anything is timed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { OPERATIONS } from '../../loadtests/lib/targets.js';
import { openTokenSql } from '../../loadtests/bench/fixture-tokens.js';

const dir = join(repoRoot, 'loadtests', 'bench', 'scripts');
// The fixture's signed token (loadtests/bench/index.ts signs one per fixture row before the run; the worker's for
// the queue script), sealed in the table under the run key pgbench holds (loadtests/bench/fixture-tokens.ts) and
// opened in the statement that authenticates: the authenticated context of sql/0930, no token readable by the app.
const CONTEXT = new RegExp(`BEGIN;\\nSELECT app\\.authenticate_context\\((${[openTokenSql('token_sealed'), openTokenSql('worker_token_sealed')].map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\) AS x, org_id AS o, user_id AS u`);

describe('bench scripts', () => {
  const scripts = readdirSync(dir).filter((f) => f.endsWith('.sql'));

  it('there is one script per benchmarked operation (complete_queue_item runs inside claim_queue_item), plus the context check', () => {
    const ops = OPERATIONS.filter((o) => o !== 'complete_queue_item').map((o) => `${o}.sql`);
    expect(scripts.sort()).toEqual([...ops, 'context_check.sql'].sort());
  });

  it.each(readdirSync(dir).filter((f) => f.endsWith('.sql')))('%s begins its transaction with the sealed-token request context of the check', (f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    expect(text).toMatch(CONTEXT);
    expect(text.includes('worker_token_sealed')).toBe(f === 'claim_queue_item.sql');
    // Run with -M extended: a quoted ':var' would become the literal '$n' there.
    expect(text).not.toMatch(/':[a-z_]+'/);
    // Before any query of app tables: the context statement is the script's first SQL after its \set lines.
    const firstSql = text.split('\n').filter((l) => l.trim() && !l.startsWith('--') && !l.startsWith('\\'))[0];
    expect(firstSql).toBe('BEGIN;');
  });
});
