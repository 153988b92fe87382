-- EXECUTE granted on functions and procedures to roles other than their owner, and the
-- routines custom grants name ($1: signatures with quoted names, "public"."f"(integer)),
-- resolved by the server, which knows that int is integer. PUBLIC's EXECUTE is left out:
-- every routine has it unless revoked, and no level takes it (SECURITY DEFINER ones are
-- definer_functions.sql's). Members of extensions are left to the extension. The
-- argument list names the routine in the GRANT and REVOKE that apply runs, so it comes
-- from pg_get_function_identity_arguments, which reads the latest catalog, as apply does.
WITH routine AS (
  SELECT p.oid, n.nspname AS schema, p.proname AS name, p.proowner, p.proacl, p.prosecdef,
         CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
         pg_get_function_identity_arguments(p.oid) AS arguments,
         oidvectortypes(p.proargtypes) AS types
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
     AND p.prokind IN ('f', 'p')
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
)
SELECT 'held' AS kind, r.schema, r.name, r.arguments, r.types, r.kind AS routine_kind,
       coalesce(g.rolname, 'unknown (OID=' || x.grantee || ')') AS grantee, NULL::text AS declared
  FROM routine r, aclexplode(r.proacl) x
  LEFT JOIN pg_roles g ON g.oid = x.grantee
 WHERE r.proacl IS NOT NULL AND x.privilege_type = 'EXECUTE' AND x.grantee <> 0 AND x.grantee <> r.proowner
UNION ALL
SELECT 'declared', r.schema, r.name, r.arguments, r.types, r.kind, NULL, d.declared
  FROM unnest($1::text[]) AS d(declared)
  LEFT JOIN routine r ON r.oid = to_regprocedure(d.declared)
 ORDER BY 1, 2, 3, 4, 7;
