// The restore drill's IAM (infra/drillAccess.ts) under Pulumi mocks: a restore role AWS Backup can assume,
// a policy that lets the drill create only <instance>-drill-* and change or delete only pgkit:drill-tagged
// drill instances, every AWS call the drill makes covered by an action, and the stack outputs the drill uses.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { drillPolicyDocument, withDrillAccess } from "../../infra/drillAccess.js";
import { createMocks, repoRoot, resolveOutputs, settle, type Recorded } from "./support/mocks.js";

const SOURCE = "arn:aws:rds:eu-west-1:123456789012:db:pgkit-primary";
type Statement = { Sid: string; Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string>> };
const doc = (bastion?: string) =>
  (JSON.parse(drillPolicyDocument({ instanceArn: SOURCE, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k", vaultName: "pgkit-prod", restoreRoleArn: "arn:aws:iam::123456789012:role/restore", bastionInstanceId: bastion })) as { Statement: Statement[] }).Statement;
const list = (x: string | string[]) => (Array.isArray(x) ? x : [x]);

describe("drill IAM policy", () => {
  it("deletes, modifies and reboots only pgkit:drill-tagged <instance>-drill-* instances, never the source", () => {
    const destructive = doc().filter((s) => list(s.Action).some((a) => ["rds:DeleteDBInstance", "rds:RebootDBInstance"].includes(a)));
    expect(destructive).toHaveLength(1);
    expect(destructive[0].Resource).toBe("arn:aws:rds:eu-west-1:123456789012:db:pgkit-primary-drill-*");
    expect(destructive[0].Condition).toEqual({ StringLike: { "aws:ResourceTag/pgkit:drill": "*" } });
    for (const s of doc()) if (list(s.Action).some((a) => /Delete|Modify|Reboot/.test(a))) expect(list(s.Resource)).not.toContain(SOURCE);
    const restore = doc().find((s) => s.Sid === "RestoreIntoDrillInstance")!;
    expect(list(restore.Resource)).toEqual(expect.arrayContaining([SOURCE, "arn:aws:rds:eu-west-1:123456789012:db:pgkit-primary-drill-*", "arn:aws:rds:eu-west-1:123456789012:auto-backup:*"]));
    expect(doc().find((s) => s.Sid === "PassRestoreRole")).toMatchObject({ Resource: "arn:aws:iam::123456789012:role/restore", Condition: { StringEquals: { "iam:PassedToService": "backup.amazonaws.com" } } });
    expect(doc().find((s) => s.Sid === "BackupRecoveryPoints")!.Resource).toContain("arn:aws:backup:eu-west-1:123456789012:backup-vault:pgkit-prod");
  });

  it("covers every AWS call the drill makes (read from src/drills/aws.ts), and the tunnel only with a bastion", () => {
    const src = readFileSync(join(repoRoot, "src/drills/aws.ts"), "utf8");
    const calls = [...src.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]);
    const rds = new Set(/from '@aws-sdk\/client-rds'/.test(src) ? [...(/import \{([^}]+)\} from '@aws-sdk\/client-rds'/.exec(src)?.[1] ?? "").matchAll(/(\w+)Command/g)].map((m) => m[1]) : []);
    const actions = new Set(doc("i-0abc").flatMap((s) => list(s.Action)));
    const missing = [...new Set(calls)].map((c) => `${rds.has(c) ? "rds" : "backup"}:${c}`).filter((a) => !actions.has(a));
    expect(calls.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
    expect(actions.has("ssm:StartSession")).toBe(true);
    expect(doc().some((s) => list(s.Action).includes("ssm:StartSession"))).toBe(false);
  });
});

describe("DrillAccess component (Pulumi mocks)", () => {
  it("creates a restore role AWS Backup assumes and the drill policy, and adds their ARNs to the AWS stack outputs", async () => {
    const recorded: Recorded[] = [];
    await pulumi.runtime.setMocks(createMocks(recorded), "pgkit", "prod", false);
    const outputs = await resolveOutputs(
      withDrillAccess({ target: "aws", instanceId: "pgkit-primary", instanceArn: SOURCE, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k", backupVaultName: "pgkit-prod", bastionInstanceId: undefined }),
    );
    await settle(recorded);
    const role = recorded.find((r) => r.type === "aws:iam/role:Role" && r.name === "pgkit-drill-restore")!;
    expect(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    expect(recorded.find((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")?.inputs.policyArn).toBe("arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores");
    const policy = recorded.find((r) => r.type === "aws:iam/policy:Policy")!;
    const statements = (JSON.parse(String(policy.inputs.policy)) as { Statement: Statement[] }).Statement;
    expect(statements.find((s) => s.Sid === "PassRestoreRole")?.Resource).toBe(outputs.drillRestoreRoleArn);
    expect(outputs).toMatchObject({ instanceId: "pgkit-primary", drillRestoreRoleArn: expect.stringContaining("pgkit-drill-restore"), drillPolicyArn: expect.stringContaining("pgkit-drill-policy") });
    // the local target gets nothing
    expect(withDrillAccess({ target: "local" })).toEqual({ target: "local" });
  });
});
