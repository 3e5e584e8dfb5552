// The certificate PgBouncer presents to clients (client_tls_sslmode = require).
//
// Why a private CA made here (@pulumi/tls) and not ACM: an ACM certificate's private key cannot be
// exported to a container, and the only way to use one is to terminate TLS on the NLB (a TLS listener).
// That does not work for PostgreSQL clients: the protocol opens in plain text with an SSLRequest packet
// and starts TLS only after the server's answer, while an NLB TLS listener expects a TLS ClientHello first
// (PostgreSQL 17 clients can open with TLS directly, `sslnegotiation=direct`, but then require the server to
// agree on the `postgresql` ALPN protocol, which an NLB listener does not offer). It would also leave the
// NLB -> task hop to its own TLS and put a second certificate in play. AWS Private CA would work but
// costs a monthly fee per CA for one certificate. So: a CA per stack, generated here; its certificate is a
// stack output (`poolerCaCertPem`) that clients use with `sslmode=verify-full`.
//
// Keys are ECDSA P-256 (libpq/OpenSSL, JDBC and .NET clients all accept it). Both private keys live only in
// the Pulumi state, encrypted as secrets; the server key reaches the task through the pooler's Secrets
// Manager secret, never the task definition.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** Ten years: clients pin this CA; replacing it means handing every client the new one. */
export const CA_VALIDITY_HOURS = 10 * 365 * 24;
/** Two years, renewed by any `pulumi up` in the last 90 days (the provider then replaces it). */
export const SERVER_CERT_VALIDITY_HOURS = 2 * 365 * 24;
export const SERVER_CERT_EARLY_RENEWAL_HOURS = 90 * 24;

export interface PoolerTls {
  /** The CA clients verify against (public). */
  caCertPem: pulumi.Output<string>;
  /** The server certificate PgBouncer presents (public). */
  certPem: pulumi.Output<string>;
  /** Its private key (a Pulumi secret). */
  keyPem: pulumi.Output<string>;
}

export function poolerTls(name: string, args: { dnsName: pulumi.Input<string>; environment: string }, parent: pulumi.Resource): PoolerTls {
  const opts = { parent };
  const key = (suffix: string) => new tls.PrivateKey(`${name}-${suffix}`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, opts);

  const caKey = key("ca-key");
  const ca = new tls.SelfSignedCert(`${name}-ca`, {
    privateKeyPem: caKey.privateKeyPem,
    isCaCertificate: true,
    setSubjectKeyId: true,
    subject: { commonName: `pgkit ${args.environment} PgBouncer CA`, organization: "pgkit" },
    validityPeriodHours: CA_VALIDITY_HOURS,
    allowedUses: ["cert_signing", "crl_signing"],
  }, opts);

  const serverKey = key("server-key");
  // The NLB's DNS name goes in the subject alternative name, which is what libpq's verify-full checks; it is
  // not the common name, which is limited to 64 characters (an NLB name can be longer).
  const csr = new tls.CertRequest(`${name}-server`, {
    privateKeyPem: serverKey.privateKeyPem,
    subject: { commonName: `pgkit ${args.environment} PgBouncer`, organization: "pgkit" },
    dnsNames: [args.dnsName],
  }, opts);
  const cert = new tls.LocallySignedCert(`${name}-server`, {
    certRequestPem: csr.certRequestPem,
    caPrivateKeyPem: caKey.privateKeyPem,
    caCertPem: ca.certPem,
    validityPeriodHours: SERVER_CERT_VALIDITY_HOURS,
    earlyRenewalHours: SERVER_CERT_EARLY_RENEWAL_HOURS,
    allowedUses: ["digital_signature", "server_auth"],
  }, opts);

  return { caCertPem: ca.certPem, certPem: cert.certPem, keyPem: pulumi.secret(serverKey.privateKeyPem) };
}
