import { columnKey, type ExpandedAccess, routineKey, splitColumnKey } from '../model/access';
import { displayIdent, displayQualified, displayRoutine } from '../model/identifiers';
import type { DesiredDatabase } from './diff';
import { CLASS_NOUN, listNames } from './diff-privileges';
import type { LiveState } from './live-state';
import { parseManagedComment } from './markers';
import type { PlanBuilder } from './plan-builder';

// The diff's findings: what drift reports and apply does not change.

/** Schemas, tables and sequences that custom grants name but the database does not have. */
export function reportMissingObjects(
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
          severity: 'notice',
          subject: credential.name,
          description: `schema ${displayIdent(schema)}, named by the grants of ${credential.name}, does not exist`,
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
          severity: 'notice',
          subject: credential.name,
          description: `${CLASS_NOUN[object.class][0]} ${shown}, named by the grants of ${credential.name}, does not exist`,
          remedy: 'create it, or correct the grant',
        });
      } else if (cls && cls !== object.class) {
        b.finding({
          kind: 'missing-object',
          severity: 'notice',
          subject: credential.name,
          description: `${shown} is a ${CLASS_NOUN[cls][0]}, not a ${CLASS_NOUN[object.class][0]}`,
          remedy: `grant it with on: ${cls === 'tables' ? 'table' : 'sequence'}`,
        });
      }
    }
    const columns = live.declaredColumns
      ? new Set(live.declaredColumns.map((c) => columnKey(c.schema, c.table, c.column)))
      : undefined;
    for (const key of access.columns.keys()) {
      const { schema, table, column } = splitColumnKey(key);
      // A missing table is reported above, once.
      if (!columns || columns.has(key) || found.get(`${schema}\t${table}`) !== 'tables') continue;
      b.finding({
        kind: 'missing-object',
        severity: 'notice',
        subject: credential.name,
        description: `column ${displayIdent(column)} of ${displayQualified({ schema, name: table })}, named by the grants of ${credential.name}, does not exist`,
        remedy: 'add the column, or correct the grant',
      });
    }
    const routines = new Map((live.declaredRoutines ?? []).map((d) => [d.key, d.routine]));
    for (const routine of access.routines) {
      const key = routineKey(routine);
      if (!routines.has(key) || routines.get(key) || !liveSchemas.has(routine.schema)) continue;
      b.finding({
        kind: 'missing-object',
        severity: 'notice',
        subject: credential.name,
        description: `routine ${displayRoutine(routine)}, named by the grants of ${credential.name}, does not exist`,
        remedy: 'create it, or correct the grant (argument types as CREATE FUNCTION wrote them)',
      });
    }
  }
}

/** Roles pgcred does not manage that can reach this database: superusers, and holders of privileges or objects here. */
export function reportUnmanaged(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  owner: string,
  declared: ReadonlySet<string>,
): void {
  const s = live.server;
  const reaching = new Map<string, string>();
  // The reason is worded only for the first sighting of a role: a database has
  // thousands of privilege groups and few roles.
  const note = (role: string | null, why: () => string) => {
    if (role && !reaching.has(role)) reaching.set(role, why());
  };
  for (const entry of s.acl) note(entry.grantee, () => `holds ${entry.privilege} on database ${s.database}`);
  for (const schema of live.schemas) {
    for (const entry of schema.acl)
      note(entry.grantee, () => `holds ${entry.privilege} on schema ${displayIdent(schema.name)}`);
  }
  for (const group of live.relationPrivileges) {
    note(
      group.grantee,
      () =>
        `holds ${group.privilege} on ${group.holding} ${group.class} in schema ${displayIdent(group.schema)}`,
    );
  }
  for (const entry of live.defaultPrivileges) note(entry.grantee, () => 'holds default privileges');
  for (const p of live.columnPrivileges ?? [])
    note(
      p.grantee,
      () =>
        `holds ${p.privilege} on column ${displayQualified({ schema: p.schema, name: p.table })}.${displayIdent(p.column)}`,
    );
  for (const p of live.routinePrivileges ?? [])
    note(p.grantee, () => `may execute ${p.kind} ${displayQualified(p)}(${p.arguments})`);
  for (const owned of live.foreignOwnership) {
    if (owned.schema !== desired.controlSchema)
      note(owned.owner, () => `owns ${owned.kind}s in schema ${displayIdent(owned.schema)}`);
  }
  for (const role of live.roles.values()) if (role.superuser) note(role.name, () => 'is a superuser');
  const ignored = new Set(desired.ignoreRoles);
  // By code point: role names are identifiers, and a no-op drift need not load ICU's collator for them.
  for (const [name, why] of [...reaching].sort(([a], [b2]) => (a < b2 ? -1 : a > b2 ? 1 : 0))) {
    if (name === owner || declared.has(name) || ignored.has(name)) continue;
    if (name === s.currentUser || name === s.bootstrapUser || name.startsWith('pg_')) continue;
    const mark = parseManagedComment(live.roles.get(name)?.comment ?? null);
    if (mark && mark.database === s.database) continue;
    b.finding({
      kind: 'unmanaged-role',
      severity: 'notice',
      subject: name,
      description: `role ${name} is not managed by pgcred and ${why}`,
      remedy: 'pgcred never changes it: declare it as a credential, drop it, or list it under ignoreRoles',
    });
  }
}

