// Issue 16 #8, large objects: any role may create them and the admin cannot revoke lo_* from PUBLIC (the
// functions are the bootstrap superuser's; RDS: "no privileges could be revoked"), so an app session could keep
// data outside row-level security for every other session of its login to read. The application uses none, so
// the scheduled job ops.job_remove_login_large_objects (every minute, sql/1006) removes any a login owns and logs
// an error line, which the monitoring reads like every error line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { queryOnce } from '../support/query.js';

let db: TestDb;
beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('large objects of the application logins', () => {
  it('an app session can create one that another app session reads (the attack), and the job removes it and logs an error line', async () => {
    const [{ lo }] = await queryOnce<{ lo: number }>(db.appUrl, "SELECT lo_from_bytea(0, convert_to('stash of tenant data', 'UTF8'))::int8 AS lo");
    const [{ t }] = await queryOnce<{ t: string }>(db.appUrl, "SELECT convert_from(lo_get($1::oid), 'UTF8') AS t", [lo]);
    expect(t).toBe('stash of tenant data');
    // The admin cannot take the functions away (as on RDS): the grant is the bootstrap superuser's.
    await queryOnce(db.url, 'REVOKE EXECUTE ON FUNCTION lo_from_bytea(oid, bytea) FROM PUBLIC');
    expect((await queryOnce<{ ok: boolean }>(db.appUrl, "SELECT has_function_privilege('lo_from_bytea(oid, bytea)', 'EXECUTE') AS ok"))[0].ok).toBe(true);

    // The job runs as the admin, as pg_cron runs it.
    const [{ r }] = await queryOnce<{ r: { status?: string; rows_affected?: number } }>(db.url, 'SELECT ops.job_remove_login_large_objects() AS r');
    expect(r).toMatchObject({ status: 'completed', rows_affected: 1 });
    expect(await db.pool.query('SELECT 1 FROM pg_largeobject_metadata WHERE oid = $1', [lo]).then((x) => x.rowCount)).toBe(0);
    await expect(queryOnce(db.appUrl, 'SELECT lo_get($1::oid)', [lo])).rejects.toMatchObject({ code: '42704' });
    const { rows } = await db.pool.query<{ level: string; metadata: { role: string; large_object: number } }>(
      "SELECT level, metadata FROM ops.logs WHERE event_type = 'login_large_object_removed'");
    expect(rows.map((l) => [l.level, l.metadata.role, Number(l.metadata.large_object)])).toEqual([['error', 'pgkit_app_login', Number(lo)]]);
    // The admin was given the login only for the statement: it is not left able to act as it (on 16+ the admin keeps
    // the ADMIN-only membership it got by creating the login, so the check is app_private.can_set_role).
    expect((await db.pool.query<{ m: boolean }>("SELECT app_private.can_set_role('pgkit_admin', 'pgkit_app_login') AS m")).rows[0].m).toBe(false);
  });

  it('leaves the large objects of other roles alone, and a run with none removes nothing', async () => {
    const [{ lo }] = await queryOnce<{ lo: number }>(db.url, "SELECT lo_from_bytea(0, '\\x00')::int8 AS lo");
    const [{ r }] = await queryOnce<{ r: { rows_affected?: number } }>(db.url, 'SELECT ops.job_remove_login_large_objects() AS r');
    expect(r.rows_affected).toBe(0);
    expect(await db.pool.query('SELECT 1 FROM pg_largeobject_metadata WHERE oid = $1', [lo]).then((x) => x.rowCount)).toBe(1);
  });

  it('is scheduled every minute with the other jobs', async () => {
    const { rows } = await db.pool.query("SELECT schedule, command FROM ops.job_definitions() WHERE jobname = 'pgkit_remove_login_large_objects'");
    expect(rows).toEqual([{ schedule: '* * * * *', command: 'SELECT ops.job_remove_login_large_objects()' }]);
  });
});
