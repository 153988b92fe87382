import type { DesiredDatabase } from '../../src/reconciler/diff';
import type { LiveRole, LiveState, RelationPrivilegeGroup } from '../../src/reconciler/live-state';
import { managedComment } from '../../src/reconciler/markers';

/** Hand-written live states for the pure diff: what inspection would have found. */
export function role(name: string, over: Partial<LiveRole> = {}): LiveRole {
  return {
    name,
    superuser: false,
    createdb: false,
    createrole: false,
    replication: false,
    bypassrls: false,
    login: true,
    inherit: true,
    connectionLimit: -1,
    hasValidUntil: false,
    config: [],
    comment: null,
    memberOf: [],
    connections: 0,
    ...over,
  };
}

export const OWNER = 'u_owner';
const OWNER_MEMBERSHIPS = ['pg_monitor', 'pg_read_all_settings', 'pg_read_all_stats', 'pg_signal_backend'];

export function managed(name: string, over: Partial<LiveRole> = {}): LiveRole {
  return role(name, { comment: managedComment('credential', 'app'), ...over });
}

/** A database that pgcred has set up: owner in place, PUBLIC revoked, no credentials yet. */
/** The level roles of the database the config calls `app`. */
export const RO = 'pgcred:read-only:app';
export const RW = 'pgcred:read-write:app';

/** A credential at a level, as apply leaves it: CONNECT, and a member of its level role. */
export function atLevel(name: string, levelRole: string, over: Partial<LiveRole> = {}): LiveRole {
  return managed(name, { memberOf: [{ role: levelRole, admin: false }], ...over });
}

/**
 * The level roles as apply leaves them, over `schemas` (name -> tables): marked, the
 * default credential their admin, and holding their level on every schema.
 */
function levelRoleState(schemas: readonly string[], totals: Record<string, number>) {
  const levels = [
    { name: RO, tables: ['SELECT'], sequences: ['SELECT'], database: [] as string[] },
    {
      name: RW,
      tables: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'],
      sequences: ['USAGE', 'SELECT'],
      database: ['TEMPORARY'],
    },
  ];
  return {
    roles: levels.map((l) =>
      role(l.name, { login: false, inherit: false, comment: managedComment('level role', 'app') }),
    ),
    acl: levels.flatMap((l) => l.database.map((privilege) => ({ grantee: l.name, privilege }))),
    schemaAcl: levels.map((l) => ({ grantee: l.name, privilege: 'USAGE' })),
    relations: levels.flatMap((l) =>
      schemas
        .filter((schema) => (totals[schema] ?? 0) > 0)
        .flatMap((schema) => l.tables.map((p) => held(l.name, schema, p, totals[schema]!, totals[schema]!))),
    ),
    defaults: levels.flatMap((l) => [
      ...l.tables.map((privilege) => ({
        owner: OWNER,
        schema: null,
        objtype: 'tables' as const,
        grantee: l.name,
        privilege,
      })),
      ...l.sequences.map((privilege) => ({
        owner: OWNER,
        schema: null,
        objtype: 'sequences' as const,
        grantee: l.name,
        privilege,
      })),
      { owner: OWNER, schema: null, objtype: 'schemas' as const, grantee: l.name, privilege: 'USAGE' },
    ]),
  };
}

