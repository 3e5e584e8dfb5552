// Passwords of the local stack's roles: generated once into the stack's folder (mode 0600), each with the
// SCRAM-SHA-256 verifier that both PostgreSQL (ALTER ROLE ... PASSWORD '<verifier>') and PgBouncer's auth_file
// hold. Only verifiers are sent to PostgreSQL, so no plaintext password reaches its logs or catalogs; the same
// verifier on both sides is what lets PgBouncer pass SCRAM through to the server (PgBouncer's auth_file format,
// https://www.pgbouncer.org/config.html#authentication-file-format, and pgbouncer/pgbouncer#944: pass-through works
// when the auth_file verifier is exactly the server's).
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { newContextSigningKey, type ContextSigningKey, type KeyPurpose } from '../db/context-token.js';

export const LOGIN_KEYS = ['superuser', 'admin', 'bouncer', 'app', 'worker'] as const;
export type LoginKey = (typeof LOGIN_KEYS)[number];

export interface StackSecrets {
  /** The bootstrap superuser `postgres`: only for what RDS does for its customers (src/local/platform.ts). */
  superuserPassword: string;
  /** The admin login shaped like the RDS master user (`pgkit_admin`): applies the bundle, creates the logins. */
  adminPassword: string;
  /** PgBouncer's console user (`pgkit_pgbouncer`). */
  bouncerPassword: string;
  appPassword: string;
  /** Queue workers acting for an organization, not a person (pgkit_worker). */
  workerPassword: string;
  /** SCRAM verifier of each password above, by login key. */
  verifiers: Record<LoginKey, string>;
  /**
   * Request-context signing keys (sql/0930), secrets in base64url. Live keys only, newest first per purpose: the
   * first of each purpose signs; during a rotation the second still verifies.
   */
  contextKeys: StoredContextKey[];
}

export interface StoredContextKey {
  kid: string;
  purpose: KeyPurpose;
  secret: string;
}

const PURPOSES: readonly KeyPurpose[] = ['user', 'worker'];

export function storeContextKey(k: ContextSigningKey): StoredContextKey {
  return { kid: k.kid, purpose: k.purpose, secret: k.secret.toString('base64url') };
}

export function contextKeysOf(s: StackSecrets): ContextSigningKey[] {
  return s.contextKeys.map((k) => ({ kid: k.kid, purpose: k.purpose, secret: Buffer.from(k.secret, 'base64url') }));
}

/** The key that signs for `purpose` (the newest live one). */
export function signingKeyOf(s: StackSecrets, purpose: KeyPurpose): ContextSigningKey {
  const k = contextKeysOf(s).find((x) => x.purpose === purpose);
  if (!k) throw new Error(`the stack's secrets hold no ${purpose} context key: run npm start, which adds one`);
  return k;
}

const newPassword = () => randomBytes(24).toString('base64url');
const passwordField = (key: LoginKey) => `${key}Password` as const;

export function passwordOf(s: StackSecrets, key: LoginKey): string {
  return s[passwordField(key)];
}

