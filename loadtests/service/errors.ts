// The service's error contract (docs/loadtests.md, "Error contract"). Every error answer is
//   { "error": { "code": <stable code>, "message": <for the client>, "requestId": <id> } }
// with the same id in the `x-request-id` header and in the server log, where the details go (SQLSTATE,
// constraint, table, the database's own message). Nothing internal reaches the client: no SQLSTATE, no table,
// constraint or partition name, no database text, no host or port (seed 003 §4.2: validation vs not-found vs
// conflict vs "try again" told apart, no generic "Internal server error").
//   400 invalid_request          the request or a value in it breaks a rule (schema, CHECK, malformed value)
//   401 unauthorized             no/invalid/expired token, or its user deleted / no longer a member
//   403 forbidden                valid token, operation not allowed for it
//   404 not_found                no such route, or the row does not exist or belongs to another organization
//                                (never "forbidden": whether another tenant's id exists is not disclosed)
//   408 request_timeout          the client did not send its request in time (slow body)
//   409 conflict                 unique key, lost lease, completed session, idempotency key reused with another body
//   413 payload_too_large        body over the route's limit
//   414 uri_too_long             a path segment over the router's limit
//   415 unsupported_media_type   a body that is not application/json
//   429 rate_limited             the database's rate limit (SQLSTATE P0429), with Retry-After
//   431 headers_too_large        request headers over Node's limit
//   503 unavailable              database unreachable (circuit breaker open, pooler or server down), with Retry-After
//   503 timeout                  the database or the request took too long (statement timeout, lock wait, deadline)
//   500 internal                 a defect of the service itself, never a client's input
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Headers to send with the answer (Retry-After). */
    readonly headers: Record<string, string> = {},
    /** What goes to the server log only. */
    readonly internal?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface PgError {
  code?: string;
  constraint?: string;
  table?: string;
  schema?: string;
  column?: string;
  detail?: string;
  message: string;
  hint?: string;
}

/** Connection-level failures: the database (or the pooler in front of it) is not there. These trip the breaker. */
const UNREACHABLE_SQLSTATE = /^(08...|57P0[1-3]|53300|53400)$/; // connection exceptions, shutdown/crash/starting, too many connections
const UNREACHABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EPIPE|ETIMEDOUT|Connection terminated|connection (was )?closed|server login has been failing|no more connections allowed|pgbouncer cannot connect to server|query_wait_timeout|server conn crashed|Client has encountered a connection error/i;
/** The database answered, but too slowly: statement timeout / cancel, lock wait. */
const SLOW_SQLSTATE = new Set(['57014', '55P03']);
/** Retried by withContext already; what is left is contention. */
const CONTENTION_SQLSTATE = new Set(['40001', '40P01']);

/** The client-facing words for the rules a client can break (constraint name -> message). */
const RULES: Record<string, string> = {
  highlights_offsets_check: 'endOffset must be greater than startOffset (and both >= 0)',
  highlights_quote_check: 'quote must be 1..4000 characters',
  highlights_note_check: 'note must be at most 4000 characters',
  chat_messages_content_check: 'content must be 1..8000 characters',
  token_usage_input_tokens_check: 'inputTokens must be >= 0',
  token_usage_output_tokens_check: 'outputTokens must be >= 0',
  token_usage_cost_gbp_check: 'costGbp must be >= 0',
};

/**
 * No answer in time: statement timeout / cancel, lock wait, the pool had no free connection, a query got no answer
 * on the client side, or PgBouncer's query_timeout (it cancels a query that runs too long and reports 08P01,
 * which is not the database being gone).
 */
const SLOW_MESSAGE = /timeout exceeded when trying to connect|Query read timeout|^query_timeout$/;
export const isSlow = (e: unknown): boolean => {
  const pe = e as PgError | undefined;
  if (!pe || e instanceof HttpError) return false;
  return SLOW_SQLSTATE.has(pe.code ?? '') || SLOW_MESSAGE.test(pe.message ?? '');
};
export const isUnreachable = (e: unknown): boolean => {
  const pe = e as PgError | undefined;
  if (!pe || e instanceof HttpError || isSlow(e)) return false;
  if (pe.code && UNREACHABLE_SQLSTATE.test(pe.code)) return true;
  return UNREACHABLE_MESSAGE.test(pe.message ?? '') || UNREACHABLE_MESSAGE.test(String((pe as { code?: unknown }).code ?? ''));
};

const internalOf = (pe: PgError) => ({ sqlstate: pe.code, constraint: pe.constraint, table: pe.table, column: pe.column, dbMessage: pe.message, dbDetail: pe.detail, dbHint: pe.hint });

