import { displayIdent, parseSchemaName, quoteIdent } from '../model/identifiers';
import { comparePrivileges } from '../model/permission-level';
import type { DesiredDatabase } from './diff';
import type { LiveRole, LiveState } from './live-state';
import { parseManagedComment } from './markers';
import { type Intent, type PlanBuilder, PUBLIC, type PublicLoss } from './plan-builder';

// PUBLIC is every role of the cluster, now and later: other databases' apps, backup,
// monitoring and replication users. Taking CONNECT, USAGE or EXECUTE from PUBLIC cuts
// off every one of them that relies on it, and granting it back one role at a time
// would rebuild PUBLIC and still lock out roles created later. So pgcred hardens PUBLIC
// only where no role it does not manage can reach the database, or when asked to.

/** Roles pgcred may not take anything from: not marked as pgcred's (for any database), not declared. */
export function unmanagedRoles(
  desired: DesiredDatabase,
  live: LiveState,
  owner: string,
  declared: ReadonlySet<string>,
): LiveRole[] {
  const s = live.server;
  return [...live.roles.values()].filter(
    (role) =>
      role.name !== owner &&
      role.name !== s.currentUser &&
      role.name !== s.bootstrapUser &&
      !role.name.startsWith('pg_') &&
      !declared.has(role.name) &&
      !desired.rotating.includes(role.name) &&
      !parseManagedComment(role.comment),
  );
}

/** Every role `name` is a member of, directly or through other roles, and itself. */
export function memberships(live: LiveState, name: string): Set<string> {
  const seen = new Set<string>([name]);
  const queue = [name];
  while (queue.length > 0) {
    const role = live.roles.get(queue.pop()!);
    for (const m of role?.memberOf ?? []) {
      if (!seen.has(m.role)) {
        seen.add(m.role);
        queue.push(m.role);
      }
    }
  }
  return seen;
}

/**
 * The login roles pgcred does not manage that can connect to this database: all of
 * them while PUBLIC holds CONNECT, else those granted CONNECT (themselves or through a
 * role). Superusers are left out: privileges do not bind them.
 */
export function reachingRoles(
  desired: DesiredDatabase,
  live: LiveState,
  owner: string,
  declared: ReadonlySet<string>,
): string[] {
  const acl = live.server.acl;
  const publicConnect = acl.some((e) => e.grantee === null && e.privilege === 'CONNECT');
  const connectors = new Set(acl.filter((e) => e.grantee && e.privilege === 'CONNECT').map((e) => e.grantee));
  return unmanagedRoles(desired, live, owner, declared)
    .filter((role) => role.login && !role.superuser)
    .filter((role) => publicConnect || [...memberships(live, role.name)].some((r) => connectors.has(r)))
    .map((role) => role.name)
    .sort();
}

export function hardensPublic(desired: DesiredDatabase, reaching: readonly string[]): boolean {
  const policy = desired.publicPolicy ?? 'auto';
  return policy === 'harden' || (policy === 'auto' && reaching.length === 0);
}

function listRoles(roles: readonly string[]): string {
  const shown = roles.slice(0, 5);
  return `${shown.join(', ')}${roles.length > shown.length ? `, and ${roles.length - shown.length} more` : ''}`;
}

/** What PUBLIC holds here that a level cannot withhold while PUBLIC is left as it is. */
function publicHoldings(live: LiveState): string[] {
  const s = live.server;
  const parts: string[] = [];
  const db = s.acl.filter((e) => e.grantee === null).map((e) => e.privilege);
  if (db.length > 0) parts.push(`${db.sort(comparePrivileges).join(', ')} on database ${s.database}`);
  for (const schema of live.schemas) {
    const privileges = schema.acl.filter((e) => e.grantee === null).map((e) => e.privilege);
    if (privileges.length > 0)
      parts.push(`${privileges.sort(comparePrivileges).join(', ')} on schema ${displayIdent(schema.name)}`);
  }
  for (const group of live.relationPrivileges) {
    if (group.grantee === null)
      parts.push(
        `${group.privilege} on ${group.holding} ${group.class} in schema ${displayIdent(group.schema)}`,
      );
  }
  const definers = live.definerFunctions.filter((fn) => fn.executors.includes(null));
  if (definers.length > 0) {
    const names = definers.slice(0, 3).map((fn) => `${displayIdent(fn.schema)}.${displayIdent(fn.name)}`);
    parts.push(
      `EXECUTE on ${definers.length} SECURITY DEFINER routine${definers.length === 1 ? '' : 's'} (${names.join(', ')}${definers.length > names.length ? ', …' : ''}), which run as their owners`,
    );
  }
  return parts;
}

