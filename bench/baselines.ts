/**
 * What a user would run instead of pgcred, written here from the level table in
 * SPEC §3 rather than from pgcred's planner, so that it checks pgcred as well as
 * timing it: the benchmark compares the end state each one leaves.
 *
 * - hand-written: what the Heroku docs teach, per credential and schema
 *   (GRANT USAGE, GRANT ... ON ALL TABLES/SEQUENCES IN SCHEMA, ALTER DEFAULT
 *   PRIVILEGES IN SCHEMA), run by psql statement by statement.
 * - per-credential grouped: the best SQL known for granting each credential its
 *   level directly (pgcred's form before level roles), one statement per schema and
 *   privilege set naming all its grantees, run by psql in one transaction. It gives
 *   the same access as pgcred in another form, so its end state is compared by
 *   effective access.
 * - level-role: the best SQL known for pgcred's end state: the level's privileges
 *   granted once to a NOLOGIN role per level, credentials made its members. Its end
 *   state must be exactly pgcred's.
 */

import { quoteIdent, quoteLiteral } from '../src/model/identifiers';
import { levelRoleName, type RoleLevel } from '../src/model/level-roles';
import type { PermissionLevelName } from '../src/model/permission-level';
import { managedComment } from '../src/reconciler/markers';
import { type BenchCredential, DATABASE, OWNER, ownedObjects } from './fixture';

type ObjectClass = 'database' | 'schemas' | 'tables' | 'sequences';

const CLASSES: readonly ObjectClass[] = ['database', 'schemas', 'tables', 'sequences'];

const LEVEL_PRIVILEGES: Record<PermissionLevelName, Record<ObjectClass, readonly string[]>> = {
  none: { database: ['CONNECT'], schemas: [], tables: [], sequences: [] },
  'read-only': { database: ['CONNECT'], schemas: ['USAGE'], tables: ['SELECT'], sequences: ['SELECT'] },
  'read-write': {
    database: ['CONNECT', 'TEMPORARY'],
    schemas: ['USAGE'],
    tables: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'],
    sequences: ['USAGE', 'SELECT'],
  },
};

/** What a level role holds: the level's privileges but CONNECT, which each credential holds itself. */
const LEVEL_ROLE_PRIVILEGES: typeof LEVEL_PRIVILEGES = {
  none: { ...LEVEL_PRIVILEGES.none, database: [] },
  'read-only': { ...LEVEL_PRIVILEGES['read-only'], database: [] },
  'read-write': { ...LEVEL_PRIVILEGES['read-write'], database: ['TEMPORARY'] },
};

type Privileges = typeof LEVEL_PRIVILEGES;

const q = quoteIdent;

function list(names: readonly string[]): string {
  return names.map(q).join(', ');
}

/** Grantees grouped by the privileges they gain (or lose) on one class. */
function groups(
  creds: readonly { name: string; from: PermissionLevelName | null; to: PermissionLevelName }[],
  objectClass: ObjectClass,
  direction: 'grant' | 'revoke',
  table: Privileges,
): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const c of creds) {
    const had = new Set(c.from ? table[c.from][objectClass] : []);
    const wants = table[c.to][objectClass];
    const change =
      direction === 'grant' ? wants.filter((p) => !had.has(p)) : [...had].filter((p) => !wants.includes(p));
    if (change.length === 0) continue;
    const key = change.join(', ');
    result.set(key, [...(result.get(key) ?? []), c.name]);
  }
  return result;
}

function privilegeStatements(
  creds: readonly { name: string; from: PermissionLevelName | null; to: PermissionLevelName }[],
  schemas: readonly string[],
  table: Privileges = LEVEL_PRIVILEGES,
  relations?: { tables: readonly string[]; sequences: readonly string[] },
): string[] {
  const out: string[] = [];
  for (const direction of ['revoke', 'grant'] as const) {
    const verb = direction === 'grant' ? 'GRANT' : 'REVOKE';
    const prep = direction === 'grant' ? 'TO' : 'FROM';
    const adp = `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(OWNER)} ${verb}`;
    for (const objectClass of CLASSES) {
      for (const [privileges, grantees] of groups(creds, objectClass, direction, table)) {
        const who = list(grantees);
        if (objectClass === 'database')
          out.push(`${verb} ${privileges} ON DATABASE ${q(DATABASE)} ${prep} ${who}`);
        if (objectClass === 'schemas') {
          for (const s of ['public', ...schemas])
            out.push(`${verb} ${privileges} ON SCHEMA ${q(s)} ${prep} ${who}`);
          out.push(`${adp} ${privileges} ON SCHEMAS ${prep} ${who}`);
        }
        if (objectClass === 'tables' || objectClass === 'sequences') {
          const kind = objectClass.toUpperCase();
          // Named, the relations of every schema in one statement: ALL ... IN SCHEMA reads the
          // whole of pg_class once per schema, which at 100,000 tables costs more than the grants.
          if (relations)
            out.push(
              `${verb} ${privileges} ON ${objectClass === 'tables' ? 'TABLE' : 'SEQUENCE'} ${relations[objectClass].join(', ')} ${prep} ${who}`,
            );
          else
            for (const s of schemas)
              out.push(`${verb} ${privileges} ON ALL ${kind} IN SCHEMA ${q(s)} ${prep} ${who}`);
          out.push(`${adp} ${privileges} ON ${kind} ${prep} ${who}`);
        }
      }
    }
  }
  return out;
}

