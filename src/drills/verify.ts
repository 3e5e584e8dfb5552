// What a restore must reproduce, read from the catalogs so it follows the schema as it grows: per-table row
// counts and order-independent checksums of the core tables (schemas app, audit, ops), roles, row-level
// security and policies, extensions, and pg_cron jobs. The same queries run against the local stack, a
// restored cluster, a logical restore and an RDS instance restored on AWS.
import pg from 'pg';

export const CORE_SCHEMAS = ['app', 'audit', 'ops'] as const;

export interface TableState {
  /** schema.table */
  name: string;
  rows: number;
  /** Order-independent: sum over rows of the first 60 bits of md5(row::text), as a decimal string. */
  checksum: string;
}

export interface RoleState {
  name: string;
  /** super, bypassrls, login, createrole, createdb flags and group memberships, as one comparable string. */
  attrs: string;
}

export interface DatabaseSnapshot {
  tables: TableState[];
  roles: RoleState[];
  /** schema.table => "rls=<on|off> force=<on|off>" for every table in a non-system schema. */
  rls: Record<string, string>;
  /** One line per policy: schema.table.policy cmd permissive roles using check. */
  policies: string[];
  /** name version schema */
  extensions: string[];
  /** null when the cron schema does not exist in this database. */
  cronJobs: string[] | null;
}

export type Queryable = Pick<pg.ClientBase, 'query'>;

const SYSTEM_SCHEMA_FILTER = "n.nspname NOT IN ('pg_catalog','information_schema','pg_toast') AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'";

