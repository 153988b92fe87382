-- Objects in non-system schemas per owner, schema and kind, with a few names; the
-- reconciler reports those the default credential does not own. Members of extensions are left out: their
-- owner is whoever installed the extension.
WITH owned AS (
  SELECT c.relowner AS owner, n.nspname AS schema,
         CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind,
         c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
     AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = 'pg_class'::regclass
                                                 AND o.objid = c.oid AND o.deptype IN ('a', 'i')))
  UNION ALL
  SELECT n.nspowner, n.nspname, 'schema', n.nspname
    FROM pg_namespace n
   WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e')
)
SELECT pg_get_userbyid(o.owner) AS owner, o.schema, o.kind, count(*)::int AS count,
       (array_agg(o.name::text ORDER BY o.name))[1:5] AS sample
  FROM owned o
 WHERE o.schema NOT IN ('pg_catalog', 'information_schema')
   AND o.schema !~ '^pg_(toast|temp_|toast_temp_)'
 GROUP BY o.owner, o.schema, o.kind;
