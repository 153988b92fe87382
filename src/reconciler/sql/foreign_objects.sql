-- Every object in non-system schemas with its owner, and the kind and quoted identity
-- that ALTER <kind> <identity> OWNER TO takes. Objects of
-- extensions and of the control schema are left to their owners. Owners' names come from
-- pg_roles, in the snapshot (see server.sql). The identities of functions and types are
-- printed by regprocedure and format_type, which read the latest catalog: they are what the
-- ALTER ... OWNER TO statements resolve, and those run against the latest catalog too.
SELECT kind, identity, r.rolname AS owner FROM (
  SELECT 'schema' AS kind, quote_ident(n.nspname) AS identity, n.nspowner AS owner, n.oid, 'pg_namespace'::regclass AS classid
    FROM pg_namespace n
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcred') AND n.nspname !~ '^pg_'
  UNION ALL
  SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'f' THEN 'foreign table' ELSE 'table' END,
         quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relowner, c.oid, 'pg_class'::regclass
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcred') AND n.nspname !~ '^pg_'
     -- a sequence owned by a column follows its table
     AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                            AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
  UNION ALL
  SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
         p.oid::regprocedure::text, p.proowner, p.oid, 'pg_proc'::regclass
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcred') AND n.nspname !~ '^pg_'
  UNION ALL
  SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END,
         format_type(t.oid, NULL), t.typowner, t.oid, 'pg_type'::regclass
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcred') AND n.nspname !~ '^pg_'
     AND (t.typtype IN ('e', 'd', 'r')
          OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
) o
LEFT JOIN pg_roles r ON r.oid = o.owner
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = o.classid AND e.objid = o.oid AND e.deptype = 'e')
ORDER BY kind, identity;
