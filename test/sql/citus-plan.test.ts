// The Citus sharding plan (docs/capacity.md, "Table by table") against the real bundle's catalogue: every table of
// app, app_private, audit and ops is classified there; every tenant table (one that carries organization_id or
// points at tenant data) is distributed by organization_id; every primary key, unique constraint and unique index
// of a distributed table includes the distribution column or is named in the plan as an exception (with the change
// the move makes); the distribution column is NOT NULL unless named; and every foreign key is one Citus can keep
// (citus_docs develop/reference_ddl.rst, "Adding/Removing Constraints"). A new tenant table that breaks the
// property fails here until it is fixed or listed, and a listed exception that no longer applies fails too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { migratedDatabase, type TestDb } from '../support/db.js';

type Kind = 'distributed' | 'reference' | 'local';
interface PlanRow {
  table: string;
  kind: Kind;
  column: string | null;
  /** Named exceptions: constraint or index names, `<column> NULL` (nullable distribution column), `<column> missing`. */
  exceptions: string[];
}

const SCHEMAS = ['app', 'app_private', 'audit', 'ops'];

/** The plan table of docs/capacity.md: | `schema.table` | kind | `column` or — | `exception` ... | at the move |. */
function parsePlan(md: string): PlanRow[] {
  const start = md.indexOf('### Table by table');
  if (start < 0) throw new Error('docs/capacity.md has no "### Table by table" section');
  const section = md.slice(start, md.indexOf('\n## ', start) > 0 ? md.indexOf('\n## ', start) : undefined);
  const rows: PlanRow[] = [];
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([a-z_]+\.[a-z_]+)`\s*\|\s*(distributed|reference|local)\s*\|([^|]*)\|([^|]*)\|/.exec(line);
    if (!m) continue;
    const col = /`([a-z_]+)`/.exec(m[3]);
    rows.push({ table: m[1], kind: m[2] as Kind, column: col ? col[1] : null, exceptions: [...m[4].matchAll(/`([^`]+)`/g)].map((x) => x[1]) });
  }
  return rows;
}

interface Catalogue {
  tables: Map<string, { columns: Map<string, boolean /* not null */> }>;
  keys: Array<{ table: string; name: string; columns: string[] }>;
  fkeys: Array<{ table: string; name: string; columns: string[]; ref: string; refColumns: string[] }>;
}

async function readCatalogue(c: pg.ClientBase): Promise<Catalogue> {
  const t = await c.query<{ t: string; cols: Array<{ n: string; nn: boolean }> }>(
    `SELECT format('%s.%s', n.nspname, c.relname) AS t,
            (SELECT json_agg(json_build_object('n', a.attname, 'nn', a.attnotnull)) FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')`, [SCHEMAS]);
  const tables = new Map(t.rows.map((r) => [r.t, { columns: new Map(r.cols.map((x) => [x.n, x.nn])) }]));
  // Unique indexes: primary keys, unique constraints and plain unique indexes alike (an expression column is '(expr)').
  const k = await c.query<{ t: string; name: string; cols: string[] }>(
    `SELECT format('%s.%s', n.nspname, c.relname) AS t, i.relname AS name,
            array(SELECT coalesce(a.attname::text, '(expr)') FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY u(k, o)
                  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = u.k ORDER BY u.o) AS cols
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE x.indisunique AND n.nspname = ANY($1) AND NOT c.relispartition AND c.relkind IN ('r', 'p')`, [SCHEMAS]);
  const f = await c.query<{ t: string; name: string; cols: string[]; ref: string; refcols: string[] }>(
    `SELECT format('%s.%s', n.nspname, c.relname) AS t, k.conname AS name,
            array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(k, o) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.k ORDER BY u.o) AS cols,
            format('%s.%s', rn.nspname, r.relname) AS ref,
            array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(k, o) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.k ORDER BY u.o) AS refcols
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
     WHERE k.contype = 'f' AND n.nspname = ANY($1) AND NOT c.relispartition AND k.conparentid = 0`, [SCHEMAS]);
  return {
    tables,
    keys: k.rows.map((r) => ({ table: r.t, name: r.name, columns: r.cols })),
    fkeys: f.rows.map((r) => ({ table: r.t, name: r.name, columns: r.cols, ref: r.ref, refColumns: r.refcols })),
  };
}