export function liveState(
  over: Partial<LiveState> & {
    extraRoles?: LiveRole[];
    tables?: Record<string, number>;
    /** false: the database has no level roles yet (applied by a version before them, or never). */
    levelRoles?: boolean;
  } = {},
): LiveState {
  const roles = new Map<string, LiveRole>();
  roles.set('postgres', role('postgres', { superuser: true }));
  const tables = over.tables ?? { public: 3 };
  const withLevels = over.levelRoles !== false;
  const schemaNames = over.schemas?.map((schema) => schema.name) ?? Object.keys(tables);
  const totals: Record<string, number> = { ...tables };
  for (const t of over.relationTotals ?? []) if (t.class === 'tables') totals[t.schema] = t.total;
  const levels = levelRoleState(withLevels ? schemaNames : [], totals);
  roles.set(
    OWNER,
    role(OWNER, {
      comment: managedComment('default credential', 'app'),
      memberOf: [
        ...OWNER_MEMBERSHIPS.map((r) => ({ role: r, admin: false })),
        ...(withLevels ? [RO, RW].map((r) => ({ role: r, admin: true, inherit: false, set: false })) : []),
      ],
    }),
  );
  if (withLevels) for (const r of levels.roles) roles.set(r.name, r);
  for (const extra of over.extraRoles ?? []) roles.set(extra.name, extra);
  const base = baseState(over, roles, tables);
  if (!withLevels) return base;
  return {
    ...base,
    server: { ...base.server, acl: [...base.server.acl, ...levels.acl] },
    schemas: base.schemas.map((schema) => ({ ...schema, acl: [...schema.acl, ...levels.schemaAcl] })),
    relationPrivileges: [...base.relationPrivileges, ...levels.relations],
    defaultPrivileges: [...base.defaultPrivileges, ...levels.defaults],
  };
}

function baseState(
  over: Partial<LiveState> & {
    extraRoles?: LiveRole[];
    tables?: Record<string, number>;
    levelRoles?: boolean;
  },
  roles: Map<string, LiveRole>,
  tables: Record<string, number>,
): LiveState {
  const { extraRoles: _extra, tables: _tables, levelRoles: _levels, ...rest } = over;
  return {
    server: {
      versionNum: 170000,
      currentUser: 'postgres',
      isSuperuser: true,
      canCreateRoles: true,
      inRecovery: false,
      database: 'app',
      owner: OWNER,
      ownerIsSuperuser: false,
      bootstrapUser: 'postgres',
      publicSchemaOwner: OWNER,
      acl: [],
    },
    roles,
    schemas: Object.keys(tables).map((name) => ({ name, owner: OWNER, acl: [] })),
    relationTotals: Object.entries(tables)
      .filter(([, n]) => n > 0)
      .map(([schema, total]) => ({ schema, class: 'tables' as const, total })),
    relationPrivileges: [],
    defaultPrivileges: [],
    foreignOwnership: [],
    declaredObjects: [],
    definerFunctions: [],
    ...rest,
  };
}

export function desired(over: Partial<DesiredDatabase> = {}): DesiredDatabase {
  return {
    name: 'app',
    executor: 'pgcred',
    owner: OWNER,
    credentials: [],
    ignoreRoles: [],
    controlSchema: 'pgcred',
    rotating: [],
    prune: false,
    ...over,
    passwords: new Map([[OWNER, 'ok'], ...(over.passwords ?? new Map())]),
  };
}

export function held(
  grantee: string | null,
  schema: string,
  privilege: string,
  holding: number,
  total: number,
  extra: Partial<RelationPrivilegeGroup> = {},
): RelationPrivilegeGroup {
  return { schema, class: 'tables', grantee, privilege, holding, total, ...extra };
}

/** A credential that apply has fully set up at a level over schema public (3 tables). */
export function readOnlyAnalyst(): Partial<LiveState> {
  return {
    server: { ...liveState().server, acl: [{ grantee: 'analyst', privilege: 'CONNECT' }] },
    schemas: [{ name: 'public', owner: OWNER, acl: [{ grantee: 'analyst', privilege: 'USAGE' }] }],
    relationPrivileges: [held('analyst', 'public', 'SELECT', 3, 3)],
    defaultPrivileges: [
      { owner: OWNER, schema: null, objtype: 'tables', grantee: 'analyst', privilege: 'SELECT' },
      { owner: OWNER, schema: null, objtype: 'sequences', grantee: 'analyst', privilege: 'SELECT' },
      { owner: OWNER, schema: null, objtype: 'schemas', grantee: 'analyst', privilege: 'USAGE' },
    ],
  };
}
