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
export function liveState(
  over: Partial<LiveState> & { extraRoles?: LiveRole[]; tables?: Record<string, number> } = {},
): LiveState {
  const roles = new Map<string, LiveRole>();
  roles.set('postgres', role('postgres', { superuser: true }));
  roles.set(
    OWNER,
    role(OWNER, {
      comment: managedComment('default credential', 'app'),
      memberOf: OWNER_MEMBERSHIPS.map((r) => ({ role: r, admin: false })),
    }),
  );
  for (const extra of over.extraRoles ?? []) roles.set(extra.name, extra);
  const tables = over.tables ?? { public: 3 };
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
    ...over,
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
