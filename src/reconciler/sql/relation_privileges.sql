-- Relation privileges aggregated per schema, relation class, grantee and privilege:
-- how many relations hold it against how many exist, and which are the exceptions
-- (the holders when few hold it, the relations that lack it when few lack it).
-- 60 credentials over 10,000 tables are some 2 million ACL items; this returns one
-- row per group instead, so the cost in Node does not grow with the number of tables.
-- $1 is the cap on exception lists.
WITH rel AS MATERIALIZED (
  SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name,
         CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END AS class,
         c.relowner, c.relacl
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
),
totals AS (
  SELECT schema, class, count(*)::int AS total FROM rel GROUP BY schema, class
),
-- A relation without an ACL has the built-in one: its owner holds everything. Owners
-- count as holders, so a credential that owns a table is seen to hold its privileges.
item AS MATERIALIZED (
  SELECT r.oid, r.schema, r.class, r.name, a.grantee, a.privilege_type AS privilege
    FROM rel r,
         aclexplode(coalesce(r.relacl, acldefault(CASE r.class WHEN 'sequences' THEN 's' ELSE 'r' END::"char", r.relowner))) a
),
grouped AS (
  SELECT schema, class, grantee, privilege, count(*)::int AS holding,
         (array_agg(name ORDER BY name))[1:$1] AS some_holders
    FROM item
   GROUP BY schema, class, grantee, privilege
),
short AS (
  SELECT g.schema, g.class, g.grantee, g.privilege
    FROM grouped g JOIN totals t USING (schema, class)
   WHERE g.holding < t.total AND t.total - g.holding <= $1
),
lacking AS (
  SELECT s.schema, s.class, s.grantee, s.privilege, array_agg(r.name ORDER BY r.name) AS names
    FROM short s
    JOIN rel r ON r.schema = s.schema AND r.class = s.class
   WHERE NOT EXISTS (SELECT 1 FROM item i
                      WHERE i.oid = r.oid AND i.grantee = s.grantee AND i.privilege = s.privilege)
   GROUP BY s.schema, s.class, s.grantee, s.privilege
)
SELECT g.schema, g.class,
       CASE WHEN g.grantee = 0 THEN NULL ELSE pg_get_userbyid(g.grantee) END AS grantee,
       g.privilege, g.holding, t.total,
       CASE WHEN g.holding <= $1 THEN g.some_holders END AS holders,
       l.names AS lacking
  FROM grouped g
  JOIN totals t USING (schema, class)
  LEFT JOIN lacking l USING (schema, class, grantee, privilege)
UNION ALL
-- Schemas and classes with relations but no grants at all still report their size.
SELECT t.schema, t.class, NULL, NULL, 0, t.total, NULL, NULL
  FROM totals t;
