#!/usr/bin/env -S npx tsx
// `npm run service`: the workload service on PORT (default 8080), connected as the application login role
// through PgBouncer (APP_POOLED_DATABASE_URL, else the local stack's; --database picks another database).
// Read-only routes go to the read replica (APP_READ_DATABASE_URL, else the local stack's `<database>_readonly` when
// its replica runs) while its replay lag is at most SERVICE_READ_MAX_LAG_MS (default 1000) and it has replayed the
// user's last write; to the primary otherwise (readRouter.ts).
import { parseArgs } from 'node:util';
import { contextKeys, endpoints, loadtestEncKeys } from '../lib/local.js';
import { buildService } from './app.js';

const { values } = parseArgs({ options: { database: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, 'pool-size': { type: 'string' } } });
const ep = endpoints(values.database);
const { app } = buildService({
  databaseUrl: ep.appPooled,
  workerDatabaseUrl: ep.workerPooled,
  jwtKeys: contextKeys(ep.stack),
  encKeys: loadtestEncKeys(ep.stack).material,
  poolSize: Number(values['pool-size'] ?? process.env.SERVICE_POOL_SIZE ?? ep.stack.poolSize),
  readDatabaseUrl: ep.appReadPooled,
  readMaxLagMs: readMaxLagMs(process.env.SERVICE_READ_MAX_LAG_MS),
  // JSON lines on stdout: each error's request id with its details (SQLSTATE, constraint, cause), which the
  // client never sees (docs/loadtests.md, "Error contract"). LOG_LEVEL=warn keeps only failures.
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
});
function readMaxLagMs(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`SERVICE_READ_MAX_LAG_MS=${raw} is not valid: expected a whole number of milliseconds (0 or more)`);
    process.exit(1);
  }
  return n;
}
const port = Number(values.port ?? process.env.PORT ?? 8080);
const host = values.host ?? process.env.HOST ?? '127.0.0.1';
try {
  await app.listen({ port, host });
  console.log(`workload service on http://${host}:${port} -> ${ep.database} through PgBouncer (${new URL(ep.appPooled).host})`);
  console.log(ep.appReadPooled ? `  reads: the replica (${new URL(ep.appReadPooled).pathname.slice(1)}) while its lag is under the bound, else the primary` : '  reads: the primary (no replica: npm start -- --replica, or APP_READ_DATABASE_URL)');
} catch (e) {
  console.error(`workload service failed to start: ${(e as Error).message}`);
  process.exit(1);
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void app.close().then(() => process.exit(0)));
