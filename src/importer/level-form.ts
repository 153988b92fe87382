import type { AclEntry, LiveRole, LiveState, RelationPrivilegeGroup } from '../reconciler/live-state';
import { parseManagedComment } from '../reconciler/markers';

/**
 * The live state with this database's level roles written out: each member holds
 * its level role's privileges directly, and the level roles are gone. Import decides
 * what a role's access is by comparing direct grants with a level's, so a database
 * pgcred applied with level roles and one a person granted by hand read the same;
 * apply then gives either form the level-role form, which changes no one's access.
 */
export function withLevelRolesWrittenOut(live: LiveState): {
  state: LiveState;
  levelOf: Map<string, string>;
} {
  const db = live.server.database;
  const levelRoles = new Set(
    [...live.roles.values()]
      .filter((role) => {
        const mark = parseManagedComment(role.comment);
        return mark?.kind === 'level role' && mark.database === db;
      })
      .map((role) => role.name),
  );
  const levelOf = new Map<string, string>();
  if (levelRoles.size === 0) return { state: live, levelOf };
  const membersOf = new Map<string, string[]>();
  const roles = new Map<string, LiveRole>();
  for (const role of live.roles.values()) {
    if (levelRoles.has(role.name)) continue;
    const levels = role.memberOf.filter((m) => levelRoles.has(m.role)).map((m) => m.role);
    for (const level of new Set(levels)) {
      membersOf.set(level, [...(membersOf.get(level) ?? []), role.name]);
      levelOf.set(role.name, level);
    }
    roles.set(role.name, { ...role, memberOf: role.memberOf.filter((m) => !levelRoles.has(m.role)) });
  }
  const expand = (acl: readonly AclEntry[]): AclEntry[] => {
    const out = acl.filter((e) => e.grantee === null || !levelRoles.has(e.grantee));
    const held = new Set(out.map((e) => `${e.grantee}\t${e.privilege}`));
    for (const entry of acl) {
      if (entry.grantee === null || !levelRoles.has(entry.grantee)) continue;
      for (const member of membersOf.get(entry.grantee) ?? []) {
        const key = `${member}\t${entry.privilege}`;
        if (held.has(key)) continue;
        held.add(key);
        out.push({ grantee: member, privilege: entry.privilege });
      }
    }
    return out;
  };
  // A member's own relation grants and its level role's: the one holding more relations stands for both,
  // which is exact whenever the level role holds all of them (as pgcred grants it).
  const groups = new Map<string, RelationPrivilegeGroup>();
  const groupKey = (g: RelationPrivilegeGroup, grantee: string | null) =>
    `${g.schema}\t${g.class}\t${grantee}\t${g.privilege}`;
  const put = (g: RelationPrivilegeGroup) => {
    const key = groupKey(g, g.grantee);
    const had = groups.get(key);
    if (!had || g.holding > had.holding) groups.set(key, g);
  };
  for (const g of live.relationPrivileges) {
    if (g.grantee !== null && levelRoles.has(g.grantee)) {
      for (const member of membersOf.get(g.grantee) ?? []) put({ ...g, grantee: member });
    } else put(g);
  }
  const defaults = live.defaultPrivileges.flatMap((e) =>
    e.grantee !== null && levelRoles.has(e.grantee)
      ? (membersOf.get(e.grantee) ?? []).map((member) => ({ ...e, grantee: member }))
      : [e],
  );
  const defaultKeys = new Set<string>();
  const uniqueDefaults = defaults.filter((e) => {
    const key = `${e.owner}\t${e.schema}\t${e.objtype}\t${e.grantee}\t${e.privilege}`;
    if (defaultKeys.has(key)) return false;
    defaultKeys.add(key);
    return true;
  });
  return {
    state: {
      ...live,
      server: { ...live.server, acl: expand(live.server.acl) },
      roles,
      schemas: live.schemas.map((schema) => ({ ...schema, acl: expand(schema.acl) })),
      relationPrivileges: [...groups.values()],
      defaultPrivileges: uniqueDefaults,
      definerFunctions: live.definerFunctions.map((fn) => ({
        ...fn,
        executors: [
          ...new Set(
            fn.executors.flatMap((g) => (g !== null && levelRoles.has(g) ? (membersOf.get(g) ?? []) : [g])),
          ),
        ],
      })),
    },
    levelOf,
  };
}