/** Every way the catalogue breaks the plan, as sentences; empty when the plan holds. */
function checkPlan(cat: Catalogue, plan: PlanRow[]): string[] {
  const v: string[] = [];
  const byTable = new Map<string, PlanRow>();
  for (const p of plan) {
    if (byTable.has(p.table)) v.push(`${p.table} is listed twice in the plan`);
    byTable.set(p.table, p);
  }
  for (const t of cat.tables.keys()) if (!byTable.has(t)) v.push(`${t} is not in the plan: classify it (distributed by organization_id, reference or local) in docs/capacity.md`);
  for (const p of plan) if (!cat.tables.has(p.table)) v.push(`${p.table} is in the plan but not in the schema: remove its row`);
  const kind = (t: string) => byTable.get(t)?.kind;
  const distributed = plan.filter((p) => p.kind === 'distributed' && cat.tables.has(p.table));
  // Tenant data, whatever the plan says: it carries organization_id, or it points at a distributed table by a
  // foreign key or by a column named after one (episode_id -> app.episodes).
  const stems = new Map(distributed.map((p) => [p.table.split('.')[1].replace(/s$/, ''), p.table]));
  for (const [t, info] of cat.tables) {
    const p = byTable.get(t);
    if (!p) continue;
    const why: string[] = [];
    if (info.columns.has('organization_id')) why.push('it has organization_id');
    for (const fk of cat.fkeys.filter((f) => f.table === t && kind(f.ref) === 'distributed')) why.push(`${fk.name} points at ${fk.ref}`);
    for (const col of info.columns.keys()) {
      const m = /^([a-z_]+)_id$/.exec(col);
      const target = m && stems.get(m[1]);
      if (target && target !== t && !cat.fkeys.some((f) => f.table === t && f.columns.includes(col))) why.push(`its ${col} names ${target} without a foreign key`);
    }
    if (why.length && p.kind !== 'distributed') v.push(`${t} holds tenant data (${why.join('; ')}) but the plan makes it ${p.kind}: distribute it by organization_id`);
  }
  for (const p of distributed) {
    const info = cat.tables.get(p.table)!;
    const col = p.column;
    if (!col) { v.push(`${p.table} is distributed without a distribution column`); continue; }
    const listed = new Set(p.exceptions);
    const used = new Set<string>();
    const use = (x: string) => { used.add(x); return listed.has(x); };
    if (!info.columns.has(col)) {
      if (!use(`${col} missing`)) v.push(`${p.table} has no ${col}: add it (tenant tables carry organization_id) or name \`${col} missing\` in the plan with the change`);
    } else if (!info.columns.get(col) && !use(`${col} NULL`)) {
      v.push(`${p.table}.${col} is nullable: Citus refuses a NULL distribution value; make it NOT NULL or name \`${col} NULL\` in the plan with the change`);
    }
    for (const k of cat.keys.filter((x) => x.table === p.table)) {
      if (!k.columns.includes(col) && !use(k.name)) {
        v.push(`${p.table}: ${k.name} (${k.columns.join(', ')}) does not include ${col}: Citus enforces uniqueness only with the distribution column in the key; include it or name the key in the plan with the change`);
      }
    }
    for (const x of listed) if (!used.has(x)) v.push(`${p.table}: the plan names \`${x}\` as an exception, but it is not one (any more): remove it`);
  }
  // Foreign keys Citus can keep: local->local, reference->reference, local->reference, distributed->reference, and
  // distributed->distributed when both sides carry the distribution column (co-located). A single-column key into
  // another distributed table's primary key is widened mechanically at the move, (organization_id, x_id) ->
  // (organization_id, id): allowed when the referenced key is that table's primary key (named in the plan).
  for (const fk of cat.fkeys) {
    const from = kind(fk.table), to = kind(fk.ref);
    if (!from || !to) continue;
    const ok = (from === 'local' && (to === 'local' || to === 'reference')) || (from === 'reference' && to === 'reference') || (from === 'distributed' && to === 'reference');
    if (ok) continue;
    if (from === 'distributed' && to === 'distributed') {
      const a = byTable.get(fk.table)!, b = byTable.get(fk.ref)!;
      if (!cat.tables.get(fk.table)?.columns.has(a.column ?? '')) continue; // reported above
      const both = fk.columns.includes(a.column!) && fk.refColumns.includes(b.column!);
      const pk = cat.keys.find((k) => k.table === fk.ref && k.name.endsWith('_pkey'));
      const widenable = pk && pk.columns.length === fk.refColumns.length && pk.columns.every((c, i) => c === fk.refColumns[i]);
      if (!both && !widenable) v.push(`${fk.table}: ${fk.name} -> ${fk.ref}(${fk.refColumns.join(', ')}) is neither co-located on the distribution column nor into the primary key the move widens`);
      continue;
    }
    v.push(`${fk.table}: ${fk.name} goes from a ${from} table to a ${to} table (${fk.ref}), which Citus does not support`);
  }
  return v;
}

