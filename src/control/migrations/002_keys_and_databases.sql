-- Keys the first schema lacked, and a registry of databases.

-- Releases belong to their app like its config vars. Without the key, an app destroyed
-- and created again met its old releases and could never record release 1 again.
-- Stores written before this migration may hold releases of apps that are gone, and
-- releases beyond the current release of an app created again under the same name.
DELETE FROM pgcred.releases r
 WHERE NOT EXISTS (SELECT 1 FROM pgcred.apps a WHERE a.name = r.app);
DELETE FROM pgcred.releases r
 USING pgcred.apps a
 WHERE a.name = r.app AND r.release > a.release;
ALTER TABLE pgcred.releases
  ADD CONSTRAINT releases_app_fkey FOREIGN KEY (app) REFERENCES pgcred.apps (name) ON DELETE CASCADE;

-- One name per live database, whichever command or executor reaches it: the CLI's
-- postgres:// URL form finds here the name a provider block or a file gave the
-- database, so passwords, role markers and journals are kept under one name.
-- A database is told by its cluster (system identifier) and its OID; a fork shares
-- both with its primary until it is promoted, so where it is (host, port) tells them apart.
CREATE TABLE pgcred.databases (
  name              text PRIMARY KEY,
  system_identifier text,
  oid               bigint NOT NULL,
  host              text NOT NULL,
  port              integer NOT NULL,
  dbname            text NOT NULL,
  -- The settings a provider block or a file gives it, so the URL form behaves the same. Never a URL.
  plan              text NOT NULL,
  color             text NOT NULL,
  owner             text,
  credential_limit  integer,
  registered_by     text NOT NULL,
  registered_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX databases_identity ON pgcred.databases (system_identifier, oid);

-- How long an old username must stay without connections before a rotation moves on
-- (null: the default, 5 seconds or the grace if shorter).
ALTER TABLE pgcred.rotations ADD COLUMN settle_ms bigint;