/** The notice of a database whose PUBLIC pgcred leaves as it is. */
export function reportPublicKept(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  reaching: readonly string[],
): void {
  const holdings = publicHoldings(live);
  if (holdings.length === 0) return;
  const why =
    desired.publicPolicy === 'keep'
      ? 'the database is set to public: keep'
      : `roles pgcred does not manage reach this database through PUBLIC (${listRoles(reaching)})`;
  const createOnPublic = live.schemas.some(
    (schema) =>
      schema.name === 'public' && schema.acl.some((e) => e.grantee === null && e.privilege === 'CREATE'),
  );
  b.finding({
    kind: 'public-kept',
    severity: 'notice',
    subject: PUBLIC,
    description:
      `PUBLIC keeps ${holdings.join('; ')}: ${why}, so pgcred leaves PUBLIC as it is, and none and the levels ` +
      `cannot withhold these from any credential${createOnPublic ? ' (CREATE on public lets every credential create tables there)' : ''}`,
    remedy:
      'set `public: harden` on the database to take them from PUBLIC (the plan then lists what each of those roles loses); ' +
      'grant those roles what they need first',
  });
}

/** For a hardening plan: what each role that is not pgcred's loses with PUBLIC's privileges. */
export function publicLosses(
  live: LiveState,
  reaching: readonly string[],
): (intent: Intent, target: string) => PublicLoss[] {
  const direct = (role: string, intent: Intent): Set<string> => {
    const held = new Set<string>();
    const roles = memberships(live, role);
    const add = (grantee: string | null, privilege: string) => {
      if (grantee !== null && roles.has(grantee)) held.add(privilege);
    };
    if (intent.kind === 'database') for (const e of live.server.acl) add(e.grantee, e.privilege);
    if (intent.kind === 'schema') {
      for (const schema of live.schemas)
        if (schema.name === intent.object) for (const e of schema.acl) add(e.grantee, e.privilege);
    }
    if (intent.kind === 'routine') {
      for (const fn of live.definerFunctions) {
        if (`${quoteIdent(fn.schema)}.${quoteIdent(fn.name)}(${fn.arguments})` === intent.object)
          for (const grantee of fn.executors) if (grantee !== null && roles.has(grantee)) held.add('EXECUTE');
      }
    }
    return held;
  };
  return (intent, target) => {
    // Default privileges of PUBLIC concern objects not made yet; what exists is listed.
    if (intent.kind === 'default') return [];
    const losses: PublicLoss[] = [];
    for (const role of reaching) {
      const held = direct(role, intent);
      const lost = intent.privileges.filter((p) => p === 'ALL' || !held.has(p));
      if (lost.length === 0) continue;
      losses.push({
        subject: role,
        target,
        description: `loses ${lost.join(', ')} on ${target}: role ${role} is not pgcred's and held it through PUBLIC`,
      });
    }
    return losses;
  };
}

/** The schemas each credential is declared to hold CREATE on, by credential. */
function schemasDeclaringCreate(desired: DesiredDatabase): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of desired.credentials) {
    if (c.access.kind !== 'grants') continue;
    for (const g of c.access.grants) {
      if (g.on !== 'schema' || !g.privileges.includes('CREATE')) continue;
      let schemas = out.get(c.name);
      if (!schemas) {
        schemas = new Set();
        out.set(c.name, schemas);
      }
      for (const o of g.objects) schemas.add(parseSchemaName(o));
    }
  }
  return out;
}

/**
 * Roles pgcred does not manage whose future objects the levels should cover too: those
 * that own objects here or hold CREATE on one of its schemas. The admin can set their
 * default privileges as a superuser or as a member of the role; the others get a notice.
 */
export function creatorRoles(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  owner: string,
  declared: ReadonlySet<string>,
): string[] {
  const s = live.server;
  const unmanaged = new Set(unmanagedRoles(desired, live, owner, declared).map((role) => role.name));
  const creators = new Set<string>();
  for (const owned of live.foreignOwnership) {
    if (owned.schema !== desired.controlSchema && unmanaged.has(owned.owner)) creators.add(owned.owner);
  }
  // A credential declared with CREATE on a schema makes objects there too, from the
  // apply that grants it (one that holds CREATE without declaring it is about to lose it).
  const declaring = schemasDeclaringCreate(desired);
  for (const schema of live.schemas) {
    if (schema.name === desired.controlSchema) continue;
    for (const e of schema.acl)
      if (e.grantee && e.privilege === 'CREATE' && unmanaged.has(e.grantee)) creators.add(e.grantee);
    for (const name of declared) if (declaring.get(name)?.has(schema.name)) creators.add(name);
  }
  const ignored = new Set(desired.ignoreRoles);
  const adminRoles = memberships(live, s.currentUser);
  const settable: string[] = [];
  for (const role of [...creators].sort()) {
    if (live.roles.get(role)?.superuser) continue;
    if (s.isSuperuser || adminRoles.has(role)) {
      settable.push(role);
    } else if (!ignored.has(role)) {
      b.finding({
        kind: 'default-privileges',
        severity: 'notice',
        subject: role,
        description: `tables and sequences ${role} creates later are not covered by the levels: the admin role ${s.currentUser} can set default privileges only for roles it is a member of`,
        remedy: `a superuser can run pgcred apply once, or run GRANT ${quoteIdent(role)} TO ${quoteIdent(s.currentUser)} so pgcred can set them`,
      });
    }
  }
  return settable;
}
