import { expandAccess, splitColumnKey, splitDefaultKey, splitRelationKey } from '../model/access';
import type { Access } from '../model/config';
import { displayQualified } from '../model/identifiers';
import { comparePrivileges } from '../model/permission-level';

/**
 * A credential's access as the resources of @cdktf/provider-postgresql describe it.
 * Pure: the constructs turn it into postgresql_grant and postgresql_default_privileges,
 * and the tests compare it with what the reconciler grants.
 */
export interface TerraformGrant {
  /** Construct id under the credential: stable when the privileges change, so Terraform updates in place. */
  readonly id: string;
  readonly objectType: 'database' | 'schema' | 'table' | 'sequence' | 'column' | 'routine';
  readonly schema?: string;
  /** Empty: every object of the type in the schema (`ALL TABLES IN SCHEMA`). Column: the one table. */
  readonly objects: readonly string[];
  /** Column: the columns of the table. */
  readonly columns?: readonly string[];
  readonly privileges: readonly string[];
}

export interface TerraformDefaultPrivileges {
  readonly id: string;
  readonly objectType: 'table' | 'sequence' | 'schema';
  /** Absent: the database-wide entry, which also covers schemas created later. */
  readonly schema?: string;
  readonly privileges: readonly string[];
}

export interface TerraformPrivileges {
  readonly grants: readonly TerraformGrant[];
  readonly defaults: readonly TerraformDefaultPrivileges[];
  /** What postgresql_grant cannot say; each is a synth-time error. */
  readonly conflicts: readonly string[];
}

export function sortPrivileges(privileges: Iterable<string>): string[] {
  return [...privileges].sort(comparePrivileges);
}

const OBJECT_TYPE = { tables: 'table', sequences: 'sequence', schemas: 'schema' } as const;
const NOUN = { tables: 'Tables', sequences: 'Sequences', schemas: 'Schemas' } as const;

/**
 * Expands a level or custom grants over `schemas` with the reconciler's own
 * expansion (src/reconciler/desired.ts), so the two executors cannot disagree on
 * what a level means.
 */
export function terraformPrivileges(access: Access, schemas: readonly string[]): TerraformPrivileges {
  const expanded = expandAccess(access, schemas);
  const grants: TerraformGrant[] = [];
  const conflicts: string[] = [];

  if (expanded.database.size > 0) {
    grants.push({
      id: 'Database',
      objectType: 'database',
      objects: [],
      privileges: sortPrivileges(expanded.database),
    });
  }
  for (const [schema, privileges] of expanded.schemas) {
    grants.push({
      id: `Schema-${schema}`,
      objectType: 'schema',
      schema,
      objects: [],
      privileges: sortPrivileges(privileges),
    });
  }

  // expandAccess keys relations by privilege; postgresql_grant holds one privilege
  // set per (schema, type) for "all", or per object, so regroup.
  const all = new Map<string, Set<string>>();
  const named = new Map<string, Set<string>>();
  for (const [key, holders] of expanded.relations) {
    const { class: cls, schema, privilege } = splitRelationKey(key);
    if (holders === 'all') {
      addTo(all, `${cls}\t${schema}`, privilege);
    } else {
      for (const name of holders) addTo(named, `${cls}\t${schema}\t${name}`, privilege);
    }
  }
  for (const [key, privileges] of all) {
    const [cls, schema] = key.split('\t') as ['tables' | 'sequences', string];
    grants.push({
      id: `${NOUN[cls]}-${schema}`,
      objectType: OBJECT_TYPE[cls],
      schema,
      objects: [],
      privileges: sortPrivileges(privileges),
    });
  }
  for (const [key, privileges] of named) {
    const [cls, schema, name] = key.split('\t') as ['tables' | 'sequences', string, string];
    const qualified = displayQualified({ schema, name });
    if (all.has(`${cls}\t${schema}`)) {
      // The provider reads an "all" grant back as wrong when any one object holds
      // more, so both would be planned again on every run.
      conflicts.push(
        `${OBJECT_TYPE[cls]} ${qualified} gets ${sortPrivileges(privileges).join(', ')} beside the grant on all ` +
          `${cls} in schema ${schema}: postgresql_grant cannot hold both without a perpetual diff; ` +
          `grant those privileges on all ${cls} in ${schema}, or let pgcred own this database's grants`,
      );
      continue;
    }
    grants.push({
      id: `${OBJECT_TYPE[cls] === 'table' ? 'Table' : 'Sequence'}-${qualified}`,
      objectType: OBJECT_TYPE[cls],
      schema,
      objects: [name],
      privileges: sortPrivileges(privileges),
    });
  }

  // postgresql_grant takes one table per column grant, and one privilege set for all its columns.
  const columnSets = new Map<
    string,
    { schema: string; table: string; privileges: string[]; columns: string[] }
  >();
  for (const [key, privileges] of [...expanded.columns].sort(([a], [b]) => a.localeCompare(b))) {
    const { schema, table, column } = splitColumnKey(key);
    const sorted = sortPrivileges(privileges);
    const setKey = `${schema}\t${table}\t${sorted.join(',')}`;
    const entry = columnSets.get(setKey) ?? { schema, table, privileges: sorted, columns: [] };
    entry.columns.push(column);
    columnSets.set(setKey, entry);
  }
  for (const entry of columnSets.values()) {
    grants.push({
      id: `Columns-${displayQualified({ schema: entry.schema, name: entry.table })}-${entry.privileges.join('-')}`,
      objectType: 'column',
      schema: entry.schema,
      objects: [entry.table],
      columns: entry.columns,
      privileges: entry.privileges,
    });
  }
  // ROUTINE covers functions and procedures, which synth cannot tell apart.
  const routines = new Map<string, string[]>();
  for (const r of expanded.routines)
    routines.set(r.schema, [...(routines.get(r.schema) ?? []), `${r.name}(${r.arguments})`]);
  for (const [schema, objects] of routines) {
    grants.push({
      id: `Routines-${schema}`,
      objectType: 'routine',
      schema,
      objects,
      privileges: ['EXECUTE'],
    });
  }

  const defaults: TerraformDefaultPrivileges[] = [];
  for (const [key, privileges] of expanded.defaults) {
    const { objtype, schema } = splitDefaultKey(key);
    defaults.push({
      id: `Future${NOUN[objtype]}${schema === null ? '' : `-${schema}`}`,
      objectType: OBJECT_TYPE[objtype],
      schema: schema ?? undefined,
      privileges: sortPrivileges(privileges),
    });
  }
  return { grants, defaults, conflicts };
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}
