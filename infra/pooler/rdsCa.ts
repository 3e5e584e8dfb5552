// The RDS certificate authorities PgBouncer verifies the database against (server_tls_sslmode = verify-full).
//
// Source: the bundle the operator already downloads for the database-object connection
// (pgkit:rdsCaBundlePath, https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), read when the
// program runs. The global bundle (a root CA per region and key type, over a hundred certificates) is far
// larger than what fits in a container definition (the whole task definition is limited in size), so only
// the stack's region's CAs are shipped, in the task definition's environment: they are public, a CA change
// is then a new task definition revision (a rolling deployment), and nothing has to be fetched at start
// (no S3 object, no AWS CLI in the image, no start-up dependency on another service).
import { X509Certificate } from "node:crypto";
import { RDS_CA_IDENTIFIER } from "../database.js";

/** Subject CN of that CA's root in a region (e.g. "Amazon RDS eu-west-1 Root CA RSA2048 G1"). */
export const rdsRootCommonName = (region: string) => `Amazon RDS ${region} Root CA RSA2048 G1`;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?-----END CERTIFICATE-----/g;

const commonName = (dn: string) => dn.split("\n").find((part) => part.startsWith("CN="))?.slice(3) ?? "";

/**
 * The certificates of `bundlePem` issued for `region` (subject or issuer CN "Amazon RDS <region> ..."), as
 * PEM. Refuses a bundle without the root of RDS_CA_IDENTIFIER for the region, so a wrong or truncated file
 * fails `pulumi preview` instead of every pooled connection.
 */
export function regionalRdsCaBundle(bundlePem: string, region: string): string {
  const blocks = bundlePem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error("pgkit:rdsCaBundlePath: the file holds no PEM certificate");
  const prefix = `Amazon RDS ${region} `;
  const kept = blocks.filter((pem) => {
    const cert = new X509Certificate(pem);
    return commonName(cert.subject).startsWith(prefix) || commonName(cert.issuer).startsWith(prefix);
  });
  const root = rdsRootCommonName(region);
  if (!kept.some((pem) => commonName(new X509Certificate(pem).subject) === root)) {
    throw new Error(
      `pgkit:rdsCaBundlePath: no certificate '${root}' (the root of ${RDS_CA_IDENTIFIER}, the instances' CA) in the file; download https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem`,
    );
  }
  return `${kept.join("\n")}\n`;
}
