import { expandAccess, routineKey } from '../model/access';
import type { Access, GrantOn, GrantSpec } from '../model/config';
import { CONTROL_SCHEMA } from '../model/control-schema';
import {
  displayIdent,
  displayQualified,
  parseQualifiedName,
  parseRoutineSignature,
} from '../model/identifiers';
import { credentialNameProblem, reservedRoleProblem } from '../model/names';
import { comparePrivileges, PermissionLevel } from '../model/permission-level';
import type { Change, Plan } from '../model/plan';
import { type DesiredCredential, type DesiredDatabase, derivedOwnerName, diff } from '../reconciler/diff';
import { creatorRoles, memberships } from '../reconciler/diff-public';
import { OWNER_MEMBERSHIPS } from '../reconciler/diff-roles';
import { hasLevelRole, levelRoleName } from '../reconciler/level-roles';
import type {
  AclEntry,
  DeclaredObject,
  DeclaredRoutine,
  LiveRole,
  LiveRoutine,
  LiveState,
  RelationClass,
} from '../reconciler/live-state';
import { managedComment, parseManagedComment } from '../reconciler/markers';
import { PlanBuilder } from '../reconciler/plan-builder';
import { withLevelRolesWrittenOut } from './level-form';

/** A row of role_objects.sql: what a role has here that inspection does not read. */
export interface RoleObjects {
  readonly role: string;
  readonly kind: 'owns' | 'acl' | 'policy';
  /** relation, column, schema, routine, type, default privileges, policy, ... */
  readonly catalog: string;
  readonly count: number;
  readonly sample: readonly string[];
}

/** A row of owner_gains.sql: a privilege a role holds that the default credential lacks. */
export interface OwnerGain {
  readonly role: string;
  readonly kind: 'schema' | 'table' | 'sequence' | 'column' | 'routine';
  readonly object: string;
  readonly privilege: string;
}

export interface ImportFacts {
  readonly roleObjects: readonly RoleObjects[];
  readonly ownerGains: readonly OwnerGain[];
}

export interface ImportOptions {
  /** The database's name in the file. */
  readonly name: string;
  /** The environment variable the file reads the admin URL from. */
  readonly urlVariable: string;
  /** Declare only these roles; every other one goes under ignoreRoles. */
  readonly only?: readonly string[];
}

export interface ImportedCredential {
  readonly name: string;
  readonly access: Access;
  /** Group roles it is a member of, which the declaration keeps. */
  readonly memberOf: readonly string[];
  /** Changes of form apply makes for it, in words. */
  readonly notes: readonly string[];
}

export interface IgnoredRole {
  readonly name: string;
  /** Why it is not declared: what a declaration would leave out or change. */
  readonly reasons: readonly string[];
}

/** What `pgcred import` found: the declaration that reproduces a live database, and what it leaves out. */
export interface ImportedDatabase {
  readonly name: string;
  readonly database: string;
  readonly urlVariable: string;
  /** The default credential's username; absent when pgcred would derive one (a superuser owns the database). */
  readonly owner?: string;
  readonly credentials: readonly ImportedCredential[];
  readonly ignored: readonly IgnoredRole[];
  /** What apply changes besides adopting the roles: the default credential's setup, in the plan's words. */
  readonly applyNotes: readonly string[];
  /** Conditions a person should look at before applying. */
  readonly warnings: readonly string[];
}

const KIND_NOUN: Record<string, [string, string]> = {
  relation: ['relation', 'relations'],
  column: ['column', 'columns'],
  schema: ['schema', 'schemas'],
  routine: ['routine', 'routines'],
  type: ['type', 'types'],
  'default privileges': ['default privilege entry', 'default privilege entries'],
  policy: ['row-level security policy', 'row-level security policies'],
};

function noun(kind: string, count: number): string {
  const pair = KIND_NOUN[kind] ?? [kind, kind];
  return `${count} ${pair[count === 1 ? 0 : 1]}`;
}

