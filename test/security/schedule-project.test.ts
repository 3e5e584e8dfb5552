// app.schedule_project is SECURITY DEFINER (it writes the queue for the caller) and granted to the application.
// Called by the app login for another organization's project it must answer exactly as for a missing project:
// nothing queued, nothing locked, and no hint of the project's state (paused, deleted). Through PgBouncer.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { ORG_A, ORG_B, USER_A, USER_B, seedTwoTenants } from '../../src/security/attacks.js';
import { generateKey, type Keyring } from '../../src/security/keyring.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { asUser } from '../support/context.js';

let db: TestDb;
let app: pg.Pool;
const keyring: Keyring = { kctx: generateKey() };
let projectA: string;
const projectsB: Record<'open' | 'paused' | 'deleted', string> = { open: '', paused: '', deleted: '' };

async function scheduleAs(org: string, user: string, project: string): Promise<string | null> {
  const r = await withContext(app, asUser(org, user), (c) => c.query<{ id: string | null }>('SELECT app.schedule_project($1) AS id', [project]), { retries: 0 });
  return r.rows[0].id;
}

const queued = async (project: string) =>
  (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM app.episode_schedule_queue WHERE project_id = $1', [project])).rows[0].n;

beforeAll(async () => {
  db = await migratedDatabase();
  const admin = await db.pool.connect();
  try {
    await seedTwoTenants(admin, keyring);
    const mk = async (org: string, name: string, extra = '') => {
      const id = randomUUID();
      await admin.query(`INSERT INTO app.projects (id, organization_id, name) VALUES ($1, $2, $3)`, [id, org, name]);
      if (extra) await admin.query(`UPDATE app.projects SET ${extra} WHERE id = $1`, [id]);
      return id;
    };
    projectA = await mk(ORG_A, 'sched-a');
    projectsB.open = await mk(ORG_B, 'sched-b-open');
    projectsB.paused = await mk(ORG_B, 'sched-b-paused', 'is_paused = true');
    projectsB.deleted = await mk(ORG_B, 'sched-b-deleted', 'deleted_at = now()');
  } finally {
    admin.release();
  }
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 2 });
});

afterAll(async () => {
  await app?.end();
  await db?.drop();
});

describe('app.schedule_project across tenants', () => {
  it('baseline: B\'s own member schedules B\'s open project, and A\'s member schedules A\'s', async () => {
    expect(await scheduleAs(ORG_B, USER_B, projectsB.open)).toMatch(/^[0-9a-f-]{36}$/);
    expect(await scheduleAs(ORG_A, USER_A, projectA)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('as A, every project of B answers like a missing one and nothing is queued for it', async () => {
    const before = await queued(projectsB.open);
    const answers = [];
    for (const p of [projectsB.open, projectsB.paused, projectsB.deleted, randomUUID()]) answers.push(await scheduleAs(ORG_A, USER_A, p));
    expect(answers).toEqual([null, null, null, null]);
    expect(await queued(projectsB.open)).toBe(before);
    expect(await queued(projectsB.paused)).toBe(0);
  });

  it('a forged context naming B without membership gets nothing either', async () => {
    expect(await scheduleAs(ORG_B, USER_A, projectsB.open)).toBeNull();
  });
});
