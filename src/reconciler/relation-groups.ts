import type { RelationClass, RelationPrivilegeGroup } from './live-state';

/** A row of relation_privileges.sql; which fields are set depends on its kind. */
export interface RelationPrivilegeRow {
  readonly kind: 'held' | 'total' | 'rare' | 'few' | 'few-item' | 'detail';
  readonly schema: string | null;
  readonly class: RelationClass | null;
  readonly grantee: string | null;
  readonly privilege: string | null;
  readonly count: number | null;
  /** The rare ACL a `rare`, `few` or `few-item` row belongs to. */
  readonly acl: string | number | null;
  /** A `rare` row's ACL as text, for relation_details.sql to find its relations by. */
  readonly acl_text?: string | null;
  /** A `few` row's relations (from relation_details.sql). */
  readonly names?: readonly string[] | null;
}

export interface RelationGroups {
  readonly relationTotals: { schema: string; class: RelationClass; total: number }[];
  readonly relationPrivileges: RelationPrivilegeGroup[];
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Puts the query's four kinds of rows together: each held privilege gets its
 * schema's total, and, where at most `cap` relations hold it or lack it, their
 * names. Those relations all have ACLs that at most `cap` relations share (a
 * privilege held on k relations is in ACLs covering at most k), so the query's rare
 * ACLs are enough to list them.
 */
export function mergeRelationRows(rows: readonly RelationPrivilegeRow[], cap: number): RelationGroups {
  const key = (schema: string, cls: string) => `${cls}\t${schema}`;
  const totals = new Map<string, number>();
  const rare = new Map<string, { names: readonly string[]; grants: Set<string> }[]>();
  const rareById = new Map<string, { names: readonly string[]; grants: Set<string> }>();
  const relationTotals: RelationGroups['relationTotals'] = [];
  for (const row of rows) {
    if (row.kind === 'total') {
      totals.set(key(row.schema!, row.class!), row.count!);
      relationTotals.push({ schema: row.schema!, class: row.class!, total: row.count! });
    } else if (row.kind === 'few') {
      const acl = { names: row.names ?? [], grants: new Set<string>() };
      rareById.set(String(row.acl), acl);
      const scope = key(row.schema!, row.class!);
      rare.set(scope, [...(rare.get(scope) ?? []), acl]);
    }
  }
  for (const row of rows) {
    if (row.kind === 'few-item')
      rareById.get(String(row.acl))?.grants.add(`${row.grantee}\t${row.privilege}`);
  }
  const relationPrivileges: RelationPrivilegeGroup[] = [];
  for (const row of rows) {
    if (row.kind !== 'held') continue;
    const scope = key(row.schema!, row.class!);
    const total = totals.get(scope) ?? row.count!;
    const holding = row.count!;
    const grant = `${row.grantee}\t${row.privilege}`;
    const acls = rare.get(scope) ?? [];
    const names = (holds: boolean) =>
      acls
        .filter((acl) => acl.grants.has(grant) === holds)
        .flatMap((acl) => acl.names)
        .sort(byCodePoint);
    relationPrivileges.push({
      schema: row.schema!,
      class: row.class!,
      grantee: row.grantee,
      privilege: row.privilege!,
      holding,
      total,
      ...(holding <= cap ? { holders: names(true) } : {}),
      ...(holding < total && total - holding <= cap ? { lacking: names(false) } : {}),
    });
  }
  return { relationTotals, relationPrivileges };
}
