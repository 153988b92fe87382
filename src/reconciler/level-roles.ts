import { quoteIdent, quoteLiteral } from '../model/identifiers';
import {
  hasLevelRole,
  levelRoleName,
  levelRoleNames,
  ROLE_LEVELS,
  type RoleLevel,
} from '../model/level-roles';
import { PermissionLevel, type PermissionLevelName } from '../model/permission-level';
import type { DesiredDatabase } from './diff';
import type { LiveMembership, LiveState } from './live-state';
import { managedComment, parseManagedComment } from './markers';
import { Phase, type PlanBuilder } from './plan-builder';

export { hasLevelRole, levelRoleName, levelRoleNames, ROLE_LEVELS, type RoleLevel };

/** The live level role a membership row or role name is, if any. */
export function levelOfRole(levelRoles: ReadonlyMap<RoleLevel, string>, role: string): RoleLevel | undefined {
  for (const [level, name] of levelRoles) if (name === role) return level;
  return undefined;
}

/** From PostgreSQL 16 on a membership is one grant per grantor, with its INHERIT and SET options. */
function grantsPerGrantor(versionNum: number): boolean {
  return versionNum >= 160000;
}

/** The statement tail of a level membership: inherit, never SET ROLE, from one fixed grantor. */
function membershipTail(versionNum: number, grantor: string): string {
  return grantsPerGrantor(versionNum)
    ? ` WITH INHERIT TRUE, SET FALSE GRANTED BY ${quoteIdent(grantor)}`
    : '';
}

function revokeTail(versionNum: number, grantor: string | null | undefined): string {
  return grantsPerGrantor(versionNum) && grantor ? ` GRANTED BY ${quoteIdent(grantor)}` : '';
}

/** A membership row as pgcred grants it: no admin option and, from 16 on, from the grantor with INHERIT and no SET. */
function isRightGrant(m: LiveMembership, versionNum: number, grantor: string): boolean {
  if (m.admin) return false;
  if (!grantsPerGrantor(versionNum)) return true;
  if (m.grantor !== undefined && m.grantor !== grantor) return false;
  return m.inherit !== false && m.set !== true;
}

/**
 * The level roles themselves: created NOLOGIN and marked, their attributes kept, the
 * default credential given admin option on them (as on every credential), and a name
 * held by a role pgcred does not manage refused before any change.
 */
export function planLevelRoles(
  b: PlanBuilder,
  live: LiveState,
  levelRoles: ReadonlyMap<RoleLevel, string>,
  owner: string,
  ownerIsAdmin: boolean,
  /** 'terraform': the stack's postgresql_role made the level roles, and the first apply marks them. */
  executor: 'pgcred' | 'terraform' = 'pgcred',
): void {
  const db = live.server.database;
  for (const [level, name] of levelRoles) {
    const role = live.roles.get(name);
    const subject = `level ${level}`;
    if (!role) {
      b.simple(
        Phase.CreateRole,
        'create',
        subject,
        `role ${name}`,
        `level role ${name} is created (NOLOGIN): it holds the ${level} privileges, and credentials at ${level} are its members`,
        `CREATE ROLE ${quoteIdent(name)} WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT`,
      );
      b.simple(
        Phase.CreateRole,
        'create',
        subject,
        `role ${name}`,
        `role ${name} is marked as managed by pgcred`,
        `COMMENT ON ROLE ${quoteIdent(name)} IS ${quoteLiteral(managedComment('level role', db))}`,
      );
      if (!ownerIsAdmin && grantsPerGrantor(live.server.versionNum)) grantLevelAdmin(b, name, owner);
      continue;
    }
    const mark = parseManagedComment(role.comment);
    if (!mark && executor === 'terraform' && !role.login && role.memberOf.length === 0) {
      b.simple(
        Phase.CreateRole,
        'adopt',
        subject,
        `role ${name}`,
        `level role ${name}, created by Terraform, is marked as managed by pgcred`,
        `COMMENT ON ROLE ${quoteIdent(name)} IS ${quoteLiteral(managedComment('level role', db))}`,
      );
      if (!ownerIsAdmin && grantsPerGrantor(live.server.versionNum)) grantLevelAdmin(b, name, owner);
      continue;
    }
    if (mark?.kind !== 'level role' || mark.database !== db) {
      b.errors.push(
        mark
          ? `role ${name}, the ${level} level role this database needs, is already pgcred's ${mark.kind} of database "${mark.database}": ` +
              'roles are cluster-wide, so give this database another name in the file'
          : `role ${name}, the ${level} level role this database needs, already exists and pgcred does not manage it: ` +
              'rename or drop it (pgcred never changes a role it does not manage)',
      );
      continue;
    }
    const wrong: string[] = [];
    if (role.login) wrong.push('NOLOGIN');
    if (role.superuser) wrong.push('NOSUPERUSER');
    if (role.createdb) wrong.push('NOCREATEDB');
    if (role.createrole) wrong.push('NOCREATEROLE');
    if (role.replication) wrong.push('NOREPLICATION');
    if (role.bypassrls) wrong.push('NOBYPASSRLS');
    if (wrong.length > 0) {
      b.simple(
        Phase.AlterRole,
        'alter',
        subject,
        `role ${name}`,
        `level role ${name} had ${wrong.map((w) => w.slice(2)).join(', ')} turned on outside pgcred: pgcred turns ${wrong.length > 1 ? 'them' : 'it'} back`,
        `ALTER ROLE ${quoteIdent(name)} WITH ${wrong.join(' ')}`,
        { destructive: true },
      );
    }
    for (const m of role.memberOf) {
      b.simple(
        Phase.Membership,
        'revoke-membership',
        subject,
        `role ${m.role}`,
        `level role ${name} loses membership in ${m.role} (granted outside pgcred: its members would gain it)`,
        `REVOKE ${quoteIdent(m.role)} FROM ${quoteIdent(name)}`,
        { destructive: true },
      );
    }
    if (!ownerIsAdmin && grantsPerGrantor(live.server.versionNum)) {
      const ownerRole = live.roles.get(owner);
      if (
        !ownerRole?.memberOf.some((m) => m.role === name && m.admin && m.inherit === false && m.set !== true)
      )
        grantLevelAdmin(b, name, owner);
    }
  }
}

