// The CloudWatch metric filter behind the scheduled-job failure alarm (infra/monitoring.ts) against the lines a real
// server writes: a job that fails on the local test stack (ops.job_fail's WARNING) must match, and the DDL that
// creates ops.job_fail, which `log_statement = ddl` logs on RDS when the bundle is applied and which quotes the same
// words, must not. CloudWatch itself cannot run here: `matches` implements the documented semantics of the pattern
// form used (quoted terms, every one must appear, case-sensitive: CloudWatch Logs User Guide, "Filter pattern syntax
// for metric filters, subscription filters, filter log events, and Live Tail", "Matching terms in unstructured log
// events"), and the test first checks that the pattern uses nothing else. Before the first deployment, the same
// check against CloudWatch: `aws logs test-metric-filter --filter-pattern '<pattern>' --log-event-messages '<line>'`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_FAILURE_FILTER_PATTERN, VECTOR_INDEX_BACKLOG_FILTER_PATTERN } from "../../infra/monitoring.js";
import { stackPaths } from "../../src/config.js";
import { migratedDatabase, type TestDb } from "../support/db.js";
import { testStack } from "../support/stack.js";

const QUOTED_TERMS = /^("[^"]+")( "[^"]+")*$/;

/** CloudWatch Logs term matching for a pattern of quoted terms: every term appears in the event, case-sensitive. */
function matches(pattern: string, event: string): boolean {
  const terms = [...pattern.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  return terms.length > 0 && terms.every((t) => event.includes(t));
}

const pgLog = stackPaths(testStack).pgLog;

/** Log entries (a line starting with the stack's `%m [%p]` prefix, with its continuation lines) of one database. */
function entriesOf(database: string): string[] {
  const entries: string[] = [];
  for (const line of readFileSync(pgLog, "utf8").split("\n")) {
    if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(line)) entries.push(line);
    else if (entries.length) entries[entries.length - 1] += `\n${line}`;
  }
  return entries.filter((e) => e.includes(`@${database} `));
}

