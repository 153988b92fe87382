import { defaultKey, type ExpandedAccess, emptyAccess, expandAccess, relationKey } from '../model/access';
import type { Access, PublicPolicy } from '../model/config';
import {
  credentialOfUsername,
  derivedOwnerName,
  rotatingUsername,
  type UsernameScheme,
} from '../model/names';
import type { ChangeAction, ExecutorName, Plan } from '../model/plan';
import { FOLLOWER_MESSAGE } from '../model/plans';
import { refuseWhatTheAdminCannotDo } from './diff-admin';
import {
  reportForeignOwners,
  reportMissingObjects,
  reportRowSecurity,
  reportUnmanaged,
} from './diff-findings';
import {
  planColumnPrivileges,
  planDatabasePrivileges,
  planDefaultPrivileges,
  planDefinerFunctions,
  planRelationPrivileges,
  planRoutinePrivileges,
  planSchemaPrivileges,
} from './diff-privileges';
import { creatorRoles, hardensPublic, publicLosses, reachingRoles, reportPublicKept } from './diff-public';
import { dropRole, planCredential, planOwner } from './diff-roles';
import {
  hasLevelRole,
  levelRoleNames,
  planHandMemberships,
  planLevelMembership,
  planLevelRoles,
  type RoleLevel,
} from './level-roles';
import type { DefaultObjectType, LiveState, RelationClass } from './live-state';
import { parseManagedComment } from './markers';
import { Phase, PlanBuilder, PUBLIC } from './plan-builder';

/** What pgcred knows of a password: the live one matches, was changed by hand, or pgcred never had it. */
/** unchecked: the control store, which holds the passwords, could not be reached (drift goes on without it). */
export type PasswordStatus = 'ok' | 'changed' | 'unknown' | 'unchecked';

export interface DesiredCredential {
  readonly name: string;
  readonly access: Access;
  /** Group roles it belongs to (not pgcred's); every other membership is revoked. */
  readonly memberOf?: readonly string[];
}

/** The declared side of the diff, with what the control store knows. */
export interface DesiredDatabase {
  /** The database as the config names it (postgresql-sunny-1234). */
  readonly name: string;
  readonly executor: ExecutorName;
  /**
   * How levels are granted: through the database's level roles (the default), or
   * directly to each credential, the form import compares a live role's grants in.
   */
  readonly levelForm?: 'roles' | 'direct';
  /** Username of the default credential, when declared. */
  readonly owner?: string;
  readonly credentials: readonly DesiredCredential[];
  readonly ignoreRoles: readonly string[];
  /** PUBLIC's privileges: taken away only where no role pgcred does not manage reaches the database (auto). */
  readonly publicPolicy?: PublicPolicy;
  /** The control store's schema, when it lives in this database: no credential may reach it. */
  readonly controlSchema?: string;
  /** `<name>-rotating` usernames of rotations in progress. */
  readonly rotating: readonly string[];
  readonly passwords: ReadonlyMap<string, PasswordStatus>;
  /** Destroy managed credentials that are no longer declared. */
  readonly prune: boolean;
  /** Apps each credential is attached to: an attached credential is never pruned. */
  readonly attachedApps?: ReadonlyMap<string, readonly string[]>;
  /**
   * Plan only these credentials (an imperative command): no default-credential
   * setup, no hardening, no findings about anything else.
   */
  readonly scope?: ReadonlySet<string>;
  /** With a scope: the one managed credential pruned (credentials:destroy), its rotating username with it. */
  readonly destroy?: string;
  /** Changes a command adds to the plan (ownership hand-over), made in the same transaction. */
  readonly extra?: readonly ExtraChange[];
  /**
   * The database's username scheme. The diff works on role names (credentials, scope,
   * destroy, attachedApps and passwords are keyed by username: credentialUsername in
   * model/names.ts); the plan's subjects name the credential, as people know it.
   */
  readonly usernameScheme?: UsernameScheme;
}

