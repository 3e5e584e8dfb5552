// The benchmark's pgbench scripts all set the request context with the same statement, the one the benchmark's
// preflight (loadtests/bench/scripts/context_check.sql) proves takes before anything is timed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { OPERATIONS } from '../../loadtests/lib/targets.js';

const dir = join(repoRoot, 'loadtests', 'bench', 'scripts');
// The fixture's signed token (loadtests/bench/index.ts signs one per fixture row before the run; the worker's for
// the queue script), read from the table, never inlined: the authenticated context of sql/0930.
const CONTEXT = /BEGIN \\;\nSELECT app\.authenticate_context\((token|worker_token)\) AS x, org_id AS o, user_id AS u/;

describe('bench scripts', () => {
  const scripts = readdirSync(dir).filter((f) => f.endsWith('.sql'));

  it('there is one script per benchmarked operation (complete_queue_item runs inside claim_queue_item), plus the context check', () => {
    const ops = OPERATIONS.filter((o) => o !== 'complete_queue_item').map((o) => `${o}.sql`);
    expect(scripts.sort()).toEqual([...ops, 'context_check.sql'].sort());
  });

  it.each(readdirSync(dir).filter((f) => f.endsWith('.sql')))('%s begins its transaction with the stamped request context of the check', (f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    expect(text).toMatch(CONTEXT);
    expect(text.includes('worker_token')).toBe(f === 'claim_queue_item.sql');
    // Before any query of app tables: the context statement is the script's first SQL after its \set lines.
    const firstSql = text.split('\n').filter((l) => l.trim() && !l.startsWith('--') && !l.startsWith('\\'))[0];
    expect(firstSql).toBe('BEGIN \\;');
  });
});