function sampleText(sample: readonly string[], count: number): string {
  if (sample.length === 0) return '';
  return ` (${sample.join(', ')}${count > sample.length ? `, and ${count - sample.length} more` : ''})`;
}

const sortPrivileges = (privileges: Iterable<string>) => [...new Set(privileges)].sort(comparePrivileges);

/** Objects grouped by the privilege set they hold, one grant per set, in a stable order. */
function groupGrants(on: GrantOn, byObject: Map<string, Set<string>>): GrantSpec[] {
  const bySet = new Map<string, { privileges: string[]; objects: string[] }>();
  for (const [object, privileges] of [...byObject].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = sortPrivileges(privileges);
    const key = sorted.join(',');
    const entry = bySet.get(key) ?? { privileges: sorted, objects: [] };
    entry.objects.push(object);
    bySet.set(key, entry);
  }
  return [...bySet.values()].map((g) => ({ privileges: g.privileges, on, objects: g.objects }));
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(value);
  map.set(key, set);
}

function direct(acl: readonly AclEntry[], grantee: string | null): Set<string> {
  return new Set(acl.filter((e) => e.grantee === grantee).map((e) => e.privilege));
}

/**
 * The custom grants that reproduce a role's direct privileges on the database, its
 * schemas, relations and default privileges for the default credential's objects,
 * and what no grant kind can say.
 */