function script(statements: readonly string[]): string {
  return `${statements.join(';\n')};\n`;
}

// The default credential existed before pgcred (it owns the database), so pgcred adopts it.
const MARK = (kind: 'credential' | 'default credential' | 'level role') =>
  quoteLiteral(managedComment(kind, DATABASE, kind === 'default credential'));

const LOGIN_ROLE = 'WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT';

/** A new credential as pgcred makes it: its role, its mark, the default credential its admin. */
function newCredentials(names: readonly string[], verifiers: ReadonlyMap<string, string>): string[] {
  return [
    ...names.map((n) => `CREATE ROLE ${q(n)} ${LOGIN_ROLE} PASSWORD ${quoteLiteral(verifiers.get(n)!)}`),
    ...names.map((n) => `COMMENT ON ROLE ${q(n)} IS ${MARK('credential')}`),
    `GRANT ${list(names)} TO ${q(OWNER)} WITH ADMIN OPTION`,
  ];
}

/** The best SQL for a cold apply with per-credential grants: pgcred's access, grantees grouped. */
export function groupedCreate(
  creds: readonly BenchCredential[],
  schemas: readonly string[],
  verifiers: ReadonlyMap<string, string>,
): string {
  return script([
    ...newCredentials(
      creds.map((c) => c.name),
      verifiers,
    ),
    `COMMENT ON ROLE ${q(OWNER)} IS ${MARK('default credential')}`,
    `GRANT pg_monitor, pg_read_all_settings, pg_read_all_stats, pg_signal_backend TO ${q(OWNER)}`,
    `REVOKE CONNECT, TEMPORARY ON DATABASE ${q(DATABASE)} FROM PUBLIC`,
    `REVOKE USAGE ON SCHEMA public FROM PUBLIC`,
    ...privilegeStatements(
      creds.map((c) => ({ name: c.name, from: null, to: c.level })),
      schemas,
    ),
  ]);
}

/** The best SQL for adding one credential with per-credential grants. */
export function groupedAdd(
  cred: BenchCredential,
  schemas: readonly string[],
  verifiers: ReadonlyMap<string, string>,
): string {
  return script([
    ...newCredentials([cred.name], verifiers),
    ...privilegeStatements([{ name: cred.name, from: null, to: cred.level }], schemas),
  ]);
}

/** The best SQL for changing every credential's level (per-credential grants). */
export function groupedChange(
  from: readonly BenchCredential[],
  to: readonly BenchCredential[],
  schemas: readonly string[],
): string {
  const before = new Map(from.map((c) => [c.name, c.level]));
  return script(
    privilegeStatements(
      to.map((c) => ({ name: c.name, from: before.get(c.name)!, to: c.level })),
      schemas,
    ),
  );
}

/**
 * The best SQL for destroying credentials: objects go to the default credential, the
 * privileges go schema by schema naming every role, and DROP OWNED finds nothing left.
 * (DROP OWNED BY all 60 alone revokes role by role on each object: slower than even
 * the per-credential script.)
 */
export function groupedDestroy(creds: readonly BenchCredential[], schemas: readonly string[]): string {
  const names = list(creds.map((c) => c.name));
  return script([
    `REASSIGN OWNED BY ${names} TO ${q(OWNER)}`,
    `REVOKE ALL ON DATABASE ${q(DATABASE)} FROM ${names}`,
    ...['public', ...schemas].map((s) => `REVOKE ALL ON SCHEMA ${q(s)} FROM ${names}`),
    ...schemas.flatMap((s) => [
      `REVOKE ALL ON ALL TABLES IN SCHEMA ${q(s)} FROM ${names}`,
      `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${q(s)} FROM ${names}`,
    ]),
    ...['TABLES', 'SEQUENCES', 'SCHEMAS'].map(
      (kind) => `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(OWNER)} REVOKE ALL ON ${kind} FROM ${names}`,
    ),
    `DROP OWNED BY ${names}`,
    `DROP ROLE ${names}`,
  ]);
}

