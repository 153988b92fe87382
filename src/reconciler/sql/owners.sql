-- Objects in non-system schemas that the default credential does not own, per owner,
-- schema and kind, with a few names: the reconciler reports them. $1 is the default
-- credential's username when the file names one; the database owner counts as it
-- too unless a superuser owns the database. The default credential's own objects,
-- nearly all of a database, are skipped before anything else is looked up, so this
-- reads pg_class once and little else however many tables there are. Members of
-- extensions are left out (their owner is whoever installed the extension), and so
-- are sequences owned by a column, which follow their table. Role names from pg_roles,
-- in the inspection's snapshot (see server.sql).
WITH default_credential AS (
  SELECT r.oid FROM pg_roles r WHERE r.rolname = $1
  UNION
  SELECT d.datdba FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
   WHERE d.datname = current_database() AND NOT r.rolsuper
),
owned AS (
  SELECT c.relowner AS owner, c.oid, 'pg_class'::regclass AS classid, c.relnamespace AS namespace,
         CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind,
         c.relname AS name
    FROM pg_class c
    -- A lateral lookup with LIMIT, not NOT EXISTS: the planner would hash all of pg_depend
    -- to test the few relations that other roles own, and at 100,000 tables that is most of the query.
    LEFT JOIN LATERAL (SELECT 1 AS yes FROM pg_depend o
                        WHERE c.relkind = 'S' AND o.classid = 'pg_class'::regclass
                          AND o.objid = c.oid AND o.deptype IN ('a', 'i')
                        LIMIT 1) by_column ON true
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND c.relowner NOT IN (SELECT oid FROM default_credential)
     AND by_column.yes IS NULL
  UNION ALL
  SELECT n.nspowner, n.oid, 'pg_namespace'::regclass, n.oid, 'schema', n.nspname
    FROM pg_namespace n
   WHERE n.nspowner NOT IN (SELECT oid FROM default_credential)
)
SELECT r.rolname AS owner, n.nspname AS schema, o.kind, count(*)::int AS count,
       (array_agg(o.name::text ORDER BY o.name))[1:5] AS sample
  FROM owned o
  JOIN pg_namespace n ON n.oid = o.namespace
  LEFT JOIN pg_roles r ON r.oid = o.owner
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = o.classid AND e.objid = o.oid AND e.deptype = 'e')
 GROUP BY r.rolname, n.nspname, o.kind;
