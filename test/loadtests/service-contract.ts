// The workload service's error contract (docs/loadtests.md, "Error contract"), as the tests check it: an error
// body is { error: { code, message, requestId } } and nothing else, the id is the x-request-id header, and no
// internal leaks (SQLSTATE, constraint/table/partition names, schema-qualified names, hosts, ports, driver text).
import { expect } from 'vitest';

export const CODES = new Set([
  'invalid_request', 'unauthorized', 'forbidden', 'not_found', 'request_timeout', 'conflict', 'payload_too_large',
  'uri_too_long', 'unsupported_media_type', 'rate_limited', 'headers_too_large', 'unavailable', 'timeout',
]);

/** What must never reach a client. */
export const INTERNALS: RegExp[] = [
  /SQLSTATE|sqlstate/,
  /\b(?=[0-9A-Z]*[0-9])(?=[0-9A-Z]*[A-Z])[0-9A-Z]{5}\b/, // a SQLSTATE-looking token (22021, 23505 have no letter: next)
  /\b(22|23|40|42|53|54|55|57|08)[0-9]{3}\b/,
  /_(check|key|fkey|pkey|idx|excl)\b/,
  /\b(app|app_private|ops|audit|extensions|pg_catalog)\.[a-z_]+/,
  /_p\d{4}(_\d\d)?\b|_default\b/, // partitions
  /127\.0\.0\.1|localhost|::1|:\d{4,5}\b/,
  /postgres|pgbouncer|node-postgres|ECONN|Connection terminated|FST_ERR|at [A-Za-z]+ \(/i,
];

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  text: string;
}

/** Asserts the answer is in the contract; returns the parsed error. */
export function expectContract(r: Answer, why = ''): { code: string; message: string; requestId: string } {
  const ctx = `${why} -> ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, ctx).toBeGreaterThanOrEqual(400);
  let body: { error?: { code: string; message: string; requestId: string } };
  try {
    body = JSON.parse(r.text);
  } catch {
    throw new Error(`not JSON: ${ctx}`);
  }
  const isHealth = 'database' in body;
  if (!isHealth) expect(Object.keys(body), ctx).toEqual(['error']);
  expect(Object.keys(body.error ?? {}).sort(), ctx).toEqual(['code', 'message', 'requestId']);
  expect(CODES.has(body.error!.code), ctx).toBe(true);
  expect(body.error!.requestId, ctx).toBe(r.headers['x-request-id']);
  for (const re of INTERNALS) expect(body.error!.message, `${ctx} leaks ${re}`).not.toMatch(re);
  return body.error!;
}
