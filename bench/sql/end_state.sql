-- What a credential plan leaves behind, as digests to compare between pgcred and the
-- SQL a user would run instead. ACL items are sorted: two equal ACLs may list their
-- items in a different order. pgcred's own control schema is left out.
--
-- relations, schemas, database, defaults and roles are the form: who holds each
-- privilege directly, and the roles and memberships as written (PostgreSQL 16 and
-- later: each membership's grantor and its INHERIT and SET options).
-- effective_relations and effective_other are the access: every ACL item expanded to
-- the credentials (and the default credential) that hold it, directly or through a
-- role they inherit (pg_has_role ... 'USAGE' follows 16's per-grant INHERIT option),
-- counted per schema, class, member and privilege. Per-credential grants and level
-- roles give the same access in two forms: their effective digests are equal.
WITH relations AS (
  SELECT n.nspname, c.relname, c.relkind::text AS relkind,
         -- No ACL means the built-in one (the owner holds everything): written out, the two compare equal.
         coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl,
         pg_get_userbyid(c.relowner) AS owner
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'pgcred')
),
members AS (
  SELECT g.oid AS grantee, m.rolname AS member
    FROM pg_roles g, pg_roles m
   WHERE m.rolname LIKE 'bench%' AND m.rolname NOT LIKE '%-rotating' AND pg_has_role(m.oid, g.oid, 'USAGE')
  UNION ALL SELECT 0, 'PUBLIC'
),
-- Relations share a handful of ACLs: expand each distinct one once.
acls AS (
  SELECT nspname, relkind, owner, acl::text AS acl, count(*) AS n FROM relations GROUP BY 1, 2, 3, 4
),
relation_access AS (
  SELECT nspname, relkind, member, privilege_type, sum(n) AS n
    FROM (SELECT DISTINCT a.nspname, a.relkind, a.owner, a.acl, a.n, m.member, x.privilege_type
            FROM acls a, aclexplode(a.acl::aclitem[]) x JOIN members m ON m.grantee = x.grantee) d
   GROUP BY 1, 2, 3, 4
),
other_access AS (
  SELECT DISTINCT 'schema ' || n.nspname || '/' || pg_get_userbyid(n.nspowner) AS what, m.member, x.privilege_type
    FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) x JOIN members m ON m.grantee = x.grantee
   WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'pgcred')
  UNION
  SELECT DISTINCT 'database', m.member, x.privilege_type
    FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) x JOIN members m ON m.grantee = x.grantee
   WHERE d.datname = current_database()
  UNION
  SELECT DISTINCT 'default ' || pg_get_userbyid(a.defaclrole) || '|' || a.defaclnamespace::regnamespace::text || '|' || a.defaclobjtype::text,
         m.member, x.privilege_type
    FROM pg_default_acl a, aclexplode(a.defaclacl) x JOIN members m ON m.grantee = x.grantee
   -- The owner's own entry is implied: a default ACL emptied of its grantees holds it, a removed one does not.
   WHERE x.grantee <> a.defaclrole
  UNION
  SELECT 'role', r.rolname, r.rolcanlogin::text FROM pg_roles r
   WHERE r.rolname LIKE 'bench%' AND r.rolname NOT LIKE '%-rotating'
)
SELECT
  (SELECT md5(string_agg(nspname || '.' || relname || '=' || (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(acl) a)
                         || '/' || owner, ';' ORDER BY nspname, relname))
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
  -- The credentials, the default credential and the level roles, with their memberships as written.
  (SELECT md5(coalesce(string_agg(r.rolname || '|' || r.rolcanlogin || '|' || r.rolinherit || '|' || coalesce(shobj_description(r.oid, 'pg_authid'), '') || '|'
                                  || coalesce((SELECT string_agg(g.rolname || ':' || m.admin_option || ':' || m.inherit_option || ':' || m.set_option
                                                                 || ':' || pg_get_userbyid(m.grantor), ',' ORDER BY g.rolname, pg_get_userbyid(m.grantor))
                                                 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), ''),
                                  ';' ORDER BY r.rolname), ''))
     FROM pg_roles r WHERE (r.rolname LIKE 'bench%' OR r.rolname LIKE 'pgcred:%') AND r.rolname NOT LIKE '%-rotating') AS roles,
  (SELECT md5(coalesce(string_agg(nspname || '|' || relkind || '|' || member || '|' || privilege_type || '=' || n, ';'
                                  ORDER BY nspname, relkind, member, privilege_type), ''))
     FROM relation_access) AS effective_relations,
  (SELECT md5(coalesce(string_agg(what || '|' || member || '|' || privilege_type, ';' ORDER BY what, member, privilege_type), ''))
     FROM other_access) AS effective_other;
