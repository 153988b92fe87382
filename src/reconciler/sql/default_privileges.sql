-- Default privileges (ALTER DEFAULT PRIVILEGES), one row per entry and grantee.
-- A null schema is a database-wide entry; objtype r = tables, S = sequences, n = schemas.
-- Role names from pg_roles, in the inspection's snapshot (see server.sql).
SELECT o.rolname AS owner,
       n.nspname AS schema,
       d.defaclobjtype AS objtype,
       CASE WHEN a.grantee = 0 THEN NULL ELSE coalesce(g.rolname, 'unknown (OID=' || a.grantee || ')') END AS grantee,
       a.privilege_type AS privilege
  FROM pg_default_acl d
  LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
  LEFT JOIN pg_roles o ON o.oid = d.defaclrole
  CROSS JOIN LATERAL aclexplode(d.defaclacl) a
  LEFT JOIN pg_roles g ON g.oid = a.grantee
 WHERE a.grantee <> d.defaclrole
   AND d.defaclobjtype IN ('r', 'S', 'n');
