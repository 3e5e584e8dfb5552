// The pooler container's entrypoint, run for real with /bin/sh (dash here; busybox ash in the image) in a
// temp folder, with fake values and a stand-in `pgbouncer` on PATH that records how it was started:
// every file is written verbatim and private, nothing is echoed, the secrets are gone from PgBouncer's
// environment, and a missing value stops the start naming only the variable.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONTAINER_FILES, containerPath, entrypointScript, type ContainerFile } from "../../infra/pooler/pgbouncer.ini.js";

const files = Object.keys(CONTAINER_FILES) as ContainerFile[];
const env = (f: ContainerFile) => CONTAINER_FILES[f].env;

// Values shaped like the real ones, with what a careless shell would mangle: '$' (verifiers), quotes,
// backslashes, '%' (printf), newlines (PEM), a leading dash.
const FAKE = Object.fromEntries(
  files.map((f) => [f, `-----BEGIN ${f}-----\n-e $PATH %d \\ 'x' "y"\n-----END ${f}-----`]),
) as Record<ContainerFile, string>;
FAKE.authFile = '"pgkit_app_login" "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"\n"pgkit_worker_login" "SCRAM-SHA-256$4096:$HOME:%s\\n"\n';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function start(values: Partial<Record<ContainerFile, string>>) {
  const root = mkdtempSync(join(tmpdir(), "pgkit-entrypoint-"));
  roots.push(root);
  const runDir = join(root, "run", "pgbouncer");
  const bin = join(root, "bin");
  const report = join(root, "pgbouncer-report.txt");
  mkdirSync(bin);
  // Stand-in for PgBouncer: records its arguments, the PGBOUNCER_* variables it inherited, and the modes.
  writeFileSync(
    join(bin, "pgbouncer"),
    [
      "#!/bin/sh",
      `{ echo "args: $*"; env | grep '^PGBOUNCER_' | cut -d= -f1 | sed 's/^/env: /'; stat -c 'mode: %a %n' "${runDir}" "${runDir}"/*; } > "${report}"`,
    ].join("\n"),
  );
  chmodSync(join(bin, "pgbouncer"), 0o755);
  const r = spawnSync("/bin/sh", ["-c", entrypointScript(runDir)], {
    env: { PATH: `${bin}:/usr/bin:/bin`, ...Object.fromEntries(Object.entries(values).map(([f, v]) => [env(f as ContainerFile), v])) },
    encoding: "utf8",
  });
  return { ...r, runDir, report: existsSync(report) ? readFileSync(report, "utf8") : "" };
}

describe("pooler entrypoint (sh)", () => {
  it("writes every file verbatim into a 0700 folder as 0600 files, and execs pgbouncer with the ini", () => {
    const r = start(FAKE);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    for (const f of files) {
      expect(readFileSync(containerPath(f, r.runDir), "utf8"), f).toBe(`${FAKE[f]}\n`);
      expect(statSync(containerPath(f, r.runDir)).mode & 0o777, f).toBe(0o600);
    }
    expect(statSync(r.runDir).mode & 0o777).toBe(0o700);
    expect(r.report).toContain(`args: ${containerPath("ini", r.runDir)}\n`);
    expect(r.report).toContain(`mode: 700 ${r.runDir}\n`);
  });

  it("echoes nothing and leaves no secret in PgBouncer's environment", () => {
    const r = start(FAKE);
    expect([r.stdout, r.stderr]).toEqual(["", ""]);
    expect(r.report).not.toMatch(/^env: /m);
    for (const f of files) expect(r.report).not.toContain(FAKE[f].split("\n")[0]);
  });

  it.each(files)("refuses to start without %s, naming the variable and no value", (missing) => {
    const values = { ...FAKE, [missing]: "" };
    const r = start(values);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe(`pgbouncer entrypoint: ${env(missing)} is empty or unset`);
    expect(r.stdout).toBe("");
    expect(r.report).toBe(""); // pgbouncer never started
    expect(existsSync(containerPath(missing, r.runDir))).toBe(false);
  });
});
