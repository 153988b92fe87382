-- Whether the admin may read pg_authid (superusers only), asked before inspection so that
-- the SCRAM checks of known passwords can hash while the catalog is read.
SELECT r.rolsuper AS superuser FROM pg_roles r WHERE r.rolname = current_user;
