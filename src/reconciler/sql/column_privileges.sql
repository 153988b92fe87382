-- Column privileges (GRANT SELECT (col) ON t) per column and grantee, PUBLIC as a null
-- grantee. Role names from pg_roles, in the inspection's snapshot (see server.sql).
--
-- The columns are found through pg_shdepend, which records every role named in a column's
-- ACL (objsubid is the column's number), by its index: reading pg_attribute instead means
-- every column of every relation, over two million rows at 100,000 tables. A column whose
-- ACL names PUBLIC and no role other than its table's owner has no such row: plan and drift
-- never change PUBLIC's column grants, and import reads them all (column_privileges_all.sql).
WITH granted AS (
  SELECT DISTINCT d.objid AS attrelid, d.objsubid::int2 AS attnum
    FROM pg_shdepend d
   WHERE d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND d.classid = 'pg_class'::regclass
     AND d.objsubid > 0
     AND d.deptype = 'a'
)
SELECT n.nspname AS schema, c.relname AS table, a.attname AS column,
       CASE WHEN x.grantee = 0 THEN NULL ELSE coalesce(r.rolname, 'unknown (OID=' || x.grantee || ')') END AS grantee,
       x.privilege_type AS privilege
  FROM granted g
  JOIN pg_attribute a ON a.attrelid = g.attrelid AND a.attnum = g.attnum
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace,
       aclexplode(a.attacl) x
  LEFT JOIN pg_roles r ON r.oid = x.grantee
 WHERE a.attacl IS NOT NULL
   AND NOT a.attisdropped
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
 ORDER BY 1, 2, 3, 4, 5;
