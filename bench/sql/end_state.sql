-- What a credential plan leaves behind, as digests to compare between pgcred and the
-- SQL a user would run instead. ACL items are sorted: two equal ACLs may list their
-- items in a different order. pgcred's own control schema is left out.
WITH relations AS (
  SELECT n.nspname, c.relname,
         -- No ACL means the built-in one (the owner holds everything): written out, the two compare equal.
         (SELECT string_agg(a::text, ',' ORDER BY a::text)
            FROM unnest(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a) AS acl,
         pg_get_userbyid(c.relowner) AS owner
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'pgcred')
)
SELECT
  (SELECT md5(string_agg(nspname || '.' || relname || '=' || acl || '/' || owner, ';' ORDER BY nspname, relname))
     FROM relations) AS relations,
  (SELECT count(*) FROM relations)::int AS relation_count,
  (SELECT md5(string_agg(nspname || '=' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(nspacl) a), ''),
                         ';' ORDER BY nspname))
     FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'pgcred')) AS schemas,
  (SELECT md5(coalesce(string_agg(a::text, ',' ORDER BY a::text), ''))
     FROM pg_database d, unnest(d.datacl) a WHERE d.datname = current_database()) AS database,
  (SELECT md5(coalesce(string_agg(pg_get_userbyid(defaclrole) || '|' || defaclnamespace::regnamespace::text || '|' || defaclobjtype::text || '='
                                  || (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(defaclacl) a), ';' ORDER BY 1), ''))
     FROM pg_default_acl) AS defaults,
  (SELECT md5(coalesce(string_agg(r.rolname || '|' || r.rolcanlogin || '|' || coalesce(shobj_description(r.oid, 'pg_authid'), '') || '|'
                                  || coalesce((SELECT string_agg(g.rolname || ':' || m.admin_option, ',' ORDER BY g.rolname)
                                                 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), ''),
                                  ';' ORDER BY r.rolname), ''))
     FROM pg_roles r WHERE r.rolname LIKE 'bench%' AND r.rolname NOT LIKE '%-rotating') AS roles;
