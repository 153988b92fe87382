/**
 * What a user would run instead of pgcred, written here from the level table in
 * SPEC §3 rather than from pgcred's planner, so that it checks pgcred as well as
 * timing it: the benchmark compares the end state each one leaves.
 *
 * - hand-written: what the Heroku docs teach, per credential and schema
 *   (GRANT USAGE, GRANT ... ON ALL TABLES/SEQUENCES IN SCHEMA, ALTER DEFAULT
 *   PRIVILEGES IN SCHEMA), run by psql statement by statement.
 * - grouped: the best SQL known for pgcred's end state, one statement per schema
 *   and privilege set naming all its grantees, run by psql in one transaction.
 */

import { quoteIdent, quoteLiteral } from '../src/model/identifiers';
import type { PermissionLevelName } from '../src/model/permission-level';
import { managedComment } from '../src/reconciler/markers';
import { type BenchCredential, DATABASE, OWNER } from './fixture';

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

const q = quoteIdent;

function list(names: readonly string[]): string {
  return names.map(q).join(', ');
}

/** Grantees grouped by the privileges they gain (or lose) on one class. */
function groups(
  creds: readonly { name: string; from: PermissionLevelName | null; to: PermissionLevelName }[],
  objectClass: ObjectClass,
  direction: 'grant' | 'revoke',
): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const c of creds) {
    const had = new Set(c.from ? LEVEL_PRIVILEGES[c.from][objectClass] : []);
    const wants = LEVEL_PRIVILEGES[c.to][objectClass];
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
): string[] {
  const out: string[] = [];
  for (const direction of ['revoke', 'grant'] as const) {
    const verb = direction === 'grant' ? 'GRANT' : 'REVOKE';
    const prep = direction === 'grant' ? 'TO' : 'FROM';
    const adp = `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(OWNER)} ${verb}`;
    for (const objectClass of CLASSES) {
      for (const [privileges, grantees] of groups(creds, objectClass, direction)) {
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

const MARK = (kind: 'credential' | 'default credential') => quoteLiteral(managedComment(kind, DATABASE));

/** The best SQL for a cold apply: pgcred's end state, grantees grouped. */
export function groupedCreate(
  creds: readonly BenchCredential[],
  schemas: readonly string[],
  verifiers: ReadonlyMap<string, string>,
): string {
  const names = creds.map((c) => c.name);
  return script([
    ...creds.map(
      (c) =>
        `CREATE ROLE ${q(c.name)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD ${quoteLiteral(verifiers.get(c.name)!)}`,
    ),
    ...creds.map((c) => `COMMENT ON ROLE ${q(c.name)} IS ${MARK('credential')}`),
    `COMMENT ON ROLE ${q(OWNER)} IS ${MARK('default credential')}`,
    `GRANT pg_monitor, pg_read_all_settings, pg_read_all_stats, pg_signal_backend TO ${q(OWNER)}`,
    `GRANT ${list(names)} TO ${q(OWNER)} WITH ADMIN OPTION`,
    `REVOKE CONNECT, TEMPORARY ON DATABASE ${q(DATABASE)} FROM PUBLIC`,
    `REVOKE USAGE ON SCHEMA public FROM PUBLIC`,
    ...privilegeStatements(
      creds.map((c) => ({ name: c.name, from: null, to: c.level })),
      schemas,
    ),
  ]);
}

/** The best SQL for changing every credential's level. */
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
