-- Relation privileges per schema, relation class, grantee and privilege: on how many
-- relations each is held, how many relations there are, and the ACLs that few relations
-- share (where every exception the diff lists must be; relation_details.sql names them).
--
-- The relations of a schema nearly always share a handful of ACLs (that is what
-- GRANT ... ON ALL TABLES IN SCHEMA and default privileges make), so relations are
-- first counted per distinct ACL and only those ACLs are exploded: 60 credentials over
-- 100,000 tables are some 10 million ACL items but a few hundred distinct ACLs.
-- Aggregates are never joined to one another (the planner cannot estimate them, and
-- guesses nested loops): the rows come out as four kinds and the inspector merges them.
-- A rare ACL's acl_text is its aclitem[] as text, which the same snapshot prints alike.
-- The same pass tells which schemas hold relations that the default credential does not
-- own or that have row-level security ('detail' rows): relation_details.sql names those
-- relations, and looks only in those schemas when they are few.
-- Role names from pg_roles, in the inspection's snapshot (see server.sql).
-- $1 is the cap on exception lists; $2 the default credential's username when the file
-- names one (the database owner counts as it too unless a superuser owns the database).
WITH default_credential AS (
  SELECT r.oid FROM pg_roles r WHERE r.rolname = $2
  UNION
  SELECT d.datdba FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
   WHERE d.datname = current_database() AND NOT r.rolsuper
),
groups AS MATERIALIZED (
  SELECT c.relnamespace,
         CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END AS class,
         -- A relation without an ACL has the built-in one: its owner holds everything. Owners
         -- count as holders, so a credential that owns a table is seen to hold its privileges.
         coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl,
         c.relowner <> ALL (ARRAY(SELECT oid FROM default_credential)) AS foreign_owner,
         c.relrowsecurity AND c.relkind IN ('r', 'p') AS row_security,
         count(*)::int AS relations
    FROM pg_class c
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND c.relnamespace IN (SELECT n.oid FROM pg_namespace n
                             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                               AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)')
   GROUP BY 1, 2, 3, 4, 5
),
acls AS MATERIALIZED (
  SELECT row_number() OVER () AS id, a.*
    FROM (SELECT relnamespace, class, acl, sum(relations)::int AS relations
            FROM groups
           GROUP BY 1, 2, 3) a
),
item AS MATERIALIZED (
  SELECT a.id, a.relnamespace, a.class, a.relations, x.grantee, x.privilege_type AS privilege
    FROM acls a, aclexplode(a.acl) x
),
-- The ACLs that at most $1 relations share. Usually the few tables of pgcred's control
-- schema and a handful of exceptions; relation_details.sql names their relations, in the
-- same pass over pg_class that finds foreign owners and row-level security.
rare AS MATERIALIZED (
  SELECT id, relnamespace, class, acl FROM acls WHERE relations <= $1
)
-- held: a privilege, and on how many relations of the schema and class.
SELECT 'held' AS kind, n.nspname::text AS schema, g.class,
       CASE WHEN g.grantee = 0 THEN NULL ELSE coalesce(r.rolname, 'unknown (OID=' || g.grantee || ')') END AS grantee,
       g.privilege, g.count, NULL::bigint AS acl, NULL::text AS acl_text
  FROM (SELECT relnamespace, class, grantee, privilege, sum(relations)::int AS count
          FROM item GROUP BY relnamespace, class, grantee, privilege) g
  JOIN pg_namespace n ON n.oid = g.relnamespace
  LEFT JOIN pg_roles r ON r.oid = g.grantee
UNION ALL
-- total: how many relations a schema has of a class.
SELECT 'total', n.nspname::text, t.class, NULL, NULL, t.count, NULL, NULL
  FROM (SELECT relnamespace, class, sum(relations)::int AS count FROM acls GROUP BY relnamespace, class) t
  JOIN pg_namespace n ON n.oid = t.relnamespace
UNION ALL
-- rare: one rare ACL, as text: relation_details.sql matches it to name its relations.
SELECT 'rare', n.nspname::text, f.class, NULL, NULL, NULL, f.id, f.acl::text
  FROM rare f
  JOIN pg_namespace n ON n.oid = f.relnamespace
UNION ALL
-- few-item: what one rare ACL grants.
SELECT 'few-item', NULL, NULL,
       CASE WHEN i.grantee = 0 THEN NULL ELSE coalesce(r.rolname, 'unknown (OID=' || i.grantee || ')') END,
       i.privilege, NULL, i.id, NULL
  FROM item i
  LEFT JOIN pg_roles r ON r.oid = i.grantee
 WHERE i.id IN (SELECT id FROM rare)
UNION ALL
-- detail: a schema with relations another role owns or with row-level security, and how
-- many relations it has in all (relation_details.sql names them).
SELECT 'detail', n.nspname::text, NULL, NULL, NULL, t.count, NULL, NULL
  FROM (SELECT relnamespace, sum(relations)::int AS count FROM groups GROUP BY relnamespace
        HAVING bool_or(foreign_owner OR row_security)) t
  JOIN pg_namespace n ON n.oid = t.relnamespace;
