// The stack's TLS material: a private CA and a server certificate for 127.0.0.1 and localhost, made once with
// openssl (through the kit's process runner) and kept with the stack. PostgreSQL and PgBouncer serve it;
// clients verify it with `sslmode=verify-full sslrootcert=<ca.crt>`. The CA's key is deleted once the server
// certificate is signed: nothing else can be issued under it.
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StackConfig } from '../config.js';
import { stackPaths } from '../config.js';
import { runStep } from '../proc/run.js';
import { osUserIds } from '../proc/system.js';

export const TLS_DAYS = 3650;

export async function ensureTls(cfg: StackConfig, log: (l: string) => void): Promise<void> {
  const p = stackPaths(cfg);
  if ([p.tlsCa, p.tlsCert, p.tlsKey].every((f) => existsSync(f))) return;
  const dir = dirname(p.tlsCert);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca.key');
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');
  log(`generating the stack's TLS certificate (CA ${p.tlsCa}; 127.0.0.1, localhost)`);
  try {
    await runStep('TLS: CA', 'openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', p.tlsCa, '-days', String(TLS_DAYS),
      '-subj', `/CN=pgkit ${cfg.name} stack CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await runStep('TLS: server key', 'openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p.tlsKey, '-out', csr, '-subj', '/CN=127.0.0.1']);
    await runStep('TLS: extensions', 'sh', ['-c', `printf '%s\\n' 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost' 'extendedKeyUsage=serverAuth' 'basicConstraints=CA:FALSE' > "$1"`, 'sh', ext]);
    await runStep('TLS: sign', 'openssl', ['x509', '-req', '-in', csr, '-CA', p.tlsCa, '-CAkey', caKey, '-CAcreateserial', '-out', p.tlsCert, '-days', String(TLS_DAYS), '-extfile', ext]);
  } finally {
    for (const f of [caKey, csr, ext, join(dir, 'ca.srl')]) rmSync(f, { force: true });
  }
  // PostgreSQL refuses a key readable by others; the servers' OS user owns all three.
  const ids = osUserIds(cfg.osUser);
  for (const f of [dir, p.tlsCa, p.tlsCert, p.tlsKey]) if (ids) chownSync(f, ids.uid, ids.gid);
  chmodSync(p.tlsKey, 0o600);
}
