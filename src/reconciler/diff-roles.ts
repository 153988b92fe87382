import { quoteIdent, quoteLiteral } from '../model/identifiers';
import { type ChangeAction, PASSWORD_PLACEHOLDER } from '../model/plan';
import type { DesiredDatabase, ExtraChange } from './diff';
import type { LiveRole, LiveState } from './live-state';
import { type ManagedKind, managedComment, parseManagedComment } from './markers';
import { Phase, type PlanBuilder } from './plan-builder';

// The diff's role part: the default credential, each credential's role, and the
// roles that go (pruned credentials, rotating usernames whose rotation ended).

/** The predefined roles the default credential belongs to, as Heroku's does. */
export const OWNER_MEMBERSHIPS = [
  'pg_monitor',
  'pg_read_all_settings',
  'pg_read_all_stats',
  'pg_signal_backend',
];
const FORBIDDEN_ATTRIBUTES = ['superuser', 'createdb', 'createrole', 'replication', 'bypassrls'] as const;
const ATTRIBUTE_SQL: Record<(typeof FORBIDDEN_ATTRIBUTES)[number], string> = {
  superuser: 'SUPERUSER',
  createdb: 'CREATEDB',
  createrole: 'CREATEROLE',
  replication: 'REPLICATION',
  bypassrls: 'BYPASSRLS',
};
const NEW_ROLE_ATTRIBUTES = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT';

