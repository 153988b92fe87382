import { createHash } from 'node:crypto';
import type { Access } from '../model/config';
import { displayIdent, displayQualified, quoteIdent, quoteQualified } from '../model/identifiers';
import { comparePrivileges } from '../model/permission-level';
import { FOLLOWER_MESSAGE } from '../model/plans';
import {
  defaultKey,
  type ExpandedAccess,
  emptyAccess,
  expandAccess,
  relationKey,
  splitDefaultKey,
  splitRelationKey,
} from './desired';
import type {
  AclEntry,
  DefaultObjectType,
  LiveRole,
  LiveState,
  RelationClass,
  RelationPrivilegeGroup,
} from './live-state';
import { type ManagedKind, managedComment, parseManagedComment } from './markers';
import {
  type Change,
  type ChangeAction,
  type ExecutorName,
  type Finding,
  PASSWORD_PLACEHOLDER,
  type Plan,
  type Statement,
} from './plan';

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
  /** Changes a command adds to the plan (ownership hand-over, a destroy), made in the same transaction. */
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

const OWNER_MEMBERSHIPS = ['pg_monitor', 'pg_read_all_settings', 'pg_read_all_stats', 'pg_signal_backend'];
const PUBLIC = 'PUBLIC';
const FORBIDDEN_ATTRIBUTES = ['superuser', 'createdb', 'createrole', 'replication', 'bypassrls'] as const;
const ATTRIBUTE_SQL: Record<(typeof FORBIDDEN_ATTRIBUTES)[number], string> = {
  superuser: 'SUPERUSER',
  createdb: 'CREATEDB',
  createrole: 'CREATEROLE',
  replication: 'REPLICATION',
  bypassrls: 'BYPASSRLS',
};
const NEW_ROLE_ATTRIBUTES = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT';

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

type GrantKind = 'database' | 'schema' | 'relations' | 'relation' | 'default' | 'routine';

/** One grantee's grant or revoke of a set of privileges on one object, before grouping into statements. */
interface Intent {
  readonly action: 'grant' | 'revoke';
  readonly kind: GrantKind;
  /** relations/relation: the class; default: the object type */
  readonly sort: string;
  /** schema, qualified relation, default-privilege scope ('' = database-wide), or '' for the database */
  readonly object: string;
  readonly privileges: readonly string[];
  readonly grantee: string;
  readonly change: number;
}

class PlanBuilder {
  readonly changes: Change[] = [];
  readonly statements: Statement[] = [];
  readonly findings: Finding[] = [];
  readonly errors: string[] = [];
  private pending: {
    change: Omit<Change, 'id' | 'statement' | 'sql'>;
    sql?: string;
    passwordFor?: string;
    phase: number;
  }[] = [];
  private intents: (Intent & { phase: number })[] = [];
  private intentChanges: Omit<Change, 'id' | 'statement' | 'sql'>[] = [];

  /** A change made by exactly one statement. */
  simple(
    phase: number,
    action: ChangeAction,
    subject: string,
    target: string,
    description: string,
    sql: string,
    options: { destructive?: boolean; passwordFor?: string } = {},
  ): void {
    this.pending.push({
      change: { action, subject, target, description, destructive: options.destructive ?? false },
      sql,
      passwordFor: options.passwordFor,
      phase,
    });
  }

  /** A grant or revoke that may share its statement with other grantees and objects. */
  intent(
    intent: Omit<Intent, 'change'>,
    subject: string,
    target: string,
    description: string,
    destructive: boolean,
  ): void {
    const change = this.intentChanges.length;
    this.intentChanges.push({ action: intent.action, subject, target, description, destructive });
    this.intents.push({ ...intent, change, phase: intent.action === 'revoke' ? Phase.Revoke : Phase.Grant });
  }