export interface ExtraChange {
  /** 'first' runs before everything else, 'last' after. */
  readonly when: 'first' | 'last';
  readonly action: ChangeAction;
  readonly subject: string;
  readonly target: string;
  readonly description: string;
  readonly sql: string;
  readonly destructive: boolean;
}

/** A credential at a level: CONNECT, and the level through its level role. */
function connectOnly(): ExpandedAccess {
  const access = emptyAccess();
  access.database.add('CONNECT');
  return access;
}

export { derivedOwnerName };

/** The default credential's username: declared, else the live owner if it is an ordinary role, else derived. */
export function ownerName(
  desired: { readonly name: string; readonly owner?: string },
  live: LiveState,
): string {
  if (desired.owner) return desired.owner;
  const s = live.server;
  if (!s.ownerIsSuperuser && s.owner !== s.bootstrapUser) return s.owner;
  return derivedOwnerName(desired.name);
}

/**
 * How the plan names a role: under a username scheme, a declared credential or a
 * managed one of this database by its credential name (`db17_analyst` is `analyst`).
 */
function credentialNamer(
  desired: DesiredDatabase,
  live: LiveState,
  declared: ReadonlySet<string>,
): (role: string) => string {
  const scheme = desired.usernameScheme;
  if (scheme?.usernamePrefix === undefined) return (role) => role;
  const credentialRoles = new Set(declared);
  for (const role of live.roles.values()) {
    const mark = parseManagedComment(role.comment);
    if (mark?.kind === 'credential' && mark.database === live.server.database) credentialRoles.add(role.name);
  }
  return (role) => (credentialRoles.has(role) ? (credentialOfUsername(scheme, role) ?? role) : role);
}

/**
 * The pure heart of pgcred: from what is declared and what is live, the changes
 * that make live match, grouped into as few statements as the catalog allows.
 */
