// Passwords of the local stack's login roles: generated once into the stack's folder (mode 0600).
// Only SCRAM verifiers are sent to PostgreSQL, so no plaintext password reaches its logs or catalogs.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface StackSecrets {
  adminPassword: string;
  bouncerPassword: string;
  appPassword: string;
  /** Queue workers acting for an organization, not a person (pgkit_worker). Added later: created if absent. */
  workerPassword: string;
}

const newPassword = () => randomBytes(24).toString('base64url');

export function loadOrCreateSecrets(path: string): { secrets: StackSecrets; created: boolean } {
  if (existsSync(path)) {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<StackSecrets>;
    if (!parsed.adminPassword || !parsed.bouncerPassword || !parsed.appPassword) {
      throw new Error(`${path} is incomplete (needs adminPassword, bouncerPassword, appPassword): restore it or remove the stack folder`);
    }
    if (!parsed.workerPassword) {
      // A stack folder from before the worker login existed: add its password, keep the others.
      const upgraded = { ...(parsed as StackSecrets), workerPassword: newPassword() };
      writeFileSync(path, JSON.stringify(upgraded, null, 2) + '\n', { mode: 0o600 });
      return { secrets: upgraded, created: false };
    }
    return { secrets: parsed as StackSecrets, created: false };
  }
  const secrets: StackSecrets = { adminPassword: newPassword(), bouncerPassword: newPassword(), appPassword: newPassword(), workerPassword: newPassword() };
  writeFileSync(path, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return { secrets, created: true };
}

/** PostgreSQL's SCRAM-SHA-256 verifier for a password (RFC 5802/7677, as `ALTER ROLE ... PASSWORD` accepts it). */
export function scramVerifier(password: string, iterations = 4096, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
