// Bearer JWT (HS256) with a key id (kid) naming one of the stack's context signing keys (sql/0930):
//   user tokens (a user key):     sub = user id, org = organization id;
//   worker tokens (a worker key): role = "worker", scope = "queue" (or "org" with org).
// The service checks the token here (401 early, with the reason) and forwards it unchanged to the database,
// which verifies it again and sets the request context from it (app.authenticate_context): an SQL injection in
// the service can then act only as the caller.
import { SignJWT, decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';
import type { ContextSigningKey } from '../../src/db/context-token.js';
import { HttpError } from './errors.js';

export const ISSUER = 'pgkit-loadtest';
export const AUDIENCE = 'pgkit-workload';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Principal {
  /** The user (user tokens); null for workers. */
  userId: string | null;
  /** The organization (user tokens, org-scoped worker tokens); null for queue-scoped workers. */
  orgId: string | null;
  worker: boolean;
  /** The bearer token itself, forwarded to the database as the request context. */
  token: string;
}

export async function authenticate(header: string | undefined, keys: readonly ContextSigningKey[]): Promise<Principal> {
  if (!header || !header.startsWith('Bearer ')) throw new HttpError(401, 'unauthorized', 'missing bearer token (Authorization: Bearer <jwt>)');
  const token = header.slice(7);
  try {
    const kid = decodeProtectedHeader(token).kid;
    const key = keys.find((k) => k.kid === kid);
    if (!key) throw new HttpError(401, 'unauthorized', 'token signed with an unknown key (kid)');
    const { payload } = await jwtVerify(token, key.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
    if (key.purpose === 'worker') {
      if (payload.role !== 'worker') throw new HttpError(401, 'unauthorized', 'a worker key signs worker tokens only');
      const orgId = typeof payload.org === 'string' && UUID.test(payload.org) ? payload.org : null;
      return { userId: null, orgId, worker: true, token };
    }
    const userId = payload.sub;
    const orgId = payload.org;
    if (payload.role !== undefined || typeof userId !== 'string' || !UUID.test(userId) || typeof orgId !== 'string' || !UUID.test(orgId)) {
      throw new HttpError(401, 'unauthorized', 'token must carry sub (user uuid) and org (organization uuid)');
    }
    return { userId, orgId, worker: false, token };
  } catch (e) {
    if (e instanceof HttpError) throw e;
    const why = e instanceof joseErrors.JWTExpired ? 'token expired' : `invalid token: ${(e as Error).message}`;
    throw new HttpError(401, 'unauthorized', why);
  }
}

/** Signs a user token the service and the database accept (the seeder signs the load-test users' with it). */
export async function signToken(key: ContextSigningKey, p: { userId: string; orgId: string }, ttl = '7d'): Promise<string> {
  if (key.purpose !== 'user') throw new Error(`signToken: ${key.kid} is not a user key`);
  return new SignJWT({ org: p.orgId })
    .setProtectedHeader({ alg: 'HS256', kid: key.kid })
    .setSubject(p.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(key.secret);
}

/** Signs a queue-scoped worker token (claims across organizations; complete needs the claim's lease token). */
export async function signWorkerToken(key: ContextSigningKey, ttl = '7d'): Promise<string> {
  if (key.purpose !== 'worker') throw new Error(`signWorkerToken: ${key.kid} is not a worker key`);
  return new SignJWT({ role: 'worker', scope: 'queue' })
    .setProtectedHeader({ alg: 'HS256', kid: key.kid })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(key.secret);
}
