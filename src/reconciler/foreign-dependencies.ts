import type { ClientBase } from 'pg';
import type { Plan } from '../model/plan';
import { catalogSql } from './inspect';

// Roles are cluster-wide, but REASSIGN OWNED and DROP OWNED act on the current
// database only: a role that owns or is granted something in another database of its
// cluster cannot be dropped from this one. The plan refuses it before any change,
// naming the databases, rather than failing at DROP ROLE.

/** The roles a plan drops (destroy, prune, the end of a rotation): dropRole's changes name them. */
export function droppedRoles(plan: Plan): string[] {
  const names = plan.changes
    .filter((c) => c.action === 'drop' && c.target.startsWith('role '))
    .map((c) => c.target.slice('role '.length));
  return [...new Set(names)];
}

interface Dependency {
  readonly role: string;
  readonly database: string;
  readonly owns: number;
  readonly privileges: number;
  readonly owns_database: boolean;
}

/** One refusal per dropped role that something in another database of the cluster depends on. */
export async function foreignDependencyRefusals(
  client: ClientBase,
  roles: readonly string[],
  describe: (role: string) => string,
): Promise<string[]> {
  if (roles.length === 0) return [];
  const { rows } = await client.query<Dependency>(catalogSql('foreign_dependencies'), [roles]);
  const byRole = new Map<string, string[]>();
  for (const row of rows) {
    const what = [
      ...(row.owns_database ? ['owns the database'] : []),
      ...(row.owns > 0 ? [`owns ${row.owns} object${row.owns === 1 ? '' : 's'}`] : []),
      ...(row.privileges > 0 ? [`holds privileges on ${row.privileges}`] : []),
    ].join(' and ');
    const parts = byRole.get(row.role) ?? [];
    parts.push(`${what} in database "${row.database}"`);
    byRole.set(row.role, parts);
  }
  return [...byRole].map(
    ([role, parts]) =>
      `${describe(role)} cannot be dropped: role ${role} ${parts.join(', ')} of this cluster, which this database's REASSIGN OWNED and DROP OWNED cannot reach; ` +
      `hand them over there first (in each of those databases: REASSIGN OWNED BY "${role}" TO <its owner>; DROP OWNED BY "${role}"; a database it owns: ALTER DATABASE ... OWNER TO ...)`,
  );
}
