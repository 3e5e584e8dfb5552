// Errors the service returns: a status and a body that says what was wrong (seed 003 §4.2: no generic
// "Internal server error", validation vs not-found vs conflict vs "try again" told apart).
//   400 invalid_request      the request or a value in it breaks a rule (CHECK, bad uuid, malformed JSON)
//   401 unauthorized         no/invalid/expired token
//   403 forbidden            valid token, operation not allowed for it
//   404 not_found            the row does not exist or belongs to another organization (never "forbidden":
//                            whether another tenant's id exists is not disclosed)
//   409 conflict             unique key, lost lease, completed session
//   429 rate_limited         the database's rate limit (SQLSTATE P0429)
//   503 unavailable          database unreachable, pool exhausted, timeout, serialization failure after retries
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface PgError {
  code?: string;
  constraint?: string;
  table?: string;
  detail?: string;
  message: string;
  hint?: string;
}

const UNAVAILABLE = new Set(['40001', '40P01', '57014', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004']);

export function mapError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  const pe = e as PgError;
  const code = pe?.code;
  const detail = { sqlstate: code, constraint: pe?.constraint, table: pe?.table };
  switch (true) {
    case code === '23505':
      return new HttpError(409, 'conflict', `already exists: ${pe.constraint ?? 'unique key'}`, detail);
    case code === '23503':
      return new HttpError(404, 'not_found', `a referenced row does not exist in your organization (${pe.constraint ?? 'foreign key'})`, detail);
    case code === '23514' && pe.constraint === 'chat_messages_session_open_check':
      return new HttpError(409, 'conflict', pe.message, detail);
    case code === '23514' || code === '23502' || code === '22P02' || code === '22023' || code === '22001' || code === '22003' || code === '22007' || code === '22008':
      return new HttpError(400, 'invalid_request', pe.message, detail);
    case code === '42501':
      return new HttpError(404, 'not_found', 'no such row in your organization', detail);
    case code === 'P0429':
      return new HttpError(429, 'rate_limited', pe.message, { ...detail, hint: pe.hint });
    case code !== undefined && UNAVAILABLE.has(code):
      return new HttpError(503, 'unavailable', `database busy or unavailable, retry: ${pe.message}`, detail);
    case /ECONNREFUSED|ECONNRESET|timeout exceeded when trying to connect|Connection terminated/i.test(pe?.message ?? ''):
      return new HttpError(503, 'unavailable', `database unavailable: ${pe.message}`);
    default:
      return new HttpError(500, 'internal', `unexpected error${code ? ` (SQLSTATE ${code})` : ''}: ${pe?.message ?? String(e)}`, detail);
  }
}
