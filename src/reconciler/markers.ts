/**
 * pgcred marks the roles it manages with a comment. Roles are cluster-wide, so the
 * mark names the database: a second database in the same cluster sees that the role
 * belongs to someone else instead of silently sharing it.
 */
export type ManagedKind = 'credential' | 'default credential' | 'rotating username';

const MARK =
  /^managed by pgcred: (credential|default credential|rotating username) of database "((?:[^"]|"")*)"$/;

export function managedComment(kind: ManagedKind, database: string): string {
  return `managed by pgcred: ${kind} of database "${database.replace(/"/g, '""')}"`;
}

export function parseManagedComment(
  comment: string | null,
): { kind: ManagedKind; database: string } | undefined {
  if (!comment) return undefined;
  const match = MARK.exec(comment);
  if (!match) return undefined;
  return { kind: match[1] as ManagedKind, database: match[2]!.replace(/""/g, '"') };
}
