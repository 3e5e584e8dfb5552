// SqlBundle: a dynamic resource whose state is the checksum of the SQL bundle (sql/*.sql).
// `pulumi preview` shows an update when a migration file is added or changed; `pulumi up` applies
// the pending files through the project's one migration runner (src/migrate), which also refuses
// drift (an already-applied file whose content changed).
//
// Closure serialization: Pulumi ships `sqlBundleProvider` to its dynamic-provider host as source
// text (runtime.serializeFunction) and evaluates it there as CommonJS, without tsx and without this
// repo's ESM module graph. So the provider captures nothing but Node built-ins and plain data: it
// runs the applier (apply-bundle.ts, which imports src/migrate) in a child `node --import tsx`
// process rooted at the repo, passing the connection through the environment (never argv).
// test/infra/sqlBundle.serialize.test.ts serializes it and runs the serialized text for real.
import childProcess from "node:child_process";
import * as pulumi from "@pulumi/pulumi";

export type BundleSslMode = "disable" | "require" | "verify-ca" | "verify-full";

export interface BundleConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  sslMode: BundleSslMode;
  /** CA bundle path on the machine running `pulumi up` (verify-ca / verify-full). */
  sslRootCert?: string;
}

/** Resolved inputs of a SqlBundle, as the provider receives them. */
export interface SqlBundleInputs {
  connection: BundleConnection;
  /** Repo root: where `tsx` resolves and infra/databaseObjects/apply-bundle.ts lives. */
  repoRoot: string;
  /** Folder of the SQL files (absolute). */
  dir: string;
  /** bundleChecksum() of the files in `dir`: the resource's diff. */
  checksum: string;
  files: string[];
  /**
   * Request-context signing keys to register after the bundle (sql/0930: app.authenticate_context verifies the
   * service's tokens with them). Secrets: they travel to the applier through its environment, never argv, and
   * only their key ids are kept in state.
   */
  contextKeys?: ContextKeyInput[];
}

export interface ContextKeyInput {
  kid: string;
  purpose: "user" | "worker";
  /** base64url of at least 32 bytes. */
  secret: string;
}

/** What the resource keeps in state (no password). */
export interface SqlBundleOutputs {
  checksum: string;
  files: string[];
  host: string;
  port: number;
  database: string;
  applied: string[];
  alreadyApplied: number;
  /** Key ids of the registered context keys (never their secrets). */
  contextKeyIds?: string[];
}

/** The applier's report, printed by apply-bundle.ts as its last stdout line. */
export interface ApplierReport {
  ok: boolean;
  applied?: string[];
  alreadyApplied?: number;
  checksum?: string;
  error?: string;
  drift?: string[];
}

export const APPLIER_ENV = "PGKIT_SQL_BUNDLE_REQUEST";
export const APPLIER_SCRIPT = "infra/databaseObjects/apply-bundle.ts";

/** Runs the applier in a child process; resolves with its report or rejects with its error. */
function runApplier(inputs: SqlBundleInputs): Promise<SqlBundleOutputs> {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(process.execPath, ["--import", "tsx", APPLIER_SCRIPT], {
      cwd: inputs.repoRoot,
      env: { ...process.env, [APPLIER_ENV]: JSON.stringify({ connection: inputs.connection, dir: inputs.dir, contextKeys: inputs.contextKeys ?? [] }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code: number | null) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      let report: ApplierReport | undefined;
      try {
        report = JSON.parse(last) as ApplierReport;
      } catch {
        report = undefined;
      }
      if (code === 0 && report?.ok) {
        resolve({
          checksum: report.checksum ?? inputs.checksum,
          files: inputs.files,
          host: inputs.connection.host,
          port: inputs.connection.port,
          database: inputs.connection.database,
          applied: report.applied ?? [],
          alreadyApplied: report.alreadyApplied ?? 0,
          contextKeyIds: (inputs.contextKeys ?? []).map((k) => k.kid),
        });
      } else {
        const why = report?.error ?? (stderr.trim() || `applier exited with code ${code}`);
        reject(new Error(`SQL bundle not applied: ${why}`));
      }
    });
  });
}

export const sqlBundleProvider = {
  async diff(_id: string, olds: SqlBundleOutputs, news: SqlBundleInputs): Promise<pulumi.dynamic.DiffResult> {
    const changed: string[] = [];
    if (olds.checksum !== news.checksum) changed.push("checksum");
    // A different target database gets the bundle applied too (idempotent: the runner skips applied files).
    if (olds.host !== news.connection.host || olds.database !== news.connection.database) changed.push("connection");
    // A rotated context key (a new kid) is registered by an update; the secrets never reach the state.
    if ((olds.contextKeyIds ?? []).join(",") !== (news.contextKeys ?? []).map((k) => k.kid).join(",")) changed.push("contextKeys");
    return { changes: changed.length > 0, replaces: [], stables: [], deleteBeforeReplace: false };
  },
  async create(inputs: SqlBundleInputs): Promise<pulumi.dynamic.CreateResult> {
    const outs = await runApplier(inputs);
    return { id: `${outs.host}:${outs.port}/${outs.database}`, outs };
  },
  async update(_id: string, _olds: SqlBundleOutputs, news: SqlBundleInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await runApplier(news) };
  },
  // Removing the resource never drops schema objects: migrations are forward-only, and the data
  // belongs to the database, not to this resource.
  async delete(): Promise<void> {},
};

export interface SqlBundleArgs {
  connection: pulumi.Input<BundleConnection>;
  contextKeys?: pulumi.Input<ContextKeyInput[]>;
  repoRoot: pulumi.Input<string>;
  dir: pulumi.Input<string>;
  checksum: pulumi.Input<string>;
  files: pulumi.Input<string[]>;
}

export class SqlBundle extends pulumi.dynamic.Resource {
  declare readonly checksum: pulumi.Output<string>;
  declare readonly applied: pulumi.Output<string[]>;
  declare readonly files: pulumi.Output<string[]>;

  constructor(name: string, args: SqlBundleArgs, opts?: pulumi.CustomResourceOptions) {
    // The connection carries the password: keep it secret in state however it was passed in.
    super(
      sqlBundleProvider,
      name,
      {
        ...args,
        connection: pulumi.secret(args.connection),
        contextKeys: args.contextKeys === undefined ? undefined : pulumi.secret(args.contextKeys),
        applied: undefined,
        alreadyApplied: undefined,
        contextKeyIds: undefined,
      },
      opts,
      "pgkit",
      "SqlBundle",
    );
  }
}
