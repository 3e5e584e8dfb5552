// The RDS CA certificates PgBouncer gets: the stack's region's, from the bundle at pgkit:rdsCaBundlePath,
// and never a file without the root of the instances' CA (fake bundle: test/infra/fixtures).
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { regionalRdsCaBundle } from "../../infra/pooler/rdsCa.js";
import { FAKE_RDS_CA_BUNDLE, repoRoot } from "./support/mocks.js";

const bundle = readFileSync(join(repoRoot, FAKE_RDS_CA_BUNDLE), "utf8");
const commonNames = (pem: string) =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => /CN=([^\n]+)/.exec(new X509Certificate(c).subject)?.[1]);

describe("regionalRdsCaBundle", () => {
  it("keeps the region's certificates only", () => {
    expect(commonNames(regionalRdsCaBundle(bundle, "eu-west-1"))).toEqual(["Amazon RDS eu-west-1 Root CA RSA2048 G1", "Amazon RDS eu-west-1 Root CA ECC384 G1"]);
    expect(commonNames(regionalRdsCaBundle(bundle, "us-east-1"))).toEqual(["Amazon RDS us-east-1 Root CA RSA2048 G1"]);
  });

  it("refuses a bundle without the region's root of rds-ca-rsa2048-g1, naming it", () => {
    expect(() => regionalRdsCaBundle(bundle, "ap-south-1")).toThrow("no certificate 'Amazon RDS ap-south-1 Root CA RSA2048 G1' (the root of rds-ca-rsa2048-g1");
    // "eu-central-1" must not count for a region that merely starts the same way
    expect(() => regionalRdsCaBundle(bundle, "eu-central")).toThrow(/no certificate/);
  });

  it("refuses a file with no certificate at all", () => {
    expect(() => regionalRdsCaBundle("not a bundle", "eu-west-1")).toThrow("the file holds no PEM certificate");
  });
});