export function grantsOf(
  live: LiveState,
  role: string,
  owner: string,
): {
  grants: GrantSpec[];
  objects: DeclaredObject[];
  routines: Map<string, LiveRoutine>;
  problems: string[];
} {
  const s = live.server;
  const problems: string[] = [];
  const grants: GrantSpec[] = [];
  const objects: DeclaredObject[] = [];

  const database = direct(s.acl, role);
  if (database.has('CREATE'))
    problems.push(`holds CREATE on database ${s.database} (it may create schemas; no credential may)`);
  if (database.has('TEMPORARY')) grants.push({ privileges: ['TEMPORARY'], on: 'database', objects: [] });

  const schemaUsage = new Map<string, Set<string>>();
  for (const schema of live.schemas) {
    if (schema.name === CONTROL_SCHEMA) continue;
    const held = direct(schema.acl, role);
    for (const privilege of ['USAGE', 'CREATE'])
      if (held.has(privilege)) addTo(schemaUsage, displayIdent(schema.name), privilege);
  }

  // Default privileges for what the default credential creates, per object type and schema.
  const defaults = new Map<string, Map<string, Set<string>>>();
  for (const entry of live.defaultPrivileges) {
    if (entry.grantee !== role || entry.owner !== owner) continue;
    const byScope = defaults.get(entry.objtype) ?? new Map<string, Set<string>>();
    addTo(byScope, entry.schema ?? '', entry.privilege);
    defaults.set(entry.objtype, byScope);
  }
  const coveredLater = (cls: RelationClass, schema: string, privilege: string) => {
    const byScope = defaults.get(cls);
    return !!(byScope?.get('')?.has(privilege) || byScope?.get(schema)?.has(privilege));
  };

  const whole: Record<RelationClass, Map<string, Set<string>>> = { tables: new Map(), sequences: new Map() };
  const single: Record<RelationClass, Map<string, Set<string>>> = { tables: new Map(), sequences: new Map() };
  for (const group of live.relationPrivileges) {
    if (group.grantee !== role || group.schema === CONTROL_SCHEMA) continue;
    const cls = group.class;
    const schemaName = displayIdent(group.schema);
    // A whole schema when it holds the privilege on every relation and either nothing
    // lists them or default privileges say the later ones are meant too.
    if (
      group.holding === group.total &&
      (!group.holders || coveredLater(cls, group.schema, group.privilege))
    ) {
      addTo(whole[cls], schemaName, group.privilege);
    } else if (group.holders) {
      for (const name of group.holders) {
        addTo(single[cls], displayQualified({ schema: group.schema, name }), group.privilege);
        objects.push({ schema: group.schema, name, class: cls });
      }
    } else {
      problems.push(
        `holds ${group.privilege} on ${group.holding} of ${group.total} ${cls} in schema ${schemaName}: ` +
          'too many to name one by one, too few for the whole schema',
      );
    }
  }
  // Column privileges, one grant per table and privilege set.
  const columnGrants: GrantSpec[] = [];
  const byTable = new Map<string, Map<string, Set<string>>>();
  for (const p of live.columnPrivileges ?? []) {
    if (p.grantee !== role || p.schema === CONTROL_SCHEMA) continue;
    const table = displayQualified({ schema: p.schema, name: p.table });
    if (!byTable.has(table)) objects.push({ schema: p.schema, name: p.table, class: 'tables' });
    const columns = byTable.get(table) ?? new Map<string, Set<string>>();
    addTo(columns, p.column, p.privilege);
    byTable.set(table, columns);
  }
  for (const [table, columns] of [...byTable].sort(([a], [b]) => a.localeCompare(b))) {
    for (const g of groupGrants('column', columns))
      columnGrants.push({ privileges: g.privileges, on: 'column', objects: [table], columns: g.objects });
  }
  // EXECUTE on routines, written with their argument types, as GRANT takes them.
  const routines: string[] = [];
  const routineOf = new Map<string, LiveRoutine>();
  for (const p of live.routinePrivileges ?? []) {
    if (p.grantee !== role || p.schema === CONTROL_SCHEMA) continue;
    const text = `${displayQualified(p)}(${p.types})`;
    routines.push(text);
    routineOf.set(text, p);
  }
  // Grants on a schema's relations, columns and routines imply USAGE on it: said once, by them.
  const implied = new Set<string>([
    ...(['tables', 'sequences'] as const).flatMap((cls) => [
      ...whole[cls].keys(),
      ...[...single[cls].keys()].map((object) => displayIdent(parseQualifiedName(object).schema)),
    ]),
    ...[...byTable.keys()].map((table) => displayIdent(parseQualifiedName(table).schema)),
    ...[...routineOf.values()].map((r) => displayIdent(r.schema)),
  ]);
  for (const schema of implied) {
    schemaUsage.get(schema)?.delete('USAGE');
    if (schemaUsage.get(schema)?.size === 0) schemaUsage.delete(schema);
  }
  grants.push(...groupGrants('schema', schemaUsage));
  grants.push(...groupGrants('all-tables', whole.tables));
  grants.push(...groupGrants('table', single.tables));
  grants.push(...columnGrants);
  grants.push(...groupGrants('all-sequences', whole.sequences));
  grants.push(...groupGrants('sequence', single.sequences));
  if (routines.length > 0) grants.push({ privileges: ['EXECUTE'], on: 'routine', objects: routines.sort() });

  const defaultOn: Record<string, GrantOn> = {
    tables: 'default-tables',
    sequences: 'default-sequences',
    schemas: 'default-schemas',
  };
  for (const objtype of ['tables', 'sequences', 'schemas']) {
    const byScope = defaults.get(objtype as 'tables');
    if (!byScope) continue;
    const everywhere = byScope.get('');
    if (everywhere)
      grants.push({ privileges: sortPrivileges(everywhere), on: defaultOn[objtype]!, objects: [] });
    const inSchemas = new Map(
      [...byScope].filter(([schema]) => schema !== '').map(([schema, p]) => [displayIdent(schema), p]),
    );
    grants.push(...groupGrants(defaultOn[objtype]!, inSchemas));
  }
  return { grants, objects, routines: routineOf, problems };
}

/** Why a role cannot be a credential before any grant is looked at: what declaring it would change. */
/**
 * The group roles a role is a member of that memberOf can declare: NOLOGIN roles
 * pgcred does not manage, without admin option. The rest are why it cannot be a credential.
 */