  /**
   * A grantee's grants and revokes on one object: one change each way, described in
   * words (`gains SELECT on all tables in schema public`), grouped into statements later.
   */
  converge(
    object: Pick<Intent, 'kind' | 'sort' | 'object'>,
    grantee: string,
    target: string,
    grant: readonly string[],
    revoke: readonly string[],
    detail: { grant?: string; revoke?: string } = {},
  ): void {
    const sorted = (privileges: readonly string[]) => [...privileges].sort(comparePrivileges);
    if (grant.length > 0) {
      const privileges = sorted(grant);
      this.intent(
        { ...object, action: 'grant', privileges, grantee },
        grantee,
        target,
        `gains ${privileges.join(', ')} on ${target}${detail.grant ?? ''}`,
        false,
      );
    }
    if (revoke.length > 0) {
      const privileges = sorted(revoke);
      this.intent(
        { ...object, action: 'revoke', privileges, grantee },
        grantee,
        target,
        `loses ${privileges.join(', ')} on ${target}${detail.revoke ?? ''}`,
        true,
      );
    }
  }

  finding(finding: Finding): void {
    this.findings.push(finding);
  }

  build(database: string, pgDatabase: string, owner: string, executor: ExecutorName): Plan {
    const groups = groupIntents(this.intents, pgDatabase, owner);
    type Entry = {
      phase: number;
      order: number;
      sql: string;
      passwordFor?: string;
      changes: Omit<Change, 'id' | 'statement' | 'sql'>[];
    };
    const entries: Entry[] = [];
    this.pending.forEach((p, order) => {
      entries.push({ phase: p.phase, order, sql: p.sql!, passwordFor: p.passwordFor, changes: [p.change] });
    });
    groups.forEach((group, order) => {
      entries.push({
        phase: group.phase,
        order: 10_000 + order,
        sql: group.sql,
        changes: [...new Set(group.changes)].sort((a, b) => a - b).map((c) => this.intentChanges[c]!),
      });
    });
    entries.sort((a, b) => a.phase - b.phase || a.order - b.order);
    // A change that several statements make (one grantee's privileges split over
    // privilege sets) is listed once, under its first statement.
    const seen = new Map<object, number>();
    for (const entry of entries) {
      const statementIndex = this.statements.length;
      const ids: number[] = [];
      for (const change of entry.changes) {
        const existing = seen.get(change);
        if (existing !== undefined) {
          ids.push(existing);
          continue;
        }
        const id = this.changes.length;
        seen.set(change, id);
        this.changes.push({ ...change, id, statement: statementIndex, sql: entry.sql });
        ids.push(id);
      }
      this.statements.push({
        sql: entry.sql,
        ...(entry.passwordFor ? { passwordFor: entry.passwordFor } : {}),
        changes: ids,
      });
    }
    return {
      database,
      executor,
      changes: this.changes,
      statements: this.statements,
      findings: this.findings,
      errors: this.errors,
    };
  }
}

enum Phase {
  First = -1,
  CreateRole = 0,
  AlterRole = 1,
  Membership = 2,
  Ownership = 3,
  Revoke = 4,
  Grant = 5,
  Drop = 6,
  Last = 7,
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
  if (!scope) planOwner(b, desired, live, owner, ownerIsAdmin);
  for (const credential of desired.credentials) {
    if (!scope || scope.has(credential.name))
      planCredential(b, desired, live, credential.name, owner, ownerIsAdmin);
  }

