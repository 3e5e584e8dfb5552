// Bearer JWT (HS256): sub = user id, org = organization id, optional role 'worker' for queue workers.
import { jwtVerify, errors as joseErrors } from 'jose';
import { HttpError } from './errors.js';

export const ISSUER = 'pgkit-loadtest';
export const AUDIENCE = 'pgkit-workload';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Principal {
  userId: string;
  orgId: string;
  worker: boolean;
}

export async function authenticate(header: string | undefined, secret: Uint8Array): Promise<Principal> {
  if (!header || !header.startsWith('Bearer ')) throw new HttpError(401, 'unauthorized', 'missing bearer token (Authorization: Bearer <jwt>)');
  try {
    const { payload } = await jwtVerify(header.slice(7), secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
    const userId = payload.sub;
    const orgId = payload.org;
    if (typeof userId !== 'string' || !UUID.test(userId) || typeof orgId !== 'string' || !UUID.test(orgId)) {
      throw new HttpError(401, 'unauthorized', 'token must carry sub (user uuid) and org (organization uuid)');
    }
    return { userId, orgId, worker: payload.role === 'worker' };
  } catch (e) {
    if (e instanceof HttpError) throw e;
    const why = e instanceof joseErrors.JWTExpired ? 'token expired' : `invalid token: ${(e as Error).message}`;
    throw new HttpError(401, 'unauthorized', why);
  }
}

/** Signs a token the service accepts (the seeder signs the load-test users' tokens with it). */
export async function signToken(secret: Uint8Array, p: { userId: string; orgId: string; worker?: boolean }, ttl = '7d'): Promise<string> {
  const { SignJWT } = await import('jose');
  return new SignJWT({ org: p.orgId, ...(p.worker ? { role: 'worker' } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(p.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(secret);
}
