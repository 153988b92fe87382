-- Tables with row-level security enabled, and the roles their policies apply to ('' is
-- PUBLIC): a level lets a credential query such a table, yet with no policy for it the
-- credential sees no rows. Names come from joins, not pg_get_userbyid, to stay in the snapshot.
SELECT n.nspname AS schema,
       c.relname AS name,
       coalesce((SELECT json_agg(DISTINCT coalesce(r.rolname, ''))
                   FROM pg_policy p
                  CROSS JOIN LATERAL unnest(p.polroles) AS pr(oid)
                   LEFT JOIN pg_roles r ON r.oid = pr.oid
                  WHERE p.polrelid = c.oid), '[]') AS policy_roles
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relrowsecurity
   AND c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
 ORDER BY 1, 2;
