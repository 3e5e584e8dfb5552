// Tenant isolation, tried from the outside: the break-in suite (src/security/attacks.ts) against a real
// migrated database through PgBouncer, then again after planting a leaky policy to prove it can fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBreakInSuite, type SuiteResult } from '../../src/security/attacks.js';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
let result: SuiteResult;

beforeAll(async () => {
  db = await migratedDatabase();
  result = await runBreakInSuite({ adminUrl: db.superUrl, appPooledUrl: db.appPooledUrl, signer: db.signer });
});
afterAll(async () => {
  await db?.drop();
});

describe('organization A cannot reach organization B', () => {
  it('every table holding tenant or user data has row-level security enabled and forced', () => {
    expect(result.gaps).toEqual([]);
    expect(result.tenantTablesTotal).toBeGreaterThanOrEqual(20);
    expect(result.tenantTablesWithForcedRls).toBe(result.tenantTablesTotal);
  });

  it('hundreds of attempts, none leaks a row, none fails for an unexpected reason', () => {
    expect(result.attempts.length).toBeGreaterThan(400);
    const bad = result.attempts.filter((a) => a.leaked > 0 || a.outcome.startsWith('unexpected'));
    expect(bad).toEqual([]);
    expect(result.leaked).toBe(0);
  });

  it('covers the oracle, key-material and large-object classes of issue 16 (#5, #7, #8), the queue bookkeeping, write_log sessions and the HNSW graph queue', () => {
    const kinds = (k: RegExp) => result.attempts.filter((a) => k.test(a.kind));
    expect(new Set(kinds(/^chosen id/).map((a) => a.table)).size).toBeGreaterThanOrEqual(11);
    expect(kinds(/keyring of a keyed transaction/)).toHaveLength(1);
    expect(kinds(/large object/)).toHaveLength(2);
    expect(kinds(/slug probes past the rate limit/)).toEqual([expect.objectContaining({ leaked: 0, outcome: 'P0429' })]);
    // The queue's bookkeeping columns (sql/1008) and write_log's session (each refused, none leaked).
    expect(kinds(/^insert an item .* \(sql\/1008\)$/).map((a) => a.outcome)).toEqual(['42501', '42501', '42501', '42501', '42501']);
    const logs = kinds(/app\.write_log naming B's chat session/);
    expect(logs.length).toBeGreaterThanOrEqual(1);
    for (const a of logs) expect(a).toMatchObject({ leaked: 0, outcome: '22023' });
    // The HNSW graph's queue (sql/1009): B's waiting rows are not found by A's search under either organization id,
    // and A can neither put rows into the graph itself nor run the job.
    expect(kinds(/^app\.search_embeddings\(B vector, org [AB]\)$/)).toEqual([
      expect.objectContaining({ leaked: 0, outcome: 'filtered' }), expect.objectContaining({ leaked: 0, outcome: 'filtered' })]);
    expect(kinds(/in_vector_index|index job/).map((a) => [a.leaked, a.outcome])).toEqual([[0, '42501'], [0, '42501'], [0, '42501']]);
  });

  it("organization B's rows are byte-for-byte unchanged", () => {
    expect(result.bChecksumAfter).toBe(result.bChecksumBefore);
  });

  it('writes are refused by privilege, policy or tenant trigger (not by accident)', () => {
    const writes = result.attempts.filter((a) => /insert|reference|truncate|move|update|delete/.test(a.kind));
    expect(writes.length).toBeGreaterThan(100);
    for (const w of writes) expect(['filtered', '42501', '23503']).toContain(w.outcome);
  });

  it('the same suite finds a leak when a policy is too broad (the probes can fail)', async () => {
    await db.pool.query('CREATE POLICY projects_app_leak ON app.projects FOR SELECT TO pgkit_app USING (true)');
    await db.pool.query('GRANT INSERT (id) ON app.projects TO pgkit_app'); // the chosen-id oracle, as before sql/1004
    await db.pool.query('GRANT INSERT (status, completed_at) ON app.episode_schedule_queue TO pgkit_app'); // as before sql/1008
    try {
      const leaky = await runBreakInSuite({ adminUrl: db.superUrl, appPooledUrl: db.appPooledUrl, signer: db.signer });
      const leaks = leaky.attempts.filter((a) => a.table === 'app.projects' && a.leaked > 0).map((a) => a.kind);
      expect(leaks).toEqual(expect.arrayContaining(['select all', 'select filtered to B', 'select by id', 'join', 'copy to', 'no context',
        "chosen id: B's id vs a random id", "chosen id: B's id vs a random id (on conflict do nothing)"]));
      expect(leaky.attempts.filter((a) => a.table === 'app.episode_schedule_queue' && a.leaked > 0).map((a) => a.kind)).toEqual(['insert an item already completed (sql/1008)']);
      expect(leaky.leaked).toBeGreaterThan(0);
    } finally {
      await db.pool.query('REVOKE INSERT (status, completed_at) ON app.episode_schedule_queue FROM pgkit_app');
      await db.pool.query('REVOKE INSERT (id) ON app.projects FROM pgkit_app');
      await db.pool.query('DROP POLICY projects_app_leak ON app.projects');
    }
  });
});
