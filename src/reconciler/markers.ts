/**
 * pgcred marks the roles it manages with a comment. Roles are cluster-wide, so the
 * mark names the database: a second database in the same cluster sees that the role
 * belongs to someone else instead of silently sharing it.
 */
export type ManagedKind = 'credential' | 'default credential' | 'rotating username' | 'level role';

const MARK =
  /^managed by pgcred: (credential|default credential|rotating username|level role) of database "((?:[^"]|"")*)"( \(adopted\))?$/;

/**
 * An adopted role existed before pgcred: its password is whatever its users were
 * given, so pgcred keeps it (and the attributes that grant nothing) until it is
 * handed the password or asked to rotate.
 */
export function managedComment(kind: ManagedKind, database: string, adopted = false): string {
  return `managed by pgcred: ${kind} of database "${database.replace(/"/g, '""')}"${adopted ? ' (adopted)' : ''}`;
}

export function parseManagedComment(
  comment: string | null,
): { kind: ManagedKind; database: string; adopted: boolean } | undefined {
  if (!comment) return undefined;
  const match = MARK.exec(comment);
  if (!match) return undefined;
  return { kind: match[1] as ManagedKind, database: match[2]!.replace(/""/g, '"'), adopted: !!match[3] };
}