/** Leaf tables (plain tables and partitions) of the core schemas, in name order. */
export async function coreTables(c: Queryable, schemas: readonly string[] = CORE_SCHEMAS): Promise<string[]> {
  const r = await c.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, t.relname) AS name
       FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE t.relkind = 'r' AND n.nspname = ANY($1::text[])
      ORDER BY n.nspname, t.relname`,
    [schemas],
  );
  return r.rows.map((x) => x.name);
}

/** Row count and checksum of one table (`name` is already quoted by format('%I.%I')). */
export async function tableState(c: Queryable, name: string): Promise<TableState> {
  // FROM ONLY: a partition is counted as its own leaf, never again through its parent.
  const r = await c.query<{ rows: string; checksum: string }>(
    `SELECT count(*)::text AS rows,
            coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0)::text AS checksum
       FROM ONLY ${name} AS t`,
  );
  return { name, rows: Number(r.rows[0].rows), checksum: r.rows[0].checksum };
}

/** `contents: false` reads the catalogs only (table names, no row counts or checksums): safe on production. */
export async function snapshot(c: Queryable, opts: { schemas?: readonly string[]; contents?: boolean } = {}): Promise<DatabaseSnapshot> {
  const tables: TableState[] = [];
  for (const name of await coreTables(c, opts.schemas ?? CORE_SCHEMAS)) tables.push(opts.contents === false ? { name, rows: 0, checksum: '' } : await tableState(c, name));

  const roles = await c.query<RoleState>(
    `SELECT r.rolname AS name,
            concat_ws(' ', 'super=' || r.rolsuper, 'bypassrls=' || r.rolbypassrls, 'login=' || r.rolcanlogin,
                      'createrole=' || r.rolcreaterole, 'createdb=' || r.rolcreatedb,
                      'in=' || coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname)
                                           FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                                          WHERE m.member = r.oid), '')) AS attrs
       FROM pg_roles r
      WHERE r.rolname NOT LIKE 'pg\\_%'
      ORDER BY r.rolname`,
  );

  const rls = await c.query<{ name: string; state: string }>(
    `SELECT format('%I.%I', n.nspname, t.relname) AS name,
            'rls=' || CASE WHEN t.relrowsecurity THEN 'on' ELSE 'off' END ||
            ' force=' || CASE WHEN t.relforcerowsecurity THEN 'on' ELSE 'off' END AS state
       FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE t.relkind IN ('r','p') AND ${SYSTEM_SCHEMA_FILTER}
      ORDER BY 1`,
  );

  const policies = await c.query<{ line: string }>(
    `SELECT format('%I.%I.%I cmd=%s permissive=%s roles=%s using=%s check=%s', schemaname, tablename, policyname,
                   cmd, permissive, array_to_string(roles, ','), coalesce(qual, '-'), coalesce(with_check, '-')) AS line
       FROM pg_policies ORDER BY schemaname, tablename, policyname`,
  );

  const extensions = await c.query<{ line: string }>(
    `SELECT e.extname || ' ' || e.extversion || ' ' || n.nspname AS line
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY e.extname`,
  );

  let cronJobs: string[] | null = null;
  const hasCron = await c.query("SELECT 1 FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'cron' AND t.relname = 'job'");
  if (hasCron.rowCount) {
    const jobs = await c.query<{ line: string }>(
      `SELECT concat_ws(' | ', coalesce(jobname, '#' || jobid), schedule, command, database, username, active::text) AS line
         FROM cron.job ORDER BY jobname NULLS LAST, jobid`,
    );
    cronJobs = jobs.rows.map((j) => j.line);
  }

  return {
    tables,
    roles: roles.rows,
    rls: Object.fromEntries(rls.rows.map((x) => [x.name, x.state])),
    policies: policies.rows.map((p) => p.line),
    extensions: extensions.rows.map((e) => e.line),
    cronJobs,
  };
}

/**
 * A snapshot taken while no core table can change: SHARE locks on every core table (writers wait, readers
 * do not), then the snapshot, then `at` — a moment inside the locked window, so any restore to `at` must
 * reproduce exactly this state. Writers outside the core schemas (the drill's markers) are not blocked.
 */
export async function snapshotAtQuietPoint(
  c: pg.ClientBase,
  opts: { schemas?: readonly string[]; lockTimeoutMs?: number } = {},
): Promise<{ snapshot: DatabaseSnapshot; at: Date; lockedMs: number }> {
  const schemas = opts.schemas ?? CORE_SCHEMAS;
  await c.query('BEGIN');
  try {
    await c.query(`SET LOCAL lock_timeout = ${opts.lockTimeoutMs ?? 60_000}`);
    const r = await c.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, t.relname) AS name FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE t.relkind IN ('r','p') AND n.nspname = ANY($1::text[]) ORDER BY 1`,
      [schemas],
    );
    const lockedAt = Date.now();
    if (r.rows.length) await c.query(`LOCK TABLE ${r.rows.map((x) => x.name).join(', ')} IN SHARE MODE`);
    const snap = await snapshot(c, { schemas });
    // Whole milliseconds: Date.now() truncates, so the true instant is >= at, and < the commit below.
    const at = new Date(Date.now());
    await new Promise((res) => setTimeout(res, 2));
    await c.query('COMMIT');
    return { snapshot: snap, at, lockedMs: Date.now() - lockedAt };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** Differences between what was expected and what a restore holds, one readable line each; [] means equal. */