  // Managed roles of this database that are no longer declared, and rotations that ended.
  const staleRotating: string[] = [];
  for (const role of scope ? [] : roles.values()) {
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
        dropRole(b, live, role.name, owner, 'credential', 'is destroyed (no longer declared; --prune)');
      } else {
        b.finding({
          kind: 'undeclared-credential',
          subject: role.name,
          description: `credential ${role.name} exists but is not declared`,
          remedy: 'declare it, or destroy it with pgcred apply --prune or pgcred credentials:destroy',
        });
      }
    }
  }
  for (const name of staleRotating) {
    dropRole(b, live, name, owner, 'rotating username', 'is dropped: no rotation is in progress');
  }

  // Privileges. The owner holds everything by ownership and is left alone; PUBLIC
  // holds nothing (CVE-2018-1058), so that `none` really reads nothing.
  const controlSchema = desired.controlSchema;
  const schemas = live.schemas.map((schema) => schema.name).filter((name) => name !== controlSchema);
  const liveSchemas = new Set(live.schemas.map((schema) => schema.name));
  const accesses = new Map<string, ExpandedAccess>();
  for (const credential of desired.credentials) {
    if (!scope || scope.has(credential.name))
      accesses.set(credential.name, expandAccess(credential.access, schemas));
  }
  if (!scope) {
    accesses.set(PUBLIC, emptyAccess());
    for (const name of rotatingExpected) if (roles.has(name)) accesses.set(name, emptyAccess());
  }

  reportMissingObjects(b, desired, live, accesses, liveSchemas);
  planDatabasePrivileges(b, live, accesses);
  planSchemaPrivileges(b, live, accesses);
  planRelationPrivileges(b, live, accesses);
  planDefaultPrivileges(b, live, accesses, owner, liveSchemas);
  planDefinerFunctions(b, live, accesses);
  if (!scope) {
    reportUnmanaged(b, desired, live, owner, declared);
    reportForeignOwners(b, desired, live, owner);
  }

  return b.build(desired.name, db, owner, desired.executor);
}

function planOwner(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  owner: string,
  ownerIsAdmin: boolean,
): void {
  const s = live.server;
  const role = live.roles.get(owner);
  const who = 'default';
  if (!role) {
    b.simple(
      Phase.CreateRole,
      'create',
      who,
      `role ${owner}`,
      `the default credential is created as role ${owner} (password generated and stored encrypted)`,
      `CREATE ROLE ${quoteIdent(owner)} WITH ${NEW_ROLE_ATTRIBUTES} PASSWORD ${PASSWORD_PLACEHOLDER}`,
      { passwordFor: owner },
    );
    b.simple(
      Phase.CreateRole,
      'create',
      who,
      `role ${owner}`,
      `role ${owner} is marked as managed by pgcred`,
      `COMMENT ON ROLE ${quoteIdent(owner)} IS ${literal(managedComment('default credential', s.database))}`,
    );
  } else {
    if (!ownerIsAdmin) {
      planRoleAttributes(b, role, who);
      const mark = parseManagedComment(role.comment);
      if (mark?.kind !== 'default credential' || mark.database !== s.database) {
        b.simple(
          Phase.AlterRole,
          'adopt',
          who,
          `role ${owner}`,
          `role ${owner} is marked as the default credential managed by pgcred`,
          `COMMENT ON ROLE ${quoteIdent(owner)} IS ${literal(managedComment('default credential', s.database))}`,
        );
      }
      const status = desired.passwords.get(owner) ?? 'unknown';
      if (status === 'changed') {
        b.simple(
          Phase.AlterRole,
          'reset-password',
          who,
          `role ${owner}`,
          'password was changed outside pgcred; it is set back to the one pgcred gives its apps',
          `ALTER ROLE ${quoteIdent(owner)} PASSWORD ${PASSWORD_PLACEHOLDER}`,
          { destructive: true, passwordFor: owner },
        );
      } else if (status === 'unknown') {
        b.finding({
          kind: 'password-unknown',
          subject: who,
          description: `pgcred does not know the password of the default credential (${owner})`,
          remedy: 'run pgcred credentials:rotate (without --name) to give it one that pgcred keeps',
        });
      }
    }
  }
  const memberOf = new Set(role?.memberOf.map((m) => m.role) ?? []);
  const missing = OWNER_MEMBERSHIPS.filter((m) => !memberOf.has(m));
  if (missing.length > 0) {
    b.simple(
      Phase.Membership,
      'grant-membership',
      who,
      missing.join(', '),
      `becomes a member of ${missing.join(', ')} (monitoring, statistics, signalling backends)`,
      `GRANT ${missing.map(quoteIdent).join(', ')} TO ${quoteIdent(owner)}`,
    );
  }
  if (s.owner !== owner) {
    b.simple(
      Phase.Ownership,
      'set-owner',
      who,
      `database ${s.database}`,
      `becomes the owner of database ${s.database} (was ${s.owner})`,
      `ALTER DATABASE ${quoteIdent(s.database)} OWNER TO ${quoteIdent(owner)}`,
    );
  }
  // pg_database_owner (PostgreSQL 15+) means "whoever owns the database": already right.
  if (
    s.publicSchemaOwner !== null &&
    s.publicSchemaOwner !== owner &&
    s.publicSchemaOwner !== 'pg_database_owner'
  ) {
    // Up to PostgreSQL 14 every new database's public schema belongs to the bootstrap
    // superuser (15 gives it to pg_database_owner), and only a superuser can take it away.
    if (!s.isSuperuser) {
      b.errors.push(
        `schema public belongs to ${s.publicSchemaOwner}, and the admin role ${s.currentUser} is not a superuser: ` +
          `a superuser must run ALTER SCHEMA public OWNER TO ${quoteIdent(owner)} in database ${s.database} once ` +
          '(PostgreSQL 15 and later give public to the database owner themselves)',
      );
      return;
    }
    b.simple(
      Phase.Ownership,
      'set-owner',
      who,
      'schema public',
      `becomes the owner of schema public (was ${s.publicSchemaOwner})`,
      `ALTER SCHEMA public OWNER TO ${quoteIdent(owner)}`,
    );
  }
}

