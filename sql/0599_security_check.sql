-- 0599: the security bundle checks itself before anything is built on it: the migration fails if any table
-- holding tenant or user data (a column organization_id or user_id, in app, audit or ops, partitions
-- included) is without row-level security ENABLED and FORCED, if the application role could bypass RLS
-- or owns anything, if an object of the four schemas is not owned by pgkit_owner, or if a SECURITY DEFINER
-- function there has no pinned search_path. Later files are covered by the event trigger of 0410 and by
-- test/security.
-- The checks live in sql/definitions/app_private.assert_security_invariants.sql (one home; later files that
-- change privileges call it too), which added: no function of the four schemas executable by PUBLIC.
-- Serves: seed 000 P1 ("validate RLS policies can't be bypassed"), seed 004 #26.
-- pgkit:replaces sha256:3b6c629d7af9f69ac01e3a0978ec9ab199eb97cf6b881d92c8ed00ceef8f9ba0

SELECT app_private.assert_security_invariants();