/**
 * From 16 on the default credential grants the level memberships (GRANTED BY), which
 * takes ADMIN OPTION; it neither inherits nor can SET ROLE to a level role, so it gains
 * no privilege on objects other roles own. Before 16 membership always inherits, and
 * CREATEROLE alone manages memberships, so the default credential is not made a member.
 */
function grantLevelAdmin(b: PlanBuilder, name: string, owner: string): void {
  b.simple(
    Phase.Membership,
    'grant-membership',
    'default',
    `role ${name}`,
    `gets admin option on level role ${name} (no INHERIT, no SET: it grants the memberships)`,
    `GRANT ${quoteIdent(name)} TO ${quoteIdent(owner)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
  );
}

/**
 * A credential's membership in the level roles: exactly its level's, granted with
 * INHERIT TRUE, SET FALSE by the default credential on 16 and later (16 keeps one grant
 * per grantor, and a REVOKE by another grantor only warns); none for `none` or grants.
 * Statements name every credential that makes the same move.
 */
export function planLevelMembership(
  b: PlanBuilder,
  live: LiveState,
  levelRoles: ReadonlyMap<RoleLevel, string>,
  name: string,
  level: RoleLevel | undefined,
  /** 'new': the role is created by this plan; 'grants': it is declared with custom grants. */
  previous: 'new' | 'existing' | 'grants',
  grantor: string,
): void {
  const v = live.server.versionNum;
  const role = live.roles.get(name);
  const rows = (role?.memberOf ?? []).filter((m) => levelOfRole(levelRoles, m.role) !== undefined);
  const now = [...new Set(rows.map((m) => levelOfRole(levelRoles, m.role)!))];
  const from = now.length === 1 ? now[0]! : undefined;
  const becomes = (roleName: string) =>
    now.length > 0
      ? `${now.join(' and ')} → ${level}: becomes a member of level role ${roleName}${from ? `; ${levelDelta(from, level!)}` : ''}`
      : previous === 'new'
        ? `is ${level}: member of level role ${roleName}`
        : `becomes a member of level role ${roleName} (${level})`;
  // The level joined first, then the ones left: never a statement with less access than before.
  const order = [...levelRoles].sort(([a], [c]) => Number(a !== level) - Number(c !== level));
  for (const [rowLevel, roleName] of order) {
    const mine = rows.filter((m) => m.role === roleName);
    if (rowLevel !== level) {
      // Leaves the level role: every grant of it, whoever made it.
      const grantors = [...new Set(mine.map((m) => m.grantor ?? null))];
      for (const g of grantsPerGrantor(v) ? grantors : grantors.slice(0, 1)) {
        b.roleList(
          Phase.Membership,
          'revoke-membership',
          name,
          `role ${roleName}`,
          previous === 'grants'
            ? `loses ${rowLevel}, now custom grants (leaves level role ${roleName}); ${levelDelta(rowLevel, 'none')}`
            : level === undefined
              ? `${rowLevel} → none: leaves level role ${roleName}; ${levelDelta(rowLevel, 'none')}`
              : `${rowLevel} → ${level}: leaves level role ${roleName}`,
          { head: `REVOKE ${quoteIdent(roleName)} FROM`, role: name, tail: revokeTail(v, g ?? grantor) },
          // Leaving read-only for read-write takes nothing away: the new level holds it all.
          { destructive: level === undefined || levelDelta(rowLevel, level).includes('loses') },
        );
      }
      continue;
    }
    const right = mine.filter((m) => isRightGrant(m, v, grantor));
    const fixedRow = mine.find(
      (m) => !grantsPerGrantor(v) || m.grantor === undefined || m.grantor === grantor,
    );
    if (right.length === 0) {
      const fixing = fixedRow !== undefined;
      b.roleList(
        Phase.Membership,
        'grant-membership',
        name,
        `role ${roleName}`,
        fixing
          ? `membership in level role ${roleName} was changed outside pgcred (${describeGrant(fixedRow)}): set back to INHERIT TRUE, SET FALSE`
          : becomes(roleName),
        { head: `GRANT ${quoteIdent(roleName)} TO`, role: name, tail: membershipTail(v, grantor) },
        { destructive: false },
      );
    }
    if (fixedRow?.admin) {
      b.roleList(
        Phase.Membership,
        'revoke-membership',
        name,
        `role ${roleName}`,
        `loses admin option on level role ${roleName} (granted outside pgcred)`,
        {
          head: `REVOKE ADMIN OPTION FOR ${quoteIdent(roleName)} FROM`,
          role: name,
          tail: revokeTail(v, fixedRow.grantor ?? grantor),
        },
        { destructive: true },
      );
    }
    if (grantsPerGrantor(v)) {
      // Grants of the same level role by other grantors: the one from the default credential is kept.
      for (const g of new Set(
        mine.filter((m) => m.grantor !== undefined && m.grantor !== grantor).map((m) => m.grantor ?? null),
      )) {
        b.roleList(
          Phase.Membership,
          'revoke-membership',
          name,
          `role ${roleName}`,
          `a second grant of level role ${roleName}, by ${g}, made outside pgcred, is revoked (the default credential's is kept)`,
          { head: `REVOKE ${quoteIdent(roleName)} FROM`, role: name, tail: revokeTail(v, g) },
          { destructive: false },
        );
      }
    }
  }
}