function groupsOf(live: LiveState, role: LiveRole, owner: string): { groups: string[]; problems: string[] } {
  const groups: string[] = [];
  const problems: string[] = [];
  for (const m of [...role.memberOf].sort((a, b) => a.role.localeCompare(b.role))) {
    const group = live.roles.get(m.role);
    const why = !group
      ? 'which is not a role here'
      : m.admin
        ? 'with admin option, which a credential never holds'
        : group.login
          ? 'a login role: a credential belongs only to group roles'
          : group.superuser
            ? 'a superuser'
            : parseManagedComment(group.comment) || m.role === owner
              ? 'a role pgcred manages'
              : m.role.startsWith('pg_')
                ? undefined
                : reservedRoleProblem(m.role);
    if (why)
      problems.push(
        `member of ${m.role}, ${why}: apply would revoke the membership and what it reads through it`,
      );
    else groups.push(m.role);
  }
  return { groups, problems };
}

function roleProblems(role: LiveRole, facts: ImportFacts): string[] {
  const problems: string[] = [];
  const attributes = (
    [
      ['createdb', 'CREATEDB'],
      ['createrole', 'CREATEROLE'],
      ['replication', 'REPLICATION'],
      ['bypassrls', 'BYPASSRLS'],
    ] as const
  )
    .filter(([key]) => role[key])
    .map(([, sql]) => sql);
  if (attributes.length > 0)
    problems.push(`has ${attributes.join(', ')}, which apply turns off on a credential`);
  if (!role.inherit) problems.push('is NOINHERIT, which apply turns back to INHERIT');
  for (const row of facts.roleObjects) {
    // Default privileges a role set for its own objects grant nothing until it creates some.
    if (row.role !== role.name || (row.kind === 'owns' && row.catalog === 'default privileges')) continue;
    const what = `${noun(row.catalog, row.count)}${sampleText(row.sample, row.count)}`;
    if (row.kind === 'owns')
      problems.push(
        `owns ${what}: the levels and grants cover the default credential's objects, and a credential's own objects are drift`,
      );
    else if (row.kind === 'acl')
      problems.push(`holds privileges on ${what}, which no grant kind of pgcred.yaml names`);
  }
  return problems;
}

function describeChanges(changes: readonly Change[]): string {
  const shown = changes.slice(0, 3).map((c) => c.description);
  return `apply would change it: ${shown.join('; ')}${changes.length > shown.length ? `; and ${changes.length - shown.length} more` : ''}`;
}

interface Candidate {
  readonly name: string;
  readonly options: readonly Access[];
  readonly grants: { grants: GrantSpec[]; objects: DeclaredObject[]; routines: Map<string, LiveRoutine> };
  readonly memberOf: readonly string[];
}

/**
 * The declaration of a live database that apply reproduces exactly. Every candidate
 * access is checked with the diff apply runs: declared as it would be, against the
 * live state as it would be after one apply (roles marked, the default credential's
 * memberships, privileges a grant implies that PUBLIC holds already made direct), the
 * plan must hold no change for the role, and against the live state, nothing but its
 * adoption and those grants of form. A role no access passes is ignored, with why.
 */
