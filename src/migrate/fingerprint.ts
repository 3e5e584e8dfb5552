// Live-schema drift (issue 17 #3, seed 003 §7.1): the runner records a snapshot of the catalogue (catalogue.ts)
// with its sha256 fingerprint each time it applies files, and `status` compares the database with it. A change
// made outside the ledger (an index or a column added by hand in production, a function replaced, a grant) shows
// as the catalogue lines that differ, which name the object. File checksums alone (the ledger) cannot see it.
//
// Left out, because they change without a migration by design: partitions (pg_partman premakes one a month and
// drops expired ones) with their indexes, constraints, triggers and policies; the `loadtest` and `public` schemas
// (the seeder's and pgbench's scratch objects); login roles (environment-specific: src/local, Pulumi).
import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { catalogueSnapshot, diffCatalogues, type CatalogueSnapshot } from './catalogue.js';
import { LEDGER_SCHEMA } from './ledger.js';

export const CATALOGUE_TABLE = `${LEDGER_SCHEMA}.catalogue`;
export const FINGERPRINT_SCHEMAS = ['app', 'app_private', 'audit', 'ops', 'extensions', 'pgbouncer'];

const DDL = `
CREATE TABLE IF NOT EXISTS ${CATALOGUE_TABLE} (
  id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  recorded_by text NOT NULL DEFAULT current_user,
  bundle_checksum text NOT NULL,
  fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
  snapshot jsonb NOT NULL
);
COMMENT ON TABLE ${CATALOGUE_TABLE} IS 'pgkit migration runner: the catalogue as the last apply left it; status compares the database with it (drift outside the ledger)';
REVOKE ALL ON ${CATALOGUE_TABLE} FROM PUBLIC;
`;

/** The catalogue of the kit's schemas without what changes by design (partitions). */
export async function liveCatalogue(client: ClientBase): Promise<CatalogueSnapshot> {
  // Names printed schema-qualified whatever the session's search_path (regclass output depends on it).
  const { rows: sp } = await client.query<{ was: string }>("SELECT current_setting('search_path') AS was, set_config('search_path', 'pg_catalog', false)");
  let snap: CatalogueSnapshot;
  let rows: Array<{ name: string }>;
  try {
    snap = await catalogueSnapshot(client, FINGERPRINT_SCHEMAS);
    // Read under the same search_path, so the names are qualified exactly as in the snapshot's lines.
    ({ rows } = await client.query<{ name: string }>(
      `SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relispartition AND n.nspname = ANY($1::text[])`,
      [FINGERPRINT_SCHEMAS],
    ));
  } finally {
    await client.query("SELECT set_config('search_path', $1, false)", [sp[0].was]);
  }
  if (rows.length === 0) return snap;
  const names = new Set(rows.map((r) => r.name));
  // A line mentions a partition as a whole token: the relation's name followed by a space, a dot (a column) or the
  // end; index names of partitions are derived from theirs ("logs_p2026_12_created_at_idx ON app.logs_p2026_12").
  const token = /[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*/g;
  const mentionsPartition = (line: string | null) => ((line ?? '').split('\n')[0].match(token) ?? []).some((t) => names.has(t));
  return Object.fromEntries(Object.entries(snap).map(([k, lines]) => [k, lines.filter((l) => !mentionsPartition(l))]));
}

export const fingerprintOf = (snap: CatalogueSnapshot) =>
  createHash('sha256').update(JSON.stringify(Object.keys(snap).sort().map((k) => [k, snap[k]])), 'utf8').digest('hex');

/** Records the catalogue as it is now (after an apply). Creates the table on first use. */
export async function recordCatalogue(client: ClientBase, bundleChecksum: string): Promise<string> {
  await client.query(DDL);
  const snap = await liveCatalogue(client);
  const fp = fingerprintOf(snap);
  await client.query(
    `INSERT INTO ${CATALOGUE_TABLE} (id, bundle_checksum, fingerprint, snapshot) VALUES (1, $1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET recorded_at = now(), recorded_by = current_user, bundle_checksum = EXCLUDED.bundle_checksum,
       fingerprint = EXCLUDED.fingerprint, snapshot = EXCLUDED.snapshot`,
    [bundleChecksum, fp, JSON.stringify(snap)],
  );
  return fp;
}

export interface SchemaDrift {
  /** When the runner last recorded the catalogue; null: never (a database applied before fingerprints existed). */
  recordedAt: Date | null;
  recordedFingerprint: string | null;
  liveFingerprint: string;
  /** `<section> - <line>` (recorded, now gone or changed) and `<section> + <line>` (now, not recorded). */
  changes: string[];
}

/** Compares the database with the catalogue the last apply recorded. Read-only. */
export async function schemaDrift(client: ClientBase): Promise<SchemaDrift> {
  const live = await liveCatalogue(client);
  const liveFingerprint = fingerprintOf(live);
  const { rows: has } = await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [CATALOGUE_TABLE]);
  if (!has[0].ok) return { recordedAt: null, recordedFingerprint: null, liveFingerprint, changes: [] };
  const { rows } = await client.query<{ recorded_at: Date; fingerprint: string; snapshot: CatalogueSnapshot }>(
    `SELECT recorded_at, fingerprint, snapshot FROM ${CATALOGUE_TABLE} WHERE id = 1`,
  );
  if (rows.length === 0) return { recordedAt: null, recordedFingerprint: null, liveFingerprint, changes: [] };
  const r = rows[0];
  return {
    recordedAt: r.recorded_at,
    recordedFingerprint: r.fingerprint,
    liveFingerprint,
    changes: r.fingerprint === liveFingerprint ? [] : diffCatalogues(r.snapshot, live),
  };
}

/** The object a catalogue diff line is about, for the printout: its section and the line's first 160 characters. */
export function formatSchemaDrift(d: SchemaDrift): string[] {
  if (d.recordedAt === null) return ['note: no catalogue fingerprint recorded yet (the next apply records one); live-schema drift not checked'];
  if (d.changes.length === 0) return [];
  const shown = d.changes.slice(0, 40).map((c) => `  ${c.split('\n')[0].slice(0, 200)}`);
  return [
    `SCHEMA DRIFT: ${d.changes.length} catalogue line(s) changed outside the ledger since the last apply (${d.recordedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC); ` +
      `"-" recorded then, "+" found now:`,
    ...shown,
    ...(d.changes.length > shown.length ? [`  ... and ${d.changes.length - shown.length} more`] : []),
    'Put the change into a migration (then apply), or undo it by hand; docs/migrations.md "Drift outside the ledger".',
  ];
}
