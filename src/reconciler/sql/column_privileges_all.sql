-- Column privileges (GRANT SELECT (col) ON t) per column and grantee, PUBLIC as a null
-- grantee, found by reading every column of the database: import's form, which must
-- also find a column granted to PUBLIC alone (see column_privileges.sql). Role names
-- from pg_roles, in the inspection's snapshot (see server.sql).
SELECT n.nspname AS schema, c.relname AS table, a.attname AS column,
       CASE WHEN x.grantee = 0 THEN NULL ELSE coalesce(r.rolname, 'unknown (OID=' || x.grantee || ')') END AS grantee,
       x.privilege_type AS privilege
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace,
       aclexplode(a.attacl) x
  LEFT JOIN pg_roles r ON r.oid = x.grantee
 WHERE a.attacl IS NOT NULL
   AND a.attnum > 0
   AND NOT a.attisdropped
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
 ORDER BY 1, 2, 3, 4, 5;
