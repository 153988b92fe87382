-- The control store: what pgcred knows that the managed databases cannot tell it.
-- Secrets (passwords, URLs) are AES-256-GCM ciphertexts; the key never reaches the database.
CREATE TABLE pgcred.meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);

-- The password of every username pgcred manages, per database.
CREATE TABLE pgcred.secrets (
  database   text NOT NULL,
  username   text NOT NULL,
  password   text NOT NULL,
  set_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (database, username)
);

CREATE TABLE pgcred.apps (
  name                text PRIMARY KEY,
  env_file            text,
  restart             text,
  restart_timeout_ms  integer NOT NULL DEFAULT 60000,
  release             integer NOT NULL DEFAULT 0,
  -- Set when config vars changed and the restart has not succeeded since.
  restart_pending     boolean NOT NULL DEFAULT false,
  last_restart_at     timestamptz,
  last_restart_status integer,
  last_restart_error  text
);

CREATE TABLE pgcred.attachments (
  app        text NOT NULL REFERENCES pgcred.apps (name) ON DELETE CASCADE,
  name       text NOT NULL,
  database   text NOT NULL,
  credential text NOT NULL,
  -- The username the config var points at: the credential's, or <name>-rotating during a rotation.
  username   text NOT NULL,
  -- Where the credential connects (not secret), so the URL can be rebuilt without the config file.
  host       text NOT NULL,
  port       integer NOT NULL,
  dbname     text NOT NULL,
  sslmode    text,
  declared   boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app, name)
);

CREATE TABLE pgcred.config_vars (
  app     text NOT NULL REFERENCES pgcred.apps (name) ON DELETE CASCADE,
  name    text NOT NULL,
  value   text NOT NULL,
  release integer NOT NULL,
  PRIMARY KEY (app, name)
);

CREATE TABLE pgcred.releases (
  app         text NOT NULL,
  release     integer NOT NULL,
  description text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app, release)
);

-- The rotation journal: written before the database is touched, advanced step by step.
CREATE TABLE pgcred.rotations (
  id           bigserial PRIMARY KEY,
  database     text NOT NULL,
  credential   text NOT NULL,
  username     text NOT NULL,
  step         text NOT NULL,
  force        boolean NOT NULL DEFAULT false,
  grace_ms     bigint NOT NULL,
  new_password text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  step_at      timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  note         text
);
CREATE UNIQUE INDEX rotations_one_open ON pgcred.rotations (database, credential) WHERE finished_at IS NULL;

-- Who did what, and when. Never a secret.
CREATE TABLE pgcred.audit (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  database text,
  subject  text,
  detail   jsonb NOT NULL DEFAULT '{}'
);