export function describeDatabase(
  liveAsIs: LiveState,
  facts: ImportFacts,
  options: ImportOptions,
): ImportedDatabase {
  const { state: live, levelOf } = withLevelRolesWrittenOut(liveAsIs);
  const s = live.server;
  const db = s.database;
  const ordinaryOwner = !s.ownerIsSuperuser && s.owner !== s.bootstrapUser;
  const owner = ordinaryOwner ? s.owner : derivedOwnerName(options.name);
  const ownerIsAdmin = owner === s.currentUser;
  const schemas = live.schemas.map((schema) => schema.name).filter((name) => name !== CONTROL_SCHEMA);
  const warnings: string[] = [];
  if (!ordinaryOwner)
    warnings.push(
      `database ${db} belongs to ${s.owner}, a superuser: apply makes a default credential ${owner} and gives it ` +
        'the database (set owner: to name another)',
    );

  // Roles that have something in this database: what plan and drift would report.
  const holders = new Set<string>();
  const note = (role: string | null | undefined) => {
    if (role) holders.add(role);
  };
  for (const e of s.acl) note(e.grantee);
  for (const schema of live.schemas) for (const e of schema.acl) note(e.grantee);
  for (const group of live.relationPrivileges) note(group.grantee);
  for (const entry of live.defaultPrivileges) note(entry.grantee);
  for (const p of live.columnPrivileges ?? []) note(p.grantee);
  for (const p of live.routinePrivileges ?? []) note(p.grantee);
  for (const fn of live.definerFunctions) for (const g of fn.executors) note(g);
  for (const owned of live.foreignOwnership) note(owned.owner);
  for (const row of facts.roleObjects) note(row.role);
  for (const role of live.roles.values()) {
    const mark = parseManagedComment(role.comment);
    if (role.superuser || (mark && mark.database === db && mark.kind === 'credential')) note(role.name);
  }
  // Login roles that read through a group role holding something here belong to it too.
  for (const role of live.roles.values()) {
    if (
      role.login &&
      [...memberships(live, role.name)].some((group) => group !== role.name && holders.has(group))
    )
      holders.add(role.name);
  }
  const only = options.only ? new Set(options.only) : undefined;
  for (const name of only ?? []) note(name);

  const ignored = new Map<string, string[]>();
  const ignore = (name: string, reasons: readonly string[]) =>
    ignored.set(name, [...(ignored.get(name) ?? []), ...reasons]);
  const candidates: Candidate[] = [];
  const rotating: string[] = [];
  for (const name of [...holders].sort()) {
    const role = live.roles.get(name);
    if (!role || name === owner || name === s.currentUser || name === s.bootstrapUser) continue;
    if (name.startsWith('pg_') || name.startsWith('unknown (OID=')) continue;
    const mark = parseManagedComment(role.comment);
    if (mark && mark.database === db && mark.kind !== 'credential') {
      if (mark.kind === 'rotating username') rotating.push(name);
      continue;
    }
    if (mark && mark.database !== db) {
      ignore(name, [
        `the ${mark.kind} of database "${mark.database}" in this cluster (roles are cluster-wide)`,
      ]);
      continue;
    }
    if (role.superuser) {
      ignore(name, ['a superuser: privileges do not bind it, and no credential may be one']);
      continue;
    }
    if (!role.login) {
      const members = [...live.roles.values()]
        .filter((r) => r.memberOf.some((m) => m.role === name))
        .map((r) => r.name)
        .sort();
      ignore(name, [
        `a group role (NOLOGIN)${members.length > 0 ? ` of ${members.join(', ')}` : ''}: credentials are login roles`,
      ]);
      continue;
    }
    if (only && !only.has(name)) {
      ignore(name, ['not named by --only']);
      continue;
    }
    const nameProblem = credentialNameProblem(name);
    const membership = groupsOf(live, role, owner);
    const problems = [
      ...(nameProblem ? [`its name ${nameProblem.replace(/^"[^"]*" /, '')}`] : []),
      ...membership.problems,
      ...roleProblems(role, facts),
    ];
    const built = grantsOf(live, name, owner);
    problems.push(...built.problems);
    if (problems.length === 0 && !ownerIsAdmin && live.roles.has(owner)) {
      const gains = facts.ownerGains.filter((g) => g.role === name);
      if (gains.length > 0) {
        const shown = gains.slice(0, 3).map((g) => `${g.privilege} on ${g.kind} ${g.object}`);
        problems.push(
          `holds ${shown.join(', ')}${gains.length > 3 ? `, and ${gains.length - 3} more` : ''}, which the default ` +
            `credential ${owner} lacks: apply makes the default credential a member of every credential, so it would gain them`,
        );
      }
    }
    if (problems.length > 0) {
      ignore(name, problems);
      continue;
    }
    const levels: Access[] = PermissionLevel.NAMES.map((level) => ({ kind: 'level', level }));
    candidates.push({
      name,
      options: [...levels, { kind: 'grants', grants: built.grants }],
      grants: built,
      memberOf: membership.groups,
    });
  }
  if (only) {
    for (const name of only) {
      const role = live.roles.get(name);
      if (!role) warnings.push(`--only names ${name}, which is not a role of this cluster`);
      else if (name === owner) warnings.push(`--only names ${name}, the owner: it is the default credential`);
    }
  }

  // Choose each candidate's access, then drop the ones the whole plan still changes,
  // until nothing moves: a role left out becomes one pgcred does not manage, which
  // changes whose future objects the levels cover.
  const chosen = new Map<string, Access>();
  const declaredObjects = new Map<string, DeclaredObject>();
  const declaredRoutines = new Map<string, DeclaredRoutine>();
  for (const c of candidates) {
    chosen.set(c.name, c.options[0]!);
    for (const o of c.grants.objects) declaredObjects.set(`${o.schema}\t${o.name}`, o);
    for (const [text, routine] of c.grants.routines) {
      const key = routineKey(parseRoutineSignature(text));
      declaredRoutines.set(key, { key, routine });
    }
  }
  const byName = new Map(candidates.map((c) => [c.name, c]));
  const lastFailure = new Map<string, string>();
  const context = (declared: ReadonlyMap<string, Access>): DesiredDatabase => ({
    name: options.name,
    executor: 'pgcred',
    levelForm: 'direct',
    owner,
    credentials: [...declared].map(
      ([name, access]): DesiredCredential => ({ name, access, memberOf: byName.get(name)?.memberOf ?? [] }),
    ),
    ignoreRoles: [],
    publicPolicy: 'keep',
    controlSchema: CONTROL_SCHEMA,
    rotating,
    // Adopted roles keep their passwords; the ones pgcred made are in the store that made them.
    passwords: new Map(
      [...declared.keys()].map((name) => {
        const mark = parseManagedComment(live.roles.get(name)?.comment ?? null);
        return [name, mark && !mark.adopted ? 'ok' : 'unknown'];
      }),
    ),
    prune: false,
  });
  const withObjects = (state: LiveState): LiveState => ({
    ...state,
    declaredObjects: [...declaredObjects.values()],
    declaredRoutines: [...declaredRoutines.values()],
    // Every column a grant here names is one inspection found.
    declaredColumns: undefined,
  });

  for (let round = 0; round < 100; round++) {
    let moved = false;
    for (const name of [...chosen.keys()]) {
      const candidate = byName.get(name)!;
      let picked: Access | undefined;
      for (const access of candidate.options) {
        const declared = new Map(chosen).set(name, access);
        const after = withObjects(afterApply(live, owner, ownerIsAdmin, declared, schemas).state);
        const plan = diff({ ...context(declared), scope: new Set([name]) }, after);
        const changes = plan.changes.filter((c) => c.subject === name);
        if (changes.length === 0) {
          picked = access;
          break;
        }
        if (access.kind === 'grants') lastFailure.set(name, describeChanges(changes));
      }
      if (!picked) {
        chosen.delete(name);
        ignore(name, [lastFailure.get(name) ?? 'no declaration reproduces its access']);
        moved = true;
      } else if (picked !== chosen.get(name)) {
        chosen.set(name, picked);
        moved = true;
      }
    }
    // The whole plan: findings and changes a scoped plan does not make.
    const { state, form } = afterApply(live, owner, ownerIsAdmin, chosen, schemas);
    const after = diff(context(chosen), withObjects(state));
    const now = diff(context(chosen), withObjects(live));
    const covered = new Set([
      owner,
      ...creatorRoles(new PlanBuilder(), context(chosen), live, owner, new Set(chosen.keys())),
    ]);
    for (const name of [...chosen.keys()]) {
      // Default privileges for a role whose objects pgcred does not cover are out of the diff's sight.
      const unseen = [
        ...new Set(
          live.defaultPrivileges
            .filter((e) => e.grantee === name && !covered.has(e.owner))
            .map((e) => e.owner),
        ),
      ].sort();
      if (unseen.length > 0) {
        chosen.delete(name);
        ignore(name, [
          `holds default privileges on what ${unseen.join(', ')} ${unseen.length === 1 ? 'creates' : 'create'} later, ` +
            'and pgcred sets default privileges only for the default credential and roles that own objects or may create them here',
        ]);
        moved = true;
        continue;
      }
      const left = after.changes.filter((c) => c.subject === name);
      const drift = after.findings.filter((f) => f.subject === name && f.severity === 'drift');
      const targets = new Set(form.get(name)?.map((f) => f.target) ?? []);
      const other = now.changes.filter(
        (c) => c.subject === name && c.action !== 'adopt' && !(c.action === 'grant' && targets.has(c.target)),
      );
      if (left.length > 0 || drift.length > 0 || other.length > 0) {
        chosen.delete(name);
        ignore(name, [
          ...(left.length + other.length > 0 ? [describeChanges([...other, ...left])] : []),
          ...drift.map((f) => `drift would report: ${f.description}`),
        ]);
        moved = true;
      }
    }
    if (!moved) break;
  }

  const { form } = afterApply(live, owner, ownerIsAdmin, chosen, schemas);
  const finalPlan = diff(context(chosen), withObjects(live));
  const afterPlan = diff(
    context(chosen),
    withObjects(afterApply(live, owner, ownerIsAdmin, chosen, schemas).state),
  );
  const applyNotes = ownerNotes(finalPlan, chosen);
  for (const change of afterPlan.changes)
    warnings.push(`the plan after one apply would still hold: ${change.subject} ${change.description}`);
  for (const error of finalPlan.errors) warnings.push(`apply would refuse: ${error}`);

  const credentials: ImportedCredential[] = [...chosen]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, access]) => ({
      name,
      access,
      memberOf: byName.get(name)?.memberOf ?? [],
      notes: [
        ...(form.get(name) ?? []).map(
          (f) =>
            `apply grants ${f.privileges.join(', ')} on ${f.target} to it directly: it holds ${f.privileges.length === 1 ? 'it' : 'them'} through PUBLIC today`,
        ),
        ...formOfLevel(name, access, levelOf.get(name), options.name),
      ],
    }));
  return {
    name: options.name,
    database: db,
    urlVariable: options.urlVariable,
    ...(ordinaryOwner ? { owner } : {}),
    credentials,
    ignored: [...ignored]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, reasons]) => ({ name, reasons: [...new Set(reasons)] })),
    applyNotes,
    warnings,
  };
}

