-- The server and the database being reconciled: one row.
-- Role names come from joins to pg_roles, never from pg_get_userbyid or ::regrole:
-- those read the latest catalog, not the transaction's snapshot, and inspection must
-- see every catalog as of one moment. A role an ACL names is resolved in the same
-- snapshot (it cannot be dropped while the ACL holds it); the fallback only mirrors
-- pg_get_userbyid, so an unknown grantee is never mistaken for PUBLIC.
SELECT current_setting('server_version_num')::int AS version_num,
       current_user AS current_user,
       current_setting('transaction_isolation') AS isolation,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
       (SELECT rolcreaterole FROM pg_roles WHERE rolname = current_user) AS can_create_roles,
       pg_is_in_recovery() AS in_recovery,
       d.datname AS database,
       o.rolname AS owner,
       o.rolsuper AS owner_is_superuser,
       (SELECT rolname FROM pg_roles WHERE oid = 10) AS bootstrap_user,
       coalesce(
         (SELECT json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN NULL
                                                        ELSE coalesce(g.rolname, 'unknown (OID=' || a.grantee || ')') END,
                                            'privilege', a.privilege_type))
            FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
            LEFT JOIN pg_roles g ON g.oid = a.grantee
           WHERE a.grantee <> d.datdba),
         '[]') AS acl,
       (SELECT r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
         WHERE n.nspname = 'public') AS public_schema_owner,
       -- For the rest of the transaction: starting a parallel worker costs more than
       -- scanning a catalog of some tens of thousands of relations (measured at 20,000:
       -- a worker made each pg_class pass slower); the planner still scans larger ones in
       -- parallel. SET LOCAL without a round trip of its own.
       set_config('parallel_setup_cost', '5000', true) AS parallel_setup_cost
  FROM pg_database d
  JOIN pg_roles o ON o.oid = d.datdba
 WHERE d.datname = current_database();
