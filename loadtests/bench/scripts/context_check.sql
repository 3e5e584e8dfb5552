-- context_check (not an operation): run by the benchmark before the timed operations. Every operation script starts with the same context statement as this one (test/loadtests/bench-scripts.test.ts); here the transaction fails (division by zero, computed at run time: a constant 1 / 0 would be folded, and fail, at plan time) unless app.current_org_id() is then the fixture's organization, so a contract change the scripts missed stops the run instead of timing queries that see nothing.
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u FROM loadtest.fixtures WHERE n = :n \gset
SELECT 1 / CASE WHEN app.current_org_id() IS NOT DISTINCT FROM :o::uuid THEN 1 ELSE 0 END AS context_took;
END;
