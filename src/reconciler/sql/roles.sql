-- Every role of the cluster with what pgcred checks of it, its memberships and its
-- connections, in one row each. Roles are cluster-wide, so this is the same in every database.
-- The comment is joined from pg_shdescription rather than read with shobj_description, so it
-- comes from the same snapshot as the rest (see server.sql).
SELECT r.rolname AS name,
       r.rolsuper AS superuser,
       r.rolcreatedb AS createdb,
       r.rolcreaterole AS createrole,
       r.rolreplication AS replication,
       r.rolbypassrls AS bypassrls,
       r.rolcanlogin AS login,
       r.rolinherit AS inherit,
       r.rolconnlimit AS connection_limit,
       r.rolvaliduntil IS NOT NULL AS has_valid_until,
       coalesce(r.rolconfig, '{}') AS config,
       c.description AS comment,
       coalesce(mo.member_of, '[]') AS member_of,
       coalesce(s.connections, 0) AS connections
  FROM pg_roles r
  LEFT JOIN pg_shdescription c ON c.objoid = r.oid AND c.classoid = 'pg_authid'::regclass
  -- grantor, inherit_option and set_option: PostgreSQL 16 records one grant per grantor with
  -- its own options; 14 and 15 have no such columns, so they are read through to_jsonb
  -- (null there) and one query serves every major. Aggregated in one pass and joined, not
  -- a subquery per role: that scanned pg_roles once per role, and a fleet's cluster of 100
  -- databases has some 800 roles (105 ms against 11 ms, read once per database).
  LEFT JOIN (SELECT m.member,
                    json_agg(json_build_object('role', g.rolname, 'admin', m.admin_option,
                                               'grantor', gr.rolname,
                                               'inherit', (to_jsonb(m) ->> 'inherit_option')::boolean,
                                               'set', (to_jsonb(m) ->> 'set_option')::boolean)
                             ORDER BY g.rolname, gr.rolname) AS member_of
               FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
               LEFT JOIN pg_roles gr ON gr.oid = m.grantor
              GROUP BY m.member) mo ON mo.member = r.oid
  -- pg_stat_activity is a function over every backend: read it once, not once per role.
  LEFT JOIN (SELECT a.usesysid, count(*)::int AS connections FROM pg_stat_activity a GROUP BY a.usesysid) s
         ON s.usesysid = r.oid
 WHERE r.rolname !~ '^pg_'
 ORDER BY r.rolname;