function planRoleAttributes(b: PlanBuilder, role: LiveRole, subject: string): void {
  const wrong = FORBIDDEN_ATTRIBUTES.filter((attribute) => role[attribute]);
  const fixes = wrong.map((attribute) => `NO${ATTRIBUTE_SQL[attribute]}`);
  const notes = wrong.map((attribute) => `${ATTRIBUTE_SQL[attribute]} was turned on outside pgcred`);
  if (!role.login) {
    fixes.unshift('LOGIN');
    notes.unshift('LOGIN was turned off outside pgcred');
  }
  if (!role.inherit) {
    fixes.push('INHERIT');
    notes.push('INHERIT was turned off outside pgcred');
  }
  if (role.connectionLimit !== -1) {
    fixes.push('CONNECTION LIMIT -1');
    notes.push(`a connection limit of ${role.connectionLimit} was set outside pgcred`);
  }
  if (role.hasValidUntil) {
    fixes.push("VALID UNTIL 'infinity'");
    notes.push('an expiry (VALID UNTIL) was set outside pgcred');
  }
  if (fixes.length === 0) return;
  b.simple(
    Phase.AlterRole,
    'alter',
    subject,
    `role ${role.name}`,
    `${notes.join('; ')}: pgcred turns ${fixes.length > 1 ? 'them' : 'it'} back`,
    `ALTER ROLE ${quoteIdent(role.name)} WITH ${fixes.join(' ')}`,
    { destructive: wrong.length === 0 && !role.login },
  );
}

