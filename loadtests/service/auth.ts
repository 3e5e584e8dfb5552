// Bearer JWT (HS256): sub = user id, org = organization id, optional role 'worker' for queue workers.
// Token rules (issue 21): `exp` required, a lifetime (exp - iat, or exp - now without iat) of at most
// `maxLifetimeS`, an `iat` not in the future (beyond `CLOCK_TOLERANCE_S`). The scheme name is
// case-insensitive (RFC 9110 §11.1: "bearer" is "Bearer").
import { jwtVerify, errors as joseErrors } from 'jose';
import { HttpError } from './errors.js';

export const ISSUER = 'pgkit-loadtest';
export const AUDIENCE = 'pgkit-workload';
/** The seeder's tokens live 7 days (a long k6 campaign); nothing the service accepts lives longer. */
export const MAX_TOKEN_LIFETIME_S = 7 * 24 * 3600;
export const CLOCK_TOLERANCE_S = 60;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Principal {
  userId: string;
  orgId: string;
  worker: boolean;
  /** The bearer token itself (what the database will verify once it checks tokens, issue 16). */
  token: string;
}

const unauthorized = (why: string, internal?: Record<string, unknown>) => new HttpError(401, 'unauthorized', why, { 'www-authenticate': 'Bearer' }, internal);

export async function authenticate(header: string | undefined, secret: Uint8Array, maxLifetimeS = MAX_TOKEN_LIFETIME_S): Promise<Principal> {
  const m = /^bearer +([^ ]+) *$/i.exec(header ?? '');
  if (!m) throw unauthorized('missing bearer token (Authorization: Bearer <jwt>)');
  const token = m[1];
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    const now = Math.floor(Date.now() / 1000);
    if (payload.iat !== undefined && payload.iat > now + CLOCK_TOLERANCE_S) throw unauthorized('invalid token: iat is in the future');
    if (payload.exp! - (payload.iat ?? now) > maxLifetimeS) throw unauthorized(`invalid token: lifetime over the maximum of ${maxLifetimeS} s`);
    const userId = payload.sub;
    const orgId = payload.org;
    if (typeof userId !== 'string' || !UUID.test(userId) || typeof orgId !== 'string' || !UUID.test(orgId)) {
      throw unauthorized('token must carry sub (user uuid) and org (organization uuid)');
    }
    return { userId, orgId, worker: payload.role === 'worker', token };
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (e instanceof joseErrors.JWTExpired) throw unauthorized('token expired');
    if (e instanceof joseErrors.JWTClaimValidationFailed) throw unauthorized(`invalid token: ${e.claim} ${e.reason === 'missing' ? 'is missing' : 'is not acceptable'}`);
    throw unauthorized('invalid token', { jose: (e as Error).message });
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