/** The change of form apply makes to a level: its grants move to the level role, the access stays. */
function formOfLevel(
  name: string,
  access: Access,
  liveLevelRole: string | undefined,
  database: string,
): string[] {
  const target =
    access.kind === 'level' && hasLevelRole(access.level) ? levelRoleName(database, access.level) : undefined;
  if (target === liveLevelRole) return [];
  if (target && liveLevelRole === undefined)
    return [`apply makes it a member of level role ${target} in place of its direct grants: the same access`];
  if (target) return [`apply moves it from level role ${liveLevelRole} to ${target}`];
  return liveLevelRole
    ? [
        `apply grants its privileges to ${name} directly and revokes its membership in level role ${liveLevelRole}: the same access`,
      ]
    : [];
}

/** What the plan does to the default credential and to roles that are not credentials, in its words. */
function ownerNotes(plan: Plan, declared: ReadonlyMap<string, Access>): string[] {
  const notes: string[] = [];
  const admin: string[] = [];
  for (const change of plan.changes) {
    if (declared.has(change.subject)) continue;
    if (
      change.action === 'grant-membership' &&
      change.description.startsWith('gets admin option on credential')
    )
      admin.push(change.target.replace(/^role /, ''));
    else
      notes.push(
        `${change.subject === 'default' ? 'default credential:' : `${change.subject}:`} ${change.description}`,
      );
  }
  if (admin.length > 0)
    notes.push(
      `default credential: gets admin option on ${admin.length === 1 ? 'credential' : 'credentials'} ${admin.join(', ')}, as Heroku's has on every credential`,
    );
  return notes;
}