function planCredential(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  name: string,
  owner: string,
  ownerIsAdmin: boolean,
): void {
  const db = live.server.database;
  const role = live.roles.get(name);
  if (!role) {
    b.simple(
      Phase.CreateRole,
      'create',
      name,
      `role ${name}`,
      'is created: it can log in (password generated and stored encrypted)',
      `CREATE ROLE ${quoteIdent(name)} WITH ${NEW_ROLE_ATTRIBUTES} PASSWORD ${PASSWORD_PLACEHOLDER}`,
      { passwordFor: name },
    );
    b.simple(
      Phase.CreateRole,
      'create',
      name,
      `role ${name}`,
      'is marked as managed by pgcred',
      `COMMENT ON ROLE ${quoteIdent(name)} IS ${literal(managedComment('credential', db))}`,
    );
    if (!ownerIsAdmin) grantAdminToOwner(b, name, owner);
    return;
  }
  planRoleAttributes(b, role, name);
  const mark = parseManagedComment(role.comment);
  if (!mark) {
    b.simple(
      Phase.AlterRole,
      'adopt',
      name,
      `role ${name}`,
      'the existing role is adopted as a credential managed by pgcred',
      `COMMENT ON ROLE ${quoteIdent(name)} IS ${literal(managedComment('credential', db))}`,
    );
  }
  const status = desired.passwords.get(name) ?? 'unknown';
  if (status !== 'ok') {
    b.simple(
      Phase.AlterRole,
      'reset-password',
      name,
      `role ${name}`,
      status === 'changed'
        ? 'password was changed outside pgcred; it is set back to the one pgcred gives its apps'
        : 'pgcred does not know its password: a new one is generated and stored encrypted',
      `ALTER ROLE ${quoteIdent(name)} PASSWORD ${PASSWORD_PLACEHOLDER}`,
      { destructive: true, passwordFor: name },
    );
  }
  if (role.config.some((setting) => setting.startsWith('role='))) {
    b.simple(
      Phase.AlterRole,
      'alter',
      name,
      `role ${name}`,
      'had a SET role default added outside pgcred; it is removed',
      `ALTER ROLE ${quoteIdent(name)} RESET role`,
    );
  }
  for (const membership of role.memberOf) {
    b.simple(
      Phase.Membership,
      'revoke-membership',
      name,
      `role ${membership.role}`,
      `loses membership in ${membership.role} (granted outside pgcred; a credential belongs to no role)`,
      `REVOKE ${quoteIdent(membership.role)} FROM ${quoteIdent(name)}`,
      { destructive: true },
    );
  }
  if (!ownerIsAdmin) {
    const ownerRole = live.roles.get(owner);
    if (!ownerRole?.memberOf.some((m) => m.role === name && m.admin)) grantAdminToOwner(b, name, owner);
  }
}

function grantAdminToOwner(b: PlanBuilder, name: string, owner: string): void {
  b.simple(
    Phase.Membership,
    'grant-membership',
    'default',
    `role ${name}`,
    `gets admin option on credential ${name}, as Heroku's default credential has on every credential`,
    `GRANT ${quoteIdent(name)} TO ${quoteIdent(owner)} WITH ADMIN OPTION`,
  );
}

function dropRole(
  b: PlanBuilder,
  live: LiveState,
  name: string,
  owner: string,
  kind: ManagedKind,
  description: string,
): void {
  const subject = kind === 'rotating username' ? name.replace(/-rotating$/, '') : name;
  if (!live.server.isSuperuser) {
    // REASSIGN and DROP OWNED need the privileges of the role; a CREATEROLE admin takes
    // them for the hand-over (ADMIN OPTION lets it, from 16 on), and they go with the role.
    b.simple(
      Phase.Drop,
      'grant-membership',
      subject,
      `role ${name}`,
      `the admin role ${live.server.currentUser} takes the privileges of ${name} to hand its objects over`,
      `GRANT ${quoteIdent(name)} TO CURRENT_USER`,
    );
  }
  b.simple(
    Phase.Drop,
    'drop',
    subject,
    `role ${name}`,
    `${kind === 'rotating username' ? `rotating username ${name}` : ''} ${description}; objects it owns go to the default credential`.trim(),
    `REASSIGN OWNED BY ${quoteIdent(name)} TO ${quoteIdent(owner)}`,
    { destructive: true },
  );
  b.simple(
    Phase.Drop,
    'drop',
    subject,
    `role ${name}`,
    `privileges of ${name} are dropped`,
    `DROP OWNED BY ${quoteIdent(name)}`,
    {
      destructive: true,
    },
  );
  b.simple(
    Phase.Drop,
    'drop',
    subject,
    `role ${name}`,
    `role ${name} is dropped`,
    `DROP ROLE ${quoteIdent(name)}`,
    {
      destructive: true,
    },
  );
}

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