const LEVEL_ROLES: readonly RoleLevel[] = ['read-only', 'read-write'];
const levelRole = (level: RoleLevel) => q(levelRoleName(DATABASE, level));
const hasRole = (level: PermissionLevelName): level is RoleLevel => level !== 'none';

/**
 * Memberships as pgcred grants them (PostgreSQL 16 and later): inherit, never SET
 * ROLE, granted by the default credential, credentials of one level in one statement.
 */
function memberships(creds: readonly BenchCredential[], verb: 'GRANT' | 'REVOKE'): string[] {
  return LEVEL_ROLES.flatMap((level) => {
    const names = creds.filter((c) => c.level === level).map((c) => c.name);
    if (names.length === 0) return [];
    return verb === 'GRANT'
      ? [`GRANT ${levelRole(level)} TO ${list(names)} WITH INHERIT TRUE, SET FALSE GRANTED BY ${q(OWNER)}`]
      : [`REVOKE ${levelRole(level)} FROM ${list(names)} GRANTED BY ${q(OWNER)}`];
  });
}

/**
 * The best SQL for a cold apply in pgcred's form: two level roles hold the levels'
 * privileges (granted on the relations by name, the two roles together where they share
 * a privilege set), the credentials are members, CONNECT stays on each credential.
 */
export function levelRoleCreate(
  creds: readonly BenchCredential[],
  schemas: readonly string[],
  verifiers: ReadonlyMap<string, string>,
  relations: { tables: readonly string[]; sequences: readonly string[] },
): string {
  const levels = LEVEL_ROLES.map((level) => ({
    name: levelRoleName(DATABASE, level),
    from: null,
    to: level,
  }));
  return script([
    ...LEVEL_ROLES.flatMap((level) => [
      `CREATE ROLE ${levelRole(level)} WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT`,
      `COMMENT ON ROLE ${levelRole(level)} IS ${MARK('level role')}`,
    ]),
    ...newCredentials(
      creds.map((c) => c.name),
      verifiers,
    ),
    `COMMENT ON ROLE ${q(OWNER)} IS ${MARK('default credential')}`,
    `GRANT pg_monitor, pg_read_all_settings, pg_read_all_stats, pg_signal_backend TO ${q(OWNER)}`,
    // The default credential grants the memberships: admin option, and neither inherits nor sets.
    ...LEVEL_ROLES.map(
      (level) => `GRANT ${levelRole(level)} TO ${q(OWNER)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
    ),
    ...memberships(creds, 'GRANT'),
    `REVOKE CONNECT, TEMPORARY ON DATABASE ${q(DATABASE)} FROM PUBLIC`,
    `REVOKE USAGE ON SCHEMA public FROM PUBLIC`,
    `GRANT CONNECT ON DATABASE ${q(DATABASE)} TO ${list(creds.map((c) => c.name))}`,
    ...privilegeStatements(levels, schemas, LEVEL_ROLE_PRIVILEGES, relations),
  ]);
}

/** The best SQL for changing every credential's level in pgcred's form: membership statements. */
export function levelRoleChange(from: readonly BenchCredential[], to: readonly BenchCredential[]): string {
  const before = new Map(from.map((c) => [c.name, c.level]));
  const after = new Map(to.map((c) => [c.name, c.level]));
  const joining = to.filter((c) => before.get(c.name) !== c.level && hasRole(c.level));
  const leaving = from.filter((c) => after.get(c.name) !== c.level && hasRole(c.level));
  // Joined before left, as pgcred does: no statement leaves a credential with less than both.
  return script([...memberships(joining, 'GRANT'), ...memberships(leaving, 'REVOKE')]);
}

/** The best SQL for adding one credential in pgcred's form: its role, CONNECT and one membership. */
export function levelRoleAdd(cred: BenchCredential, verifiers: ReadonlyMap<string, string>): string {
  return script([
    ...newCredentials([cred.name], verifiers),
    `GRANT CONNECT ON DATABASE ${q(DATABASE)} TO ${q(cred.name)}`,
    ...memberships([cred], 'GRANT'),
  ]);
}

/**
 * The best SQL for destroying credentials in pgcred's form: objects handed over to
 * the default credential and granted to the level roles like the rest of its objects
 * (those objects only), and the credentials hold nothing else but CONNECT and their
 * memberships, which DROP OWNED and DROP ROLE remove without touching a relation.
 */
export function levelRoleDestroy(creds: readonly BenchCredential[]): string {
  const names = list(creds.map((c) => c.name));
  const owned = creds.map((c) => ownedObjects(c.name));
  const tables = owned.map((o) => o.table).join(', ');
  const sequences = owned.map((o) => o.sequence).join(', ');
  const p = LEVEL_ROLE_PRIVILEGES;
  return script([
    `REASSIGN OWNED BY ${names} TO ${q(OWNER)}`,
    ...LEVEL_ROLES.flatMap((level) => [
      `GRANT ${p[level].tables.join(', ')} ON TABLE ${tables} TO ${levelRole(level)}`,
      `GRANT ${p[level].sequences.join(', ')} ON SEQUENCE ${sequences} TO ${levelRole(level)}`,
    ]),
    `DROP OWNED BY ${names}`,
    `DROP ROLE ${names}`,
  ]);
}

/** The docs' statements for one credential at one level, schema by schema. */
function handGrants(name: string, level: PermissionLevelName, schemas: readonly string[]): string[] {
  const p = LEVEL_PRIVILEGES[level];
  const out = [`GRANT ${p.database.join(', ')} ON DATABASE ${q(DATABASE)} TO ${q(name)}`];
  if (level === 'none') return out;
  for (const s of ['public', ...schemas]) {
    out.push(`GRANT USAGE ON SCHEMA ${q(s)} TO ${q(name)}`);
    if (s === 'public') continue;
    out.push(`GRANT ${p.tables.join(', ')} ON ALL TABLES IN SCHEMA ${q(s)} TO ${q(name)}`);
    out.push(`GRANT ${p.sequences.join(', ')} ON ALL SEQUENCES IN SCHEMA ${q(s)} TO ${q(name)}`);
    out.push(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA ${q(s)} GRANT ${p.tables.join(', ')} ON TABLES TO ${q(name)}`,
    );
    out.push(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA ${q(s)} GRANT ${p.sequences.join(', ')} ON SEQUENCES TO ${q(name)}`,
    );
  }
  return out;
}

/** The docs' way: each credential created, then granted schema by schema. */
export function handWrittenCreate(
  creds: readonly BenchCredential[],
  schemas: readonly string[],
  passwords: ReadonlyMap<string, string>,
): string {
  return script(
    creds.flatMap((c) => [
      `CREATE ROLE ${q(c.name)} LOGIN PASSWORD ${quoteLiteral(passwords.get(c.name)!)}`,
      ...handGrants(c.name, c.level, schemas),
    ]),
  );
}

/** The docs' way to add one credential: create it, then grant schema by schema. */
export function handWrittenAdd(
  cred: BenchCredential,
  schemas: readonly string[],
  passwords: ReadonlyMap<string, string>,
): string {
  return handWrittenCreate([cred], schemas, passwords);
}

/** The docs' way to change a level: revoke existing access, then grant the new level. */
export function handWrittenChange(to: readonly BenchCredential[], schemas: readonly string[]): string {
  return script(
    to.flatMap((c) => [
      `REVOKE TEMPORARY ON DATABASE ${q(DATABASE)} FROM ${q(c.name)}`,
      ...['public', ...schemas].flatMap((s) => [
        `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${q(s)} FROM ${q(c.name)}`,
        `REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA ${q(s)} FROM ${q(c.name)}`,
        `REVOKE USAGE ON SCHEMA ${q(s)} FROM ${q(c.name)}`,
      ]),
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(OWNER)} REVOKE ALL ON TABLES FROM ${q(c.name)}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(OWNER)} REVOKE ALL ON SEQUENCES FROM ${q(c.name)}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(OWNER)} REVOKE ALL ON SCHEMAS FROM ${q(c.name)}`,
      ...handGrants(c.name, c.level, schemas),
    ]),
  );
}

/** The docs' way to destroy: per credential, hand objects over, drop what is left, drop the role. */
export function handWrittenDestroy(creds: readonly BenchCredential[]): string {
  return script(
    creds.flatMap((c) => [
      `REASSIGN OWNED BY ${q(c.name)} TO ${q(OWNER)}`,
      `DROP OWNED BY ${q(c.name)}`,
      `DROP ROLE ${q(c.name)}`,
    ]),
  );
}

/** The docs' way to change passwords: ALTER ROLE per credential (with no second username, apps fail meanwhile). */
export function handWrittenRotate(names: readonly string[], passwords: ReadonlyMap<string, string>): string {
  return script(names.map((n) => `ALTER ROLE ${q(n)} PASSWORD ${quoteLiteral(passwords.get(n)!)}`));
}