interface FormGrant {
  readonly target: string;
  readonly privileges: readonly string[];
}

/**
 * The live state as it would be after apply made the declaration: each declared role
 * and the default credential marked, the default credential's memberships, and the
 * privileges a declaration implies (CONNECT, USAGE on a granted table's schema) made
 * direct where PUBLIC holds them already. Those grants change the form of access, not
 * access: whoever holds them through PUBLIC keeps them.
 */
export function afterApply(
  live: LiveState,
  owner: string,
  ownerIsAdmin: boolean,
  declared: ReadonlyMap<string, Access>,
  schemas: readonly string[],
): { state: LiveState; form: Map<string, FormGrant[]> } {
  const s = live.server;
  const db = s.database;
  const roles = new Map(live.roles);
  const form = new Map<string, FormGrant[]>();
  let databaseAcl = [...s.acl];
  const schemaAcls = new Map(live.schemas.map((schema) => [schema.name, [...schema.acl]]));
  const publicDb = direct(s.acl, null);
  for (const [name, access] of declared) {
    const role = roles.get(name);
    if (!role) continue;
    const mark = parseManagedComment(role.comment);
    roles.set(name, { ...role, comment: managedComment('credential', db, !mark || mark.adopted) });
    const expanded = expandAccess(access, schemas);
    const grants: FormGrant[] = [];
    const heldDb = direct(databaseAcl, name);
    const dbForm = sortPrivileges([...expanded.database].filter((p) => !heldDb.has(p) && publicDb.has(p)));
    if (dbForm.length > 0) {
      databaseAcl = [...databaseAcl, ...dbForm.map((privilege) => ({ grantee: name, privilege }))];
      grants.push({ target: `database ${db}`, privileges: dbForm });
    }
    for (const [schema, wanted] of expanded.schemas) {
      const acl = schemaAcls.get(schema);
      if (!acl) continue;
      const held = direct(acl, name);
      const viaPublic = direct(acl, null);
      const schemaForm = sortPrivileges([...wanted].filter((p) => !held.has(p) && viaPublic.has(p)));
      if (schemaForm.length === 0) continue;
      schemaAcls.set(schema, [...acl, ...schemaForm.map((privilege) => ({ grantee: name, privilege }))]);
      grants.push({ target: `schema ${displayIdent(schema)}`, privileges: schemaForm });
    }
    if (grants.length > 0) form.set(name, grants);
  }
  const ownerRole = roles.get(owner);
  if (ownerRole) {
    const mark = parseManagedComment(ownerRole.comment);
    const memberOf = [...ownerRole.memberOf];
    const has = new Set(memberOf.map((m) => m.role));
    for (const role of OWNER_MEMBERSHIPS) if (!has.has(role)) memberOf.push({ role, admin: false });
    if (!ownerIsAdmin) {
      for (const name of declared.keys())
        if (!memberOf.some((m) => m.role === name && m.admin)) memberOf.push({ role: name, admin: true });
    }
    roles.set(owner, {
      ...ownerRole,
      memberOf,
      ...(ownerIsAdmin
        ? {}
        : {
            comment:
              mark?.kind === 'default credential' && mark.database === db
                ? ownerRole.comment
                : managedComment('default credential', db, true),
          }),
    });
  }
  const publicSchemaOwner =
    s.publicSchemaOwner !== null && s.publicSchemaOwner !== 'pg_database_owner' ? owner : s.publicSchemaOwner;
  return {
    state: {
      ...live,
      server: { ...s, acl: databaseAcl, publicSchemaOwner },
      roles,
      schemas: live.schemas.map((schema) => ({ ...schema, acl: schemaAcls.get(schema.name)! })),
    },
    form,
  };
}
