// Private stack instances for the drill tests: they are crashed, restarted and restored from, so they never
// share the test stack (other files use it in parallel) or the user's local stack. Their ports, and their
// scratch clusters', are free ports chosen for the run (drillStack; src/proc/ports.ts). The schema is the foundation bundle (sql/0001-0099: schemas, group
// roles, pooler auth) plus a fixture with every kind of object the verification compares, so these tests do
// not depend on the tables being written in sql/0100+ (verify.test.ts checks the real bundle).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { repoRoot, sqlDir, stackConfig, type StackConfig } from '../../src/config.js';
import { connectionStrings, removeStackFiles, stackSecrets, startStack, stopStack } from '../../src/local/stack.js';
import { applyMigrations, loadMigrations } from '../../src/migrate/index.js';
import { reservePorts, type PortLease } from '../../src/proc/ports.js';

export function drillStackConfig(name: string, pgPort: number, bouncerPort: number): StackConfig {
  return { ...stackConfig('test'), home: join(repoRoot, '.pgkit', `drill-test-${name}-${process.pid}`), pgPort, bouncerPort };
}

/** A drill stack's config on two free ports, and `extra` more free ports (for scratch clusters); removeDrillStack frees them. */
export async function drillStack(name: string, extra = 0): Promise<{ cfg: StackConfig; spare: number[]; ports: PortLease }> {
  const ports = await reservePorts(2 + extra);
  const [pgPort, bouncerPort, ...spare] = ports.ports;
  return { cfg: drillStackConfig(name, pgPort, bouncerPort), spare, ports };
}

/** The foundation bundle only (sql/0001-0099 and their definitions): what the drill stacks need, quickly. */
export async function foundationOnly(url: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pgkit-drill-sql-'));
  try {
    for (const f of readdirSync(sqlDir).filter((n) => /^00\d\d_.*\.sql$/.test(n))) copyFileSync(join(sqlDir, f), join(dir, f));
    // with the definitions anchored after those files (the pooler's lookup function)
    mkdirSync(join(dir, 'definitions'));
    for (const d of (await loadMigrations()).filter((f) => f.kind === 'definition' && /^00\d\d_/.test(f.after ?? ''))) {
      copyFileSync(join(sqlDir, d.name), join(dir, d.name));
    }
    await applyMigrations({ connectionString: url, dir, log: () => {} });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tables in each core schema (one with pgvector data), RLS with policies, a pg_cron job. */
export const FIXTURE_SQL = `
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.schedule('drill-fixture-nightly', '17 3 * * *', $$SELECT 1$$);
CREATE TABLE IF NOT EXISTS app.drill_fixture (id int PRIMARY KEY, org_id int NOT NULL, body text, embedding extensions.vector(3));
ALTER TABLE app.drill_fixture ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.drill_fixture FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS drill_fixture_select ON app.drill_fixture;
CREATE POLICY drill_fixture_select ON app.drill_fixture FOR SELECT TO pgkit_app USING (org_id = 1);
INSERT INTO app.drill_fixture SELECT g, g % 3, md5(g::text), format('[%s,%s,%s]', g, g + 1, g + 2)::extensions.vector
  FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS audit.drill_events (id bigserial PRIMARY KEY, what text NOT NULL, at timestamptz NOT NULL DEFAULT now());
INSERT INTO audit.drill_events (what) SELECT 'event ' || g FROM generate_series(1, 200) g;
CREATE TABLE IF NOT EXISTS ops.drill_jobs (name text PRIMARY KEY, runs int NOT NULL DEFAULT 0);
INSERT INTO ops.drill_jobs VALUES ('a', 1), ('b', 2) ON CONFLICT DO NOTHING;
`;

export async function startDrillStack(cfg: StackConfig): Promise<{ adminUrl: string; appUrl: string }> {
  mkdirSync(join(repoRoot, '.pgkit'), { recursive: true });
  await startStack(cfg, { migrate: foundationOnly });
  const urls = connectionStrings(cfg, stackSecrets(cfg));
  // The fixture is data below the application (RLS-closed tables, a cron job): the drills act as the platform.
  const c = new pg.Client({ connectionString: urls.superuserDirect });
  await c.connect();
  try {
    await c.query(FIXTURE_SQL);
  } finally {
    await c.end();
  }
  return { adminUrl: urls.superuserDirect, appUrl: urls.appDirect };
}

export async function removeDrillStack(cfg: StackConfig, ports: PortLease) {
  await stopStack(cfg).catch(() => {});
  removeStackFiles(cfg);
  ports.release();
}
