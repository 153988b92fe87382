-- Relation privileges per schema, relation class, grantee and privilege: on how many
-- relations each is held, how many relations there are, and the names of relations
-- whose ACL few relations share (where every exception the diff lists must be).
--
-- The relations of a schema nearly always share a handful of ACLs (that is what
-- GRANT ... ON ALL TABLES IN SCHEMA and default privileges make), so relations are
-- first counted per distinct ACL and only those ACLs are exploded: 60 credentials over
-- 100,000 tables are some 10 million ACL items but a few hundred distinct ACLs.
-- Aggregates are never joined to one another (the planner cannot estimate them, and
-- guesses nested loops): the rows come out as four kinds and the inspector merges them.
-- Role names from pg_roles, in the inspection's snapshot (see server.sql).
-- $1 is the cap on exception lists.
WITH acls AS MATERIALIZED (
  SELECT row_number() OVER () AS id, a.*
    FROM (SELECT c.relnamespace,
                 CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END AS class,
                 -- A relation without an ACL has the built-in one: its owner holds everything. Owners
                 -- count as holders, so a credential that owns a table is seen to hold its privileges.
                 coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl,
                 count(*)::int AS relations
            FROM pg_class c
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
             AND c.relnamespace IN (SELECT n.oid FROM pg_namespace n
                                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                                       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)')
           GROUP BY 1, 2, 3) a
),
item AS MATERIALIZED (
  SELECT a.id, a.relnamespace, a.class, a.relations, x.grantee, x.privilege_type AS privilege
    FROM acls a, aclexplode(a.acl) x
),
-- The relations of ACLs that at most $1 relations share. Usually there are none, and
-- then the hash join ends before pg_class is read a second time.
rare AS MATERIALIZED (
  SELECT id, relnamespace, class, acl FROM acls WHERE relations <= $1
),
-- Relations of the rare ACLs' schemas only: pg_class is read again, but each row outside
-- those schemas costs one integer comparison, not the ACL computed, hashed and compared.
few AS MATERIALIZED (
  SELECT a.id, a.relnamespace, a.class, array_agg(c.relname::text ORDER BY c.relname) AS names
    FROM (SELECT c.relname, c.relnamespace,
                 CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END AS class,
                 coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl
            FROM pg_class c
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
             AND c.relnamespace = ANY (ARRAY(SELECT DISTINCT relnamespace FROM rare))
          OFFSET 0) c
    JOIN rare a ON a.relnamespace = c.relnamespace AND a.class = c.class AND a.acl = c.acl
   GROUP BY a.id, a.relnamespace, a.class
)
-- held: a privilege, and on how many relations of the schema and class.
SELECT 'held' AS kind, n.nspname::text AS schema, g.class,
       CASE WHEN g.grantee = 0 THEN NULL ELSE coalesce(r.rolname, 'unknown (OID=' || g.grantee || ')') END AS grantee,
       g.privilege, g.count, NULL::bigint AS acl, NULL::text[] AS names
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
-- few: the names of the relations sharing one rare ACL.
SELECT 'few', n.nspname::text, f.class, NULL, NULL, NULL, f.id, f.names
  FROM few f
  JOIN pg_namespace n ON n.oid = f.relnamespace
UNION ALL
-- few-item: what one rare ACL grants.
SELECT 'few-item', NULL, NULL,
       CASE WHEN i.grantee = 0 THEN NULL ELSE coalesce(r.rolname, 'unknown (OID=' || i.grantee || ')') END,
       i.privilege, NULL, i.id, NULL
  FROM item i
  LEFT JOIN pg_roles r ON r.oid = i.grantee
 WHERE i.id IN (SELECT id FROM few);
