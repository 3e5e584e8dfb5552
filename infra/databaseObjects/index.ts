// DatabaseObjects: what lives inside PostgreSQL and belongs to the environment, in dependency order:
//   database -> extensions needing elevated rights -> the SQL bundle (group roles, schemas,
//   functions...) -> login roles granted the bundle's groups.
// The same component drives RDS (through an SSM tunnel or from inside the VPC) and the local stack.
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { LoginCredential } from "../credentials.js";
import { SqlBundle, type BundleSslMode, type ContextKeyInput } from "./sqlBundle.js";

export interface AdminConnection {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
  sslMode: BundleSslMode;
  sslRootCert?: string;
  /** false on RDS: the master user is rds_superuser, not a superuser. */
  superuser: boolean;
}

export interface BundleInfo {
  checksum: string;
  files: string[];
}

export interface DatabaseObjectsArgs {
  connection: AdminConnection;
  databaseName: string;
  /** Create the database (AWS); the local stack's database already exists (npm start made it). */
  createDatabase: boolean;
  /** Extensions created here rather than in the bundle (pg_cron must be made in cron.database_name by an admin). */
  extensions: string[];
  logins: LoginCredential[];
  /** Extra login roles without a password (IAM authentication through rds_iam). */
  iamLogins?: { name: string; groups: string[] }[];
  /**
   * Revoke PUBLIC's CONNECT and TEMPORARY (REVOKE ALL) on the maintenance databases `postgres` and `template1`
   * (issue 12 #6): otherwise every login, the app's included, can connect there and create temporary objects.
   * On RDS the master user can (AWS, "Controlling user access to the PostgreSQL database", recommends revoking
   * PUBLIC's default database privileges); locally the platform does it as the superuser (src/local/platform.ts).
   */
  revokePublicOnMaintenanceDatabases?: boolean;
  bundle: { repoRoot: string; dir: string; info: pulumi.Input<BundleInfo> };
  /** Request-context signing keys registered after the bundle (sql/0930; infra/contextKeys.ts). Locally npm start does it. */
  contextKeys?: pulumi.Input<ContextKeyInput[]>;
  protect: boolean;
}

export class DatabaseObjects extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;
  readonly roleNames: pulumi.Output<string[]>;
  readonly bundleChecksum: pulumi.Output<string>;
  readonly appliedMigrations: pulumi.Output<string[]>;

  constructor(name: string, args: DatabaseObjectsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:DatabaseObjects", name, {}, opts);
    const c = args.connection;
    const provider = new postgresql.Provider(`${name}-pg`, {
      host: c.host,
      port: c.port,
      username: c.username,
      password: pulumi.secret(c.password),
      database: "postgres",
      sslmode: c.sslMode,
      sslrootcert: c.sslRootCert,
      superuser: c.superuser,
      connectTimeout: 15,
    }, { parent: this });
    const child = (extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions => ({ parent: this, provider, ...extra });

    const dependencies: pulumi.Resource[] = [];
    let dbName: pulumi.Output<string> = pulumi.output(args.databaseName);
    if (args.createDatabase) {
      const db = new postgresql.Database(`${name}-db`, {
        name: args.databaseName,
        encoding: "UTF8",
        template: "template0",
        allowConnections: true,
      }, child({ protect: args.protect, retainOnDelete: true })); // never dropped by a destroy
      dbName = db.name;
      dependencies.push(db);
    }

    for (const ext of args.extensions) {
      dependencies.push(new postgresql.Extension(`${name}-ext-${ext}`, { name: ext, database: dbName }, child({ dependsOn: [...dependencies], retainOnDelete: true })));
    }

    const makeRole = (login: LoginCredential, groups: string[], dependsOn: pulumi.Resource[]) =>
      new postgresql.Role(`${name}-role-${login.spec.key}`, {
        name: login.spec.name,
        login: true,
        // The SCRAM verifier, never the password: PostgreSQL stores it as given and the DDL it logs
        // (log_statement = ddl) carries no plaintext. PgBouncer's auth_file holds the same verifier.
        password: login.verifier,
        roles: groups,
        inherit: true,
        connectionLimit: login.spec.connectionLimit ?? -1,
        superuser: false,
        createDatabase: false,
        createRole: false,
        bypassRowLevelSecurity: false,
      }, child({ dependsOn }));


    const bundle = new SqlBundle(`${name}-sql-bundle`, {
      connection: pulumi.all([c.host, c.port, c.username, c.password, dbName]).apply(([host, port, user, password, database]) => ({
        host, port: Number(port), user, password, database, sslMode: c.sslMode, sslRootCert: c.sslRootCert,
      })),
      repoRoot: args.bundle.repoRoot,
      dir: args.bundle.dir,
      checksum: pulumi.output(args.bundle.info).apply((b) => b.checksum),
      files: pulumi.output(args.bundle.info).apply((b) => b.files),
      contextKeys: args.contextKeys,
    }, { parent: this, dependsOn: dependencies });

    const logins = args.logins.map((l) => makeRole(l, l.spec.groups, [bundle]));
    const iam = (args.iamLogins ?? []).map(
      (r) =>
        new postgresql.Role(`${name}-role-${r.name}`, {
          name: r.name, login: true, roles: r.groups, inherit: true, superuser: false, bypassRowLevelSecurity: false,
        }, child({ dependsOn: [bundle] })),
    );

    if (args.revokePublicOnMaintenanceDatabases) {
      // @pulumi/postgresql Grant: role "public" means PUBLIC, and an empty privilege list revokes all of the
      // object type's privileges (the provider's grant resource docs, registry.terraform.io/cyrilgdn/postgresql).
      for (const database of ["postgres", "template1"]) {
        new postgresql.Grant(`${name}-revoke-public-${database}`, { database, role: "public", objectType: "database", privileges: [] }, child());
      }
    }

    this.databaseName = dbName;
    this.roleNames = pulumi.all([...logins, ...iam].map((r) => r.name));
    this.bundleChecksum = bundle.checksum;
    this.appliedMigrations = bundle.applied;
    this.registerOutputs({ roleNames: this.roleNames, bundleChecksum: this.bundleChecksum });
  }
}
