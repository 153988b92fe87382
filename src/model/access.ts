import type { Access, GrantSpec } from './config';
import {
  parseQualifiedName,
  parseRoutineSignature,
  parseSchemaName,
  type RoutineSignature,
} from './identifiers';
import { PermissionLevel, SEQUENCE_PRIVILEGES, TABLE_PRIVILEGES } from './permission-level';
/** The relation classes a level covers schema-wide. */
export type RelationClass = 'tables' | 'sequences';

/** What default privileges cover. */
export type DefaultObjectType = 'tables' | 'sequences' | 'schemas';

/**
 * A credential's access expanded into flat, comparable privileges over the schemas
 * that exist, as ldap2pg does: after this, the diff is set arithmetic.
 */
export interface ExpandedAccess {
  readonly database: Set<string>;
  /** schema -> privileges */
  readonly schemas: Map<string, Set<string>>;
  /** `${class}\t${schema}\t${privilege}` -> 'all' or the relation names */
  readonly relations: Map<string, 'all' | Set<string>>;
  /** `${objtype}\t${schema ?? ''}` -> privileges ('' is database-wide) */
  readonly defaults: Map<string, Set<string>>;
  /** Tables and sequences named one by one. */
  readonly objects: { schema: string; name: string; class: RelationClass }[];
  /** `${schema}\t${table}\t${column}` -> privileges granted on the column. */
  readonly columns: Map<string, Set<string>>;
  /** Functions and procedures it may execute, as declared (the server resolves them). */
  readonly routines: RoutineSignature[];
}

export function columnKey(schema: string, table: string, column: string): string {
  return `${schema}\t${table}\t${column}`;
}

export function splitColumnKey(key: string): { schema: string; table: string; column: string } {
  const [schema, table, column] = key.split('\t') as [string, string, string];
  return { schema, table, column };
}

/** How a declared routine is looked up: the signature with its name quoted. */
export function routineKey(r: RoutineSignature): string {
  return `${r.schema}\t${r.name}\t${r.arguments}`;
}

export function relationKey(cls: RelationClass, schema: string, privilege: string): string {
  return `${cls}\t${schema}\t${privilege}`;
}

export function splitRelationKey(key: string): { class: RelationClass; schema: string; privilege: string } {
  const [cls, schema, privilege] = key.split('\t') as [RelationClass, string, string];
  return { class: cls, schema, privilege };
}

export function defaultKey(objtype: DefaultObjectType, schema: string | null): string {
  return `${objtype}\t${schema ?? ''}`;
}

export function splitDefaultKey(key: string): { objtype: DefaultObjectType; schema: string | null } {
  const [objtype, schema] = key.split('\t') as [DefaultObjectType, string];
  return { objtype, schema: schema === '' ? null : schema };
}

const ALL_EXPANSION: Record<'tables' | 'sequences', readonly string[]> = {
  // ALL means the privileges every supported server has; MAINTAIN (17+) is named when wanted.
  tables: TABLE_PRIVILEGES.filter((p) => p !== 'MAINTAIN'),
  sequences: SEQUENCE_PRIVILEGES,
};

function expandAll(privileges: readonly string[], cls: 'tables' | 'sequences'): string[] {
  return privileges.flatMap((p) => (p === 'ALL' ? ALL_EXPANSION[cls] : [p]));
}

export function emptyAccess(): ExpandedAccess {
  return {
    database: new Set(),
    schemas: new Map(),
    relations: new Map(),
    defaults: new Map(),
    objects: [],
    columns: new Map(),
    routines: [],
  };
}

function add<K>(map: Map<K, Set<string>>, key: K, values: Iterable<string>): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  for (const value of values) set.add(value);
}

function addRelations(
  access: ExpandedAccess,
  cls: RelationClass,
  schema: string,
  privileges: Iterable<string>,
): void {
  for (const privilege of privileges) access.relations.set(relationKey(cls, schema, privilege), 'all');
}

function addRelation(
  access: ExpandedAccess,
  cls: RelationClass,
  schema: string,
  name: string,
  privilege: string,
): void {
  const key = relationKey(cls, schema, privilege);
  const current = access.relations.get(key);
  if (current === 'all') return;
  if (current) current.add(name);
  else access.relations.set(key, new Set([name]));
}

/**
 * Expands a level or custom grants over `schemas` (the non-system schemas that
 * exist, without the control schema). Every credential has CONNECT; grants on
 * tables imply USAGE on their schema, or they could not be reached.
 */