/** What moving from one level to another gains and loses, in words: `loses TEMPORARY on the database; ...`. */
export function levelDelta(from: PermissionLevelName, to: PermissionLevelName): string {
  const a = PermissionLevel.of(from);
  const c = PermissionLevel.of(to);
  const parts = (x: PermissionLevel, y: PermissionLevel): string[] => {
    const out: string[] = [];
    const minus = (p: readonly string[], q: readonly string[]) => p.filter((v) => !q.includes(v));
    const db = minus(x.database, y.database);
    if (db.length > 0) out.push(`${db.join(', ')} on the database`);
    const schemas = minus(x.schemas, y.schemas);
    if (schemas.length > 0) out.push(`${schemas.join(', ')} on every schema`);
    const tables = minus(x.tables, y.tables);
    if (tables.length > 0) out.push(`${tables.join(', ')} on all tables`);
    const sequences = minus(x.sequences, y.sequences);
    if (sequences.length > 0) out.push(`${sequences.join(', ')} on all sequences`);
    return out;
  };
  const gains = parts(c, a);
  const loses = parts(a, c);
  return [
    ...(gains.length > 0 ? [`gains ${gains.join('; ')}`] : []),
    ...(loses.length > 0 ? [`loses ${loses.join('; ')}`] : []),
  ].join('; ');
}

function describeGrant(m: LiveMembership | undefined): string {
  if (!m) return '';
  const parts: string[] = [];
  if (m.inherit === false) parts.push('INHERIT FALSE');
  if (m.set === true) parts.push('SET TRUE');
  if (m.admin) parts.push('ADMIN OPTION');
  return parts.join(', ');
}

/**
 * Roles made members of a level role outside pgcred: anyone but the credentials at
 * that level, the default credential (admin option) and the admin. Each is drift, and
 * apply revokes it.
 */
export function planHandMemberships(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  levelRoles: ReadonlyMap<RoleLevel, string>,
  owner: string,
  leftAlone: ReadonlySet<string>,
): void {
  const s = live.server;
  const declared = new Set(desired.credentials.map((c) => c.name));
  for (const role of live.roles.values()) {
    if (declared.has(role.name) || leftAlone.has(role.name)) continue;
    if (role.name === owner || role.name === s.currentUser || role.name === s.bootstrapUser) continue;
    const seen = new Set<string>();
    for (const m of role.memberOf) {
      const level = levelOfRole(levelRoles, m.role);
      if (!level) continue;
      const key = `${m.role}\t${grantsPerGrantor(s.versionNum) ? (m.grantor ?? '') : ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const members = desired.credentials
        .filter((c) => c.access.kind === 'level' && c.access.level === level)
        .map((c) => c.name);
      b.roleList(
        Phase.Membership,
        'revoke-membership',
        role.name,
        `role ${m.role}`,
        `was made a member of level role ${m.role} (${level}) outside pgcred: it loses that membership, which only the credentials at ${level} hold${members.length > 0 ? ` (${members.slice(0, 5).join(', ')}${members.length > 5 ? `, and ${members.length - 5} more` : ''})` : ''}`,
        {
          head: `REVOKE ${quoteIdent(m.role)} FROM`,
          role: role.name,
          tail: revokeTail(s.versionNum, m.grantor),
        },
        { destructive: true },
      );
    }
  }
}
