import {
  columnKey,
  defaultKey,
  type ExpandedAccess,
  relationKey,
  routineKey,
  splitColumnKey,
  splitDefaultKey,
  splitRelationKey,
} from '../model/access';
import { displayIdent, displayQualified, quoteIdent, quoteQualified } from '../model/identifiers';
import { comparePrivileges } from '../model/permission-level';
import type {
  AclEntry,
  DefaultObjectType,
  LiveRoutine,
  LiveState,
  RelationClass,
  RelationPrivilegeGroup,
} from './live-state';
import { type PlanBuilder, PUBLIC } from './plan-builder';

// The diff's privilege part: each grantee's privileges on the database, its schemas,
// relations (all of a schema, or one by one), default privileges and SECURITY
// DEFINER routines, compared as sets.

function aclByGrantee(acl: readonly AclEntry[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const entry of acl) {
    const grantee = entry.grantee ?? PUBLIC;
    let set = out.get(grantee);
    if (!set) {
      set = new Set();
      out.set(grantee, set);
    }
    set.add(entry.privilege);
  }
  return out;
}

const NOTHING: ReadonlySet<string> = new Set();

function minus(a: Iterable<string>, b: ReadonlySet<string>): string[] {
  return [...a].filter((x) => !b.has(x)).sort(comparePrivileges);
}

export function planDatabasePrivileges(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
): void {
  const actual = aclByGrantee(live.server.acl);
  const target = `database ${live.server.database}`;
  for (const [grantee, access] of accesses) {
    const have = actual.get(grantee) ?? new Set<string>();
    const grant = minus(access.database, have);
    const revoke = minus(have, access.database);
    b.converge({ kind: 'database', sort: '', object: '' }, grantee, target, grant, revoke);
  }
}

export function planSchemaPrivileges(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
): void {
  for (const schema of live.schemas) {
    const actual = aclByGrantee(schema.acl);
    const target = `schema ${displayIdent(schema.name)}`;
    for (const [grantee, access] of accesses) {
      const want = access.schemas.get(schema.name) ?? NOTHING;
      const have = actual.get(grantee) ?? NOTHING;
      // Most credentials hold nothing on a schema directly (their level role does).
      if (want.size === 0 && have.size === 0) continue;
      const grant = minus(want, have);
      const revoke = minus(have, want);
      b.converge({ kind: 'schema', sort: '', object: schema.name }, grantee, target, grant, revoke);
    }
  }
}

export const CLASS_NOUN: Record<RelationClass, [string, string]> = {
  tables: ['table', 'tables'],
  sequences: ['sequence', 'sequences'],
};

export function listNames(schema: string, names: readonly string[] | undefined, count: number): string {
  if (!names || names.length === 0) return '';
  const shown = names.slice(0, 5).map((name) => displayQualified({ schema, name }));
  return `: ${shown.join(', ')}${count > shown.length ? `, and ${count - shown.length} more` : ''}`;
}

