-- Which of the given role names are not yet roles pgcred has marked: a plan would
-- create or mark them, so the apply takes the cluster's role-name lock before its
-- snapshot instead of planning, rolling back and planning again under it.
SELECT name
FROM unnest($1::text[]) AS name
LEFT JOIN pg_roles r ON r.rolname = name
WHERE r.oid IS NULL
   OR coalesce(shobj_description(r.oid, 'pg_authid'), '') NOT LIKE 'managed by pgcred: %'
