// A text snapshot of what a bundle built: every function (body, settings, owner, grants), view, table, column,
// constraint, index, trigger, policy, default privilege, schema, group role, scheduled job and partition config
// of the kit's schemas, as sorted lines per section with no OIDs in them. Two databases built differently (the
// bundle before and after a restructuring, a fresh build and an upgraded one) hold the same objects exactly when
// their snapshots are equal.
import type { ClientBase } from 'pg';

export const CATALOGUE_SCHEMAS = ['app', 'app_private', 'audit', 'ops', 'extensions', 'pgbouncer', 'loadtest', 'public'];

const SCHEMA_FILTER = `n.nspname = ANY($1::text[])`;

/** An ACL column as sorted text (aclitems carry their grantor; their order in the array is not meaningful). */
const acl = (column: string) => `coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(${column}) x), '-')`;

// Each query returns one text column `line`.
const SECTIONS: Record<string, string> = {
  schemas: `SELECT n.nspname || ' owner=' || pg_get_userbyid(n.nspowner) || ' acl=' || ${acl('n.nspacl')}
              || ' comment=' || coalesce(obj_description(n.oid, 'pg_namespace'), '-') AS line
            FROM pg_namespace n WHERE ${SCHEMA_FILTER}`,
  functions: `SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
                || ' returns ' || pg_get_function_result(p.oid) || ' lang=' || l.lanname || ' kind=' || p.prokind::text
                || ' vol=' || p.provolatile::text || ' par=' || p.proparallel::text || ' secdef=' || p.prosecdef || ' strict=' || p.proisstrict
                || ' leakproof=' || p.proleakproof || ' cost=' || p.procost || ' rows=' || p.prorows
                || ' config=' || coalesce(array_to_string(p.proconfig, ','), '-') || ' owner=' || pg_get_userbyid(p.proowner)
                || ' acl=' || ${acl('p.proacl')}
                || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
                || ' args=' || pg_get_function_arguments(p.oid)
                || E'\\n' || coalesce(p.prosrc, '') || coalesce(pg_get_function_sqlbody(p.oid), '') AS line
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
              WHERE ${SCHEMA_FILTER} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
  relations: `SELECT c.oid::regclass::text || ' kind=' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner)
                || ' rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity || ' persistence=' || c.relpersistence::text
                || ' options=' || coalesce(array_to_string(c.reloptions, ','), '-')
                || ' acl=' || ${acl('c.relacl')}
                || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
                || ' partof=' || coalesce((SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid LIMIT 1), '-')
                || CASE WHEN c.relkind IN ('v', 'm') THEN E'\\n' || pg_get_viewdef(c.oid) ELSE '' END AS line
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE ${SCHEMA_FILTER} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')`,
  columns: `SELECT c.oid::regclass::text || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
              || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
              || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
              || ' acl=' || ${acl('a.attacl')}
              || ' comment=' || coalesce(col_description(c.oid, a.attnum), '-') AS line
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE ${SCHEMA_FILTER} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
              AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')`,
  constraints: `SELECT co.conrelid::regclass::text || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid) || ' valid=' || co.convalidated AS line
                FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
                WHERE ${SCHEMA_FILTER} AND co.conrelid <> 0`,
  domains: `SELECT t.oid::regtype::text || ' ' || t.typtype::text || ' owner=' || pg_get_userbyid(t.typowner)
              || coalesce(' enum=' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
              || coalesce(' base=' || format_type(t.typbasetype, t.typtypmod), '')
              || coalesce(' checks=' || (SELECT string_agg(pg_get_constraintdef(co.oid), ' AND ' ORDER BY co.conname) FROM pg_constraint co WHERE co.contypid = t.oid), '') AS line
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE ${SCHEMA_FILTER} AND t.typtype IN ('e', 'd') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')`,
  indexes: `SELECT pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid AS line
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE ${SCHEMA_FILTER} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = i.indrelid AND d.deptype = 'e')`,
  triggers: `SELECT pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text AS line
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE ${SCHEMA_FILTER} AND NOT t.tgisinternal`,
  eventTriggers: `SELECT e.evtname || ' ' || e.evtevent || ' ' || e.evtfoid::regprocedure::text || ' enabled=' || e.evtenabled::text
                    || ' tags=' || coalesce(array_to_string(e.evttags, ','), '-') AS line FROM pg_event_trigger e`,
  policies: `SELECT c.oid::regclass::text || ' ' || p.polname || ' cmd=' || p.polcmd::text || ' permissive=' || p.polpermissive
               || ' roles=' || (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END, ',' ORDER BY 1) FROM unnest(p.polroles) r)
               || ' using=' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-')
               || ' check=' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-') AS line
             FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE ${SCHEMA_FILTER}`,
  defaultPrivileges: `SELECT pg_get_userbyid(d.defaclrole) || ' ' || coalesce(n.nspname, '*') || ' ' || d.defaclobjtype::text || ' '
                        || ${acl('d.defaclacl')} AS line
                      FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace`,
  roles: `SELECT r.rolname || ' super=' || r.rolsuper || ' login=' || r.rolcanlogin || ' createrole=' || r.rolcreaterole
            || ' bypassrls=' || r.rolbypassrls || ' inherit=' || r.rolinherit || ' connlimit=' || r.rolconnlimit
            || ' config=' || coalesce(array_to_string(r.rolconfig, ','), '-')
            || ' member_of=' || coalesce((SELECT string_agg(pg_get_userbyid(m.roleid) || CASE WHEN m.admin_option THEN '(admin)' ELSE '' END, ',' ORDER BY 1)
                                          FROM pg_auth_members m WHERE m.member = r.oid), '-') AS line
          FROM pg_roles r WHERE r.rolname LIKE 'pgkit\\_%' AND NOT r.rolcanlogin`,
  databaseSettings: `SELECT coalesce(pg_get_userbyid(s.setrole), '*') || ' ' || array_to_string(s.setconfig, ',') AS line
                     FROM pg_db_role_setting s WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  extensions: `SELECT e.extname || ' ' || e.extversion || ' schema=' || e.extnamespace::regnamespace::text AS line FROM pg_extension e`,
};

// Sections read from tables that exist only with an extension; skipped (empty) when it is missing.
const OPTIONAL_SECTIONS: Record<string, { table: string; query: string }> = {
  cronJobs: {
    table: 'cron.job',
    query: `SELECT j.jobname || ' ' || j.schedule || ' ' || j.username || ' active=' || j.active || E'\\n' || j.command AS line
            FROM cron.job j WHERE j.database = current_database()`,
  },
};

export type CatalogueSnapshot = Record<string, string[]>;

export async function catalogueSnapshot(client: ClientBase, schemas: string[] = CATALOGUE_SCHEMAS): Promise<CatalogueSnapshot> {
  const out: CatalogueSnapshot = {};
  for (const [name, query] of Object.entries(SECTIONS)) {
    const { rows } = await client.query<{ line: string }>(query, query.includes('$1') ? [schemas] : []);
    out[name] = rows.map((r) => r.line).sort();
  }
  for (const [name, { table, query }] of Object.entries(OPTIONAL_SECTIONS)) {
    const { rows: exists } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [table]);
    out[name] = exists[0].ok ? (await client.query<{ line: string }>(query)).rows.map((r) => r.line).sort() : [];
  }
  return out;
}

/** Lines only in `a` (`-`) and only in `b` (`+`), per section; empty when the snapshots match. */
export function diffCatalogues(a: CatalogueSnapshot, b: CatalogueSnapshot): string[] {
  const out: string[] = [];
  for (const section of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const left = new Set(a[section] ?? []);
    const right = new Set(b[section] ?? []);
    for (const l of left) if (!right.has(l)) out.push(`${section} - ${l}`);
    for (const r of right) if (!left.has(r)) out.push(`${section} + ${r}`);
  }
  return out;
}