let db: TestDb;
let client: pg.Client;
const plan = parsePlan(readFileSync(join(repoRoot, 'docs', 'capacity.md'), 'utf8'));

beforeAll(async () => {
  db = await migratedDatabase();
  client = new pg.Client({ connectionString: db.superUrl });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe('the Citus sharding plan (docs/capacity.md) holds for the bundle', () => {
  it('classifies every table and keeps every tenant table distributable by organization_id', async () => {
    expect(plan.length).toBeGreaterThan(20);
    expect(checkPlan(await readCatalogue(client), plan)).toEqual([]);
  });

  it('fails a new tenant table without organization_id, one whose key leaves it out, and a stale exception', async () => {
    await client.query('BEGIN');
    try {
      // A child of episodes without organization_id, and a tenant table whose unique key leaves organization_id out.
      await client.query(`CREATE TABLE app.widgets (id uuid PRIMARY KEY, episode_id uuid NOT NULL REFERENCES app.episodes (id) ON DELETE CASCADE ON UPDATE CASCADE)`);
      await client.query(`CREATE TABLE app.gadgets (id uuid PRIMARY KEY, organization_id uuid NOT NULL REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE, code text NOT NULL, CONSTRAINT gadgets_code_key UNIQUE (code))`);
      const cat = await readCatalogue(client);
      const unlisted = checkPlan(cat, plan);
      expect(unlisted).toContain('app.widgets is not in the plan: classify it (distributed by organization_id, reference or local) in docs/capacity.md');
      expect(unlisted.some((x) => x.startsWith('app.gadgets is not in the plan'))).toBe(true);
      // Classified as a reference table, widgets still points at tenant data.
      const asReference = checkPlan(cat, [...plan, { table: 'app.widgets', kind: 'reference', column: null, exceptions: [] }, { table: 'app.gadgets', kind: 'distributed', column: 'organization_id', exceptions: ['gadgets_pkey'] }]);
      expect(asReference.some((x) => x.startsWith('app.widgets holds tenant data (widgets_episode_id_fkey points at app.episodes)'))).toBe(true);
      expect(asReference).toContain('app.widgets: widgets_episode_id_fkey goes from a reference table to a distributed table (app.episodes), which Citus does not support');
      expect(asReference.some((x) => x.startsWith('app.gadgets: gadgets_code_key (code) does not include organization_id'))).toBe(true);
      // Distributed, widgets has no organization_id.
      const distributed = checkPlan(cat, [...plan, { table: 'app.widgets', kind: 'distributed', column: 'organization_id', exceptions: ['widgets_pkey'] },
        { table: 'app.gadgets', kind: 'distributed', column: 'organization_id', exceptions: ['gadgets_pkey', 'gadgets_code_key', 'gadgets_other_key'] }]);
      expect(distributed.some((x) => x.startsWith('app.widgets has no organization_id'))).toBe(true);
      expect(distributed).toContain('app.gadgets: the plan names `gadgets_other_key` as an exception, but it is not one (any more): remove it');
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('fails a nullable distribution column that is not named, and an unknown table in the plan', async () => {
    const cat = await readCatalogue(client);
    const emb = plan.find((p) => p.table === 'app.rag_embeddings')!;
    const without = checkPlan(cat, plan.map((p) => (p === emb ? { ...p, exceptions: p.exceptions.filter((x) => x !== 'organization_id NULL') } : p)));
    expect(without.some((x) => x.startsWith('app.rag_embeddings.organization_id is nullable'))).toBe(true);
    expect(checkPlan(cat, [...plan, { table: 'app.gone', kind: 'reference', column: null, exceptions: [] }])).toContain('app.gone is in the plan but not in the schema: remove its row');
  });
});
