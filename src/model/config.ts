import type { PermissionLevelName } from './permission-level';

/**
 * The validated, normalized model that every executor reads: the CLI and the
 * reconciler get it from pgcred.yaml, the constructs build it in TypeScript and
 * write it into the manifest. Durations are milliseconds, paths are absolute.
 */
export interface Config {
  readonly version: 1;
  readonly databases: readonly DatabaseSpec[];
  readonly apps: readonly AppSpec[];
  readonly attachments: readonly AttachmentSpec[];
  readonly control: ControlSpec;
}

export interface ControlSpec {
  /** Where the control store lives; default: PGCRED_CONTROL_URL, else the first database's primary. */
  readonly url?: string;
  /** The AES-256-GCM key file; default: PGCRED_MASTER_KEY, else ./.pgcred/master.key beside the file. */
  readonly keyFile?: string;
}

export type DatabaseRole = 'primary' | 'follower' | 'fork';
export type Executor = 'pgcred' | 'terraform';

export interface DatabaseSpec {
  /** Heroku-style resource name, e.g. postgresql-sunny-1234; also how the CLI refers to it. */
  readonly name: string;
  /** Admin connection URL. A secret: never printed. */
  readonly url: string;
  readonly plan: string;
  readonly color: string;
  readonly role: DatabaseRole;
  /** The cluster (server) it is on, for --cluster; default: HOST:PORT of its url (see clusterOf). */
  readonly cluster?: string;
  /** Labels that --tag selects the database by. */
  readonly tags?: readonly string[];
  /** For a follower or fork: the database it follows or was forked from. */
  readonly source?: string;
  /** Username of the default credential; default: the database owner, or one derived from the name. */
  readonly owner?: string;
  /**
   * The username scheme: credential `analyst` logs in as `<usernamePrefix>analyst`
   * (see credentialUsername in names.ts). The default credential keeps its username.
   */
  readonly usernamePrefix?: string;
  /** Credentials allowed besides default; default: the plan's limit (60). */
  readonly credentialLimit?: number;
  /** Who owns roles and grants of this database. Passwords, rotation and attachments are always pgcred's. */
  readonly executor: Executor;
  /** Roles pgcred neither manages nor reports. */
  readonly ignoreRoles: readonly string[];
  /**
   * What pgcred does with PUBLIC's privileges. auto: take them away only where no role
   * pgcred does not manage can reach the database; keep: never; harden: always, listing
   * every role that is not pgcred's and what it loses.
   */
  readonly public?: PublicPolicy;
  readonly credentials: readonly CredentialSpec[];
}

export type PublicPolicy = 'auto' | 'keep' | 'harden';

export interface CredentialSpec {
  readonly name: string;
  /** A level, or custom grants; a credential with neither can log in and read nothing. */
  readonly access: Access;
  /**
   * Group roles it is a member of, and reads through: roles pgcred does not manage
   * (NOLOGIN, under ignoreRoles or not), granted with `GRANT group TO credential`.
   */
  readonly memberOf?: readonly string[];
  readonly rotation?: RotationPolicy;
}

export type Access =
  | { readonly kind: 'level'; readonly level: PermissionLevelName }
  | { readonly kind: 'grants'; readonly grants: readonly GrantSpec[] };

export type GrantOn =
  | 'database'
  | 'schema'
  | 'table'
  | 'sequence'
  | 'column'
  | 'routine'
  | 'all-tables'
  | 'all-sequences'
  | 'default-tables'
  | 'default-sequences'
  | 'default-schemas';

export const GRANT_ON: readonly GrantOn[] = [
  'database',
  'schema',
  'table',
  'sequence',
  'column',
  'routine',
  'all-tables',
  'all-sequences',
  'default-tables',
  'default-sequences',
  'default-schemas',
];

export interface GrantSpec {
  readonly privileges: readonly string[];
  readonly on: GrantOn;
  /**
   * schema names for schema, all-* and default-* (default-* without objects: every schema);
   * `schema.name` for table, sequence and column (unqualified means public);
   * `schema.name(argument types)` for routine (functions and procedures). Absent for database.
   */
  readonly objects: readonly string[];
  /** For column: the columns of each table in objects the privileges are on. */
  readonly columns?: readonly string[];
}

export interface RotationPolicy {
  /** Rotate when the password is older than this; absent: only on request. */
  readonly everyMs?: number;
  /** How long old connections may live before they are terminated (default 30 minutes). */
  readonly graceMs: number;
}

export const DEFAULT_GRACE_MS = 30 * 60_000;

export interface AppSpec {
  readonly name: string;
  /** Rewritten atomically, mode 0600, with every config var of the app. */
  readonly envFile?: string;
  /** Run after each config change ("restart"). */
  readonly restart?: string;
  readonly restartTimeoutMs: number;
}

export interface AttachmentSpec {
  readonly database: string;
  /** A credential of that database, or `default`. */
  readonly credential: string;
  readonly app: string;
  /** Attachment name; the config var is `<as>_URL`. Default: DATABASE, else HEROKU_POSTGRESQL_<COLOR>. */
  readonly as?: string;
}

export const DEFAULT_CREDENTIAL = 'default';
