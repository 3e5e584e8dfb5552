// Monitoring: CloudWatch alarms to one SNS topic, and a dashboard with the same metrics.
// Thresholds are chosen so an alarm means "someone should look today", not "something moved".
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Environment, MonitoringConfig } from "./config.js";

export interface MonitoringArgs {
  config: MonitoringConfig;
  environment: Environment;
  kmsKeyArn: pulumi.Input<string>;
  instanceId: pulumi.Input<string>;
  replicaIds: pulumi.Input<string>[];
  /** The primary's `postgresql` log export group, where the scheduled jobs' failure line lands. */
  postgresqlLogGroupName: pulumi.Input<string>;
  /** The instances' parameter group: its configuration changes are notified (a static one waits for a reboot). */
  parameterGroupName: pulumi.Input<string>;
  allocatedStorageGb: number;
  /** The storage autoscaling ceiling (pgkit:maxAllocatedStorageGb). */
  maxAllocatedStorageGb: number;
  /** Server connections all PgBouncer tasks may hold; more than that means something bypasses the pooler. */
  pooledConnectionBudget: number;
  pooler: {
    clusterName: pulumi.Input<string>;
    serviceName: pulumi.Input<string>;
    targetGroupArnSuffix: pulumi.Input<string>;
    loadBalancerArnSuffix: pulumi.Input<string>;
    desiredCount: number;
  };
  tags: Record<string, string>;
}

const GiB = 1024 ** 3;

/**
 * CloudWatch Logs filter pattern for the line a failed scheduled job writes: ops.job_fail (sql/definitions/ops.job_fail.sql)
 * raises `RAISE WARNING 'pgkit job % failed: % (%)'`, which PostgreSQL logs as `…WARNING:  pgkit job <job> failed:
 * <error> (<sqlstate>)` after the log_line_prefix. Quoted terms, all of which must appear, case-sensitive (CloudWatch Logs
 * User Guide, "Filter pattern syntax for metric filters…", "Matching terms in unstructured log events"). `WARNING:` keeps
 * out the DDL of ops.job_fail itself, which `log_statement = ddl` logs when the bundle is applied (`RAISE WARNING 'pgkit
 * job % failed: …'`: no colon after WARNING). test/infra/job-failure-filter.test.ts matches it against the lines a real
 * failing job and that DDL write on the local server.
 */
export const JOB_FAILURE_FILTER_PATTERN = '"WARNING:" "pgkit job" "failed:"';
/** One namespace per environment, so two stacks in one account never add to each other's count. */
export const jobFailureMetric = (environment: string) => ({ namespace: `pgkit/${environment}`, name: "ScheduledJobFailures" });

/**
 * The line ops.job_index_pending_embeddings writes when an embedding has waited longer than 5 minutes for the HNSW graph
 * (sql/1009: new rows enter the graph in a scheduled job, not in their INSERT): `…WARNING:  pgkit vector index backlog:
 * <n> embedding(s) wait…`. Same form and the same reason for `WARNING:` as JOB_FAILURE_FILTER_PATTERN (the function's
 * DDL quotes the words without the colon); test/infra/job-failure-filter.test.ts matches it against a real server's log.
 */
export const VECTOR_INDEX_BACKLOG_FILTER_PATTERN = '"WARNING:" "pgkit vector index backlog:"';
export const vectorIndexBacklogMetric = (environment: string) => ({ namespace: `pgkit/${environment}`, name: "VectorIndexBacklogWarnings" });

/**
 * RDS event categories notified for the instances (RDS User Guide, "Amazon RDS event categories and event messages",
 * source type db-instance): everything that needs a person, not the daily backup notices.
 */
export const RDS_INSTANCE_EVENT_CATEGORIES = [
  "availability", "configuration change", "deletion", "failover", "failure", "low storage", "maintenance", "notification", "read replica", "recovery", "restoration",
];

/**
 * AWS Backup job states that mean a recovery point is missing (AWS Backup Developer Guide, "Amazon EventBridge events":
 * detail-type "Backup Job State Change" / "Copy Job State Change", detail.state). EXPIRED: the job never started within
 * its start window.
 */
export const FAILED_BACKUP_JOB_STATES = ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"];

