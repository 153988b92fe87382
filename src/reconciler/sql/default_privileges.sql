-- Default privileges (ALTER DEFAULT PRIVILEGES), one row per entry and grantee.
-- A null schema is a database-wide entry; objtype r = tables, S = sequences, n = schemas.
SELECT pg_get_userbyid(d.defaclrole) AS owner,
       n.nspname AS schema,
       d.defaclobjtype AS objtype,
       CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee,
       a.privilege_type AS privilege
  FROM pg_default_acl d
  LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
  CROSS JOIN LATERAL aclexplode(d.defaclacl) a
 WHERE a.grantee <> d.defaclrole
   AND d.defaclobjtype IN ('r', 'S', 'n');
