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
  egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  snsTopic: "aws:sns/topic:Topic",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
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
  "Database storage, backups, dumps, secrets, volumes, alarm topics and log groups are encrypted with a customer-managed KMS key.",
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
      // Alarm notifications and exported database logs (slow statements, errors) carry data: our key, not AWS's.
      case T.snsTopic:
        if (!p.kmsMasterKeyId || String(p.kmsMasterKeyId) === "alias/aws/sns") report("SNS topic must be encrypted with a customer-managed KMS key (kmsMasterKeyId)");
        break;
      case T.logGroup:
        if (!p.kmsKeyId) report("CloudWatch log group must be encrypted with a customer-managed KMS key (kmsKeyId)");
        break;
    }
  },
);

export const noPublicAccess = rule(
  "pgkit-no-public-access",
  "Nothing is reachable from the internet: private RDS, internal load balancers, no public IPs, S3 public access blocked (security groups: pgkit-security-group-rules).",
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
    }
  },
);

/** The only traffic allowed out to the whole internet: HTTPS (image pulls, AWS APIs, SSM through the NAT). */
const HTTPS = 443;
const num = (v: unknown): number | undefined => (v === undefined || v === null || v === "" ? undefined : Number(v));
/** A rule's protocol and port range is HTTPS only (tcp 443-443), not all traffic (-1) or a range around it. */
const httpsOnly = (r: Props): boolean =>
  ["tcp", "6"].includes(String(r.protocol ?? r.ipProtocol ?? "")) && num(r.fromPort) === HTTPS && num(r.toPort) === HTTPS;
const openCidrs = (r: Props): boolean =>
  [...((r.cidrBlocks as string[] | undefined) ?? []), ...((r.ipv6CidrBlocks as string[] | undefined) ?? []), r.cidrIpv4, r.cidrIpv6].some((c) => OPEN.has(String(c ?? "")));

export const securityGroupRules = rule(
  "pgkit-security-group-rules",
  "No security group rule admits the whole internet (0.0.0.0/0, ::/0), and none sends to it except HTTPS (tcp 443): inline rules, aws.ec2.SecurityGroupRule and the aws.vpc ingress/egress rule resources.",
  (type, p, report) => {
    const ingress = (r: Props) => {
      if (openCidrs(r)) report("Security group must not allow ingress from the whole internet");
    };
    const egress = (r: Props) => {
      if (openCidrs(r) && !httpsOnly(r)) {
        report(`Security group must not allow egress to the whole internet except HTTPS (tcp ${HTTPS}); got protocol ${String(r.protocol ?? r.ipProtocol)} ports ${String(r.fromPort)}-${String(r.toPort)}`);
      }
    };
    switch (type) {
      case T.securityGroup:
        for (const r of Array.isArray(p.ingress) ? (p.ingress as Props[]) : []) ingress(r);
        for (const r of Array.isArray(p.egress) ? (p.egress as Props[]) : []) egress(r);
        break;
      case T.ingressRule:
        ingress(p);
        break;
      case T.egressRule:
        egress(p);
        break;
      case T.sgRule:
        if (p.type === "egress") egress(p);
        else ingress(p);
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

export const policies: ResourceValidationPolicy[] = [encryptionAtRest, noPublicAccess, securityGroupRules, backupRetention, prodDeletionProtection, tlsRequired];