export function compareSnapshots(expected: DatabaseSnapshot, actual: DatabaseSnapshot): string[] {
  const diffs: string[] = [];
  const exp = new Map(expected.tables.map((t) => [t.name, t]));
  const act = new Map(actual.tables.map((t) => [t.name, t]));
  for (const [name, e] of exp) {
    const a = act.get(name);
    if (!a) diffs.push(`table ${name}: missing from the restore`);
    else if (a.rows !== e.rows) diffs.push(`table ${name}: ${a.rows} rows, expected ${e.rows}`);
    else if (a.checksum !== e.checksum) diffs.push(`table ${name}: same row count (${a.rows}) but different content (checksum ${a.checksum}, expected ${e.checksum})`);
  }
  for (const name of act.keys()) if (!exp.has(name)) diffs.push(`table ${name}: in the restore but not expected`);

  diffLists(diffs, 'role', expected.roles.map((r) => `${r.name} ${r.attrs}`), actual.roles.map((r) => `${r.name} ${r.attrs}`));
  const rlsKeys = new Set([...Object.keys(expected.rls), ...Object.keys(actual.rls)]);
  for (const k of [...rlsKeys].sort()) {
    if (expected.rls[k] !== actual.rls[k]) diffs.push(`row-level security on ${k}: ${actual.rls[k] ?? 'table missing'}, expected ${expected.rls[k] ?? 'no such table'}`);
  }
  diffLists(diffs, 'policy', expected.policies, actual.policies);
  diffLists(diffs, 'extension', expected.extensions, actual.extensions);
  if (expected.cronJobs === null && actual.cronJobs !== null) diffs.push('pg_cron: present in the restore but not expected');
  else if (expected.cronJobs !== null && actual.cronJobs === null) diffs.push('pg_cron: the cron schema is missing from the restore');
  else if (expected.cronJobs && actual.cronJobs) diffLists(diffs, 'pg_cron job', expected.cronJobs, actual.cronJobs);
  return diffs;
}

function diffLists(out: string[], what: string, expected: string[], actual: string[]) {
  const a = new Set(actual);
  const e = new Set(expected);
  for (const x of expected) if (!a.has(x)) out.push(`${what} missing or changed: ${x}`);
  for (const x of actual) if (!e.has(x)) out.push(`${what} not expected: ${x}`);
}

export function summarize(s: DatabaseSnapshot) {
  return {
    tables: s.tables.length,
    rows: s.tables.reduce((n, t) => n + t.rows, 0),
    roles: s.roles.length,
    rlsTables: Object.values(s.rls).filter((v) => v.startsWith('rls=on')).length,
    policies: s.policies.length,
    extensions: s.extensions.length,
    cronJobs: s.cronJobs?.length ?? null,
  };
}

// ---- markers: rows a writer committed with their client-side times ----

export interface Marker {
  seq: number;
  /** ms since epoch, read just before the INSERT was sent (the commit happened at or after this). */
  sentAt: number;
  /** ms since epoch, read just after the acknowledgement arrived, plus 1 (the commit happened before this). */
  ackedAt: number;
}

export interface MarkerCheck {
  ok: boolean;
  /** acknowledged before the target: must be present. */
  mustBePresent: number;
  /** sent after the target: must be absent. */
  mustBeAbsent: number;
  /** in flight at the target: either outcome is correct. */
  inFlight: number;
  missing: number[];
  unexpected: number[];
}

/**
 * Restore-to-time rule: a marker acknowledged before `target` committed before it and must be present; a
 * marker sent after `target` committed after it and must be absent; one in flight at `target` may be
 * either. `present` is the set of marker seqs found in the restore. Recovery targets are inclusive.
 */
export function checkMarkersAtTarget(markers: Marker[], present: Set<number>, target: number): MarkerCheck {
  const missing: number[] = [];
  const unexpected: number[] = [];
  let mustBePresent = 0;
  let mustBeAbsent = 0;
  let inFlight = 0;
  for (const m of markers) {
    if (m.ackedAt <= target) {
      mustBePresent++;
      if (!present.has(m.seq)) missing.push(m.seq);
    } else if (m.sentAt > target) {
      mustBeAbsent++;
      if (present.has(m.seq)) unexpected.push(m.seq);
    } else inFlight++;
  }
  const known = new Set(markers.map((m) => m.seq));
  for (const s of present) if (!known.has(s)) unexpected.push(s);
  return { ok: missing.length === 0 && unexpected.length === 0, mustBePresent, mustBeAbsent, inFlight, missing, unexpected };
}

/** Acknowledged ids must all be present; ids present but never acknowledged are counted, not errors. */
export function checkAcknowledged(acked: Iterable<number>, present: Set<number>) {
  const lost: number[] = [];
  let n = 0;
  for (const id of acked) {
    n++;
    if (!present.has(id)) lost.push(id);
  }
  return { ok: lost.length === 0, acknowledged: n, lost };
}
