-- Privileges granted directly to a role on schemas, relations and sequences that the
-- default credential ($1) does not hold itself. Apply makes the default credential a
-- member of every credential (WITH ADMIN OPTION, as Heroku's is), and a member
-- inherits, so declaring such a role would give the default credential these too.
SELECT g.rolname AS role, x.kind, x.object, x.privilege
  FROM (SELECT 'schema' AS kind, quote_ident(n.nspname) AS object, a.grantee, a.privilege_type AS privilege,
               has_schema_privilege($1, n.oid, a.privilege_type) AS owner_has
          FROM pg_namespace n, aclexplode(n.nspacl) a
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
        UNION ALL
        SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END,
               quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.grantee, a.privilege_type,
               CASE WHEN c.relkind = 'S' THEN has_sequence_privilege($1, c.oid, a.privilege_type)
                    ELSE has_table_privilege($1, c.oid, a.privilege_type) END
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)') x
  JOIN pg_roles g ON g.oid = x.grantee
 WHERE NOT x.owner_has
 ORDER BY 1, 2, 3, 4;
