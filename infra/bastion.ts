// Bastion: a tiny instance reachable only through AWS Systems Manager (no SSH, no public IP, no
// inbound rule). Engineers open a port-forwarding session through it to RDS; that is also how
// `pulumi up` reaches the database to manage roles and apply the SQL bundles from a laptop.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Database } from "./database.js";

export interface BastionArgs {
  vpcId: pulumi.Input<string>;
  subnetId: pulumi.Input<string>;
  database: Database;
  tags: Record<string, string>;
}

export class Bastion extends pulumi.ComponentResource {
  readonly instanceId: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: BastionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:Bastion", name, {}, opts);
    const { tags } = args;

    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: "pgkit SSM bastion: no ingress",
      egress: [
        { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "SSM endpoints" },
        { protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [args.database.securityGroupId], description: "to RDS" },
      ],
      tags: { ...tags, Name: `${name}-bastion` },
    }, { parent: this });
    args.database.allowFromSecurityGroup("bastion", sg.id, "PostgreSQL from the SSM bastion");

    const role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    }, { parent: this });
    new aws.iam.RolePolicyAttachment(`${name}-ssm`, { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }, { parent: this });
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, { parent: this });

    const ami = aws.ssm.getParameterOutput({ name: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" }, { parent: this });
    const instance = new aws.ec2.Instance(`${name}-instance`, {
      ami: ami.value,
      instanceType: "t4g.nano",
      subnetId: args.subnetId,
      vpcSecurityGroupIds: [sg.id],
      iamInstanceProfile: profile.name,
      associatePublicIpAddress: false,
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" }, // IMDSv2 only
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 8 },
      tags: { ...tags, Name: `${name}-bastion` },
    }, { parent: this, ignoreChanges: ["ami"] }); // don't replace the bastion on every new AMI

    this.instanceId = instance.id;
    this.securityGroupId = sg.id;
    this.registerOutputs({ instanceId: this.instanceId });
  }
}
