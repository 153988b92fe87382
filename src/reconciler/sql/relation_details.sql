-- The relations the counts of relation_privileges.sql leave unnamed, from one pass over
-- pg_class that keeps only the rows some part needs:
--   few:   the names of the relations sharing one rare ACL ($2 to $5: its schema, class,
--          ACL as text and id, from relation_privileges.sql), its class as object_kind;
--   owned: objects in non-system schemas that the default credential does not own, per
--          owner, schema and kind, with a few names: the reconciler reports them;
--   rls:   tables with row-level security enabled, and the roles their policies apply to
--          ('' is PUBLIC): a level lets a credential query such a table, yet with no policy
--          for it the credential sees no rows.
-- Each part used to read pg_class on its own; at 100,000 tables a pass costs more than
-- everything else this query does. $1 is the default credential's username when the file
-- names one; the database owner counts as it too unless a superuser owns the database.
-- $6 lists the schemas to look in (relation_privileges.sql tells which need it), or is
-- NULL for all: when they hold few of the database's relations, those relations are
-- found through their dependencies on their schemas (pg_depend's index) instead of a
-- pass over all of pg_class, which at 100,000 tables costs tens of milliseconds.
-- Members of extensions are left out of owned (their owner is whoever installed the
-- extension), and so are sequences owned by a column, which follow their table. Names
-- come from joins, not pg_get_userbyid, to stay in the snapshot (see server.sql).
WITH default_credential AS (
  SELECT r.oid FROM pg_roles r WHERE r.rolname = $1
  UNION
  SELECT d.datdba FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
   WHERE d.datname = current_database() AND NOT r.rolsuper
),
rare AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS r(schema, class, acl, id)
),
system_schema AS (
  SELECT n.oid FROM pg_namespace n
   WHERE n.nspname IN ('pg_catalog', 'information_schema') OR n.nspname ~ '^pg_(toast|temp_|toast_temp_)'
),
candidate AS (
  SELECT c.* FROM pg_class c WHERE $6::text[] IS NULL
  UNION ALL
  -- Every relation but a TOAST table or an index depends on its schema.
  SELECT c.*
    FROM (SELECT DISTINCT d.objid FROM pg_depend d
           WHERE $6::text[] IS NOT NULL
             AND d.refclassid = 'pg_namespace'::regclass AND d.classid = 'pg_class'::regclass
             AND d.refobjid = ANY (ARRAY(SELECT n.oid FROM pg_namespace n WHERE n.nspname = ANY ($6::text[])))) d
   CROSS JOIN LATERAL (SELECT * FROM pg_class c WHERE c.oid = d.objid) c
),
rel AS MATERIALIZED (
  SELECT c.oid, c.relnamespace, c.relkind, c.relname, c.relowner, c.relrowsecurity,
         CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END AS class,
         coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl
    FROM candidate c
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     -- Integer tests on every row, so that the rows no part needs cost next to nothing.
     AND (c.relowner <> ALL (ARRAY(SELECT oid FROM default_credential))
          OR c.relrowsecurity
          OR c.relnamespace = ANY (ARRAY(SELECT n.oid FROM pg_namespace n WHERE n.nspname = ANY ($2::text[]))))
     AND c.relnamespace <> ALL (ARRAY(SELECT oid FROM system_schema))
),
owned AS (
  SELECT c.relowner AS owner, c.oid, 'pg_class'::regclass AS classid, c.relnamespace AS namespace,
         CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind,
         c.relname AS name
    FROM rel c
    -- Lateral lookups with LIMIT, not NOT EXISTS: the planner, expecting many rows here,
    -- would hash all of pg_depend to test the few relations that other roles own.
    LEFT JOIN LATERAL (SELECT 1 AS yes FROM pg_depend o
                        WHERE c.relkind = 'S' AND o.classid = 'pg_class'::regclass
                          AND o.objid = c.oid AND o.deptype IN ('a', 'i')
                        LIMIT 1) by_column ON true
   WHERE c.relowner NOT IN (SELECT oid FROM default_credential)
     AND by_column.yes IS NULL
  UNION ALL
  SELECT n.nspowner, n.oid, 'pg_namespace'::regclass, n.oid, 'schema', n.nspname
    FROM pg_namespace n
   WHERE n.nspowner NOT IN (SELECT oid FROM default_credential)
     AND n.oid NOT IN (SELECT oid FROM system_schema)
)
SELECT 'few' AS kind, r.id, r.schema, NULL::text AS name, NULL::text AS owner, r.class AS object_kind,
       NULL::int AS count, array_agg(c.relname::text ORDER BY c.relname) AS names, NULL::json AS policy_roles
  FROM rel c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN rare r ON r.schema = n.nspname AND r.class = c.class AND r.acl = c.acl::text
 GROUP BY r.id, r.schema, r.class
UNION ALL
SELECT 'owned', NULL, n.nspname, NULL, r.rolname, o.kind, count(*)::int,
       (array_agg(o.name::text ORDER BY o.name))[1:5], NULL
  FROM owned o
  JOIN pg_namespace n ON n.oid = o.namespace
  LEFT JOIN pg_roles r ON r.oid = o.owner
  LEFT JOIN LATERAL (SELECT 1 AS yes FROM pg_depend e
                      WHERE e.classid = o.classid AND e.objid = o.oid AND e.deptype = 'e'
                      LIMIT 1) extension_member ON true
 WHERE extension_member.yes IS NULL
 GROUP BY r.rolname, n.nspname, o.kind
UNION ALL
SELECT 'rls', NULL, n.nspname, c.relname, NULL, NULL, NULL, NULL,
       coalesce((SELECT json_agg(DISTINCT coalesce(r.rolname, ''))
                   FROM pg_policy p
                  CROSS JOIN LATERAL unnest(p.polroles) AS pr(oid)
                   LEFT JOIN pg_roles r ON r.oid = pr.oid
                  WHERE p.polrelid = c.oid), '[]')
  FROM rel c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relrowsecurity
   AND c.relkind IN ('r', 'p')
 ORDER BY 1, 3, 4;
