import type { ClientBase } from 'pg';
import { CONTROL_SCHEMA as S } from '../model/control-schema';

/** An attachment as the control store keeps it: where the config var points, never a password. */
export interface AttachmentRecord {
  readonly app: string;
  readonly name: string;
  readonly database: string;
  readonly credential: string;
  /** The credential's username, or `<name>-rotating` during part of a rotation. */
  readonly username: string;
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
  readonly sslmode: string | null;
  /** Made by the file (or the constructs), not by `pgcred attach`. */
  readonly declared: boolean;
}

const COLUMNS = 'app, name, database, credential, username, host, port, dbname, sslmode, declared';

/** Attachments: which app holds which credential of which database, under which config var. */
export class AttachmentRepository {
  constructor(private readonly db: ClientBase) {}

  /** By app and name, optionally of one app or one database. */
  async list(where: { readonly app?: string; readonly database?: string } = {}): Promise<AttachmentRecord[]> {
    const { rows } = await this.db.query<AttachmentRecord>(
      `SELECT ${COLUMNS} FROM ${S}.attachments
        WHERE ($1::text IS NULL OR app = $1) AND ($2::text IS NULL OR database = $2)
        ORDER BY app, name`,
      [where.app ?? null, where.database ?? null],
    );
    return rows;
  }

  /** The names of an app's attachments, ordered. */
  async namesOf(app: string): Promise<string[]> {
    const { rows } = await this.db.query(`SELECT name FROM ${S}.attachments WHERE app = $1 ORDER BY name`, [
      app,
    ]);
    return rows.map((row) => row.name as string);
  }

  /** The apps a credential is attached to, ordered. */
  async appsOf(database: string, credential: string): Promise<string[]> {
    const { rows } = await this.db.query(
      `SELECT DISTINCT app FROM ${S}.attachments WHERE database = $1 AND credential = $2 ORDER BY app`,
      [database, credential],
    );
    return rows.map((row) => row.app as string);
  }

  async insert(record: AttachmentRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO ${S}.attachments (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        record.app,
        record.name,
        record.database,
        record.credential,
        record.username,
        record.host,
        record.port,
        record.dbname,
        record.sslmode,
        record.declared,
      ],
    );
  }

  /** Points every attachment of a credential at `username` (a rotation's step); the apps it changed, ordered. */
  async pointAt(database: string, credential: string, username: string): Promise<string[]> {
    const { rows } = await this.db.query(
      `UPDATE ${S}.attachments SET username = $3 WHERE database = $1 AND credential = $2 RETURNING app`,
      [database, credential, username],
    );
    return [...new Set(rows.map((row) => row.app as string))].sort();
  }

  /** The attachment removed, or undefined when the app has none of that name. */
  async delete(app: string, name: string): Promise<AttachmentRecord | undefined> {
    const { rows } = await this.db.query<AttachmentRecord>(
      `DELETE FROM ${S}.attachments WHERE app = $1 AND name = $2 RETURNING ${COLUMNS}`,
      [app, name],
    );
    return rows[0];
  }
}
