// PgBouncer's auth_file as the program renders it: verifiers only, in PgBouncer's quoted format.
import { describe, expect, it } from "vitest";
import { renderAuthFile } from "../../infra/pooler/pgbouncer.ini.js";
import { scramVerifier } from "../../src/local/secrets.js";

const verifier = scramVerifier("a-password", 4096, Buffer.alloc(16, 7));

describe("renderAuthFile", () => {
  it("writes one quoted line per login", () => {
    expect(renderAuthFile([{ name: "pgkit_app_login", verifier }, { name: "pgkit_worker_login", verifier }])).toBe(
      `"pgkit_app_login" "${verifier}"\n"pgkit_worker_login" "${verifier}"\n`,
    );
  });

  it.each([
    ["a plaintext password", "a-password"],
    ["an md5 hash", "md5c98cbfeb6a347a47eb8e96cfb4c4b890"],
    ["a verifier with a quote in it", `${verifier}"`],
    ["a verifier with a newline in it", `${verifier}\n"postgres" "x"`],
  ])("refuses %s", (_what, bad) => {
    expect(() => renderAuthFile([{ name: "pgkit_app_login", verifier: bad }])).toThrow("is not a SCRAM-SHA-256 verifier");
  });

  it("refuses a role name that is not a plain identifier, and an empty list", () => {
    expect(() => renderAuthFile([{ name: 'x" "y', verifier }])).toThrow("is not a plain identifier");
    expect(() => renderAuthFile([])).toThrow("no pooled login");
  });
});
