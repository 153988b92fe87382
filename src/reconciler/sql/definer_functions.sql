-- SECURITY DEFINER functions and procedures in non-system schemas, with the roles that may
-- execute them (PUBLIC as a null grantee). Such a function runs with its owner's privileges,
-- and PUBLIC may execute every new function unless revoked: a read-only credential could
-- write through one. Members of extensions are left to the extension. Role names from
-- pg_roles, in the inspection's snapshot (see server.sql). The argument list is printed by
-- pg_get_function_identity_arguments from the latest catalog: it only names the function
-- in the REVOKE that apply runs, which resolves against the latest catalog too.
SELECT n.nspname AS schema,
       p.proname AS name,
       CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
       pg_get_function_identity_arguments(p.oid) AS arguments,
       o.rolname AS owner,
       coalesce((SELECT json_agg(CASE WHEN a.grantee = 0 THEN NULL
                                       ELSE coalesce(g.rolname, 'unknown (OID=' || a.grantee || ')') END)
                   FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                   LEFT JOIN pg_roles g ON g.oid = a.grantee
                  WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner), '[]') AS executors
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  LEFT JOIN pg_roles o ON o.oid = p.proowner
 WHERE p.prosecdef
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
 ORDER BY 1, 2, 4;
