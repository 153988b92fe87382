-- What the given roles own or are granted in the other databases of the cluster, and the
-- other databases they own: DROP ROLE fails on any of it, and this database's REASSIGN
-- OWNED and DROP OWNED cannot reach it. pg_shdepend is shared by every database, so one
-- query sees them all. Run only for the roles a plan drops.
-- $1: the role names.
SELECT r.rolname AS role,
       d.datname AS database,
       count(*) FILTER (WHERE s.dbid <> 0 AND s.deptype = 'o')::int AS owns,
       count(*) FILTER (WHERE s.dbid <> 0 AND s.deptype <> 'o')::int AS privileges,
       bool_or(s.dbid = 0) AS owns_database
  FROM pg_roles r
  JOIN pg_shdepend s ON s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid
  JOIN pg_database d ON d.oid = CASE WHEN s.dbid = 0 THEN s.objid ELSE s.dbid END
 WHERE r.rolname = ANY ($1::text[])
   AND (s.dbid <> 0 OR (s.classid = 'pg_database'::regclass AND s.deptype = 'o'))
   AND d.datname <> current_database()
 GROUP BY r.rolname, d.datname
 ORDER BY r.rolname, d.datname;
