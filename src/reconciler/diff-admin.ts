import { displayIdent, displayQualified, quoteIdent } from '../model/identifiers';
import type { DesiredDatabase } from './diff';
import { memberships } from './diff-public';
import type { LiveState } from './live-state';
import { parseManagedComment } from './markers';
import type { PlanBuilder } from './plan-builder';

// An admin that is the database owner with CREATEROLE, not a superuser, can grant only
// on what it owns (or what a role it belongs to owns), and from PostgreSQL 16 on can
// alter only roles it has ADMIN OPTION on. The plan says so before anything changes,
// naming each object or role and what a superuser must run, rather than failing halfway
// through a transaction with "permission denied".

/** The schemas whose relations or privileges the plan grants or revokes on. */
function touchedSchemas(b: PlanBuilder): Set<string> {
  const out = new Set<string>();
  for (const intent of b.plannedIntents()) {
    if (intent.kind === 'relations' || intent.kind === 'schema') out.add(intent.object);
    if (intent.kind === 'relation') {
      const match = /^"((?:[^"]|"")*)"\./.exec(intent.object);
      if (match) out.add(match[1]!.replace(/""/g, '"'));
    }
  }
  return out;
}

export function refuseWhatTheAdminCannotDo(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  owner: string,
  /** Roles this plan drops: their objects go to the default credential before any grant. */
  handedOver: readonly string[] = [],
): void {
  const s = live.server;
  if (s.isSuperuser) return;
  const dropped = new Set(handedOver);
  const admin = s.currentUser;
  const adminRoles = memberships(live, admin);
  const touched = touchedSchemas(b);
  for (const owned of live.foreignOwnership) {
    if (owned.schema === desired.controlSchema || adminRoles.has(owned.owner) || dropped.has(owned.owner))
      continue;
    // public's owner (PostgreSQL 14 and older) is refused with its own message.
    if (owned.kind === 'schema') {
      if (owned.schema !== 'public' && touched.has(owned.schema)) {
        b.errors.push(
          `schema ${displayIdent(owned.schema)} belongs to ${owned.owner}, and the admin role ${admin} is neither a superuser nor a member of ${owned.owner}, so it cannot grant on it: ` +
            `a superuser must run ALTER SCHEMA ${quoteIdent(owned.schema)} OWNER TO ${quoteIdent(owner)}, or GRANT ${quoteIdent(owned.owner)} TO ${quoteIdent(admin)}`,
        );
      }
      continue;
    }
    if (!touched.has(owned.schema)) continue;
    const names = owned.sample.map((name) => displayQualified({ schema: owned.schema, name })).join(', ');
    const more = owned.count > owned.sample.length ? ` and ${owned.count - owned.sample.length} more` : '';
    b.errors.push(
      `${owned.kind}${owned.count === 1 ? '' : 's'} ${names}${more} belong${owned.count === 1 ? 's' : ''} to ${owned.owner}, and the admin role ${admin} is neither a superuser nor a member of ${owned.owner}, so it cannot grant on ${owned.count === 1 ? 'it' : 'them'}: ` +
        `a superuser must run GRANT ${quoteIdent(owned.owner)} TO ${quoteIdent(admin)} in this cluster, or run pgcred apply once as a superuser`,
    );
  }
  if (s.versionNum < 160000) return;
  const adminRole = live.roles.get(admin);
  for (const credential of desired.credentials) {
    if (desired.scope && !desired.scope.has(credential.name)) continue;
    const role = live.roles.get(credential.name);
    if (!role || role.superuser) continue;
    if (adminRole?.memberOf.some((m) => m.role === credential.name && m.admin)) continue;
    const mark = parseManagedComment(role.comment);
    if (mark && mark.database !== s.database) continue; // refused as taken
    b.errors.push(
      `role ${credential.name} exists and the admin role ${admin} has no ADMIN OPTION on it (PostgreSQL 16 and later need it to alter a role): ` +
        `a superuser must run GRANT ${quoteIdent(credential.name)} TO ${quoteIdent(admin)} WITH ADMIN OPTION`,
    );
  }
}
