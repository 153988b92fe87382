-- What each role other than the database owner has in this database beyond what
-- inspection reads: objects it owns, privileges on objects that no grant kind
-- of pgcred.yaml names (extensions' routines, types, foreign servers, languages, large
-- objects, default privileges for routines and types), and row-level security
-- policies that name it, per role, kind and catalog, from pg_shdepend. Names in the
-- sample come from pg_describe_object, which reads the latest catalog: they only
-- word the comments of the imported file.
WITH here AS (
  SELECT oid, datdba FROM pg_database WHERE datname = current_database()
)
SELECT r.rolname AS role,
       CASE d.deptype WHEN 'o' THEN 'owns' WHEN 'a' THEN 'acl' ELSE 'policy' END AS kind,
       CASE WHEN d.deptype = 'a' AND d.classid = 'pg_class'::regclass AND d.objsubid > 0 THEN 'column'
            WHEN d.classid = 'pg_class'::regclass THEN 'relation'
            WHEN d.classid = 'pg_namespace'::regclass THEN 'schema'
            WHEN d.classid = 'pg_proc'::regclass THEN 'routine'
            WHEN d.classid = 'pg_type'::regclass THEN 'type'
            WHEN d.classid = 'pg_default_acl'::regclass THEN 'default privileges'
            WHEN d.classid = 'pg_policy'::regclass THEN 'policy'
            ELSE replace(d.classid::regclass::text, 'pg_', '') END AS catalog,
       count(*)::int AS count,
       (array_agg(pg_describe_object(d.classid, d.objid, d.objsubid)
                  ORDER BY pg_describe_object(d.classid, d.objid, d.objsubid)))[1:5] AS sample
  FROM pg_shdepend d
  JOIN here h ON h.oid = d.dbid
  JOIN pg_roles r ON r.oid = d.refobjid
 WHERE d.refclassid = 'pg_authid'::regclass
   AND d.deptype IN ('o', 'a', 'r')
   AND d.refobjid <> h.datdba
   -- Privileges inspection reads already: on relations and their columns, schemas,
   -- routines that are not an extension's, and default privileges for tables,
   -- sequences and schemas.
   AND NOT (d.deptype = 'a' AND d.classid IN ('pg_class'::regclass, 'pg_namespace'::regclass))
   AND NOT (d.deptype = 'a' AND d.classid = 'pg_proc'::regclass
            AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = d.objid AND e.deptype = 'e'))
   AND NOT (d.deptype = 'a' AND d.classid = 'pg_default_acl'::regclass
            AND EXISTS (SELECT 1 FROM pg_default_acl x WHERE x.oid = d.objid AND x.defaclobjtype IN ('r', 'S', 'n')))
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3;
