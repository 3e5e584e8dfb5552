// Engine version changes that `pulumi up` must not start on its own, caught at preview.
//
// The program reads the running instance's version (rds:DescribeDBInstances through the provider's data sources,
// during preview as during up) and refuses, before any resource is registered:
//  - another major, unless pgkit:allowMajorVersionUpgrade is true: a major upgrade takes the instance down for the
//    length of pg_upgrade, needs a parameter group of the new family, and RDS needs the event triggers dropped first
//    (docs/pulumi.md, "Major version upgrade"). Without this check it would fail half-way through `up` instead (the
//    provider's ModifyDBInstance without AllowMajorVersionUpgrade, after the new parameter group was created);
//  - an older major (RDS cannot downgrade);
//  - a minor below the running one: with autoMinorVersionUpgrade RDS moves the minor forward in the maintenance
//    window, and the provider would then try to go back, which RDS refuses.
import * as aws from "@pulumi/aws";
import type { StackConfig } from "./config.js";

/** The primary's identifier: the Database component "pgkit" (infra/stack.ts) names it `<name>-<environment>`. */
export const primaryIdentifier = (environment: string): string => `pgkit-${environment}`;

const parse = (v: string) => v.split(".").map(Number) as [number, number | undefined];

/** What is wrong with moving from `deployed` to the configured version, or undefined when nothing is. */
export function engineChangeProblem(deployed: string, cfg: StackConfig): string | undefined {
  const id = primaryIdentifier(cfg.environment);
  const [fromMajor, fromMinor] = parse(deployed);
  const [toMajor, toMinor] = parse(cfg.database.engineVersion);
  if (toMajor < fromMajor) {
    return `pgkit:engineVersion: ${cfg.database.engineVersion} is older than the running ${id} (PostgreSQL ${deployed}); RDS cannot downgrade a major. Set pgkit:engineVersion back to ${fromMajor} (or restore a snapshot of the older major into a new stack).`;
  }
  if (toMajor > fromMajor && !cfg.database.allowMajorVersionUpgrade) {
    return [
      `pgkit:engineVersion: ${id} runs PostgreSQL ${deployed} and the config asks for ${cfg.database.engineVersion}: a major version upgrade, which \`pulumi up\` does not start unasked.`,
      "To upgrade (docs/pulumi.md, \"Major version upgrade\"): take a snapshot; drop the event triggers (RDS requires it: SELECT evtname FROM pg_event_trigger, then DROP EVENT TRIGGER pgkit_assign_owner, from sql/0410);",
      "`pulumi config set pgkit:allowMajorVersionUpgrade true` and `pulumi up` (a parameter group of the new family replaces the old one; the instance is down while it upgrades);",
      "then re-create the event triggers, `pulumi config set pgkit:allowMajorVersionUpgrade false`, and run ANALYZE. To stay on this major, set pgkit:engineVersion to " + `${fromMajor}.`,
    ].join(" ");
  }
  if (toMajor === fromMajor && toMinor !== undefined && fromMinor !== undefined && toMinor < fromMinor) {
    return `pgkit:engineVersion: ${cfg.database.engineVersion} is below the running ${id} (PostgreSQL ${deployed}, upgraded in a maintenance window by autoMinorVersionUpgrade); RDS cannot go back. Set pgkit:engineVersion to ${fromMajor} (the major alone) or ${deployed}.`;
  }
  return undefined;
}

/** The running primary's engine version, or undefined before the first deployment. */
export async function deployedEngineVersion(environment: string): Promise<string | undefined> {
  const id = primaryIdentifier(environment);
  // getInstances (DescribeDBInstances with the db-instance-id filter, RDS API reference) answers an empty list for an
  // instance that does not exist; getInstance (DescribeDBInstances by identifier) would fail with DBInstanceNotFound.
  const found = await aws.rds.getInstances({ filters: [{ name: "db-instance-id", values: [id] }] });
  if (!found.instanceIdentifiers.includes(id)) return undefined;
  return (await aws.rds.getInstance({ dbInstanceIdentifier: id })).engineVersion;
}

/** Fails the program (at preview) with what to do when the engine version change is one `up` must not make. */
export async function checkEngineVersionChange(cfg: StackConfig): Promise<void> {
  if (cfg.target !== "aws") return;
  const deployed = await deployedEngineVersion(cfg.environment);
  const problem = deployed ? engineChangeProblem(deployed, cfg) : undefined;
  if (problem) throw new Error(problem);
}
