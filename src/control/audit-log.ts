import type { ClientBase } from 'pg';
import { CONTROL_SCHEMA as S } from '../model/control-schema';

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
    `INSERT INTO ${S}.audit (actor, action, database, subject, detail) VALUES ($1, $2, $3, $4, $5)`,
    [actor, entry.action, entry.database ?? null, entry.subject ?? null, JSON.stringify(entry.detail ?? {})],
  );
}

/** One line of the audit log as it was written, newest first when read. */
export interface AuditRecord {
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly database: string | null;
  readonly subject: string | null;
  readonly detail: Record<string, unknown>;
}

/** The newest `limit` records, of one database or of all. */
export async function readAudit(
  db: ClientBase,
  options: { readonly limit: number; readonly database?: string },
): Promise<AuditRecord[]> {
  const { rows } = await db.query<AuditRecord>(
    `SELECT at, actor, action, database, subject, detail FROM ${S}.audit
      WHERE $2::text IS NULL OR database = $2 ORDER BY id DESC LIMIT $1`,
    [options.limit, options.database ?? null],
  );
  return rows;
}
