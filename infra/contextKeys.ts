// ContextKeys: the request-context signing keys of an AWS stack (sql/0930). The database verifies every request's
// token with them (app.authenticate_context); the service signs or checks user tokens with the user key, queue
// workers sign theirs with the worker key. Generated here (32 random bytes each), kept in one Secrets Manager
// secret for the service and the workers (JSON array of { kid, purpose, secret } with the secret in base64url,
// the shape of the local stack's secrets.json `contextKeys` and of PGKIT_CONTEXT_KEYS), and registered in the
// database by the SQL bundle resource. Rotation: `pulumi up --replace` of a key's RandomBytes gives it a new kid
// too (the kid's suffix is kept by the same bytes), so the bundle registers the new key; retire the old one with
// app_private.retire_context_signing_key once its tokens have expired (docs/pulumi.md, "Rotation").
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ContextKeyInput } from "./databaseObjects/sqlBundle.js";
import { secretNamePrefix } from "./credentials.js";

export interface ContextKeysArgs {
  environment: string;
  kmsKeyArn: pulumi.Input<string>;
  tags: Record<string, string>;
}

export class ContextKeys extends pulumi.ComponentResource {
  /** The keys, a Pulumi secret: for the SQL bundle resource. */
  readonly keys: pulumi.Output<ContextKeyInput[]>;
  readonly secretArn: pulumi.Output<string>;

  constructor(name: string, args: ContextKeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:ContextKeys", name, {}, opts);
    const purposes = ["user", "worker"] as const;
    const keys = purposes.map((purpose) => {
      const bytes = new random.RandomBytes(`${name}-${purpose}`, { length: 32 }, { parent: this });
      // The kid names the bytes: a digest of them would also do, but a random suffix kept with them reveals nothing.
      const id = new random.RandomId(`${name}-${purpose}-kid`, { byteLength: 6, keepers: { bytes: bytes.id } }, { parent: this });
      return pulumi.all([id.hex, bytes.base64]).apply(([hex, b64]): ContextKeyInput => ({
        kid: `${purpose}-${hex}`,
        purpose,
        secret: Buffer.from(b64, "base64").toString("base64url"),
      }));
    });
    this.keys = pulumi.secret(pulumi.all(keys));
    const secret = new aws.secretsmanager.Secret(`${name}-secret`, {
      // namePrefix: a deleted secret keeps its name through its recovery window (AWS Secrets Manager, DeleteSecret).
      namePrefix: secretNamePrefix(args.environment, "context-keys"),
      description: `pgkit ${args.environment} request-context signing keys (sql/0930): [{ kid, purpose, secret (base64url) }]`,
      kmsKeyId: args.kmsKeyArn,
      recoveryWindowInDays: args.environment === "prod" ? 30 : 7,
      tags: { ...args.tags, purpose: "context-keys" },
    }, { parent: this });
    new aws.secretsmanager.SecretVersion(`${name}-secret`, { secretId: secret.id, secretString: pulumi.jsonStringify(this.keys) }, { parent: this });
    this.secretArn = secret.arn;
    this.registerOutputs({ secretArn: this.secretArn });
  }
}
