/**
 * The three permission levels of the Heroku Data dashboard, as a closed set.
 *
 * A level is expanded over every non-system schema and every relation kind that
 * `GRANT ... ON ALL TABLES` covers (tables, partitioned tables, views,
 * materialized views, foreign tables), and over objects the default credential
 * creates later through default privileges.
 */
export type PermissionLevelName = 'none' | 'read-only' | 'read-write';

export type DatabasePrivilege = 'CONNECT' | 'TEMPORARY' | 'CREATE';
export type SchemaPrivilege = 'USAGE' | 'CREATE';
export type TablePrivilege =
  | 'SELECT'
  | 'INSERT'
  | 'UPDATE'
  | 'DELETE'
  | 'TRUNCATE'
  | 'REFERENCES'
  | 'TRIGGER'
  | 'MAINTAIN';
export type SequencePrivilege = 'USAGE' | 'SELECT' | 'UPDATE';

export const TABLE_PRIVILEGES: readonly TablePrivilege[] = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
  'MAINTAIN',
];

/** The order privileges are written in, in plans and in SQL. */
export const PRIVILEGE_ORDER: readonly string[] = [
  'CONNECT',
  'TEMPORARY',
  'USAGE',
  'CREATE',
  ...TABLE_PRIVILEGES,
  'EXECUTE',
];

export function comparePrivileges(a: string, b: string): number {
  return PRIVILEGE_ORDER.indexOf(a) - PRIVILEGE_ORDER.indexOf(b) || a.localeCompare(b);
}

export const SEQUENCE_PRIVILEGES: readonly SequencePrivilege[] = ['USAGE', 'SELECT', 'UPDATE'];
export const SCHEMA_PRIVILEGES: readonly SchemaPrivilege[] = ['USAGE', 'CREATE'];
/** What GRANT ... (column) ON TABLE takes. */
export const COLUMN_PRIVILEGES: readonly TablePrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'];
export const DATABASE_PRIVILEGES: readonly DatabasePrivilege[] = ['CONNECT', 'TEMPORARY', 'CREATE'];

export class PermissionLevel {
  /** Can log in; reads nothing. */
  static readonly NONE = new PermissionLevel('none', 'No permissions', ['CONNECT'], [], [], []);
  /** Reads every table, view and sequence value; writes nothing. */
  static readonly READ_ONLY = new PermissionLevel(
    'read-only',
    'Read-only permissions',
    ['CONNECT'],
    ['USAGE'],
    ['SELECT'],
    ['SELECT'],
  );
  /** Reads and writes every table and generates values from sequences; creates nothing. */
  static readonly READ_WRITE = new PermissionLevel(
    'read-write',
    'Read-write permissions',
    ['CONNECT', 'TEMPORARY'],
    ['USAGE'],
    ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'],
    ['USAGE', 'SELECT'],
  );

  static readonly ALL: readonly PermissionLevel[] = [
    PermissionLevel.NONE,
    PermissionLevel.READ_ONLY,
    PermissionLevel.READ_WRITE,
  ];

  static readonly NAMES: readonly PermissionLevelName[] = PermissionLevel.ALL.map((level) => level.name);

  static isName(value: unknown): value is PermissionLevelName {
    return typeof value === 'string' && (PermissionLevel.NAMES as readonly string[]).includes(value);
  }

  /** The level called `name`; throws on anything else, naming the three levels. */
  static of(name: string): PermissionLevel {
    const level = PermissionLevel.ALL.find((candidate) => candidate.name === name);
    if (!level) {
      throw new Error(`unknown permission level "${name}": use none, read-only or read-write`);
    }
    return level;
  }

  private constructor(
    readonly name: PermissionLevelName,
    readonly title: string,
    readonly database: readonly DatabasePrivilege[],
    readonly schemas: readonly SchemaPrivilege[],
    readonly tables: readonly TablePrivilege[],
    readonly sequences: readonly SequencePrivilege[],
  ) {}

  toString(): string {
    return this.name;
  }
}
