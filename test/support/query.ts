// One statement on a connection of its own: what another request, login or session would see.
import pg from 'pg';

/** Runs one statement on a fresh connection of `url` and closes it. */
export async function queryOnce<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
