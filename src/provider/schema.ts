import type { SchemaSpec } from './values';

/**
 * The provider's schemas: what `terraform providers schema -json` prints and what
 * every DynamicValue is encoded against. Descriptions are one line each.
 */
export const PROVIDER_SCHEMA: SchemaSpec = {
  version: 0,
  block: {
    description: 'pgcred: the Heroku Postgres credential model for any PostgreSQL.',
    attributes: {
      control_url: {
        type: 'string',
        optional: true,
        sensitive: true,
        description:
          "The control store's database URL (passwords, attachments, rotations); default PGCRED_CONTROL_URL, else the first database's url.",
      },
      master_key: {
        type: 'string',
        optional: true,
        sensitive: true,
        description:
          'The AES-256 key of the stored passwords (64 hex digits or base64); default PGCRED_MASTER_KEY, else key_file.',
      },
      key_file: {
        type: 'string',
        optional: true,
        description:
          'The key file, created with mode 0600 when missing; default PGCRED_KEY_FILE, else .pgcred/master.key in the working directory.',
      },
    },
    blocks: {
      database: {
        nesting: 'list',
        block: {
          description: 'A database whose credentials this provider manages.',
          attributes: {
            name: {
              type: 'string',
              required: true,
              description: 'The name resources use for it, e.g. postgresql-sunny-1234.',
            },
            url: {
              type: 'string',
              required: true,
              sensitive: true,
              description: 'Admin connection URL: a superuser, or a CREATEROLE role that owns the database.',
            },
            plan: {
              type: 'string',
              optional: true,
              description:
                'Its plan, e.g. standard-0 (default); essential-*, mini and hobby-* have only the default credential.',
            },
            color: {
              type: 'string',
              optional: true,
              description: 'Its color, used in attachment names (HEROKU_POSTGRESQL_<COLOR>_URL).',
            },
            owner: {
              type: 'string',
              optional: true,
              description:
                "The default credential's username; default: the database owner, or a name derived from the database's.",
            },
            credential_limit: {
              type: 'number',
              optional: true,
              description: "Credentials allowed besides default; default: the plan's limit (60).",
            },
            username_prefix: {
              type: 'string',
              optional: true,
              description:
                'The username scheme: credential analyst logs in as <username_prefix>analyst, so databases of one cluster can each have an analyst. The default credential keeps its username.',
            },
          },
        },
      },
    },
  },
};

export const CREDENTIAL_TYPE = 'pgcred_credential';

export const CREDENTIAL_SCHEMA: SchemaSpec = {
  version: 0,
  block: {
    description:
      'A credential: a LOGIN role with a permission level or custom grants, its password kept encrypted by pgcred.',
    attributes: {
      id: { type: 'string', computed: true, description: '`<database>/<name>`, also the import ID.' },
      database: {
        type: 'string',
        required: true,
        description: 'The name of a database block of the provider. Changing it replaces the credential.',
      },
      name: {
        type: 'string',
        required: true,
        description:
          "Letters, digits, '-' and '_', at most 50; also the username. Changing it replaces the credential.",
      },
      permission: {
        type: 'string',
        optional: true,
        description:
          'none, read-only or read-write over every non-system schema, now and later; default none (unless grant blocks are given).',
      },
      rotation_trigger: {
        type: 'string',
        optional: true,
        description: "Any change of this value rotates the credential's password (e.g. a date).",
      },
      username: {
        type: 'string',
        computed: true,
        description: 'The username apps log in with: the name, or <name>-rotating while a rotation runs.',
      },
      state: { type: 'string', computed: true, description: 'active, or rotating.' },
      drift: {
        type: ['list', 'string'],
        computed: true,
        description:
          'What the last refresh found changed outside Terraform, as the changes apply makes to repair it; null when in sync.',
      },
    },
    blocks: {
      grant: {
        nesting: 'list',
        block: {
          description: 'Custom grants instead of a permission level, as in the seed GRANT examples.',
          attributes: {
            privileges: {
              type: ['list', 'string'],
              required: true,
              description: 'Privileges, e.g. ["SELECT"], or ["ALL"] for tables and sequences.',
            },
            on: {
              type: 'string',
              required: true,
              description:
                'database, schema, table, sequence, all-tables, all-sequences, default-tables, default-sequences or default-schemas.',
            },
            objects: {
              type: ['list', 'string'],
              optional: true,
              description:
                'Schemas (schema, all-*, default-*), or schema.name (table, sequence); none for database.',
            },
          },
        },
      },
      rotation: {
        nesting: 'single',
        block: {
          description: 'Rotation policy, as pgcred reconcile applies it.',
          attributes: {
            every: {
              type: 'string',
              optional: true,
              description: 'Rotate when the password is older, e.g. 90d.',
            },
            grace: {
              type: 'string',
              optional: true,
              description: 'How long old connections may live before they are terminated; default 30m.',
            },
            settle: {
              type: 'string',
              optional: true,
              description:
                'How long an old username must have had no connections before a rotation_trigger rotation moves on, twice per rotation (clients that read the old URL may still connect); default 5s, at most the grace.',
            },
          },
        },
      },
    },
  },
};

