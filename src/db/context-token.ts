// Signed request-context tokens (sql/0930, app.authenticate_context): compact HS256 JWTs with a key id.
//   user tokens   (a key of purpose "user"):   { sub: <user uuid>, org: <organization uuid>, iat, exp }
//   worker tokens (a key of purpose "worker"): { role: "worker", scope: "org", org: <uuid>, iat, exp }
//                                              { role: "worker", scope: "queue", iat, exp }
// The service forwards the user's own JWT (signed by the user key, with more claims: iss, aud); trusted platform
// code signs short-lived tokens here. Node's crypto, synchronous: one HMAC per token.
import { createHmac, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { RequestContext } from './context.js';

export type KeyPurpose = 'user' | 'worker';

export interface ContextSigningKey {
  kid: string;
  purpose: KeyPurpose;
  /** At least 32 bytes. */
  secret: Buffer;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A compact HS256 JWT of `claims` (iat and exp added) under `key`. */
export function signContextToken(key: ContextSigningKey, claims: Record<string, unknown>, ttlSeconds = 600): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: key.kid }));
  const payload = b64url(JSON.stringify({ ...claims, iat: now, exp: now + ttlSeconds }));
  const sig = createHmac('sha256', key.secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

/** A new random key (32 bytes) with a kid that says its purpose and when it was made. */
export function newContextSigningKey(purpose: KeyPurpose): ContextSigningKey {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  return { kid: `${purpose}-${stamp}-${randomBytes(3).toString('hex')}`, purpose, secret: randomBytes(32) };
}

/** Signs contexts for trusted platform code: the seeder, the tests, the drills. */
export class ContextSigner {
  constructor(private readonly keys: { user: ContextSigningKey; worker?: ContextSigningKey }) {
    if (keys.user.purpose !== 'user') throw new Error(`ContextSigner: key ${keys.user.kid} is not a user key`);
    if (keys.worker && keys.worker.purpose !== 'worker') throw new Error(`ContextSigner: key ${keys.worker.kid} is not a worker key`);
  }

  /** The context of `userId` acting in `orgId` (the database still checks the membership). */
  user(orgId: string, userId: string, ttlSeconds?: number): RequestContext {
    return { token: signContextToken(this.keys.user, { sub: userId, org: orgId }, ttlSeconds) };
  }

  /** A worker's context: for one organization, or the queue across organizations. */
  worker(scope: { orgId: string } | 'queue', ttlSeconds?: number): RequestContext {
    if (!this.keys.worker) throw new Error('ContextSigner: no worker key was given');
    const claims = scope === 'queue' ? { role: 'worker', scope: 'queue' } : { role: 'worker', scope: 'org', org: scope.orgId };
    return { token: signContextToken(this.keys.worker, claims, ttlSeconds) };
  }
}

/** Registers keys in a database (idempotent; the caller is the admin or the owner of the bundle's objects). */
export async function registerContextKeys(client: pg.ClientBase, keys: readonly ContextSigningKey[]): Promise<void> {
  for (const k of keys) {
    await client.query('SELECT app_private.register_context_signing_key($1, $2, $3)', [k.kid, k.purpose, k.secret]);
  }
}