function minus(a: Iterable<string>, b: ReadonlySet<string>): string[] {
  return [...a].filter((x) => !b.has(x)).sort(comparePrivileges);
}

function planDatabasePrivileges(
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

function planSchemaPrivileges(b: PlanBuilder, live: LiveState, accesses: Map<string, ExpandedAccess>): void {
  for (const schema of live.schemas) {
    const actual = aclByGrantee(schema.acl);
    const target = `schema ${displayIdent(schema.name)}`;
    for (const [grantee, access] of accesses) {
      const want = access.schemas.get(schema.name) ?? new Set<string>();
      const have = actual.get(grantee) ?? new Set<string>();
      const grant = minus(want, have);
      const revoke = minus(have, want);
      b.converge({ kind: 'schema', sort: '', object: schema.name }, grantee, target, grant, revoke);
    }
  }
}

const CLASS_NOUN: Record<RelationClass, [string, string]> = {
  tables: ['table', 'tables'],
  sequences: ['sequence', 'sequences'],
};

function listNames(schema: string, names: readonly string[] | undefined, count: number): string {
  if (!names || names.length === 0) return '';
  const shown = names.slice(0, 5).map((name) => displayQualified({ schema, name }));
  return `: ${shown.join(', ')}${count > shown.length ? `, and ${count - shown.length} more` : ''}`;
}

function planRelationPrivileges(
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
    for (const [scope, c] of full) {
      const [cls, schema] = scope.split('\t') as [RelationClass, string];
      const total = totals.get(scope) ?? 0;
      const target = `all ${CLASS_NOUN[cls][1]} in schema ${displayIdent(schema)}`;
      const notes = mergeNotes(c.notes.filter(Boolean));
      b.converge({ kind: 'relations', sort: cls, object: schema }, grantee, target, c.grant, c.revoke, {
        grant: ` (${total} ${CLASS_NOUN[cls][total === 1 ? 0 : 1]})${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
        revoke: ` (${mergeNotes(c.revokeNotes).join('; ')})`,
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

function planDefaultPrivileges(
  b: PlanBuilder,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
  owner: string,
  liveSchemas: ReadonlySet<string>,
): void {
  const actual = new Map<string, Map<string, Set<string>>>();
  for (const entry of live.defaultPrivileges) {
    if (entry.owner !== owner) continue;
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
      const target = `${DEFAULT_NOUN[objtype]} the default credential creates later${schema === null ? '' : ` in schema ${displayIdent(schema)}`}`;
      const object = schema === null ? '' : schema;
      b.converge({ kind: 'default', sort: objtype, object }, grantee, target, grant, revoke);
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
function planDefinerFunctions(b: PlanBuilder, live: LiveState, accesses: Map<string, ExpandedAccess>): void {
  const s = live.server;
  for (const fn of live.definerFunctions) {
    const target = `SECURITY DEFINER ${fn.kind} ${displayIdent(fn.schema)}.${displayIdent(fn.name)}(${fn.arguments})`;
    const signature = `${quoteIdent(fn.schema)}.${quoteIdent(fn.name)}(${fn.arguments})`;
    const executors = new Set(fn.executors.map((grantee) => grantee ?? PUBLIC));
    for (const grantee of accesses.keys()) {
      if (!executors.has(grantee)) continue;
      // Only its owner (or a superuser) can take EXECUTE away.
      if (!s.isSuperuser && fn.owner !== s.currentUser) {
        b.finding({
          kind: 'definer-function',
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

function reportMissingObjects(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  accesses: Map<string, ExpandedAccess>,
  liveSchemas: ReadonlySet<string>,
): void {
  const found = new Map(live.declaredObjects.map((o) => [`${o.schema}\t${o.name}`, o.class]));
  for (const credential of desired.credentials) {
    const access = accesses.get(credential.name);
    if (!access) continue;
    for (const schema of access.schemas.keys()) {
      if (!liveSchemas.has(schema)) {
        b.finding({
          kind: 'missing-object',
          subject: credential.name,
          description: `schema ${displayIdent(schema)} that its grants name does not exist`,
          remedy: 'create the schema, or correct the grant',
        });
      }
    }
    for (const object of access.objects) {
      const cls = found.get(`${object.schema}\t${object.name}`);
      const shown = displayQualified(object);
      if (!cls && liveSchemas.has(object.schema)) {
        b.finding({
          kind: 'missing-object',
          subject: credential.name,
          description: `${CLASS_NOUN[object.class][0]} ${shown} that its grants name does not exist`,
          remedy: 'create it, or correct the grant',
        });
      } else if (cls && cls !== object.class) {
        b.finding({
          kind: 'missing-object',
          subject: credential.name,
          description: `${shown} is a ${CLASS_NOUN[cls][0]}, not a ${CLASS_NOUN[object.class][0]}`,
          remedy: `grant it with on: ${cls === 'tables' ? 'table' : 'sequence'}`,
        });
      }
    }
  }
}

/** Roles pgcred does not manage that can reach this database: superusers, and holders of privileges or objects here. */
function reportUnmanaged(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  owner: string,
  declared: ReadonlySet<string>,
): void {
  const s = live.server;
  const reaching = new Map<string, string>();
  const note = (role: string | null, why: string) => {
    if (role && !reaching.has(role)) reaching.set(role, why);
  };
  for (const entry of s.acl) note(entry.grantee, `holds ${entry.privilege} on database ${s.database}`);
  for (const schema of live.schemas) {
    for (const entry of schema.acl)
      note(entry.grantee, `holds ${entry.privilege} on schema ${displayIdent(schema.name)}`);
  }
  for (const group of live.relationPrivileges) {
    note(
      group.grantee,
      `holds ${group.privilege} on ${group.holding} ${group.class} in schema ${displayIdent(group.schema)}`,
    );
  }
  for (const entry of live.defaultPrivileges) note(entry.grantee, 'holds default privileges');
  for (const owned of live.foreignOwnership) {
    if (owned.schema !== desired.controlSchema)
      note(owned.owner, `owns ${owned.kind}s in schema ${displayIdent(owned.schema)}`);
  }
  for (const role of live.roles.values()) if (role.superuser) note(role.name, 'is a superuser');
  const ignored = new Set(desired.ignoreRoles);
  for (const [name, why] of [...reaching].sort(([a], [b2]) => a.localeCompare(b2))) {
    if (name === owner || declared.has(name) || ignored.has(name)) continue;
    if (name === s.currentUser || name === s.bootstrapUser || name.startsWith('pg_')) continue;
    const mark = parseManagedComment(live.roles.get(name)?.comment ?? null);
    if (mark && mark.database === s.database) continue;
    b.finding({
      kind: 'unmanaged-role',
      subject: name,
      description: `role ${name} is not managed by pgcred and ${why}`,
      remedy: 'pgcred never changes it: declare it as a credential, drop it, or list it under ignoreRoles',
    });
  }
}

function reportForeignOwners(b: PlanBuilder, desired: DesiredDatabase, live: LiveState, owner: string): void {
  const byOwner = new Map<string, string[]>();
  for (const owned of live.foreignOwnership) {
    if (owned.owner === owner || owned.schema === desired.controlSchema) continue;
    // public's owner is a change apply makes; pg_database_owner (15+) is whoever owns the database.
    if (owned.kind === 'schema' && owned.schema === 'public') continue;
    const what =
      owned.kind === 'schema'
        ? `schema ${displayIdent(owned.schema)}`
        : `${owned.count} ${owned.kind}${owned.count === 1 ? '' : 's'} in schema ${displayIdent(owned.schema)}${listNames(owned.schema, owned.sample, owned.count)}`;
    const parts = byOwner.get(owned.owner) ?? [];
    parts.push(what);
    byOwner.set(owned.owner, parts);
  }
  for (const [name, parts] of [...byOwner].sort(([a], [c]) => a.localeCompare(c))) {
    b.finding({
      kind: 'foreign-owner',
      subject: name,
      description: `${name}, not the default credential, owns ${parts.sort().join('; ')}. Default privileges only cover objects the default credential creates, so credentials may not get the access their level promises`,
      remedy: 'run pgcred credentials:repair-default to hand them to the default credential',
    });
  }
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Groups intents into statements: first per object (its grantees), then objects that share grantees. */
function groupIntents(
  intents: readonly (Intent & { phase: number })[],
  database: string,
  owner: string,
): { phase: number; sql: string; changes: number[] }[] {
  const byObject = new Map<
    string,
    { head: string; intent: Intent & { phase: number }; grantees: string[]; changes: number[] }
  >();
  for (const intent of intents) {
    const head = [intent.action, intent.kind, intent.sort, intent.privileges.join(',')].join('\u0000');
    const key = `${head}\u0001${intent.object}`;
    let entry = byObject.get(key);
    if (!entry) {
      entry = { head, intent, grantees: [], changes: [] };
      byObject.set(key, entry);
    }
    entry.grantees.push(intent.grantee);
    entry.changes.push(intent.change);
  }
  const byGrantees = new Map<
    string,
    { intent: Intent & { phase: number }; objects: string[]; grantees: string[]; changes: number[] }
  >();
  for (const entry of byObject.values()) {
    const grantees = [...new Set(entry.grantees)].sort();
    // The database-wide default entry and per-schema entries are different statements.
    const scope = entry.intent.kind === 'default' && entry.intent.object === '' ? 'global' : 'objects';
    const key = `${entry.head}\u0001${scope}\u0001${grantees.join('\u0000')}`;
    let group = byGrantees.get(key);
    if (!group) {
      group = { intent: entry.intent, objects: [], grantees, changes: [] };
      byGrantees.set(key, group);
    }
    group.objects.push(entry.intent.object);
    group.changes.push(...entry.changes);
  }
  return [...byGrantees.values()].map((group) => ({
    phase: group.intent.phase,
    sql: renderGrant(group.intent, group.objects.sort(), group.grantees, database, owner),
    changes: group.changes,
  }));
}

function renderGrant(
  intent: Intent,
  objects: readonly string[],
  grantees: readonly string[],
  database: string,
  owner: string,
): string {
  const verb = intent.action === 'grant' ? 'GRANT' : 'REVOKE';
  const prep = intent.action === 'grant' ? 'TO' : 'FROM';
  const privileges = intent.privileges.join(', ');
  const who = grantees.map((g) => (g === PUBLIC ? 'PUBLIC' : quoteIdent(g))).join(', ');
  switch (intent.kind) {
    case 'database':
      return `${verb} ${privileges} ON DATABASE ${quoteIdent(database)} ${prep} ${who}`;
    case 'schema':
      return `${verb} ${privileges} ON SCHEMA ${objects.map(quoteIdent).join(', ')} ${prep} ${who}`;
    case 'relations':
      return `${verb} ${privileges} ON ALL ${intent.sort === 'tables' ? 'TABLES' : 'SEQUENCES'} IN SCHEMA ${objects.map(quoteIdent).join(', ')} ${prep} ${who}`;
    case 'relation':
      return `${verb} ${privileges} ON ${intent.sort === 'tables' ? 'TABLE' : 'SEQUENCE'} ${objects.join(', ')} ${prep} ${who}`;
    case 'routine':
      return `${verb} ${privileges} ON ${intent.sort.toUpperCase()} ${objects.join(', ')} ${prep} ${who}`;
    case 'default': {
      const inSchema =
        objects.length === 1 && objects[0] === '' ? '' : ` IN SCHEMA ${objects.map(quoteIdent).join(', ')}`;
      return `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(owner)}${inSchema} ${verb} ${privileges} ON ${intent.sort.toUpperCase()} ${prep} ${who}`;
    }
  }
}