function write(path: string, secrets: StackSecrets) {
  // Written aside and renamed: a crash mid-write never leaves a half file (the passwords would be lost).
  writeFileSync(`${path}.tmp`, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  chmodSync(path, 0o600);
}

/**
 * Loads the stack's secrets, creating the file on first use. Files written by earlier versions are upgraded in
 * place, keeping every password: before the RDS-shaped admin existed, `adminPassword` was the superuser's.
 */
export function loadOrCreateSecrets(path: string): { secrets: StackSecrets; created: boolean } {
  if (!existsSync(path)) {
    const fresh = Object.fromEntries(LOGIN_KEYS.map((k) => [passwordField(k), newPassword()])) as unknown as Omit<StackSecrets, 'verifiers' | 'contextKeys'>;
    const secrets = {
      ...fresh,
      verifiers: Object.fromEntries(LOGIN_KEYS.map((k) => [k, scramVerifier(fresh[passwordField(k)])])),
      contextKeys: PURPOSES.map((p) => storeContextKey(newContextSigningKey(p))),
    } as StackSecrets;
    write(path, secrets);
    return { secrets, created: true };
  }
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<StackSecrets>;
  if (!parsed.adminPassword || !parsed.bouncerPassword || !parsed.appPassword) {
    throw new Error(`${path} is incomplete (needs adminPassword, bouncerPassword, appPassword): restore it or remove the stack folder`);
  }
  let changed = false;
  const s = { ...parsed } as StackSecrets;
  if (!parsed.superuserPassword) {
    // A stack from before the RDS-shaped admin: its adminPassword belongs to the superuser.
    s.superuserPassword = parsed.adminPassword;
    s.adminPassword = newPassword();
    changed = true;
  }
  if (!parsed.workerPassword) {
    s.workerPassword = newPassword();
    changed = true;
  }
  s.verifiers = { ...(parsed.verifiers ?? {}) } as Record<LoginKey, string>;
  for (const k of LOGIN_KEYS) {
    if (!s.verifiers[k] || !verifierMatches(s.verifiers[k], passwordOf(s, k))) {
      s.verifiers[k] = scramVerifier(passwordOf(s, k));
      changed = true;
    }
  }
  s.contextKeys = [...(parsed.contextKeys ?? [])];
  for (const p of PURPOSES) {
    if (!s.contextKeys.some((k) => k.purpose === p)) {
      s.contextKeys.push(storeContextKey(newContextSigningKey(p)));
      changed = true;
    }
  }
  if (changed) write(path, s);
  return { secrets: s, created: false };
}

/**
 * The stack's secrets for a reader (connection strings, tests): the file as it is when it is current, without
 * recomputing five verifiers (a PBKDF2 each) on every call; a file from an earlier version goes through
 * loadOrCreateSecrets, which upgrades it. Start and rotation use loadOrCreateSecrets, which also repairs a verifier
 * that no longer matches its password.
 */
export function readSecrets(path: string): StackSecrets {
  if (existsSync(path)) {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<StackSecrets>;
    const current = LOGIN_KEYS.every((k) => parsed[passwordField(k)] && parsed.verifiers?.[k])
      && PURPOSES.every((p) => parsed.contextKeys?.some((k) => k.purpose === p));
    if (current) return parsed as StackSecrets;
  }
  return loadOrCreateSecrets(path).secrets;
}

/** A new password (and verifier) for one login, saved before anything uses it; returns the new secrets. */
export function rotatePassword(path: string, key: LoginKey): StackSecrets {
  const { secrets } = loadOrCreateSecrets(path);
  const password = newPassword();
  const next: StackSecrets = { ...secrets, [passwordField(key)]: password, verifiers: { ...secrets.verifiers, [key]: scramVerifier(password) } };
  write(path, next);
  return next;
}

/**
 * A rotation of a context signing key, in the file (the caller registers or retires in the databases FIRST, so
 * the file never names a key the databases refuse, nor forgets one they still accept):
 * addContextKey puts a new key in front (it signs from now on; the older one still verifies);
 * keepOnlyNewestContextKey drops the older keys of that purpose (the end of the rotation).
 */
export function addContextKey(path: string, key: ContextSigningKey): StackSecrets {
  const { secrets } = loadOrCreateSecrets(path);
  const next = { ...secrets, contextKeys: [storeContextKey(key), ...secrets.contextKeys.filter((k) => k.kid !== key.kid)] };
  write(path, next);
  return next;
}

export function keepOnlyNewestContextKey(path: string, purpose: KeyPurpose): StackSecrets {
  const { secrets } = loadOrCreateSecrets(path);
  const newest = secrets.contextKeys.find((k) => k.purpose === purpose);
  const next = { ...secrets, contextKeys: secrets.contextKeys.filter((k) => k.purpose !== purpose || k === newest) };
  write(path, next);
  return next;
}

/** PostgreSQL's SCRAM-SHA-256 verifier for a password (RFC 5802/7677, as `ALTER ROLE ... PASSWORD` accepts it). */
export function scramVerifier(password: string, iterations = 4096, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** True when `verifier` was computed from `password` (recomputed with the verifier's own salt and iterations). */
export function verifierMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return false;
  const again = scramVerifier(password, Number(m[1]), Buffer.from(m[2], 'base64'));
  return again.length === verifier.length && timingSafeEqual(Buffer.from(again), Buffer.from(verifier));
}
