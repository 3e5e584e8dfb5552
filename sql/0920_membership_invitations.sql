-- 0920: joining an organization takes the invited user's consent (issue 16 #6). app.add_member (an owner or admin
-- of the current organization) now records an invitation instead of a membership, and answers the same way
-- whether or not the user id exists (issue 16 #5: it was an existence oracle); app.accept_membership, called by
-- the invited user in their own context, turns it into a membership. Both functions live in sql/definitions/.
-- The table has no grant to the application: only the two SECURITY DEFINER functions touch it.
-- Serves: seed 000 P1 (tenant isolation), seed 003 §3.4 (roles for access levels).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

CREATE TABLE IF NOT EXISTS app.membership_invitations (
  id              uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  role            app.membership_role NOT NULL DEFAULT 'member',
  invited_by      uuid,
  created_at      timestamptz NOT NULL DEFAULT now(),
  accepted_at     timestamptz,
  CONSTRAINT membership_invitations_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT membership_invitations_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT membership_invitations_invited_by_fkey FOREIGN KEY (invited_by)
    REFERENCES app.users (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT membership_invitations_accepted_after_created_check CHECK (accepted_at IS NULL OR accepted_at >= created_at)
);
COMMENT ON TABLE app.membership_invitations IS
  'Pending and accepted invitations to join an organization: written by app.add_member, accepted by the invited user with app.accept_membership.';
CREATE INDEX IF NOT EXISTS membership_invitations_organization_id_user_id_idx ON app.membership_invitations (organization_id, user_id);
CREATE INDEX IF NOT EXISTS membership_invitations_user_id_idx ON app.membership_invitations (user_id);
CREATE INDEX IF NOT EXISTS membership_invitations_invited_by_idx ON app.membership_invitations (invited_by);
REVOKE ALL ON app.membership_invitations FROM PUBLIC, pgkit_app, pgkit_anon;
