-- Privileges a role holds directly or through the group roles it is a member of, on
-- schemas, relations, columns, sequences and routines, that the default credential ($1)
-- does not hold itself. Apply makes the default credential a member of every credential
-- (WITH ADMIN OPTION, as Heroku's is), and a member inherits, so declaring such a role
-- would give the default credential these too.
SELECT m.rolname AS role, x.kind, x.object, x.privilege
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
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
        UNION ALL
        SELECT 'column', quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(t.attname),
               a.grantee, a.privilege_type, has_column_privilege($1, c.oid, t.attnum, a.privilege_type)
          FROM pg_attribute t
          JOIN pg_class c ON c.oid = t.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(t.attacl) a
         WHERE t.attacl IS NOT NULL AND t.attnum > 0 AND NOT t.attisdropped
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
        UNION ALL
        SELECT 'routine', p.oid::regprocedure::text, a.grantee, a.privilege_type,
               has_function_privilege($1, p.oid, a.privilege_type)
          FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a
         WHERE p.proacl IS NOT NULL
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)') x
  JOIN pg_roles m ON m.rolcanlogin AND NOT m.rolsuper AND x.grantee <> 0
                 AND (m.oid = x.grantee OR pg_has_role(m.oid, x.grantee, 'USAGE'))
 WHERE NOT x.owner_has
 ORDER BY 1, 2, 3, 4;
