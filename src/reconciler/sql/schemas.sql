-- Non-system schemas with their owner and who holds what on them (PUBLIC as a null grantee).
SELECT n.nspname AS name,
       pg_get_userbyid(n.nspowner) AS owner,
       coalesce((SELECT json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
                                                   'privilege', a.privilege_type))
                   FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                  WHERE a.grantee <> n.nspowner), '[]') AS acl
  FROM pg_namespace n
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
 ORDER BY n.nspname;
