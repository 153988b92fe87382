-- Objects in non-system schemas per owner, schema and kind, with a few names; the
-- reconciler reports those the default credential does not own. Members of extensions are left out: their
-- owner is whoever installed the extension. $1 is the default credential's username
-- when the file names one; the database owner counts as it too unless a superuser owns
-- the database. The default credential's objects are only counted: sorting 100,000
-- names to keep five that nobody reads was most of this query's time.
WITH default_credential AS (
  SELECT r.oid FROM pg_roles r WHERE r.rolname = $1
  UNION
  SELECT d.datdba FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
   WHERE d.datname = current_database() AND NOT r.rolsuper
),
owned AS (
  SELECT c.relowner AS owner, n.nspname AS schema,
         CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind,
         c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     -- NOT IN over a subquery is a hashed lookup per row, not an index probe per row.
     AND c.oid NOT IN (SELECT e.objid FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.deptype = 'e')
     AND NOT (c.relkind = 'S' AND c.oid IN (SELECT o.objid FROM pg_depend o WHERE o.classid = 'pg_class'::regclass
                                                AND o.deptype IN ('a', 'i')))
  UNION ALL
  SELECT n.nspowner, n.nspname, 'schema', n.nspname
    FROM pg_namespace n
   WHERE n.oid NOT IN (SELECT e.objid FROM pg_depend e WHERE e.classid = 'pg_namespace'::regclass AND e.deptype = 'e')
),
visible AS (
  SELECT * FROM owned o
   WHERE o.schema NOT IN ('pg_catalog', 'information_schema')
     AND o.schema !~ '^pg_(toast|temp_|toast_temp_)'
)
SELECT pg_get_userbyid(v.owner) AS owner, v.schema, v.kind, count(*)::int AS count, NULL::text[] AS sample
  FROM visible v
 WHERE v.owner IN (SELECT oid FROM default_credential)
 GROUP BY v.owner, v.schema, v.kind
UNION ALL
SELECT pg_get_userbyid(v.owner), v.schema, v.kind, count(*)::int,
       (array_agg(v.name::text ORDER BY v.name))[1:5]
  FROM visible v
 WHERE v.owner NOT IN (SELECT oid FROM default_credential)
 GROUP BY v.owner, v.schema, v.kind;
