// pgkit's non-negotiables as CrossGuard rules. Each rule is a plain ResourceValidationPolicy so the
// tests call `validateResource` directly with compliant and non-compliant resources.
//
// Inputs are checked (props are the resource's input properties, camelCase). Production is recognised
// by the `environment: prod` tag every pgkit resource carries; an RDS instance without that tag is
// itself a violation, so the prod rule cannot be sidestepped by dropping the tag.
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

type Props = Record<string, unknown>;

const T = {
  rdsInstance: "aws:rds/instance:Instance",
  rdsParameterGroup: "aws:rds/parameterGroup:ParameterGroup",
  s3Bucket: "aws:s3/bucket:Bucket",
  s3Sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  s3PublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  backupVault: "aws:backup/vault:Vault",
  secret: "aws:secretsmanager/secret:Secret",
  ec2Instance: "aws:ec2/instance:Instance",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  ecsService: "aws:ecs/service:Service",
} as const;

const isReplica = (p: Props): boolean => typeof p.replicateSourceDb === "string" && p.replicateSourceDb !== "";
const tagsOf = (p: Props): Record<string, string> => (p.tags && typeof p.tags === "object" ? (p.tags as Record<string, string>) : {});
const OPEN = new Set(["0.0.0.0/0", "::/0"]);

function rule(
  name: string,
  description: string,
  check: (type: string, props: Props, report: ReportViolation) => void,
): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => check(args.type, args.props as Props, report),
  };
}

export const encryptionAtRest = rule(
  "pgkit-encryption-at-rest",
  "Database storage, backups, dumps, secrets and volumes are encrypted with a customer-managed KMS key.",
  (type, p, report) => {
    switch (type) {
      case T.rdsInstance:
        if (p.storageEncrypted !== true) report("RDS instance must set storageEncrypted: true");
        if (!p.kmsKeyId) report("RDS instance must use a customer-managed KMS key (kmsKeyId)");
        break;
      case T.s3Sse: {
        const rules = Array.isArray(p.rules) ? (p.rules as Props[]) : [];
        const kms = rules.some((r) => {
          const d = r.applyServerSideEncryptionByDefault as Props | undefined;
          return d?.sseAlgorithm === "aws:kms" && !!d.kmsMasterKeyId;
        });
        if (!kms) report("S3 bucket encryption must be SSE-KMS with a customer-managed key");
        break;
      }
      case T.backupVault:
        if (!p.kmsKeyArn) report("Backup vault must be encrypted with a customer-managed KMS key (kmsKeyArn)");
        break;
      case T.secret:
        if (!p.kmsKeyId) report("Secrets Manager secret must use a customer-managed KMS key (kmsKeyId)");
        break;
      case T.ec2Instance: {
        const root = p.rootBlockDevice as Props | undefined;
        if (root?.encrypted !== true) report("EC2 root volume must be encrypted");
        break;
      }
    }
  },
);

export const noPublicAccess = rule(
  "pgkit-no-public-access",
  "Nothing is reachable from the internet: private RDS, internal load balancers, no public IPs, no open ingress, S3 public access blocked.",
  (type, p, report) => {
    switch (type) {
      case T.rdsInstance:
        if (p.publiclyAccessible === true) report("RDS instance must not be publicly accessible");
        break;
      case T.loadBalancer:
        if (p.internal !== true) report("Load balancer must be internal");
        break;
      case T.ecsService: {
        const net = p.networkConfiguration as Props | undefined;
        if (net?.assignPublicIp === true) report("ECS service must not assign public IPs");
        break;
      }
      case T.ec2Instance:
        if (p.associatePublicIpAddress === true) report("EC2 instance must not have a public IP");
        break;
      case T.s3PublicAccessBlock:
        for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
          if (p[k] !== true) report(`S3 public access block must set ${k}: true`);
        }
        break;
      case T.securityGroup: {
        const ingress = Array.isArray(p.ingress) ? (p.ingress as Props[]) : [];
        for (const r of ingress) {
          const cidrs = [...((r.cidrBlocks as string[] | undefined) ?? []), ...((r.ipv6CidrBlocks as string[] | undefined) ?? [])];
          if (cidrs.some((c) => OPEN.has(c))) report("Security group must not allow ingress from the whole internet");
        }
        break;
      }
      case T.ingressRule:
        if (OPEN.has(String(p.cidrIpv4 ?? "")) || OPEN.has(String(p.cidrIpv6 ?? ""))) {
          report("Security group ingress rule must not be open to the whole internet");
        }
        break;
    }
  },
);

export const MIN_BACKUP_RETENTION_DAYS = 7;
export const backupRetention = rule(
  "pgkit-backup-retention",
  `RDS primaries keep automated backups (point-in-time recovery) for at least ${MIN_BACKUP_RETENTION_DAYS} days.`,
  (type, p, report) => {
    if (type !== T.rdsInstance || isReplica(p)) return;
    const days = typeof p.backupRetentionPeriod === "number" ? p.backupRetentionPeriod : 0;
    if (days < MIN_BACKUP_RETENTION_DAYS) report(`RDS backupRetentionPeriod must be >= ${MIN_BACKUP_RETENTION_DAYS} days (got ${days})`);
  },
);

export const prodDeletionProtection = rule(
  "pgkit-prod-deletion-protection",
  "Production databases have deletion protection and take a final snapshot; every RDS instance says which environment it belongs to.",
  (type, p, report) => {
    if (type !== T.rdsInstance) return;
    const env = tagsOf(p).environment;
    if (!env) {
      report("RDS instance must carry an `environment` tag (dev | staging | prod)");
      return;
    }
    if (env !== "prod") return;
    if (p.deletionProtection !== true) report("prod RDS instance must set deletionProtection: true");
    if (!isReplica(p) && p.skipFinalSnapshot === true) report("prod RDS primary must take a final snapshot (skipFinalSnapshot: false)");
  },
);

export const tlsRequired = rule(
  "pgkit-tls-required",
  "PostgreSQL parameter groups force TLS (rds.force_ssl = 1) and every RDS instance uses such a custom parameter group.",
  (type, p, report) => {
    if (type === T.rdsParameterGroup && String(p.family ?? "").startsWith("postgres")) {
      const params = Array.isArray(p.parameters) ? (p.parameters as Props[]) : [];
      const forceSsl = params.find((x) => x.name === "rds.force_ssl");
      if (String(forceSsl?.value) !== "1") report("PostgreSQL parameter group must set rds.force_ssl = 1");
    }
    if (type === T.rdsInstance && !p.parameterGroupName) {
      report("RDS instance must use a custom parameter group (the default one does not force TLS before PostgreSQL 15)");
    }
  },
);

export const policies: ResourceValidationPolicy[] = [encryptionAtRest, noPublicAccess, backupRetention, prodDeletionProtection, tlsRequired];
