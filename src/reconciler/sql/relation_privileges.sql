-- Relation privileges aggregated per schema, relation class, grantee and privilege:
-- how many relations hold it against how many exist, and which are the exceptions
-- (the holders when few hold it, the relations that lack it when few lack it).
-- 60 credentials over 10,000 tables are some 2 million ACL items; this returns one
-- row per group instead, so the cost in Node does not grow with the number of tables.
-- Counting is a hash aggregate over oids; names are looked up only for the few
-- groups whose exceptions are listed. $1 is the cap on exception lists.
WITH rel AS MATERIALIZED (
  SELECT c.oid, n.nspname::text AS schema,
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
  SELECT r.oid, r.schema, r.class, a.grantee, a.privilege_type AS privilege
    FROM rel r,
         aclexplode(coalesce(r.relacl, acldefault(CASE r.class WHEN 'sequences' THEN 's' ELSE 'r' END::"char", r.relowner))) a
),
grouped AS MATERIALIZED (
  SELECT g.schema, g.class, g.grantee, g.privilege, g.holding, t.total
    FROM (SELECT schema, class, grantee, privilege, count(*)::int AS holding
            FROM item GROUP BY schema, class, grantee, privilege) g
    JOIN totals t USING (schema, class)
),
holders AS (
  SELECT i.schema, i.class, i.grantee, i.privilege, array_agg(c.relname::text ORDER BY c.relname) AS names
    FROM item i
    JOIN pg_class c ON c.oid = i.oid
   WHERE EXISTS (SELECT 1 FROM grouped g
                  WHERE g.holding <= $1 AND g.schema = i.schema AND g.class = i.class
                    AND g.grantee = i.grantee AND g.privilege = i.privilege)
   GROUP BY i.schema, i.class, i.grantee, i.privilege
),
lacking AS (
  SELECT g.schema, g.class, g.grantee, g.privilege, array_agg(r.relname ORDER BY r.relname) AS names
    FROM (SELECT schema, class, grantee, privilege FROM grouped WHERE holding < total AND total - holding <= $1) g
    JOIN (SELECT rel.oid, rel.schema, rel.class, c.relname::text AS relname
            FROM rel JOIN pg_class c ON c.oid = rel.oid) r ON r.schema = g.schema AND r.class = g.class
   WHERE NOT EXISTS (SELECT 1 FROM item i
                      WHERE i.oid = r.oid AND i.grantee = g.grantee AND i.privilege = g.privilege)
   GROUP BY g.schema, g.class, g.grantee, g.privilege
)
SELECT g.schema, g.class,
       CASE WHEN g.grantee = 0 THEN NULL ELSE pg_get_userbyid(g.grantee) END AS grantee,
       g.privilege, g.holding, g.total,
       h.names AS holders,
       l.names AS lacking
  FROM grouped g
  LEFT JOIN holders h USING (schema, class, grantee, privilege)
  LEFT JOIN lacking l USING (schema, class, grantee, privilege)
UNION ALL
-- Schemas and classes with relations but no grants at all still report their size.
SELECT t.schema, t.class, NULL, NULL, 0, t.total, NULL, NULL
  FROM totals t;
