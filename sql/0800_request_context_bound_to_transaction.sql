-- 0800: the request context is honoured only in the transaction that set it.
--   The contract (src/db/context.ts SET_CONTEXT_SQL, the benchmark scripts) becomes, per transaction:
--     set_config('app.org_id', <org>, true), set_config('app.user_id', <user>, true),
--     set_config('app.ctx_xact', app.context_stamp(<org>, <user>), true)
--   app.context_stamp(org, user) is '<the current transaction's start in microseconds>/<org>/<user>': it
--   attests which organization and user this transaction set. The helpers honour app.org_id and app.user_id
--   only when app.ctx_xact equals the stamp of the current transaction *and of those two values*. So a value
--   left on a server connection by an earlier transaction (a session-level SET or set_config(..., false) by a
--   buggy client, shared through PgBouncer's transaction pooling) acts for nobody: its stamp is an earlier
--   transaction's, and a later transaction that stamps without setting both ids itself (or sets them in a
--   savepoint it rolls back) stamps other values than the ones it would inherit. app.current_org_id() and
--   app.current_user_id() then return NULL, and NULL matches no row.
--   Limit: every transaction of one simple-query message shares the message's start time, so a client that
--   sends `BEGIN; <session-level context>; COMMIT; SELECT ...` in one message keeps its own context for the
--   rest of that message; other clients never see it.
-- Why: until now PgBouncer ran `RESET ALL` after every transaction (server_reset_query_always = 1) so that a
-- session-level SET could not reach the next client. That is one more round trip per transaction and cost the
-- pooler more than half its throughput (pgbench -S: 0.33-0.43 of direct with the reset, 0.68-0.72 without, in
-- the same runs; docs/loadtests.md). Binding the context to its transaction gives the same guarantee for the
-- tenancy contract without the round trip, so the pooler no longer resets (src/local/render.ts,
-- infra/pooler/pgbouncer.ini.ts). Other session state a client might leave behind is covered in
-- docs/security.md ("Request context"): the app login cannot create temporary objects (0450), every function
-- the policies call pins its search_path, and the kit's own code sets only transaction-local settings.
-- Unchanged: the membership rule of 0400 (the organization counts only for an active member, or without a
-- user for a pgkit_worker login), the NULL-on-malformed rule, and the InitPlan form in policies.
-- Serves: seed 001 (SET LOCAL org context with connection pooling), seed 000 P1 / "validate RLS policies can't
--         be bypassed", seed 003 §4.1 (pooling), seed 004 #18 (cheap RLS).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

-- The current transaction's identity for the stamps here and in sql/0840: its start in microseconds.
CREATE OR REPLACE FUNCTION app.transaction_stamp()
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT (extract(epoch FROM pg_catalog.transaction_timestamp()) OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8::pg_catalog.text
$$;
COMMENT ON FUNCTION app.transaction_stamp() IS
  'The current transaction''s start in microseconds since the epoch, as text: the time part of app.context_stamp and app.keys_stamp.';

CREATE OR REPLACE FUNCTION app.context_stamp(p_org text, p_user text)
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT app.transaction_stamp()
         OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(p_org, '')
         OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(p_user, '')
$$;
COMMENT ON FUNCTION app.context_stamp(text, text) IS
  'Stamp of the request context of the current transaction: its start in microseconds and the organization and user it sets. Set app.ctx_xact to it with set_config(..., true) next to app.org_id and app.user_id.';

-- Plain SQL with no SET clause (it runs under the caller's search_path), so every operator and type is
-- schema-qualified: a caller's search_path cannot swap one in.
CREATE OR REPLACE FUNCTION app.current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
  SELECT CASE
           WHEN s.stamp OPERATOR(pg_catalog.=) s.now_stamp
                AND s.v OPERATOR(pg_catalog.~) '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
           THEN s.v::pg_catalog.uuid
         END
  FROM (SELECT pg_catalog.current_setting('app.user_id', true) AS v,
               pg_catalog.current_setting('app.ctx_xact', true) AS stamp,
               app.transaction_stamp()
                 OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(pg_catalog.current_setting('app.org_id', true), '')
                 OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(pg_catalog.current_setting('app.user_id', true), '') AS now_stamp) s
$$;
COMMENT ON FUNCTION app.current_user_id() IS
  'User of the current transaction (app.user_id set with set_config(..., true), with app.ctx_xact = app.context_stamp(org, user)); NULL when missing, malformed or not set by this transaction.';

CREATE OR REPLACE FUNCTION app.current_org_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
           WHEN c.org IS NULL THEN NULL
           WHEN c.usr IS NOT NULL THEN
             (SELECT m.organization_id FROM app.memberships m
              WHERE m.organization_id = c.org AND m.user_id = c.usr AND m.deleted_at IS NULL)
           WHEN pg_catalog.pg_has_role(SESSION_USER, 'pgkit_worker', 'MEMBER') THEN c.org
         END
  FROM (SELECT CASE
                 WHEN s.stamp OPERATOR(pg_catalog.=) s.now_stamp
                      AND s.v OPERATOR(pg_catalog.~) '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
                 THEN s.v::pg_catalog.uuid
               END AS org,
               app.current_user_id() AS usr
        FROM (SELECT pg_catalog.current_setting('app.org_id', true) AS v,
                     pg_catalog.current_setting('app.ctx_xact', true) AS stamp,
                     app.transaction_stamp()
                 OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(pg_catalog.current_setting('app.org_id', true), '')
                 OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(pg_catalog.current_setting('app.user_id', true), '') AS now_stamp) s) c
$$;
COMMENT ON FUNCTION app.current_org_id() IS
  'Organization of the current transaction (app.org_id set with set_config(..., true), with app.ctx_xact = app.context_stamp(org, user)) when app.user_id is an active member of it (or, without a user, for a pgkit_worker login); NULL otherwise, or when missing, malformed or not set by this transaction.';

GRANT EXECUTE ON FUNCTION app.transaction_stamp() TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
GRANT EXECUTE ON FUNCTION app.context_stamp(text, text) TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
