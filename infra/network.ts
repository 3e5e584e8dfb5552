// Network: an existing VPC with private subnets, or a minimal new one.
// Nothing here is publicly reachable: the database, pooler and bastion live in private subnets with
// no public IPs. A created VPC gets public subnets only to hold the NAT gateway that lets Fargate
// pull the PgBouncer image and reach Secrets Manager / CloudWatch.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConfig } from "./config.js";

export interface NetworkArgs {
  config: NetworkConfig;
  tags: Record<string, string>;
}

export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:Network", name, {}, opts);
    const { config, tags } = args;

    if (config.vpcId && config.privateSubnetIds) {
      const vpc = aws.ec2.getVpcOutput({ id: config.vpcId }, { parent: this });
      this.vpcId = pulumi.output(config.vpcId);
      this.vpcCidr = vpc.cidrBlock;
      this.privateSubnetIds = pulumi.output(config.privateSubnetIds);
    } else {
      const azs = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
      const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
        cidrBlock: config.vpcCidr,
        enableDnsHostnames: true, // RDS endpoints and VPC interface endpoints need DNS
        enableDnsSupport: true,
        tags: { ...tags, Name: `${name}-vpc` },
      }, { parent: this });

      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, { parent: this });
      const publicRt = new aws.ec2.RouteTable(`${name}-public`, {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
        tags: { ...tags, Name: `${name}-public` },
      }, { parent: this });

      // /20 per subnet: private at index 0..n-1, public (NAT only) at 8..8+n-1.
      const subnetCidr = (index: number): string => {
        const [a, b] = config.vpcCidr.split("/")[0].split(".").map(Number);
        return `${a}.${b}.${index * 16}.0/20`;
      };

      const publicSubnet = new aws.ec2.Subnet(`${name}-public-0`, {
        vpcId: vpc.id,
        cidrBlock: subnetCidr(8),
        availabilityZone: azs.names[0],
        mapPublicIpOnLaunch: false, // only the NAT gateway's EIP is public
        tags: { ...tags, Name: `${name}-public-0`, tier: "public" },
      }, { parent: this });
      new aws.ec2.RouteTableAssociation(`${name}-public-0`, { subnetId: publicSubnet.id, routeTableId: publicRt.id }, { parent: this });

      // One NAT gateway keeps cost down; egress pauses if its AZ fails, serving traffic does not.
      const eip = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags }, { parent: this });
      const nat = new aws.ec2.NatGateway(`${name}-nat`, { allocationId: eip.id, subnetId: publicSubnet.id, tags }, { parent: this });
      const privateRt = new aws.ec2.RouteTable(`${name}-private`, {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
        tags: { ...tags, Name: `${name}-private` },
      }, { parent: this });

      const privateSubnets: aws.ec2.Subnet[] = [];
      for (let i = 0; i < config.azCount; i++) {
        const subnet = new aws.ec2.Subnet(`${name}-private-${i}`, {
          vpcId: vpc.id,
          cidrBlock: subnetCidr(i),
          availabilityZone: azs.names[i],
          mapPublicIpOnLaunch: false,
          tags: { ...tags, Name: `${name}-private-${i}`, tier: "private" },
        }, { parent: this });
        new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: privateRt.id }, { parent: this });
        privateSubnets.push(subnet);
      }

      this.vpcId = vpc.id;
      this.vpcCidr = vpc.cidrBlock;
      this.privateSubnetIds = pulumi.all(privateSubnets.map((s) => s.id));
    }

    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
  }
}
