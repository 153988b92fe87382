-- Non-system schemas with their owner and who holds what on them (PUBLIC as a null grantee).
-- Role names from pg_roles, in the inspection's snapshot (see server.sql).
SELECT n.nspname AS name,
       o.rolname AS owner,
       coalesce((SELECT json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN NULL
                                                                ELSE coalesce(g.rolname, 'unknown (OID=' || a.grantee || ')') END,
                                                   'privilege', a.privilege_type))
                   FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                   LEFT JOIN pg_roles g ON g.oid = a.grantee
                  WHERE a.grantee <> n.nspowner), '[]') AS acl
  FROM pg_namespace n
  LEFT JOIN pg_roles o ON o.oid = n.nspowner
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
 ORDER BY n.nspname;
