// Request contexts for tests, signed with the test stack's keys (registered in every migrated test database,
// test/support/db.ts): what trusted platform code does with src/db/context-token.ts.
import { AUTHENTICATE_SQL, type RequestContext } from '../../src/db/context.js';
import type { ContextSigner } from '../../src/db/context-token.js';
import type pg from 'pg';
import { contextKeysOf } from '../../src/local/secrets.js';
import { leaveVerifiedContextBehind as leaveTokenBehind } from '../../src/security/attacks.js';
import { stackSecrets, stackSigner } from '../../src/local/stack.js';
import { testStack } from './stack.js';

const signer = () => stackSigner(stackSecrets(testStack));

/** The context of `userId` acting in `orgId` (the database still checks the membership). */
export const asUser = (orgId: string, userId: string): RequestContext => signer().user(orgId, userId);

/** A worker's context for one organization, or across the queue. */
export const asWorker = (scope: { orgId: string } | 'queue'): RequestContext => signer().worker(scope);

/** Authenticates the open transaction on `client` as `userId` in `orgId` (an empty user: a worker of the organization). */
export async function setContext(client: { query: (sql: string, params: unknown[]) => Promise<unknown> }, orgId: string, userId: string | null, by: ContextSigner = signer()): Promise<void> {
  const ctx = userId ? by.user(orgId, userId) : by.worker({ orgId });
  await client.query(AUTHENTICATE_SQL, [ctx.token]);
}

/** leaveVerifiedContextBehind (src/security/attacks.ts) with a context signed for `userId` in `orgId`. */
export async function leaveVerifiedContextBehind(client: pg.ClientBase, orgId: string, userId: string, by: ContextSigner = signer()): Promise<void> {
  await leaveTokenBehind(client, by.user(orgId, userId).token);
}

/** The test stack's live context keys (registered in every migrated test database): for the seeder's `contextKeys`. */
export const testContextKeys = () => contextKeysOf(stackSecrets(testStack));
