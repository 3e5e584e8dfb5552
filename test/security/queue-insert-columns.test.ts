// The application inserts a queue item only as a request to run (sql/1008). Before, organization A's member, on the
// app login through PgBouncer, could insert an item already leased ('processing', a lease token and holder of its
// choosing) or finished, with attempts or an error, in A's own queue: the worker functions' bookkeeping. Each such
// column is tried; each is refused with 42501, and a plain request still inserts as 'pending' with no lease.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ORG_A, USER_A, tenantParents } from '../../src/security/attacks.js';
import { generateKey, withSecureContext, type Keyring } from '../../src/security/keyring.js';
import { asUser } from '../support/context.js';
import { seededTwoTenants } from './two-tenants.js';

const keyring: Keyring = { kids: generateKey() };
const t = seededTwoTenants(keyring);
const A = asUser(ORG_A, USER_A);
let project: string;
class Rollback extends Error {}

/** One INSERT as A, rolled back: the row it made, or the error's SQLSTATE. */
async function insertAsA(extra: Record<string, unknown>): Promise<Record<string, unknown> | string> {
  const row: Record<string, unknown> = { project_id: project, scheduled_for: new Date(Date.now() + 86_400_000).toISOString(), ...extra };
  const cols = Object.keys(row);
  let made: Record<string, unknown> | undefined;
  try {
    await withSecureContext(t.app, A, keyring, async (tx) => {
      made = (await tx.query(
        `INSERT INTO app.episode_schedule_queue (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})
         RETURNING status, lease_token, locked_by, attempt_count, picked_up_at`, Object.values(row))).rows[0];
      throw new Rollback();
    }, { retries: 0 });
  } catch (e) {
    if (e instanceof Rollback) return made!;
    const x = e as pg.DatabaseError;
    if (x.code === undefined) throw e;
    return x.code;
  }
  throw new Error('unreachable');
}

beforeAll(async () => {
  project = (await tenantParents(t.db.pool as unknown as pg.ClientBase, ORG_A)).project;
});

describe('the app inserts queue items as requests only (sql/1008)', () => {
  it('a request to run inserts as pending, with no lease', async () => {
    expect(await insertAsA({ max_attempts: 5, metadata: { source: 'test' } })).toEqual({
      status: 'pending', lease_token: null, locked_by: null, attempt_count: 0, picked_up_at: null,
    });
  });

  const now = new Date().toISOString();
  it.each([
    ['an item already leased', { status: 'processing', lease_token: randomUUID(), locked_by: 'attacker', lease_expires_at: now, picked_up_at: now }],
    ['an item already completed', { status: 'completed', completed_at: now }],
    ['a status alone', { status: 'failed' }],
    ['a lease token alone', { lease_token: randomUUID() }],
    ['a lock holder', { locked_by: 'attacker' }],
    ['attempts used up', { attempt_count: 3 }],
    ['an error of its own', { last_error: 'forged', last_attempt_at: now, next_attempt_at: now }],
    ['a backdated creation time', { created_at: '2020-01-01T00:00:00Z' }],
  ])('refuses %s (42501)', async (_what, extra) => {
    expect(await insertAsA(extra)).toBe('42501');
  });
});
