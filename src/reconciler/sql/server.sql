-- The server and the database being reconciled: one row.
SELECT current_setting('server_version_num')::int AS version_num,
       current_user AS current_user,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
       (SELECT rolcreaterole FROM pg_roles WHERE rolname = current_user) AS can_create_roles,
       pg_is_in_recovery() AS in_recovery,
       d.datname AS database,
       pg_get_userbyid(d.datdba) AS owner,
       o.rolsuper AS owner_is_superuser,
       (SELECT rolname FROM pg_roles WHERE oid = 10) AS bootstrap_user,
       coalesce(
         (SELECT json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
                                            'privilege', a.privilege_type))
            FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
           WHERE a.grantee <> d.datdba),
         '[]') AS acl,
       (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public') AS public_schema_owner
  FROM pg_database d
  JOIN pg_roles o ON o.oid = d.datdba
 WHERE d.datname = current_database();