export function planRelationPrivileges(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
): void {
  const totals = new Map<string, number>();
  for (const t of live.relationTotals) totals.set(`${t.class}\t${t.schema}`, t.total);
  const groups = new Map<string, Map<string, RelationPrivilegeGroup>>();
  for (const group of live.relationPrivileges) {
    const grantee = group.grantee ?? PUBLIC;
    let byKey = groups.get(grantee);
    if (!byKey) {
      byKey = new Map();
      groups.set(grantee, byKey);
    }
    byKey.set(relationKey(group.class, group.schema, group.privilege), group);
  }
  const existing = new Set(
    live.declaredObjects.filter((o) => o.class !== null).map((o) => `${o.class}\t${o.schema}\t${o.name}`),
  );

  for (const [grantee, access] of accesses) {
    const actual = groups.get(grantee) ?? new Map<string, RelationPrivilegeGroup>();
    // Full grants and revokes, per class and schema: privileges gathered so one
    // statement per privilege set covers the schema.
    const full = new Map<
      string,
      { grant: string[]; revoke: string[]; notes: string[]; revokeNotes: string[] }
    >();
    const specific = new Map<string, { grant: string[]; revoke: string[] }>();
    const cell = <T>(map: Map<string, T>, key: string, make: () => T): T => {
      let v = map.get(key);
      if (!v) {
        v = make();
        map.set(key, v);
      }
      return v;
    };
    const keys = new Set([...access.relations.keys(), ...actual.keys()]);
    for (const key of keys) {
      const { class: cls, schema, privilege } = splitRelationKey(key);
      const total = totals.get(`${cls}\t${schema}`) ?? 0;
      if (total === 0) continue;
      const want = access.relations.get(key);
      const have = actual.get(key);
      const holding = have?.holding ?? 0;
      const scope = `${cls}\t${schema}`;
      if (want === 'all') {
        if (holding < total) {
          const c = cell(full, scope, () => ({ grant: [], revoke: [], notes: [], revokeNotes: [] }));
          c.grant.push(privilege);
          c.notes.push(
            holding === 0
              ? ''
              : `missing on ${total - holding} of ${total}${listNames(schema, have?.lacking, total - holding)}\t${privilege}`,
          );
        }
      } else if (want === undefined) {
        if (holding > 0) {
          const c = cell(full, scope, () => ({ grant: [], revoke: [], notes: [], revokeNotes: [] }));
          c.revoke.push(privilege);
          c.revokeNotes.push(
            `held on ${holding} of ${total}${listNames(schema, have?.holders, holding)}\t${privilege}`,
          );
        }
      } else {
        const wanted = [...want].filter((name) => existing.has(`${cls}\t${schema}\t${name}`));
        const holders = have?.holders;
        if (holding > 0 && !holders) {
          // Too many holders to list: take the privilege off the whole schema, then
          // grant it on the declared relations again.
          const c = cell(full, scope, () => ({ grant: [], revoke: [], notes: [], revokeNotes: [] }));
          c.revoke.push(privilege);
          c.revokeNotes.push(`held on ${holding} of ${total}\t${privilege}`);
          for (const name of wanted)
            cell(specific, `${cls}\t${schema}\t${name}`, () => ({ grant: [], revoke: [] })).grant.push(
              privilege,
            );
        } else {
          const held = new Set(holders ?? []);
          for (const name of wanted) {
            if (!held.has(name))
              cell(specific, `${cls}\t${schema}\t${name}`, () => ({ grant: [], revoke: [] })).grant.push(
                privilege,
              );
          }
          for (const name of held) {
            if (!want.has(name))
              cell(specific, `${cls}\t${schema}\t${name}`, () => ({ grant: [], revoke: [] })).revoke.push(
                privilege,
              );
          }
        }
      }
    }
    // Scopes where the grantee is to hold nothing at all, whole-schema or by name.
    const wanted = new Set(
      [...access.relations.keys()].map((key) => {
        const { class: cls, schema } = splitRelationKey(key);
        return `${cls}\t${schema}`;
      }),
    );
    for (const [scope, c] of full) {
      const [cls, schema] = scope.split('\t') as [RelationClass, string];
      const total = totals.get(scope) ?? 0;
      const target = `all ${CLASS_NOUN[cls][1]} in schema ${displayIdent(schema)}`;
      const notes = mergeNotes(c.notes.filter(Boolean));
      b.converge({ kind: 'relations', sort: cls, object: schema }, grantee, target, c.grant, c.revoke, {
        grant: ` (${total} ${CLASS_NOUN[cls][total === 1 ? 0 : 1]})${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
        revoke: ` (${mergeNotes(c.revokeNotes).join('; ')})`,
        revokeAll: c.grant.length === 0 && !wanted.has(scope),
      });
    }
    for (const [scope, c] of specific) {
      const [cls, schema, name] = scope.split('\t') as [RelationClass, string, string];
      const object = displayQualified({ schema, name });
      const target = `${CLASS_NOUN[cls][0]} ${object}`;
      const qualified = quoteQualified({ schema, name });
      b.converge({ kind: 'relation', sort: cls, object: qualified }, grantee, target, c.grant, c.revoke);
    }
  }
}

/** `note\tPRIVILEGE` entries with the same note become one: `SELECT, INSERT missing on 1 of 3: public.t`. */
function mergeNotes(notes: readonly string[]): string[] {
  const byNote = new Map<string, string[]>();
  for (const entry of notes) {
    const [note, privilege] = entry.split('\t') as [string, string];
    byNote.set(note, [...(byNote.get(note) ?? []), privilege]);
  }
  return [...byNote].map(([note, privileges]) => `${privileges.sort(comparePrivileges).join(', ')} ${note}`);
}

const DEFAULT_NOUN: Record<DefaultObjectType, string> = {
  tables: 'tables',
  sequences: 'sequences',
  schemas: 'schemas',
};

/**
 * Default privileges for the objects the default credential creates later, and for
 * those each of `creators` creates (roles pgcred does not manage that own objects or
 * may create them here: a legacy app's own migrations would otherwise leave the
 * levels short).
 */
export function planDefaultPrivileges(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
  owner: string,
  liveSchemas: ReadonlySet<string>,
  creators: readonly string[] = [],
): void {
  for (const forRole of [owner, ...creators.filter((role) => role !== owner)]) {
    planDefaultPrivilegesFor(b, live, accesses, owner, forRole, liveSchemas);
  }
}

function planDefaultPrivilegesFor(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
  owner: string,
  forRole: string,
  liveSchemas: ReadonlySet<string>,
): void {
  const actual = new Map<string, Map<string, Set<string>>>();
  for (const entry of live.defaultPrivileges) {
    if (entry.owner !== forRole) continue;
    const grantee = entry.grantee ?? PUBLIC;
    let byKey = actual.get(grantee);
    if (!byKey) {
      byKey = new Map();
      actual.set(grantee, byKey);
    }
    const key = defaultKey(entry.objtype, entry.schema);
    let set = byKey.get(key);
    if (!set) {
      set = new Set();
      byKey.set(key, set);
    }
    set.add(entry.privilege);
  }
  for (const [grantee, access] of accesses) {
    const have = actual.get(grantee) ?? new Map<string, Set<string>>();
    const keys = new Set([...access.defaults.keys(), ...have.keys()]);
    for (const key of keys) {
      const { objtype, schema } = splitDefaultKey(key);
      if (schema !== null && !liveSchemas.has(schema)) continue;
      const want = access.defaults.get(key) ?? new Set<string>();
      const held = have.get(key) ?? new Set<string>();
      const grant = minus(want, held);
      const revoke = minus(held, want);
      const creator = forRole === owner ? 'the default credential' : forRole;
      const target = `${DEFAULT_NOUN[objtype]} ${creator} creates later${schema === null ? '' : ` in schema ${displayIdent(schema)}`}`;
      const object = schema === null ? '' : schema;
      b.converge(
        { kind: 'default', sort: objtype, object, ...(forRole === owner ? {} : { forRole }) },
        grantee,
        target,
        grant,
        revoke,
      );
    }
  }
}

/**
 * A SECURITY DEFINER function runs with its owner's privileges, and PUBLIC may execute
 * every function unless that is revoked: a read-only credential could write through one
 * the default credential owns. No level includes EXECUTE on them, so PUBLIC and the
 * credentials being planned lose it; the owner keeps it by ownership.
 *
 * Default privileges cannot do this ahead of time: they cannot tell a SECURITY DEFINER
 * function from an ordinary one, and taking EXECUTE on every future function from PUBLIC
 * would break the ordinary ones that queries call. A SECURITY DEFINER function created
 * later shows up in drift instead, and the next apply or reconcile revokes it.
 */
export function planDefinerFunctions(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
): void {
  const s = live.server;
  for (const fn of live.definerFunctions) {
    const target = `SECURITY DEFINER ${fn.kind} ${displayIdent(fn.schema)}.${displayIdent(fn.name)}(${fn.arguments})`;
    const signature = `${quoteIdent(fn.schema)}.${quoteIdent(fn.name)}(${fn.arguments})`;
    const executors = new Set(fn.executors.map((grantee) => grantee ?? PUBLIC));
    for (const [grantee, access] of accesses) {
      if (!executors.has(grantee)) continue;
      // Declared by name: the credential is meant to run it as its owner.
      if (declaredRoutines(live, access).has(signature)) continue;
      // Only its owner (or a superuser) can take EXECUTE away.
      if (!s.isSuperuser && fn.owner !== s.currentUser) {
        b.finding({
          kind: 'definer-function',
          severity: 'notice',
          subject: grantee,
          description: `${grantee} may execute ${target}, which runs as ${fn.owner}`,
          remedy: `run pgcred credentials:repair-default to hand it to the default credential, then apply; or, as ${fn.owner}: REVOKE EXECUTE ON ${fn.kind.toUpperCase()} ${signature} FROM ${grantee === PUBLIC ? PUBLIC : quoteIdent(grantee)}`,
        });
        continue;
      }
      b.intent(
        {
          action: 'revoke',
          kind: 'routine',
          sort: fn.kind,
          object: signature,
          privileges: ['EXECUTE'],
          grantee,
        },
        grantee,
        target,
        `loses EXECUTE on ${target}: it runs as ${fn.owner}, so whoever calls it acts as ${fn.owner}`,
        true,
      );
    }
  }
}

/** The routines a credential's grants name that exist, by signature. */
function declaredRoutines(live: LiveState, access: ExpandedAccess): Map<string, LiveRoutine> {
  const resolved = new Map((live.declaredRoutines ?? []).map((d) => [d.key, d.routine]));
  const out = new Map<string, LiveRoutine>();
  for (const r of access.routines) {
    const routine = resolved.get(routineKey(r));
    if (routine) out.set(routine.signature, routine);
  }
  return out;
}

function routineTarget(r: LiveRoutine): string {
  return `${r.kind} ${displayIdent(r.schema)}.${displayIdent(r.name)}(${r.arguments})`;
}

/**
 * EXECUTE on the functions and procedures custom grants name, and off the ones they no
 * longer name. PUBLIC's EXECUTE is not this diff's: every routine has it unless revoked,
 * and planDefinerFunctions takes it off the SECURITY DEFINER ones.
 */
export function planRoutinePrivileges(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
): void {
  const held = new Map<string, Map<string, LiveRoutine>>();
  for (const p of live.routinePrivileges ?? []) {
    let byRoutine = held.get(p.grantee);
    if (!byRoutine) {
      byRoutine = new Map();
      held.set(p.grantee, byRoutine);
    }
    byRoutine.set(p.signature, p);
  }
  const definers = new Set(
    live.definerFunctions.map((fn) => `${quoteIdent(fn.schema)}.${quoteIdent(fn.name)}(${fn.arguments})`),
  );
  for (const [grantee, access] of accesses) {
    if (grantee === PUBLIC) continue;
    const want = declaredRoutines(live, access);
    const have = held.get(grantee) ?? new Map<string, LiveRoutine>();
    for (const [signature, routine] of want) {
      if (have.has(signature)) continue;
      b.converge(
        { kind: 'routine', sort: routine.kind, object: signature },
        grantee,
        routineTarget(routine),
        ['EXECUTE'],
        [],
      );
    }
    for (const [signature, routine] of have) {
      // A SECURITY DEFINER one is planDefinerFunctions', which says why it goes.
      if (want.has(signature) || definers.has(signature)) continue;
      b.converge(
        { kind: 'routine', sort: routine.kind, object: signature },
        grantee,
        routineTarget(routine),
        [],
        ['EXECUTE'],
      );
    }
  }
}

/** Privileges on single columns (GRANT SELECT (email) ON TABLE customers), declared with on: column. */
export function planColumnPrivileges(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
): void {
  const existing = live.declaredColumns
    ? new Set(live.declaredColumns.map((c) => columnKey(c.schema, c.table, c.column)))
    : undefined;
  const held = new Map<string, Map<string, Set<string>>>();
  for (const p of live.columnPrivileges ?? []) {
    const grantee = p.grantee ?? PUBLIC;
    let byColumn = held.get(grantee);
    if (!byColumn) {
      byColumn = new Map();
      held.set(grantee, byColumn);
    }
    const key = columnKey(p.schema, p.table, p.column);
    byColumn.set(key, (byColumn.get(key) ?? new Set<string>()).add(p.privilege));
  }
  for (const [grantee, access] of accesses) {
    const have = held.get(grantee) ?? new Map<string, Set<string>>();
    const keys = new Set([...access.columns.keys(), ...have.keys()]);
    for (const key of [...keys].sort()) {
      const { schema, table, column } = splitColumnKey(key);
      // A column that is not there is reported as missing; granting on it would fail.
      const want =
        existing && !existing.has(key) ? new Set<string>() : (access.columns.get(key) ?? new Set<string>());
      const privileges = have.get(key) ?? new Set<string>();
      const target = `column ${displayQualified({ schema, name: table })}.${displayIdent(column)}`;
      b.converge(
        { kind: 'column', sort: quoteIdent(column), object: quoteQualified({ schema, name: table }) },
        grantee,
        target,
        minus(want, privileges),
        minus(privileges, want),
      );
    }
  }
}