export function diff(desired: DesiredDatabase, live: LiveState): Plan {
  const b = new PlanBuilder();
  const s = live.server;
  const db = s.database;
  const owner = ownerName(desired, live);
  const ownerIsAdmin = owner === s.currentUser;
  const roles = live.roles;
  const declared = new Set(desired.credentials.map((c) => c.name));
  const rotatingExpected = new Set(desired.rotating);
  const shown = credentialNamer(desired, live, declared);

  if (s.inRecovery) b.errors.push(FOLLOWER_MESSAGE);
  // MAINTAIN (VACUUM, ANALYZE, REINDEX, ... of a table) came in PostgreSQL 17: refuse it, by name, before a GRANT fails.
  if (s.versionNum < 170000) {
    for (const credential of desired.credentials) {
      if (desired.scope && !desired.scope.has(credential.name)) continue;
      if (
        credential.access.kind === 'grants' &&
        credential.access.grants.some((g) => g.privileges.includes('MAINTAIN'))
      )
        b.errors.push(
          `credential ${shown(credential.name)} is granted MAINTAIN, which PostgreSQL ${Math.floor(s.versionNum / 10000)} does not have (it came in 17)`,
        );
    }
  }
  if (!s.isSuperuser && !ownerIsAdmin) {
    b.errors.push(
      `the admin role ${s.currentUser} is neither a superuser nor the database owner (${owner}): ` +
        'pgcred needs one of them to grant on every object',
    );
  }
  const ownerMark = parseManagedComment(roles.get(owner)?.comment ?? null);
  if (ownerMark && ownerMark.database !== db) {
    b.errors.push(
      `role ${owner} is already the ${ownerMark.kind} of database "${ownerMark.database}" in this cluster: ` +
        `roles are cluster-wide, so database ${desired.name} cannot make it its default credential; ` +
        'name another username with owner:',
    );
  }
  for (const credential of desired.credentials) {
    const role = roles.get(credential.name);
    const mark = parseManagedComment(role?.comment ?? null);
    if (mark && mark.database !== db) {
      b.errors.push(
        `role ${credential.name} is already a ${mark.kind} of database "${mark.database}" in this cluster: ` +
          `roles are cluster-wide, so database ${desired.name} cannot declare its own ${credential.name}`,
      );
    }
    if (role?.superuser && !mark) {
      b.errors.push(
        `role ${credential.name} is a superuser pgcred does not manage; choose another credential name`,
      );
    }
    if (credential.name === s.currentUser || credential.name === owner) {
      b.errors.push(
        `credential ${credential.name} has the name of the ${credential.name === owner ? 'default credential' : 'admin role'}`,
      );
    }
  }

  for (const extra of desired.extra ?? []) {
    b.simple(
      extra.when === 'first' ? Phase.First : Phase.Last,
      extra.action,
      extra.subject,
      extra.target,
      extra.description,
      extra.sql,
      {
        destructive: extra.destructive,
      },
    );
  }
  const scope = desired.scope;
  // Every database has its default credential: a command's scoped plan on a database no
  // apply has shaped yet makes it first, as the provider's first change does.
  if (!scope || !roles.has(owner)) planOwner(b, desired, live, owner, ownerIsAdmin);
  const levelRoles =
    desired.levelForm === 'direct' ? new Map<RoleLevel, string>() : levelRoleNames(desired.name);
  const levelRoleSet = new Set(levelRoles.values());
  b.grantFirstTo(levelRoleSet);
  planLevelRoles(b, live, levelRoles, owner, ownerIsAdmin, desired.executor);
  for (const credential of desired.credentials) {
    if (scope && !scope.has(credential.name)) continue;
    planCredential(b, desired, live, credential.name, owner, ownerIsAdmin, shown(credential.name));
    const access = credential.access;
    planLevelMembership(
      b,
      live,
      levelRoles,
      credential.name,
      access.kind === 'level' && hasLevelRole(access.level) ? access.level : undefined,
      !roles.has(credential.name) ? 'new' : access.kind === 'grants' ? 'grants' : 'existing',
      owner,
    );
  }

  // Managed roles of this database that are no longer declared, and rotations that ended.
  const staleRotating: string[] = [];
  const dropped: string[] = [];
  const staleLevelRoles: string[] = [];
  const undeclaredKept = new Set<string>();
  // A scoped plan looks only at the credential it destroys, as prune would.
  const candidates = !scope
    ? [...roles.values()]
    : desired.destroy === undefined
      ? []
      : [desired.destroy, rotatingUsername(desired.destroy)].flatMap((name) => roles.get(name) ?? []);
  for (const role of candidates) {
    const mark = parseManagedComment(role.comment);
    if (!mark || mark.database !== db) continue;
    if (mark.kind === 'rotating username' && !rotatingExpected.has(role.name)) staleRotating.push(role.name);
    // A level role of this database under another name (a fork renamed in the config): its members moved.
    if (mark.kind === 'level role' && !levelRoleSet.has(role.name)) staleLevelRoles.push(role.name);
    if (mark.kind === 'rotating username' && rotatingExpected.has(role.name)) undeclaredKept.add(role.name);
    if (mark.kind === 'credential' && !declared.has(role.name) && !desired.prune)
      undeclaredKept.add(role.name);
    if (mark.kind === 'credential' && !declared.has(role.name) && role.name !== owner) {
      const apps = desired.attachedApps?.get(role.name) ?? [];
      if (desired.prune && apps.length > 0) {
        b.errors.push(
          `Credential ${shown(role.name)} must be detached from the app${apps.length > 1 ? 's' : ''} ${apps.map((a) => `⬢ ${a}`).join(', ')} before destroying.`,
        );
      } else if (desired.prune) {
        dropRole(
          b,
          live.server,
          role.name,
          owner,
          'credential',
          'is destroyed (no longer declared; --prune)',
        );
        dropped.push(role.name);
      } else {
        b.finding({
          kind: 'undeclared-credential',
          severity: 'notice',
          subject: role.name,
          description: `credential ${role.name} exists but is not declared`,
          remedy: 'declare it, or destroy it with pgcred apply --prune or pgcred credentials:destroy',
        });
      }
    }
  }
  for (const name of staleRotating) {
    dropRole(b, live.server, name, owner, 'rotating username', 'is dropped: no rotation is in progress');
    dropped.push(name);
  }
  for (const name of staleLevelRoles) {
    dropRole(
      b,
      live.server,
      name,
      owner,
      'level role',
      'is dropped: it is not a level role of this database any more',
    );
    dropped.push(name);
  }
  if (!scope) {
    for (const name of dropped) undeclaredKept.add(name);
    planHandMemberships(b, desired, live, levelRoles, owner, undeclaredKept);
  }

  // Privileges. The owner holds everything by ownership and is left alone.
  const controlSchema = desired.controlSchema;
  const schemas = live.schemas.map((schema) => schema.name).filter((name) => name !== controlSchema);
  const liveSchemas = new Set(live.schemas.map((schema) => schema.name));
  // What each grantee is granted: a level's privileges go to its level role only, and a
  // credential at a level holds CONNECT directly and the rest through its membership.
  // `effective` is what each credential can do, for the findings that speak of it.
  const accesses = new Map<string, ExpandedAccess>();
  const effective = new Map<string, ExpandedAccess>();
  // A command's scoped plan converges the level roles of the levels its credentials
  // are declared at (their level is the membership and the level role's privileges),
  // and creates any that is missing; the others' drift is the whole-database plan's.
  const scopedLevels = new Set(
    desired.credentials.flatMap((c) =>
      scope?.has(c.name) && c.access.kind === 'level' ? [c.access.level] : [],
    ),
  );
  for (const [level, name] of levelRoles) {
    if (scope && roles.has(name) && !scopedLevels.has(level)) continue;
    const access = expandAccess({ kind: 'level', level }, schemas);
    access.database.delete('CONNECT');
    accesses.set(name, access);
  }
  // The credentials at one level share one expansion, only read: at 60 credentials
  // over 50 schemas, expanding each was a tenth of a cold apply's planning.
  const perLevel = new Map<string, ExpandedAccess>();
  for (const credential of desired.credentials) {
    if (scope && !scope.has(credential.name)) continue;
    const viaRole = credential.access.kind === 'level' && levelRoles.size > 0;
    let access: ExpandedAccess;
    if (viaRole && credential.access.kind === 'level') {
      const level = credential.access.level;
      access = perLevel.get(level) ?? expandAccess(credential.access, schemas);
      perLevel.set(level, access);
    } else access = expandAccess(credential.access, schemas);
    effective.set(credential.name, access);
    accesses.set(credential.name, viaRole ? connectOnly() : access);
  }
  const levelOf = new Map<string, RoleLevel>();
  for (const credential of desired.credentials) {
    if (levelRoles.size > 0 && credential.access.kind === 'level' && hasLevelRole(credential.access.level))
      levelOf.set(credential.name, credential.access.level);
  }
  b.nameGrantees(
    new Map(
      [...levelRoles].map(([level, name]) => {
        const members = [...levelOf].filter(([, l]) => l === level).map(([c]) => shown(c));
        const listed = members.slice(0, 5).join(', ');
        const more = members.length > 5 ? `, and ${members.length - 5} more` : '';
        return [
          name,
          {
            subject: `level ${level}`,
            note: `level role ${name}${members.length > 0 ? `, for ${listed}${more}` : ', no credential at it yet'}`,
          },
        ];
      }),
    ),
  );
  b.onCoveredRevoke((object, grantee, privilege) => {
    const level = levelOf.get(grantee);
    if (!level) return undefined;
    const held = effective.get(grantee)!;
    const covered =
      object.kind === 'database'
        ? held.database.has(privilege)
        : object.kind === 'schema'
          ? (held.schemas.get(object.object)?.has(privilege) ?? false)
          : object.kind === 'relations'
            ? held.relations.get(relationKey(object.sort as RelationClass, object.object, privilege)) ===
              'all'
            : object.kind === 'default'
              ? (held.defaults
                  .get(
                    defaultKey(object.sort as DefaultObjectType, object.object === '' ? null : object.object),
                  )
                  ?.has(privilege) ?? false)
              : false;
    return covered ? levelRoles.get(level) : undefined;
  });
  // PUBLIC holds nothing (CVE-2018-1058), so that `none` really reads nothing, unless
  // that would take access from a role pgcred does not manage (see diff-public.ts).
  const reaching = scope ? [] : reachingRoles(desired, live, owner, declared);
  const hardenPublic = !scope && hardensPublic(desired, reaching);
  if (hardenPublic) {
    accesses.set(PUBLIC, emptyAccess());
    if (reaching.length > 0) b.onPublicRevoke(publicLosses(live, reaching));
  }
  if (!scope) for (const name of rotatingExpected) if (roles.has(name)) accesses.set(name, emptyAccess());
  // Roles about to be dropped lose their privileges in grouped statements first.
  for (const name of dropped) accesses.set(name, emptyAccess());

  // Credentials an earlier pgcred granted their level directly: this apply moves them.
  const holdingWholeSchemas = new Set(
    live.relationPrivileges.filter((g) => g.total > 0 && g.holding === g.total).map((g) => g.grantee),
  );
  const upgraded = [...levelOf.keys()].filter((name) => {
    const role = roles.get(name);
    return (
      role !== undefined &&
      !role.memberOf.some((m) => levelRoleSet.has(m.role)) &&
      holdingWholeSchemas.has(name)
    );
  });
  if (!scope && upgraded.length > 0) {
    const shown = upgraded.slice(0, 5).join(', ');
    b.finding({
      kind: 'level-role-upgrade',
      severity: 'notice',
      subject: upgraded.length === 1 ? upgraded[0]! : 'level roles',
      description:
        `${upgraded.length === 1 ? 'credential' : `${upgraded.length} credentials`} ${shown}${upgraded.length > 5 ? ', ...' : ''} ` +
        'hold their level by direct grants, as an earlier pgcred made them: this apply makes them members of the level ' +
        'roles and revokes those grants, in one transaction and never with less access; it rewrites each ' +
        'of their grants on every table once (about what a level change cost before level roles: minutes at 100,000 tables)',
      remedy:
        'nothing to do: after this apply, level changes, new credentials and destroys are membership statements',
    });
  }
  reportMissingObjects(b, desired, live, effective, liveSchemas);
  planDatabasePrivileges(b, live, accesses);
  planSchemaPrivileges(b, live, accesses);
  planRelationPrivileges(b, live, accesses);
  planColumnPrivileges(b, live, accesses);
  planRoutinePrivileges(b, live, accesses);
  // Findings about other roles belong to whole-database plans, not to a command's scoped one.
  const creators = creatorRoles(scope ? new PlanBuilder() : b, desired, live, owner, declared);
  planDefaultPrivileges(b, live, accesses, owner, liveSchemas, creators);
  planDefinerFunctions(b, live, accesses);
  refuseWhatTheAdminCannotDo(b, desired, live, owner, dropped);
  if (!scope) {
    if (!hardenPublic) reportPublicKept(b, desired, live, reaching);
    reportRowSecurity(b, live, effective);
    reportUnmanaged(b, desired, live, owner, declared);
    reportForeignOwners(b, desired, live, owner, creators);
  }

  const plan = b.build(desired.name, db, owner, desired.executor);
  if (desired.usernameScheme?.usernamePrefix === undefined) return plan;
  return {
    ...plan,
    changes: plan.changes.map((change) => ({ ...change, subject: shown(change.subject) })),
    findings: plan.findings.map((finding) => ({ ...finding, subject: shown(finding.subject) })),
  };
}
