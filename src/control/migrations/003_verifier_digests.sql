-- A keyed digest (HMAC with the master key) of a password together with the SCRAM
-- verifier pgcred set from it: a password check that finds that same verifier in
-- pg_authid knows the password opens it without PBKDF2. The password is in the digest,
-- so a digest left from an earlier password never matches; null until pgcred sets one.
ALTER TABLE pgcred.secrets ADD COLUMN verifier_digest text;