export function reportForeignOwners(
  b: PlanBuilder,
  desired: DesiredDatabase,
  live: LiveState,
  owner: string,
  /** Roles pgcred does not manage whose future objects the levels cover through default privileges. */
  covered: readonly string[] = [],
): void {
  const ignored = new Set(desired.ignoreRoles);
  const coveredRoles = new Set(covered);
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
    if (ignored.has(name)) continue;
    if (coveredRoles.has(name)) {
      // A legacy app owning its own tables is how the database was before pgcred;
      // handing them to the default credential would take them from the app.
      b.finding({
        kind: 'foreign-owner',
        severity: 'notice',
        subject: name,
        description: `${name}, a role pgcred does not manage, owns ${parts.sort().join('; ')}: the levels cover them, and the tables it creates later through default privileges`,
        remedy: 'nothing to do; list it under ignoreRoles to stop this notice',
      });
      continue;
    }
    // A managed credential's own objects moved the database away from the declaration
    // (levels cover what the default credential creates); a role pgcred does not manage
    // owning its tables is how the database was before pgcred, and needs a person once.
    const mark = parseManagedComment(live.roles.get(name)?.comment ?? null);
    const managedHere = mark !== undefined && mark.database === live.server.database;
    b.finding({
      kind: 'foreign-owner',
      severity: managedHere ? 'drift' : 'notice',
      subject: name,
      description: `${name}, not the default credential, owns ${parts.sort().join('; ')}. Default privileges only cover objects the default credential creates, so credentials may not get the access their level promises`,
      remedy: managedHere
        ? 'run pgcred credentials:repair-default to hand them to the default credential'
        : `run pgcred credentials:repair-default to hand them to the default credential (${name} then no longer owns them), or make the admin a member of ${name} so pgcred can cover them`,
    });
  }
}

/**
 * Row-level security: a level lets a credential query a table, but with RLS enabled
 * and no policy for the credential (or PUBLIC, or a role it belongs to) it sees no
 * rows and changes none. Said per table, once, naming the credentials.
 */
export function reportRowSecurity(
  b: PlanBuilder,
  live: LiveState,
  accesses: ReadonlyMap<string, ExpandedAccess>,
): void {
  for (const table of live.rowSecurity ?? []) {
    const policy = new Set(table.policyRoles);
    if (policy.has('')) continue;
    const blind: string[] = [];
    for (const [grantee, access] of accesses) {
      if (grantee === 'PUBLIC') continue;
      const reaches = [...access.relations].some(([key, holders]) => {
        const [cls, schema] = key.split('\t');
        return cls === 'tables' && schema === table.schema && (holders === 'all' || holders.has(table.name));
      });
      if (!reaches) continue;
      const roles = [grantee, ...(live.roles.get(grantee)?.memberOf.map((m) => m.role) ?? [])];
      if (!roles.some((role) => policy.has(role))) blind.push(grantee);
    }
    if (blind.length === 0) continue;
    const shown = displayQualified({ schema: table.schema, name: table.name });
    b.finding({
      kind: 'row-security',
      severity: 'notice',
      subject: blind.length === 1 ? blind[0]! : `${blind.length} credentials`,
      description: `table ${shown} has row-level security and no policy for ${blind.join(', ')}: their access lets them query it, but they see no rows`,
      remedy: `if they should see rows, add a policy: CREATE POLICY ... ON ${shown} TO ${blind[0]} USING (...)`,
    });
  }
}