/** The default credential: created if missing, marked, its memberships, and owner of the database and public. */
export function planOwner(
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
      `COMMENT ON ROLE ${quoteIdent(owner)} IS ${quoteLiteral(managedComment('default credential', s.database))}`,
    );
  } else {
    if (!ownerIsAdmin) {
      const mark = parseManagedComment(role.comment);
      const adopting = mark?.kind !== 'default credential' || mark.database !== s.database;
      planRoleAttributes(b, role, who, adopting || (mark?.adopted ?? false));
      if (adopting) {
        const status = desired.passwords.get(owner) ?? 'unknown';
        b.simple(
          Phase.AlterRole,
          'adopt',
          who,
          `role ${owner}`,
          `adopts existing role ${owner} as the default credential (${status === 'unknown' ? 'password kept' : 'password pgcred was given'})`,
          `COMMENT ON ROLE ${quoteIdent(owner)} IS ${quoteLiteral(managedComment('default credential', s.database, true))}`,
        );
      }
      const status = desired.passwords.get(owner) ?? 'unknown';
      if (status === 'unchecked') {
        b.finding(uncheckedPassword(who, owner));
      } else if (status === 'changed') {
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
          severity: 'notice',
          subject: who,
          description: `pgcred does not know the password of the default credential (${owner}): credentials:url and attachments of default need it`,
          remedy: `hand it over with pgcred credentials:password ${desired.name} --name default (stdin or PGCRED_PASSWORD), or give it a new one with pgcred credentials:rotate (resets its connections)`,
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

/**
 * Attributes that grant something are turned back; those that grant nothing (a
 * connection limit, an expiry) are a managed role's drift but an adopted role's own.
 */
function planRoleAttributes(b: PlanBuilder, role: LiveRole, subject: string, adopted = false): void {
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
  if (role.connectionLimit !== -1 && !adopted) {
    fixes.push('CONNECTION LIMIT -1');
    notes.push(`a connection limit of ${role.connectionLimit} was set outside pgcred`);
  }
  if (role.hasValidUntil && !adopted) {
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

export function planCredential(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  name: string,
  owner: string,
  ownerIsAdmin: boolean,
  /** The credential's name, as commands take it (`name` is its username under the database's scheme). */
  credential = name,
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
      `COMMENT ON ROLE ${quoteIdent(name)} IS ${quoteLiteral(managedComment('credential', db))}`,
    );
    if (!ownerIsAdmin) grantAdminToOwner(b, name, owner);
    planGroupMemberships(b, live, name, [], desired.credentials.find((c) => c.name === name)?.memberOf ?? []);
    return;
  }
  const mark = parseManagedComment(role.comment);
  const adopted = !mark || mark.adopted;
  planRoleAttributes(b, role, name, adopted);
  const status = desired.passwords.get(name) ?? 'unknown';
  if (!mark) {
    b.simple(
      Phase.AlterRole,
      'adopt',
      name,
      `role ${name}`,
      `adopts existing role ${name} (${status === 'unknown' ? 'password kept' : 'password pgcred was given'})`,
      `COMMENT ON ROLE ${quoteIdent(name)} IS ${quoteLiteral(managedComment('credential', db, true))}`,
    );
  }
  if (status === 'unchecked') {
    b.finding(uncheckedPassword(name, name));
  } else if (status === 'unknown' && adopted) {
    // Whatever uses this role's password keeps working: pgcred never resets a password it was not asked to.
    b.finding({
      kind: 'password-unknown',
      severity: 'notice',
      subject: name,
      description: `pgcred does not know the password of ${name}, a role it adopted: credentials:url and attachments of ${name} need it`,
      remedy: `hand it over with pgcred credentials:password ${desired.name} --name ${credential} (stdin or PGCRED_PASSWORD), or rotate it with pgcred credentials:rotate ${desired.name} --name ${credential}`,
    });
  } else if (status !== 'ok') {
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
  if (!adopted && role.config.some((setting) => setting.startsWith('role='))) {
    b.simple(
      Phase.AlterRole,
      'alter',
      name,
      `role ${name}`,
      'had a SET role default added outside pgcred; it is removed',
      `ALTER ROLE ${quoteIdent(name)} RESET role`,
    );
  }
  const groups = desired.credentials.find((c) => c.name === name)?.memberOf ?? [];
  planGroupMemberships(b, live, name, role.memberOf, groups);
  for (const membership of role.memberOf) {
    // This database's level roles: the level's membership is planned in level-roles.ts.
    const level = parseManagedComment(live.roles.get(membership.role)?.comment ?? null);
    if (level?.kind === 'level role' && level.database === db) continue;
    if (groups.includes(membership.role)) continue;
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

/**
 * The group roles a credential is declared a member of: granted when missing, refused
 * when the group is not there or is pgcred's own (a credential or a default credential).
 */
function planGroupMemberships(
  b: PlanBuilder,
  live: LiveState,
  name: string,
  held: readonly { readonly role: string }[],
  groups: readonly string[],
): void {
  for (const group of groups) {
    const role = live.roles.get(group);
    const mark = parseManagedComment(role?.comment ?? null);
    if (!role) {
      b.errors.push(
        `credential ${name} is declared a member of ${group}, which is not a role of this cluster`,
      );
      continue;
    }
    if (mark || role.superuser) {
      b.errors.push(
        `credential ${name} is declared a member of ${group}, ${mark ? `the ${mark.kind} of database "${mark.database}"` : 'a superuser'}: ` +
          'a credential belongs only to group roles pgcred does not manage',
      );
      continue;
    }
    if (held.some((m) => m.role === group)) continue;
    b.simple(
      Phase.Membership,
      'grant-membership',
      name,
      `role ${group}`,
      `becomes a member of ${group}, and reads what ${group} reads`,
      `GRANT ${quoteIdent(group)} TO ${quoteIdent(name)}`,
    );
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

/**
 * Step 2 of a rotation (SPEC §4): the temporary username, with the new password, a
 * member of the credential that acts as it (SET role), so anything it creates is the
 * credential's. Made again over a crash: an existing one gets the password anew.
 */
export function planRotatingUsername(
  b: PlanBuilder,
  temp: string,
  username: string,
  database: string,
  exists: boolean,
): void {
  // One phase, so the statements run in the order written: the membership before SET role names it.
  const step = (description: string, sql: string, passwordFor?: string) =>
    b.simple(Phase.CreateRole, exists ? 'alter' : 'create', username, `role ${temp}`, description, sql, {
      ...(passwordFor ? { passwordFor } : {}),
    });
  if (exists)
    step(
      `rotating username ${temp} gets the new password`,
      `ALTER ROLE ${quoteIdent(temp)} PASSWORD ${PASSWORD_PLACEHOLDER}`,
      temp,
    );
  else
    step(
      `rotating username ${temp} is created with the new password`,
      `CREATE ROLE ${quoteIdent(temp)} WITH ${NEW_ROLE_ATTRIBUTES} PASSWORD ${PASSWORD_PLACEHOLDER}`,
      temp,
    );
  step(
    `rotating username ${temp} is marked as managed by pgcred`,
    `COMMENT ON ROLE ${quoteIdent(temp)} IS ${quoteLiteral(managedComment('rotating username', database))}`,
  );
  step(
    `rotating username ${temp} becomes a member of ${username}`,
    `GRANT ${quoteIdent(username)} TO ${quoteIdent(temp)}`,
  );
  step(
    `rotating username ${temp} acts as ${username} (SET role)`,
    `ALTER ROLE ${quoteIdent(temp)} SET role = ${quoteIdent(username)}`,
  );
}

/** A role's password becomes the one apply is given for it (a rotation's new password). */
export function planNewPassword(
  b: PlanBuilder,
  subject: string,
  username: string,
  description: string,
): void {
  b.simple(
    Phase.AlterRole,
    'reset-password',
    subject,
    `role ${username}`,
    description,
    `ALTER ROLE ${quoteIdent(username)} PASSWORD ${PASSWORD_PLACEHOLDER}`,
    { destructive: true, passwordFor: username },
  );
}

/**
 * REASSIGN OWNED TO a role needs its privileges too: a CREATEROLE admin that lacks them
 * takes them for the transaction (first) and gives them back (last).
 */
export function borrowRole(b: PlanBuilder, subject: string, role: string): void {
  b.simple(
    Phase.First,
    'grant-membership',
    subject,
    `role ${role}`,
    `the admin role takes the privileges of ${role} to hand objects to it`,
    `GRANT ${quoteIdent(role)} TO CURRENT_USER`,
  );
  b.simple(
    Phase.Last,
    'revoke-membership',
    subject,
    `role ${role}`,
    `the admin role gives the privileges of ${role} back`,
    `REVOKE ${quoteIdent(role)} FROM CURRENT_USER`,
  );
}

/** Who runs the plan, as the hand-over needs to know it. */
export type AdminFacts = Pick<LiveState['server'], 'isSuperuser' | 'currentUser'>;

export function dropRole(
  b: PlanBuilder,
  server: AdminFacts,
  name: string,
  owner: string,
  kind: ManagedKind,
  description: string,
  /** Who `owner` is, in words. */
  heir = 'the default credential',
): void {
  const subject = kind === 'rotating username' ? name.replace(/-rotating$/, '') : name;
  // Statements name every role dropped together, and the objects are handed over
  // before the diff revokes the roles' privileges schema by schema (it plans those as
  // it does for a level of none). DROP OWNED then finds almost nothing left: revoking
  // one role at a time from each of its objects is what made a destroy take minutes.
  const steps: { phase: Phase; action: ChangeAction; description: string; head: string; tail?: string }[] = [
    // REASSIGN and DROP OWNED need the privileges of the role; a CREATEROLE admin takes
    // them for the hand-over (ADMIN OPTION lets it, from 16 on), and they go with the role.
    ...(server.isSuperuser
      ? []
      : [
          {
            phase: Phase.HandOver,
            action: 'grant-membership' as const,
            description: `the admin role ${server.currentUser} takes the privileges of ${name} to hand its objects over`,
            head: 'GRANT',
            tail: ' TO CURRENT_USER',
          },
        ]),
    {
      phase: Phase.HandOver,
      action: 'drop',
      description:
        `${kind === 'rotating username' ? `rotating username ${name}` : ''} ${description}; objects it owns go to ${heir}`.trim(),
      head: 'REASSIGN OWNED BY',
      tail: ` TO ${quoteIdent(owner)}`,
    },
    {
      phase: Phase.Drop,
      action: 'drop',
      description: `privileges of ${name} are dropped`,
      head: 'DROP OWNED BY',
    },
    { phase: Phase.Drop, action: 'drop', description: `role ${name} is dropped`, head: 'DROP ROLE' },
  ];
  for (const step of steps) {
    b.roleList(
      step.phase,
      step.action,
      subject,
      `role ${name}`,
      step.description,
      { head: step.head, role: name, ...(step.tail ? { tail: step.tail } : {}) },
      { destructive: step.action === 'drop' },
    );
  }
}

/** An object and its owner, as catalog query foreign_objects lists them. */
export interface OwnedObject {
  readonly kind: string;
  readonly identity: string;
  readonly owner: string;
}

/**
 * credentials:repair-default's hand-over, made first in its transaction: every object
 * goes to the default credential. Credentials and pgcred's roles hand over everything
 * at once (REASSIGN OWNED); superusers own system objects too, so theirs go one by one.
 */
export function handOverToDefault(
  objects: readonly OwnedObject[],
  live: LiveState,
  owner: string,
  credentials: readonly string[],
): ExtraChange[] {
  const changes: ExtraChange[] = [];
  const managed = new Set(credentials);
  const reassigned = new Set<string>();
  const change = (action: ChangeAction, target: string, description: string, sql: string): ExtraChange => ({
    when: 'first',
    action,
    subject: 'default',
    target,
    description,
    sql,
    destructive: false,
  });
  for (const object of objects) {
    if (object.owner === owner) continue;
    const role = live.roles.get(object.owner);
    if (managed.has(object.owner) || (role && !role.superuser && parseManagedComment(role.comment))) {
      if (reassigned.has(object.owner)) continue;
      reassigned.add(object.owner);
      // REASSIGN OWNED needs the privileges of the role it names: a CREATEROLE admin that
      // is not a superuser takes them (ADMIN OPTION on the roles it made lets it) and gives them back.
      const borrow = !live.server.isSuperuser;
      if (borrow)
        changes.push(
          change(
            'grant-membership',
            `role ${object.owner}`,
            `the admin role takes the privileges of ${object.owner} to hand its objects over`,
            `GRANT ${quoteIdent(object.owner)} TO CURRENT_USER`,
          ),
        );
      changes.push(
        change(
          'set-owner',
          `objects of ${object.owner}`,
          `becomes the owner of every object ${object.owner} owns`,
          `REASSIGN OWNED BY ${quoteIdent(object.owner)} TO ${quoteIdent(owner)}`,
        ),
      );
      if (borrow)
        changes.push(
          change(
            'revoke-membership',
            `role ${object.owner}`,
            `the admin role gives the privileges of ${object.owner} back`,
            `REVOKE ${quoteIdent(object.owner)} FROM CURRENT_USER`,
          ),
        );
      continue;
    }
    changes.push(
      change(
        'set-owner',
        `${object.kind} ${object.identity}`,
        `becomes the owner of ${object.kind} ${object.identity} (was ${object.owner})`,
        `ALTER ${object.kind.toUpperCase()} ${object.identity} OWNER TO ${quoteIdent(owner)}`,
      ),
    );
  }
  return changes;
}

/** A password drift could not check: the control store that holds it is unreachable. */
function uncheckedPassword(subject: string, role: string) {
  return {
    kind: 'password-unchecked' as const,
    severity: 'notice' as const,
    subject,
    description: `the password of ${role} was not checked: the control store, which holds it, is unreachable`,
    remedy: 'bring the control store back (PGCRED_CONTROL_URL or control.url) and run pgcred drift again',
  };
}