async function waitForEntry(database: string, test: (e: string) => boolean): Promise<string> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const found = entriesOf(database).find(test);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no log entry of ${database} as expected in ${pgLog}`);
}

describe("scheduled-job failure metric filter, against the real server's log", () => {
  let db: TestDb;
  let failure = "";
  let ddl = "";

  beforeAll(async () => {
    db = await migratedDatabase();
    // A job that fails (batch 0 is refused), as pg_cron would run it: ops.job_fail logs the WARNING line.
    const r = await db.pool.query("SELECT ops.job_reset_weekly_limits(now(), 0) AS r");
    expect(r.rows[0].r).toMatchObject({ status: "failed" });
    failure = await waitForEntry(db.name, (e) => e.includes("pgkit job reset_weekly_limits failed"));
    // The definition of ops.job_fail, logged as DDL the way RDS logs it (log_statement = ddl in the parameter group).
    const c = await db.pool.connect();
    try {
      await c.query("SET log_statement = 'ddl'");
      await c.query(readFileSync(join(import.meta.dirname, "../../sql/definitions/ops.job_fail.sql"), "utf8"));
    } finally {
      c.release();
    }
    ddl = await waitForEntry(db.name, (e) => e.includes("statement:") && e.includes("CREATE OR REPLACE FUNCTION ops.job_fail"));
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it("the pattern is only quoted terms (the form `matches` implements)", () => {
    expect(JOB_FAILURE_FILTER_PATTERN).toMatch(QUOTED_TERMS);
  });

  it("matches the line a failing job writes, with the local prefix and with RDS's (%t:%r:%u@%d:[%p]:)", () => {
    const first = failure.split("\n")[0];
    expect(first).toMatch(/WARNING: {2}pgkit job reset_weekly_limits failed: reset_weekly_limits: batch must be >= 1, got 0 \(22023\)$/);
    expect(matches(JOB_FAILURE_FILTER_PATTERN, first)).toBe(true);
    const message = first.slice(first.indexOf("WARNING:"));
    expect(matches(JOB_FAILURE_FILTER_PATTERN, `2026-12-06 03:00:00 UTC:10.40.0.12(51234):pgkit_admin@pgkit:[4242]:${message}`)).toBe(true);
  });

  it("does not match the logged DDL of ops.job_fail, line by line or as one entry", () => {
    expect(ddl).toContain("RAISE WARNING 'pgkit job % failed: % (%)'");
    expect(matches(JOB_FAILURE_FILTER_PATTERN, ddl)).toBe(false);
    for (const line of ddl.split("\n")) expect(matches(JOB_FAILURE_FILTER_PATTERN, line), line).toBe(false);
  });

  it("matches nothing else this database logged", () => {
    const others = entriesOf(db.name).filter((e) => e !== failure && matches(JOB_FAILURE_FILTER_PATTERN, e));
    expect(others).toEqual([]);
  });
});

describe("vector index backlog metric filter (sql/1009), against the real server's log", () => {
  let db: TestDb;
  let warning = "";
  let ddl = "";

  beforeAll(async () => {
    db = await migratedDatabase();
    // Two embeddings that have waited ten minutes; the job takes one, and warns about the other.
    await db.pool.query(`
      INSERT INTO app.organizations (id, name, slug) VALUES ('00000000-0000-4000-8000-00000000f001', 'F', 'filter-f');
      INSERT INTO app.projects (id, organization_id, name) VALUES (md5('fp')::uuid, '00000000-0000-4000-8000-00000000f001', 'P');
      INSERT INTO app.episodes (id, organization_id, project_id, episode_number, title) VALUES (md5('fe')::uuid, '00000000-0000-4000-8000-00000000f001', md5('fp')::uuid, 1, 'E');
      INSERT INTO app.blocks (id, organization_id, episode_id, type, position, content) VALUES (md5('fb')::uuid, '00000000-0000-4000-8000-00000000f001', md5('fe')::uuid, 'markdown', 0, 'b');
      INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding, created_at, updated_at)
        SELECT '00000000-0000-4000-8000-00000000f001', 'block', md5('fb')::uuid, g, array_fill(g::real, ARRAY[1536])::extensions.vector,
               now() - interval '10 minutes', now() - interval '10 minutes' FROM generate_series(1, 2) g`);
    // As the superuser, who may set log_statement (the DDL below is logged the way RDS's parameter group logs it).
    const a = await db.pool.connect();
    try {
      const r = await a.query("SELECT ops.job_index_pending_embeddings(1) AS r");
      expect(r.rows[0].r).toMatchObject({ status: "completed", rows_affected: 1, pending: 1 });
      warning = await waitForEntry(db.name, (e) => e.includes("pgkit vector index backlog:") && e.includes("WARNING:"));
      await a.query("SET log_statement = 'ddl'");
      await a.query(readFileSync(join(import.meta.dirname, "../../sql/definitions/ops.job_index_pending_embeddings.sql"), "utf8"));
    } finally {
      a.release();
    }
    ddl = await waitForEntry(db.name, (e) => e.includes("statement:") && e.includes("CREATE OR REPLACE FUNCTION ops.job_index_pending_embeddings"));
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it("the pattern is only quoted terms", () => {
    expect(VECTOR_INDEX_BACKLOG_FILTER_PATTERN).toMatch(QUOTED_TERMS);
  });

  it("matches the line the job writes when a row waited too long, with the local prefix and with RDS's", () => {
    const first = warning.split("\n")[0];
    expect(first).toMatch(/WARNING: {2}pgkit vector index backlog: 1 embedding\(s\) wait for the HNSW graph, the oldest for \d+(\.\d)? s \(alarm above 00:05:00\)$/);
    expect(matches(VECTOR_INDEX_BACKLOG_FILTER_PATTERN, first)).toBe(true);
    expect(matches(JOB_FAILURE_FILTER_PATTERN, first)).toBe(false);
    const message = first.slice(first.indexOf("WARNING:"));
    expect(matches(VECTOR_INDEX_BACKLOG_FILTER_PATTERN, `2026-12-06 03:00:00 UTC:10.40.0.12(51234):pgkit_admin@pgkit:[4242]:${message}`)).toBe(true);
  });

  it("does not match the logged DDL of the job, line by line or as one entry, nor anything else this database logged", () => {
    expect(ddl).toContain("RAISE WARNING 'pgkit vector index backlog:");
    expect(matches(VECTOR_INDEX_BACKLOG_FILTER_PATTERN, ddl)).toBe(false);
    for (const line of ddl.split("\n")) expect(matches(VECTOR_INDEX_BACKLOG_FILTER_PATTERN, line), line).toBe(false);
    const others = entriesOf(db.name).filter((e) => e !== warning && matches(VECTOR_INDEX_BACKLOG_FILTER_PATTERN, e));
    expect(others).toEqual([]);
  });
});