export class Monitoring extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  readonly dashboardName: pulumi.Output<string>;
  readonly alarmNames: pulumi.Output<string[]>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:Monitoring", name, {}, opts);
    const { tags, pooler } = args;
    const region = aws.getRegionOutput({}, { parent: this });

    const caller = aws.getCallerIdentityOutput({}, { parent: this });
    const topic = new aws.sns.Topic(`${name}-alerts`, { kmsMasterKeyId: args.kmsKeyArn, tags }, { parent: this });
    if (args.config.alarmEmail) {
      new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: "email", endpoint: args.config.alarmEmail }, { parent: this });
    }
    this.topicArn = topic.arn;

    // AWS Backup jobs that fail, abort or never start, through EventBridge to the topic.
    const backupFailures = new aws.cloudwatch.EventRule(`${name}-backup-job-failed`, {
      description: `pgkit ${args.environment}: AWS Backup or copy job failed, aborted or expired`,
      eventPattern: JSON.stringify({
        source: ["aws.backup"],
        "detail-type": ["Backup Job State Change", "Copy Job State Change"],
        detail: { state: FAILED_BACKUP_JOB_STATES },
      }),
      tags,
    }, { parent: this });
    new aws.cloudwatch.EventTarget(`${name}-backup-job-failed`, { rule: backupFailures.name, arn: topic.arn }, { parent: this });

    // The topic's policy replaces SNS's default one, so it restates it (the account's own principals) and adds the two
    // services that publish here: EventBridge for that rule only (EventBridge User Guide, "Amazon SNS permissions") and
    // RDS event notifications for this account (RDS User Guide, "Granting permissions to publish notifications to an
    // Amazon SNS topic"). CloudWatch alarms of this account publish under the default statement.
    const publishBy = (sid: string, service: string, condition: Record<string, unknown>) => ({
      Sid: sid, Effect: "Allow", Principal: { Service: service }, Action: "sns:Publish", Resource: topic.arn, Condition: condition,
    });
    new aws.sns.TopicPolicy(`${name}-alerts`, {
      arn: topic.arn,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AccountOwner",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission", "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"],
            Resource: topic.arn,
            Condition: { StringEquals: { "AWS:SourceOwner": caller.accountId } },
          },
          publishBy("BackupJobFailures", "events.amazonaws.com", { ArnEquals: { "aws:SourceArn": backupFailures.arn } }),
          publishBy("RdsEvents", "events.rds.amazonaws.com", { StringEquals: { "aws:SourceAccount": caller.accountId } }),
        ],
      }),
    }, { parent: this });

    // RDS events of the primary and replicas (failover, failure, low storage, maintenance, ...) and of their parameter
    // group (a change to a static parameter waits for a reboot: docs/pulumi.md, "Pending reboot").
    new aws.rds.EventSubscription(`${name}-rds-instances`, {
      snsTopic: topic.arn,
      sourceType: "db-instance",
      sourceIds: [args.instanceId, ...args.replicaIds],
      eventCategories: RDS_INSTANCE_EVENT_CATEGORIES,
      tags,
    }, { parent: this });
    new aws.rds.EventSubscription(`${name}-rds-parameters`, {
      snsTopic: topic.arn,
      sourceType: "db-parameter-group",
      sourceIds: [args.parameterGroupName],
      eventCategories: ["configuration change"],
      tags,
    }, { parent: this });

    const alarms: aws.cloudwatch.MetricAlarm[] = [];
    const alarm = (
      id: string,
      a: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions" | "tags">,
    ): void => {
      alarms.push(new aws.cloudwatch.MetricAlarm(`${name}-${id}`, { ...a, alarmActions: [topic.arn], okActions: [topic.arn], tags }, { parent: this }));
    };
    const rds = (instanceId: pulumi.Input<string>) => ({ namespace: "AWS/RDS", dimensions: { DBInstanceIdentifier: instanceId } });

    alarm("cpu", {
      ...rds(args.instanceId), metricName: "CPUUtilization", statistic: "Average", period: 300, evaluationPeriods: 3,
      comparisonOperator: "GreaterThanThreshold", threshold: 80, alarmDescription: "CPU above 80% for 15 minutes",
    });
    alarm("free-storage", {
      ...rds(args.instanceId), metricName: "FreeStorageSpace", statistic: "Minimum", period: 300, evaluationPeriods: 1,
      // Relative to the autoscaling ceiling, not the first allocation (storage grows past that): autoscaling adds
      // storage at 10% free, at most every 6 hours and never beyond the ceiling (RDS User Guide, "Managing
      // capacity automatically with Amazon RDS storage autoscaling"). On an instance still far below the ceiling
      // this fires early, as a warning that the database is filling.
      comparisonOperator: "LessThanThreshold", threshold: Math.round(args.maxAllocatedStorageGb * 0.1 * GiB),
      alarmDescription: `Free storage below 10% of the autoscaling ceiling (${args.maxAllocatedStorageGb} GiB)`,
    });
    // PostgreSQL-specific RDS metrics (RDS User Guide, "Amazon CloudWatch metrics for Amazon RDS", instance-level
    // metrics: TransactionLogsDiskUsage, OldestReplicationSlotLag and MaximumUsedTransactionIDs, PostgreSQL only).
    const walBudget = Math.round(args.allocatedStorageGb * 0.1 * GiB);
    alarm("transaction-logs-disk", {
      ...rds(args.instanceId), metricName: "TransactionLogsDiskUsage", statistic: "Maximum", period: 300, evaluationPeriods: 3,
      comparisonOperator: "GreaterThanThreshold", threshold: walBudget,
      alarmDescription: "WAL on disk above 10% of the allocated storage for 15 minutes (a stuck replication slot or archiving?)",
    });
    alarm("oldest-replication-slot-lag", {
      ...rds(args.instanceId), metricName: "OldestReplicationSlotLag", statistic: "Maximum", period: 300, evaluationPeriods: 3,
      comparisonOperator: "GreaterThanThreshold", threshold: walBudget,
      treatMissingData: "notBreaching", // no replication slot, no data
      alarmDescription: "A replication slot holds back more WAL than 10% of the allocated storage (drop or fix its consumer)",
    });
    alarm("max-used-transaction-ids", {
      ...rds(args.instanceId), metricName: "MaximumUsedTransactionIDs", statistic: "Maximum", period: 300, evaluationPeriods: 1,
      // PostgreSQL stops assigning transaction IDs about 3 million short of 2^31 to prevent wraparound (PostgreSQL
      // docs, "Routine Vacuuming", "Preventing Transaction ID Wraparound Failures"); half way leaves time to vacuum.
      comparisonOperator: "GreaterThanThreshold", threshold: 1_000_000_000,
      alarmDescription: "Oldest unfrozen transaction ID above 1 billion (wraparound at about 2.1 billion): check autovacuum",
    });
    alarm("freeable-memory", {
      ...rds(args.instanceId), metricName: "FreeableMemory", statistic: "Minimum", period: 300, evaluationPeriods: 3,
      comparisonOperator: "LessThanThreshold", threshold: 256 * 1024 ** 2, alarmDescription: "Freeable memory below 256 MiB",
    });
    alarm("connections", {
      ...rds(args.instanceId), metricName: "DatabaseConnections", statistic: "Maximum", period: 300, evaluationPeriods: 2,
      comparisonOperator: "GreaterThanThreshold", threshold: args.pooledConnectionBudget + 20,
      alarmDescription: "More server connections than the pooler budget plus headroom: something bypasses PgBouncer",
    });
    alarm("disk-queue", {
      ...rds(args.instanceId), metricName: "DiskQueueDepth", statistic: "Average", period: 300, evaluationPeriods: 3,
      comparisonOperator: "GreaterThanThreshold", threshold: 10, alarmDescription: "Disk queue depth above 10 (storage throughput saturated)",
    });
    args.replicaIds.forEach((replicaId, i) =>
      alarm(`replica-lag-${i}`, {
        ...rds(replicaId), metricName: "ReplicaLag", statistic: "Maximum", period: 60, evaluationPeriods: 5,
        comparisonOperator: "GreaterThanThreshold", threshold: 60, alarmDescription: "Read replica more than 60 s behind",
        treatMissingData: "breaching", // a replica that stops reporting lag is not healthy
      }),
    );
    alarm("pooler-healthy-targets", {
      namespace: "AWS/NetworkELB", metricName: "HealthyHostCount", statistic: "Minimum", period: 60, evaluationPeriods: 3,
      dimensions: { TargetGroup: pooler.targetGroupArnSuffix, LoadBalancer: pooler.loadBalancerArnSuffix },
      comparisonOperator: "LessThanThreshold", threshold: pooler.desiredCount,
      treatMissingData: "breaching",
      alarmDescription: `Fewer than ${pooler.desiredCount} healthy PgBouncer tasks behind the NLB`,
    });
    alarm("pooler-running-tasks", {
      namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount", statistic: "Minimum", period: 60, evaluationPeriods: 3,
      dimensions: { ClusterName: pooler.clusterName, ServiceName: pooler.serviceName },
      comparisonOperator: "LessThanThreshold", threshold: pooler.desiredCount,
      treatMissingData: "breaching",
      alarmDescription: `Fewer than ${pooler.desiredCount} PgBouncer tasks running`,
    });
    // A line of the postgresql log (exported to CloudWatch Logs) counted by a metric filter, one per line, and an alarm
    // on the count over 5 minutes; no line, no data.
    const logLineAlarm = (filterId: string, alarmId: string, pattern: string, metric: { namespace: string; name: string }, threshold: number, alarmDescription: string): void => {
      new aws.cloudwatch.LogMetricFilter(`${name}-${filterId}`, {
        logGroupName: args.postgresqlLogGroupName,
        pattern,
        metricTransformation: { namespace: metric.namespace, name: metric.name, value: "1" },
      }, { parent: this });
      alarm(alarmId, {
        namespace: metric.namespace, metricName: metric.name, statistic: "Sum", period: 300, evaluationPeriods: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold", threshold,
        treatMissingData: "notBreaching",
        alarmDescription,
      });
    };
    // Failed scheduled jobs (seed 004 #45): every failure writes one WARNING line (JOB_FAILURE_FILTER_PATTERN); one such
    // line in 5 minutes alarms.
    logLineAlarm("job-failures", "scheduled-job-failures", JOB_FAILURE_FILTER_PATTERN, jobFailureMetric(args.environment), 1,
      "A scheduled job failed (ops.job_fail: see ops.logs event_type job_failed, or cron.job_run_details)");
    // The vector index job falling behind (sql/1009, sql/1011): after each batch it warns while a row has waited more than
    // 5 minutes (since it was written or its vector changed); two warnings in 5 minutes alarm. Until it catches up every
    // search of an organization with waiting rows scans them exactly, so the searches slow down as the backlog grows.
    logLineAlarm("vector-index-backlog", "vector-index-backlog", VECTOR_INDEX_BACKLOG_FILTER_PATTERN, vectorIndexBacklogMetric(args.environment), 2,
      "New embeddings wait more than 5 minutes for the HNSW graph: ops.job_index_pending_embeddings does not keep up (ops.logs event_type vector_index_backlog)");
    this.alarmNames = pulumi.all(alarms.map((a) => a.name));

    const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
      dashboardName: `pgkit-${args.environment}`,
      dashboardBody: pulumi
        .all([region.region, args.instanceId, pulumi.all(args.replicaIds), pooler.targetGroupArnSuffix, pooler.loadBalancerArnSuffix, pooler.clusterName, pooler.serviceName])
        .apply(([r, id, replicaIds, tg, lb, cluster, service]) => {
          const widget = (title: string, metrics: unknown[][], x: number, y: number) => ({
            type: "metric", x, y, width: 12, height: 6,
            properties: { title, region: r, stat: "Average", period: 300, view: "timeSeries", metrics },
          });
          const db = (metric: string) => ["AWS/RDS", metric, "DBInstanceIdentifier", id];
          return JSON.stringify({
            widgets: [
              widget("CPU %", [db("CPUUtilization")], 0, 0),
              widget("Connections", [db("DatabaseConnections")], 12, 0),
              widget("Free storage (bytes)", [db("FreeStorageSpace")], 0, 6),
              widget("Freeable memory (bytes)", [db("FreeableMemory")], 12, 6),
              widget("Read / write latency (s)", [db("ReadLatency"), db("WriteLatency")], 0, 12),
              widget("Disk queue depth", [db("DiskQueueDepth")], 12, 12),
              widget("Replica lag (s)", replicaIds.length ? replicaIds.map((rid) => ["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", rid]) : [db("ReplicaLag")], 0, 18),
              widget("PgBouncer healthy targets / running tasks", [
                ["AWS/NetworkELB", "HealthyHostCount", "TargetGroup", tg, "LoadBalancer", lb],
                ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", cluster, "ServiceName", service],
              ], 12, 18),
            ],
          });
        }),
    }, { parent: this });
    this.dashboardName = dashboard.dashboardName;

    this.registerOutputs({ topicArn: this.topicArn, dashboardName: this.dashboardName, alarmNames: this.alarmNames });
  }
}
