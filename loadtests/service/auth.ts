// Bearer JWT (HS256) with a key id (kid) naming one of the stack's context signing keys (sql/0930):
//   user tokens (a user key):     sub = user id, org = organization id;
//   worker tokens (a worker key): role = "worker", scope = "queue" (or "org" with org).
// The service checks the token here (401 early, with the reason) and forwards it unchanged to the database,
// which verifies it again and sets the request context from it (app.authenticate_context): an SQL injection in
// the service can then act only as the caller.
// Token rules (issue 21): `exp` required, a lifetime (exp - iat, or exp - now without iat) of at most
// `maxLifetimeS`, an `iat` not in the future (beyond `CLOCK_TOLERANCE_S`). The scheme name is case-insensitive
// (RFC 9110 §11.1: "bearer" is "Bearer"). The database applies the same rules (8 days at most).
import { webcrypto } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';
import type { ContextSigningKey } from '../../src/db/context-token.js';
import { HttpError } from './errors.js';

export const ISSUER = 'pgkit-loadtest';
export const AUDIENCE = 'pgkit-workload';
/** The seeder's tokens live 7 days (a long k6 campaign); nothing the service accepts lives longer. */
export const MAX_TOKEN_LIFETIME_S = 7 * 24 * 3600;
export const CLOCK_TOLERANCE_S = 60;
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

/**
 * Each signing key imported once as a Web Crypto key (jose verifies with Web Crypto): given the raw secret, or a
 * KeyObject, jose imports the key again on every verification (8% of the service's busy CPU at 100 searches/s + 1
 * bulk insert/s, docs/loadtests.md).
 */
const cryptoKeys = new WeakMap<ContextSigningKey, Promise<webcrypto.CryptoKey>>();
function cryptoKeyOf(k: ContextSigningKey): Promise<webcrypto.CryptoKey> {
  let c = cryptoKeys.get(k);
  if (!c) cryptoKeys.set(k, (c = webcrypto.subtle.importKey('raw', k.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])));
  return c;
}

const unauthorized = (why: string, internal?: Record<string, unknown>) => new HttpError(401, 'unauthorized', why, { 'www-authenticate': 'Bearer' }, internal);

export async function authenticate(header: string | undefined, keys: readonly ContextSigningKey[], maxLifetimeS = MAX_TOKEN_LIFETIME_S): Promise<Principal> {
  const m = /^bearer +([^ ]+) *$/i.exec(header ?? '');
  if (!m) throw unauthorized('missing bearer token (Authorization: Bearer <jwt>)');
  const token = m[1];
  try {
    const kid = decodeProtectedHeader(token).kid;
    const key = keys.find((k) => k.kid === kid);
    if (!key) throw unauthorized('invalid token: signed with an unknown key (kid)');
    const { payload } = await jwtVerify(token, await cryptoKeyOf(key), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    const now = Math.floor(Date.now() / 1000);
    if (payload.iat !== undefined && payload.iat > now + CLOCK_TOLERANCE_S) throw unauthorized('invalid token: iat is in the future');
    if (payload.exp! - (payload.iat ?? now) > maxLifetimeS) throw unauthorized(`invalid token: lifetime over the maximum of ${maxLifetimeS} s`);
    if (key.purpose === 'worker') {
      if (payload.role !== 'worker') throw unauthorized('invalid token: a worker key signs worker tokens only');
      const orgId = typeof payload.org === 'string' && UUID.test(payload.org) ? payload.org : null;
      return { userId: null, orgId, worker: true, token };
    }
    const userId = payload.sub;
    const orgId = payload.org;
    if (payload.role !== undefined || typeof userId !== 'string' || !UUID.test(userId) || typeof orgId !== 'string' || !UUID.test(orgId)) {
      throw unauthorized('token must carry sub (user uuid) and org (organization uuid)');
    }
    return { userId, orgId, worker: false, token };
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (e instanceof joseErrors.JWTExpired) throw unauthorized('token expired');
    if (e instanceof joseErrors.JWTClaimValidationFailed) throw unauthorized(`invalid token: ${e.claim} ${e.reason === 'missing' ? 'is missing' : 'is not acceptable'}`);
    throw unauthorized('invalid token', { jose: (e as Error).message });
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