/** Seconds until the time a P0429 hint names ('retry after <timestamptz>'), at least 1. */
export function retryAfterSeconds(hint: string | undefined, now = Date.now()): number {
  const m = /retry after (.+)$/.exec(hint ?? '');
  const t = m ? Date.parse(m[1].replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')) : NaN;
  return Number.isFinite(t) ? Math.max(1, Math.ceil((t - now) / 1000)) : 1;
}

export function mapError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  const pe = (e ?? { message: String(e) }) as PgError;
  const code = typeof pe.code === 'string' ? pe.code : undefined;
  const internal = internalOf(pe);
  const cls = code?.slice(0, 2);
  switch (true) {
    case code === '23505':
      return new HttpError(409, 'conflict', 'a row with these values already exists', {}, internal);
    case code === '23503':
      return new HttpError(404, 'not_found', 'a referenced row does not exist in your organization', {}, internal);
    case code === '23514' && pe.constraint === 'chat_messages_session_open_check':
      return new HttpError(409, 'conflict', 'the chat session is completed: no new messages', {}, internal);
    case cls === '23':
      return new HttpError(400, 'invalid_request', (pe.constraint && RULES[pe.constraint]) || 'a value breaks a rule of this operation', {}, internal);
    case cls === '22':
      return new HttpError(400, 'invalid_request', 'a value is malformed or out of range', {}, internal);
    case cls === '54':
      return new HttpError(400, 'invalid_request', 'a value is too large for this operation', {}, internal);
    case code === '42501':
      return new HttpError(404, 'not_found', 'no such row in your organization', {}, internal);
    case code === 'P0429': {
      const secs = retryAfterSeconds(pe.hint);
      return new HttpError(429, 'rate_limited', `rate limit reached: retry in ${secs} s`, { 'retry-after': String(secs) }, internal);
    }
    case isSlow(e):
      return new HttpError(503, 'timeout', 'the database took too long to answer: retry later', { 'retry-after': '1' }, internal);
    case code !== undefined && CONTENTION_SQLSTATE.has(code):
      return new HttpError(503, 'unavailable', 'the database is busy: retry', { 'retry-after': '1' }, internal);
    case isUnreachable(e):
      return new HttpError(503, 'unavailable', 'the database is unavailable: retry later', { 'retry-after': '1' }, internal);
    default:
      return new HttpError(500, 'internal', 'unexpected error in the service (the request id finds it in the server log)', {}, { ...internal, stack: (e as Error)?.stack });
  }
}

/** The one shape of every error body. */
export const errorBody = (e: HttpError, requestId: string) => ({ error: { code: e.code, message: e.message, requestId } });

/** The framework's own errors (routing, parsing, limits, timeouts) in the contract. */
export function mapFrameworkError(err: { statusCode?: number; code?: string; message: string; validation?: unknown[]; validationContext?: string }, bodyReceived: boolean): HttpError | null {
  switch (err.code) {
    case 'FST_ERR_HANDLER_TIMEOUT':
      return bodyReceived
        ? new HttpError(503, 'timeout', 'the request took too long: retry later', { 'retry-after': '1' })
        : new HttpError(408, 'request_timeout', 'the request body was not received in time', { connection: 'close' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'payload_too_large', 'the request body is larger than this route accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? new HttpError(415, 'unsupported_media_type', 'send the body as application/json')
        : new HttpError(400, 'invalid_request', 'Content-Length does not match the body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'invalid_request', 'a Content-Type of application/json needs a JSON body');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpError(414, 'uri_too_long', 'a path segment is too long');
    case 'FST_ERR_BAD_URL':
      return new HttpError(400, 'invalid_request', 'the URL is malformed');
    default:
  }
  if (Array.isArray(err.validation) && err.validation.length) {
    // The first broken rule, named by field; never the value. A pattern is this service's "no NUL" rule.
    const v = err.validation[0] as { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> };
    const field = `${err.validationContext ?? 'request'}${v.instancePath ?? ''}`;
    const why = v.keyword === 'pattern' ? (String(v.params?.pattern).includes('0-9a-fA-F') ? 'must be a uuid' : 'must not contain NUL (\\u0000) characters') : v.keyword === 'enum' ? `must be one of ${(v.params?.allowedValues as unknown[]).join(', ')}` : v.keyword === 'required' ? `must have property '${String(v.params?.missingProperty)}'` : (v.message ?? 'is invalid');
    return new HttpError(400, 'invalid_request', `${field} ${why}`);
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new HttpError(400, 'invalid_request', 'the body is not valid JSON');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500 && !/^[0-9A-Z]{5}$/.test(err.code ?? '')) {
    return new HttpError(err.statusCode, err.statusCode === 413 ? 'payload_too_large' : 'invalid_request', 'the request is malformed');
  }
  return null;
}
