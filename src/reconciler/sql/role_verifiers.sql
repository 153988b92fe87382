-- The stored SCRAM verifiers of the given roles. Only a superuser may read pg_authid;
-- pgcred verifies a known password against the verifier's own salt and iteration count,
-- never by hashing it again (a new salt would look like a change to every pooler).
SELECT rolname AS name, rolpassword AS verifier
  FROM pg_authid
 WHERE rolname = ANY($1::text[]);
