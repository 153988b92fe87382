import type { ClientBase } from 'pg';

/** One line of the audit log: who did what, and when. It never holds a secret. */
export interface AuditEntry {
  readonly action: string;
  readonly database?: string;
  readonly subject?: string;
  readonly detail?: Record<string, unknown>;
}

/** Writes one audit record, on the control store's connection or inside one of its transactions. */
export async function writeAudit(db: ClientBase, actor: string, entry: AuditEntry): Promise<void> {
  await db.query(
    'INSERT INTO pgcred.audit (actor, action, database, subject, detail) VALUES ($1, $2, $3, $4, $5)',
    [actor, entry.action, entry.database ?? null, entry.subject ?? null, JSON.stringify(entry.detail ?? {})],
  );
}
