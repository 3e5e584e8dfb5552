// One dedicated session per runner call: the advisory lock and session settings live on it.
import pg from 'pg';

export const APPLICATION_NAME = 'pgkit-migrate';

export async function withClient<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, application_name: APPLICATION_NAME });
  await client.connect();
  // A broken connection must surface as the rejected query, not as an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