export function expandAccess(access: Access, schemas: readonly string[]): ExpandedAccess {
  const out = emptyAccess();
  if (access.kind === 'level') {
    const level = PermissionLevel.of(access.level);
    for (const p of level.database) out.database.add(p);
    for (const schema of schemas) {
      if (level.schemas.length > 0) add(out.schemas, schema, level.schemas);
      addRelations(out, 'tables', schema, level.tables);
      addRelations(out, 'sequences', schema, level.sequences);
    }
    if (level.tables.length > 0) add(out.defaults, defaultKey('tables', null), level.tables);
    if (level.sequences.length > 0) add(out.defaults, defaultKey('sequences', null), level.sequences);
    if (level.schemas.length > 0) add(out.defaults, defaultKey('schemas', null), level.schemas);
    return out;
  }
  out.database.add('CONNECT');
  for (const grant of access.grants) expandGrant(out, grant);
  return out;
}

function expandGrant(out: ExpandedAccess, grant: GrantSpec): void {
  switch (grant.on) {
    case 'database':
      for (const p of grant.privileges) out.database.add(p);
      return;
    case 'schema':
      for (const object of grant.objects) add(out.schemas, parseSchemaName(object), grant.privileges);
      return;
    case 'all-tables':
    case 'all-sequences': {
      const cls = grant.on === 'all-tables' ? 'tables' : 'sequences';
      for (const object of grant.objects) {
        const schema = parseSchemaName(object);
        add(out.schemas, schema, ['USAGE']);
        addRelations(out, cls, schema, expandAll(grant.privileges, cls));
      }
      return;
    }
    case 'table':
    case 'sequence': {
      const cls = grant.on === 'table' ? 'tables' : 'sequences';
      for (const object of grant.objects) {
        const { schema, name } = parseQualifiedName(object);
        add(out.schemas, schema, ['USAGE']);
        out.objects.push({ schema, name, class: cls });
        for (const p of expandAll(grant.privileges, cls)) addRelation(out, cls, schema, name, p);
      }
      return;
    }
    case 'column':
      for (const object of grant.objects) {
        const { schema, name } = parseQualifiedName(object);
        add(out.schemas, schema, ['USAGE']);
        out.objects.push({ schema, name, class: 'tables' });
        for (const column of grant.columns ?? [])
          add(out.columns, columnKey(schema, name, column), grant.privileges);
      }
      return;
    case 'routine':
      for (const object of grant.objects) {
        const routine = parseRoutineSignature(object);
        // Calling a function needs USAGE on its schema, as reading a table does.
        add(out.schemas, routine.schema, ['USAGE']);
        if (!out.routines.some((r) => routineKey(r) === routineKey(routine))) out.routines.push(routine);
      }
      return;
    case 'default-tables':
    case 'default-sequences':
    case 'default-schemas': {
      const objtype: DefaultObjectType =
        grant.on === 'default-tables' ? 'tables' : grant.on === 'default-sequences' ? 'sequences' : 'schemas';
      const cls = objtype === 'sequences' ? 'sequences' : 'tables';
      const privileges = objtype === 'schemas' ? grant.privileges : expandAll(grant.privileges, cls);
      if (grant.objects.length === 0) add(out.defaults, defaultKey(objtype, null), privileges);
      for (const object of grant.objects)
        add(out.defaults, defaultKey(objtype, parseSchemaName(object)), privileges);
      return;
    }
  }
}

/** The tables and sequences that custom grants name, for inspection to look up. */
export function declaredObjectsOf(accesses: readonly Access[]): { schema: string; name: string }[] {
  const seen = new Map<string, { schema: string; name: string }>();
  for (const access of accesses) {
    if (access.kind !== 'grants') continue;
    for (const grant of access.grants) {
      if (grant.on !== 'table' && grant.on !== 'sequence' && grant.on !== 'column') continue;
      for (const object of grant.objects) {
        const q = parseQualifiedName(object);
        seen.set(`${q.schema}\t${q.name}`, q);
      }
    }
  }
  return [...seen.values()];
}

/** The functions and procedures that custom grants name, for inspection to resolve. */
export function declaredRoutinesOf(accesses: readonly Access[]): RoutineSignature[] {
  const seen = new Map<string, RoutineSignature>();
  for (const access of accesses) {
    if (access.kind !== 'grants') continue;
    for (const grant of access.grants) {
      if (grant.on !== 'routine') continue;
      for (const object of grant.objects) {
        const r = parseRoutineSignature(object);
        seen.set(routineKey(r), r);
      }
    }
  }
  return [...seen.values()];
}

/** The columns that custom grants name, for inspection to look up. */
export function declaredColumnsOf(
  accesses: readonly Access[],
): { schema: string; table: string; column: string }[] {
  const seen = new Map<string, { schema: string; table: string; column: string }>();
  for (const access of accesses) {
    if (access.kind !== 'grants') continue;
    for (const grant of access.grants) {
      if (grant.on !== 'column') continue;
      for (const object of grant.objects) {
        const { schema, name } = parseQualifiedName(object);
        for (const column of grant.columns ?? [])
          seen.set(columnKey(schema, name, column), { schema, table: name, column });
      }
    }
  }
  return [...seen.values()];
}