export const CREDENTIAL_URL_TYPE = 'pgcred_credential_url';

export const CREDENTIAL_URL_SCHEMA: SchemaSpec = {
  version: 0,
  block: {
    description: "A credential's connection URL, as `pgcred credentials:url` prints it.",
    attributes: {
      id: { type: 'string', computed: true, description: '`<database>/<name>`.' },
      database: {
        type: 'string',
        required: true,
        description: 'The name of a database block of the provider.',
      },
      name: { type: 'string', optional: true, description: 'The credential; default: default.' },
      username: { type: 'string', computed: true, description: 'The username apps should use now.' },
      url: {
        type: 'string',
        computed: true,
        sensitive: true,
        description: 'postgres://user:password@host:port/database',
      },
      connection_info: {
        type: 'string',
        computed: true,
        sensitive: true,
        description: "libpq's key=value connection string.",
      },
    },
  },
};

export const APP_TYPE = 'pgcred_app';

export const APP_SCHEMA: SchemaSpec = {
  version: 0,
  block: {
    description:
      "An app (Heroku's word): a consumer of connection URLs, with an env file pgcred rewrites and a restart command it runs on every change.",
    attributes: {
      id: { type: 'string', computed: true, description: 'The name, also the import ID.' },
      name: {
        type: 'string',
        required: true,
        description:
          "Lower-case letters, digits and '-', 2 to 30, starting with a letter. Changing it replaces the app.",
      },
      env_file: {
        type: 'string',
        optional: true,
        description:
          "A file rewritten (atomically, mode 0600) with every config var of the app; relative to Terraform's working directory. Removed on destroy.",
      },
      restart: {
        type: 'string',
        optional: true,
        description:
          "A shell command run after each change of the app's config vars, with them in its environment.",
      },
      restart_timeout: {
        type: 'string',
        optional: true,
        description: 'How long the restart command may run, e.g. 60s (the default).',
      },
      release: {
        type: 'number',
        computed: true,
        description: 'The release number, bumped by every change of its config vars.',
      },
      config_vars: {
        type: ['list', 'string'],
        computed: true,
        description: "The names of its config vars (DATABASE_URL, ...); the values are its attachments' url.",
      },
      restart_pending: {
        type: 'bool',
        computed: true,
        description:
          'True when the last restart failed or the env file no longer holds the config vars; apply delivers them again.',
      },
    },
  },
};

export const ATTACHMENT_TYPE = 'pgcred_attachment';

export const ATTACHMENT_SCHEMA: SchemaSpec = {
  version: 0,
  block: {
    description:
      'Attaches a credential to an app: one config var holding its connection URL, as `pgcred attach` makes it.',
    attributes: {
      id: { type: 'string', computed: true, description: '`<app>/<name>`, also the import ID.' },
      database: {
        type: 'string',
        required: true,
        description: 'The name of a database block of the provider. Changing it replaces the attachment.',
      },
      credential: {
        type: 'string',
        required: true,
        description:
          'The credential (e.g. pgcred_credential.x.name), or default for the database owner. Changing it replaces the attachment.',
      },
      app: {
        type: 'string',
        required: true,
        description: 'The app (e.g. pgcred_app.x.name). Changing it replaces the attachment.',
      },
      as: {
        type: 'string',
        optional: true,
        description:
          'The attachment name (upper-case letters, digits, _); default DATABASE when the app has none, else HEROKU_POSTGRESQL_<COLOR>.',
      },
      name: {
        type: 'string',
        computed: true,
        description: 'The attachment name, kept once assigned: DATABASE, HEROKU_POSTGRESQL_CYAN, or as.',
      },
      config_var: { type: 'string', computed: true, description: 'The config var: <name>_URL.' },
      url: {
        type: 'string',
        computed: true,
        sensitive: true,
        description:
          "The config var's value, postgres://user:password@host:port/database; follows rotations on refresh.",
      },
    },
  },
};
