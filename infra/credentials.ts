// Credentials: the environment's login roles and their passwords.
// Group roles and privileges are schema (sql/0002); login roles belong to an environment, so they are
// made here: a random password each, kept in Secrets Manager (KMS) on AWS, and only ever handled as a
// Pulumi secret. Secret ARNs are exported; secret values never are.
//
// PostgreSQL only ever sees a SCRAM-SHA-256 verifier, never the password: the role is created with the
// verifier as its password (PostgreSQL stores a string already in SCRAM form as it is), so CREATE/ALTER
// ROLE, which `log_statement = ddl` logs, carries no plaintext. The verifier is computed here from the
// password and a salt of its own (a random.RandomBytes kept in state), so it is the same on every
// update: PgBouncer's auth_file holds exactly this verifier, which SCRAM pass-through requires.
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { scramVerifier } from "../src/local/secrets.js";
import type { Environment } from "./config.js";

/** PostgreSQL's default `scram_iterations` (https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SCRAM-ITERATIONS). */
export const SCRAM_ITERATIONS = 4096;
/** Salt length PostgreSQL itself uses for SCRAM verifiers (SCRAM_DEFAULT_SALT_LEN, src/include/common/scram-common.h). */
export const SCRAM_SALT_BYTES = 16;

/** Prefix of a stack secret's name (`pgkit/<env>/<what>-`); AWS gets it with a unique suffix (namePrefix). */
export const secretNamePrefix = (environment: string, what: string): string => `pgkit/${environment}/${what}-`;

export interface LoginRoleSpec {
  /** Short key used for resource names and outputs (app, readonly, ...). */
  key: string;
  /** PostgreSQL role name. */
  name: string;
  /** Group roles from the SQL bundle; granted after the bundle has created them. */
  groups: string[];
  /**
   * Where this login connects by default (written into its secret). `pooler` logins are the ones
   * PgBouncer admits: their SCRAM verifiers make up its auth_file.
   */
  via: "pooler" | "direct";
  connectionLimit?: number;
}

/**
 * Login roles on AWS. The app only ever connects through PgBouncer as pgkit_app_login. There is no
 * PgBouncer auth_user any more (no auth_query: RDS lets no role read pg_authid/pg_shadow); the pooler
 * authenticates from an auth_file of the pooled logins' verifiers (infra/pooler).
 */
export const AWS_LOGIN_ROLES: LoginRoleSpec[] = [
  { key: "app", name: "pgkit_app_login", groups: ["pgkit_app"], via: "pooler" },
  // Queue workers act for an organization without a person (docs/security.md, pgkit_worker).
  { key: "worker", name: "pgkit_worker_login", groups: ["pgkit_worker"], via: "pooler" },
  { key: "readonly", name: "pgkit_readonly_login", groups: ["pgkit_readonly"], via: "direct", connectionLimit: 20 },
  { key: "maintenance", name: "pgkit_maintenance_login", groups: ["pgkit_maintenance"], via: "direct", connectionLimit: 5 },
  { key: "migrator", name: "pgkit_migrator_login", groups: ["pgkit_migrator"], via: "direct", connectionLimit: 5 },
];

/**
 * Login roles on the local stack: `npm start` already owns the pooled logins pgkit_app_login and
 * pgkit_worker_login (src/config.ts), so Pulumi manages only the others and never changes a password the
 * local PgBouncer depends on.
 */
export const LOCAL_LOGIN_ROLES: LoginRoleSpec[] = AWS_LOGIN_ROLES.filter((r) => r.via !== "pooler");

export interface CredentialsArgs {
  environment: Environment;
  roles: LoginRoleSpec[];
  /** Present on AWS: where secrets go and what endpoint details they carry. */
  secrets?: {
    kmsKeyArn: pulumi.Input<string>;
    directHost: pulumi.Input<string>;
    directPort: pulumi.Input<number>;
    pooledHost: pulumi.Input<string>;
    pooledPort: number;
    databaseName: string;
  };
  tags: Record<string, string>;
}

export interface LoginCredential {
  spec: LoginRoleSpec;
  /** What clients send (Secrets Manager, for the application). */
  password: pulumi.Output<string>;
  /** What PostgreSQL (and PgBouncer's auth_file) hold: `SCRAM-SHA-256$<iter>:<salt>$<storedKey>:<serverKey>`. */
  verifier: pulumi.Output<string>;
  secretArn?: pulumi.Output<string>;
}

export class Credentials extends pulumi.ComponentResource {
  readonly logins: LoginCredential[];
  readonly secretArns: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: CredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:Credentials", name, {}, opts);
    const s = args.secrets;
    this.logins = args.roles.map((spec) => {
      // Alphanumeric only: these end up in URLs and PgBouncer's quoted auth_file.
      const pw = new random.RandomPassword(`${name}-${spec.key}`, { length: 40, special: false }, { parent: this });
      const password = pulumi.secret(pw.result);
      // A new password (rotation: `pulumi up --replace` of the RandomPassword) changes the keeper, so a new
      // salt comes with it. The keeper is a digest, so the password itself is not copied into more state.
      const salt = new random.RandomBytes(`${name}-${spec.key}-salt`, {
        length: SCRAM_SALT_BYTES,
        keepers: { password: password.apply((p) => createHash("sha256").update(p).digest("hex")) },
      }, { parent: this });
      const verifier = pulumi.secret(
        pulumi.all([password, salt.base64]).apply(([p, b64]) => scramVerifier(p, SCRAM_ITERATIONS, Buffer.from(b64, "base64"))),
      );
      if (!s) return { spec, password, verifier };
      const secret = new aws.secretsmanager.Secret(`${name}-${spec.key}`, {
        // namePrefix, not a fixed name: a deleted secret keeps its name through its recovery window (7-30 days),
        // so destroying and recreating the stack would fail to create `pgkit/<env>/<role>` again (AWS Secrets
        // Manager API reference, DeleteSecret / CreateSecret). The provider appends a unique suffix.
        namePrefix: secretNamePrefix(args.environment, spec.name),
        description: `pgkit ${args.environment} login role ${spec.name} (${spec.groups.join(", ")})`,
        kmsKeyId: s.kmsKeyArn,
        recoveryWindowInDays: args.environment === "prod" ? 30 : 7,
        tags: { ...args.tags, role: spec.name },
      }, { parent: this });
      new aws.secretsmanager.SecretVersion(`${name}-${spec.key}`, {
        secretId: secret.id,
        // jsonStringify of a secret stays a secret in state and in the engine's logs.
        secretString: pulumi.jsonStringify({
          engine: "postgres",
          username: spec.name,
          password,
          host: spec.via === "pooler" ? s.pooledHost : s.directHost,
          port: spec.via === "pooler" ? s.pooledPort : s.directPort,
          dbname: s.databaseName,
        }),
      }, { parent: this });
      return { spec, password, verifier, secretArn: secret.arn };
    });
    this.secretArns = pulumi.all(
      Object.fromEntries(this.logins.filter((l) => l.secretArn).map((l) => [l.spec.key, l.secretArn as pulumi.Output<string>])),
    );
    this.registerOutputs({ secretArns: this.secretArns });
  }
}
