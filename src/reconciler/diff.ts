import { createHash } from 'node:crypto';
import type { Access, PublicPolicy } from '../model/config';
import { rotatingUsername } from '../model/names';
import { FOLLOWER_MESSAGE } from '../model/plans';
import { type ExpandedAccess, emptyAccess, expandAccess } from './desired';
import { refuseWhatTheAdminCannotDo } from './diff-admin';
import {
  reportForeignOwners,
  reportMissingObjects,
  reportRowSecurity,
  reportUnmanaged,
} from './diff-findings';
import {
  planDatabasePrivileges,
  planDefaultPrivileges,
  planDefinerFunctions,
  planRelationPrivileges,
  planSchemaPrivileges,
} from './diff-privileges';
import { creatorRoles, hardensPublic, publicLosses, reachingRoles, reportPublicKept } from './diff-public';
import { dropRole, planCredential, planOwner } from './diff-roles';
import type { LiveState } from './live-state';
import { parseManagedComment } from './markers';
import type { ChangeAction, ExecutorName, Plan } from './plan';
import { Phase, PlanBuilder, PUBLIC } from './plan-builder';

/** What pgcred knows of a password: the live one matches, was changed by hand, or pgcred never had it. */
export type PasswordStatus = 'ok' | 'changed' | 'unknown';

export interface DesiredCredential {
  readonly name: string;
  readonly access: Access;
}

/** The declared side of the diff, with what the control store knows. */
export interface DesiredDatabase {
  /** The database as the config names it (postgresql-sunny-1234). */
  readonly name: string;
  readonly executor: ExecutorName;
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

/**
 * Heroku's default usernames look random; pgcred derives one from the database
 * name so that every run, and every machine, agrees on it without storing it.
 */
export function derivedOwnerName(database: string): string {
  const digest = createHash('sha256').update(`pgcred-default:${database}`).digest();
  let name = 'u';
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; name.length < 14; i++) name += alphabet[digest[i]! % alphabet.length];
  return name;
}

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
          `credential ${credential.name} is granted MAINTAIN, which PostgreSQL ${Math.floor(s.versionNum / 10000)} does not have (it came in 17)`,
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
  for (const credential of desired.credentials) {
    if (!scope || scope.has(credential.name))
      planCredential(b, desired, live, credential.name, owner, ownerIsAdmin);
  }

  // Managed roles of this database that are no longer declared, and rotations that ended.
  const staleRotating: string[] = [];
  const dropped: string[] = [];
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
    if (mark.kind === 'credential' && !declared.has(role.name) && role.name !== owner) {
      const apps = desired.attachedApps?.get(role.name) ?? [];
      if (desired.prune && apps.length > 0) {
        b.errors.push(
          `Credential ${role.name} must be detached from the app${apps.length > 1 ? 's' : ''} ${apps.map((a) => `⬢ ${a}`).join(', ')} before destroying.`,
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

  // Privileges. The owner holds everything by ownership and is left alone.
  const controlSchema = desired.controlSchema;
  const schemas = live.schemas.map((schema) => schema.name).filter((name) => name !== controlSchema);
  const liveSchemas = new Set(live.schemas.map((schema) => schema.name));
  const accesses = new Map<string, ExpandedAccess>();
  for (const credential of desired.credentials) {
    if (!scope || scope.has(credential.name))
      accesses.set(credential.name, expandAccess(credential.access, schemas));
  }
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

  reportMissingObjects(b, desired, live, accesses, liveSchemas);
  planDatabasePrivileges(b, live, accesses);
  planSchemaPrivileges(b, live, accesses);
  planRelationPrivileges(b, live, accesses);
  // Findings about other roles belong to whole-database plans, not to a command's scoped one.
  const creators = creatorRoles(scope ? new PlanBuilder() : b, desired, live, owner, declared);
  planDefaultPrivileges(b, live, accesses, owner, liveSchemas, creators);
  planDefinerFunctions(b, live, accesses);
  refuseWhatTheAdminCannotDo(b, desired, live, owner, dropped);
  if (!scope) {
    if (!hardenPublic) reportPublicKept(b, desired, live, reaching);
    reportRowSecurity(b, live, accesses);
    reportUnmanaged(b, desired, live, owner, declared);
    reportForeignOwners(b, desired, live, owner, creators);
  }

  return b.build(desired.name, db, owner, desired.executor);
}
