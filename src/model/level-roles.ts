import { createHash } from 'node:crypto';
import type { PermissionLevelName } from './permission-level';

// Level roles: a level's privileges are granted once, to one NOLOGIN role per level
// and database, and a credential at a level is a member of exactly that role. A level
// change, a create and a destroy are then membership statements whose cost does not
// grow with tables: granting on every relation once per credential writes one ACL
// entry and one pg_shdepend row per credential per relation.

/** The levels that grant something, and so have a level role. */
export const ROLE_LEVELS = ['read-only', 'read-write'] as const;
export type RoleLevel = (typeof ROLE_LEVELS)[number];

const MAX_IDENTIFIER = 63;

/**
 * The level role of `level` for the database the config names `database` (its one
 * identity, registered in the control store): `pgcred:read-only:postgresql-sunny-1234`.
 * The colon is no credential name's, so a credential can never take it; a name over
 * PostgreSQL's 63 bytes keeps its start and ends with a short hash of the whole.
 */
export function levelRoleName(database: string, level: RoleLevel): string {
  const full = `pgcred:${level}:${database}`;
  if (Buffer.byteLength(full) <= MAX_IDENTIFIER) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  const prefix = `pgcred:${level}:`;
  let kept = database;
  while (Buffer.byteLength(`${prefix}${kept}~${hash}`) > MAX_IDENTIFIER) kept = kept.slice(0, -1);
  return `${prefix}${kept}~${hash}`;
}

export function levelRoleNames(database: string): Map<RoleLevel, string> {
  return new Map(ROLE_LEVELS.map((level) => [level, levelRoleName(database, level)]));
}

export function hasLevelRole(level: PermissionLevelName): level is RoleLevel {
  return level === 'read-only' || level === 'read-write';
}
