import type { ClientBase } from 'pg';
import type { DatabaseSpec } from '../model/config';
import { CONTROL_SCHEMA as S } from '../model/control-schema';
import { endpointOf } from '../postgres/connection';
import type { MasterKey } from './crypto';

/**
 * The registry of databases in the control store (migration 002): one name per
 * live database, whichever command or executor reaches it. A provider block and a
 * file name a database; the CLI's postgres:// URL form only reaches one, and finds
 * here the name it was given, so passwords and journals stay under one name.
 */
export interface DatabaseIdentity {
  /** The cluster's system identifier; null where the admin may not read pg_control_system(). */
  readonly systemIdentifier: string | null;
  readonly oid: number;
  /** Where the URL reaches it: tells a fork (same identifier and OID) from its primary. */
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
}

/** What the registry keeps of a database besides its identity: its settings, never its URL. */
export type RegisteredDatabase = Pick<DatabaseSpec, 'name' | 'plan' | 'color' | 'owner' | 'credentialLimit'>;

/** The identity of the database `admin` is connected to, reached through `url`. */
export async function identityOf(admin: ClientBase, url: string): Promise<DatabaseIdentity> {
  const { rows } = await admin.query(
    'SELECT oid::bigint AS oid, datname FROM pg_database WHERE datname = current_database()',
  );
  let systemIdentifier: string | null = null;
  try {
    const control = await admin.query('SELECT system_identifier::text AS id FROM pg_control_system()');
    systemIdentifier = control.rows[0]?.id ?? null;
  } catch {
    // Revoked from PUBLIC on some installations: the OID and the endpoint still tell databases apart.
  }
  const endpoint = endpointOf(url);
  return {
    systemIdentifier,
    oid: Number(rows[0].oid),
    host: endpoint.host,
    port: endpoint.port,
    dbname: rows[0].datname as string,
  };
}

interface Row {
  readonly name: string;
  readonly registered_by: string;
  readonly host: string;
  readonly port: number;
  readonly plan: string;
  readonly color: string;
  readonly owner: string | null;
  readonly credential_limit: number | null;
}

/** The registered databases that are this live database: one, or none when it is not registered (or ambiguous). */
async function matches(db: ClientBase, identity: DatabaseIdentity): Promise<Row[]> {
  const { rows } = await db.query<Row>(
    `SELECT name, registered_by, host, port, plan, color, owner, credential_limit FROM ${S}.databases
      WHERE oid = $1 AND dbname = $2 AND system_identifier IS NOT DISTINCT FROM $3
        AND ($3 IS NOT NULL OR (host = $4 AND port = $5))
      ORDER BY name`,
    [identity.oid, identity.dbname, identity.systemIdentifier, identity.host, identity.port],
  );
  if (rows.length <= 1) return rows;
  // A primary and its forks: the endpoint tells them apart.
  return rows.filter((row) => row.host === identity.host && row.port === identity.port);
}

/** The registry as the control store hands it out, on the store's connection, with its key. */
export class DatabaseRegistry {
  constructor(
    private readonly db: ClientBase,
    private readonly key: MasterKey,
  ) {}

  /** The name (and settings) this live database was registered with, if any. */
  find(identity: DatabaseIdentity): Promise<RegisteredDatabase | undefined> {
    return findDatabase(this.db, identity);
  }

  /** See registerDatabase; a file or provider name takes over what the URL form stored. */
  register(spec: DatabaseSpec, identity: DatabaseIdentity, by: string): Promise<void> {
    return registerDatabase(this.db, spec, identity, by, this.key);
  }

  async names(): Promise<string[]> {
    const { rows } = await this.db.query(`SELECT name FROM ${S}.databases ORDER BY name`);
    return rows.map((row) => row.name as string);
  }
}

/** The name (and settings) this live database was registered with, if any. */
async function findDatabase(
  db: ClientBase,
  identity: DatabaseIdentity,
): Promise<RegisteredDatabase | undefined> {
  const found = await matches(db, identity);
  if (found.length !== 1) return undefined;
  const row = found[0]!;
  return {
    name: row.name,
    plan: row.plan,
    color: row.color,
    ...(row.owner !== null ? { owner: row.owner } : {}),
    ...(row.credential_limit !== null ? { credentialLimit: row.credential_limit } : {}),
  };
}

/** Who registered a database by reaching it with a postgres:// URL on the command line. */
export const URL_FORM = 'cli-url';

/**
 * Moves what the control store keeps under one database name to another, in one
 * transaction. Secrets are bound to where they belong (the database name is in their
 * additional data), so each is decrypted and encrypted again under the new name.
 */
async function renameDatabase(db: ClientBase, key: MasterKey, from: string, to: string): Promise<void> {
  await db.query('BEGIN');
  try {
    const secrets = await db.query(`SELECT username, password FROM ${S}.secrets WHERE database = $1`, [from]);
    for (const row of secrets.rows) {
      const password = key.decrypt(row.password, `${from}/${row.username}`);
      // A password kept under both names: the one kept under the name given now wins.
      await db.query(
        `INSERT INTO ${S}.secrets (database, username, password) VALUES ($1, $2, $3)
         ON CONFLICT (database, username) DO NOTHING`,
        [to, row.username, key.encrypt(password, `${to}/${row.username}`)],
      );
    }
    await db.query(`DELETE FROM ${S}.secrets WHERE database = $1`, [from]);
    const rotations = await db.query(
      `SELECT id, credential, new_password FROM ${S}.rotations r WHERE r.database = $1
          AND NOT (r.finished_at IS NULL AND EXISTS (SELECT 1 FROM ${S}.rotations o WHERE o.database = $2
                   AND o.credential = r.credential AND o.finished_at IS NULL))`,
      [from, to],
    );
    for (const row of rotations.rows) {
      const moved = key.encrypt(
        key.decrypt(row.new_password, `${from}/rotation/${row.credential}`),
        `${to}/rotation/${row.credential}`,
      );
      await db.query(`UPDATE ${S}.rotations SET database = $2, new_password = $3 WHERE id = $1`, [
        row.id,
        to,
        moved,
      ]);
    }
    await db.query(`UPDATE ${S}.attachments SET database = $2 WHERE database = $1`, [from, to]);
    await db.query(`DELETE FROM ${S}.databases WHERE name = $1`, [from]);
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Records that `spec.name` is this live database. A live database already known by
 * another name is refused: two names would keep two sets of passwords for one set of roles.
 */
async function registerDatabase(
  db: ClientBase,
  spec: DatabaseSpec,
  identity: DatabaseIdentity,
  by: string,
  /** To move what the URL form stored under another name (its secrets are encrypted per name). */
  key?: MasterKey,
): Promise<void> {
  const other = (await matches(db, identity)).find((row) => row.name !== spec.name);
  if (other && other.registered_by === URL_FORM && by !== URL_FORM && key) {
    // The CLI reached this database by URL before a file or Terraform named it: what it
    // stored under the URL's name belongs to this database, so it moves to the name
    // given now (and `terraform import` then finds the passwords credentials:create kept).
    await renameDatabase(db, key, other.name, spec.name);
  } else if (other) {
    throw new Error(
      `database ${identity.dbname} on ${identity.host}:${identity.port} is already managed by pgcred under the name ` +
        `${other.name}, not ${spec.name}: name it ${other.name} (one database, one name, so its stored passwords are found)`,
    );
  }
  await db.query(
    `INSERT INTO ${S}.databases AS d (name, system_identifier, oid, host, port, dbname, plan, color, owner, credential_limit, registered_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (name) DO UPDATE SET
       system_identifier = EXCLUDED.system_identifier, oid = EXCLUDED.oid, host = EXCLUDED.host,
       port = EXCLUDED.port, dbname = EXCLUDED.dbname, plan = EXCLUDED.plan, color = EXCLUDED.color,
       owner = EXCLUDED.owner, credential_limit = EXCLUDED.credential_limit,
       registered_by = EXCLUDED.registered_by, registered_at = now()
     WHERE (d.system_identifier, d.oid, d.host, d.port, d.dbname, d.plan, d.color, d.owner, d.credential_limit)
       IS DISTINCT FROM (EXCLUDED.system_identifier, EXCLUDED.oid, EXCLUDED.host, EXCLUDED.port,
            EXCLUDED.dbname, EXCLUDED.plan, EXCLUDED.color, EXCLUDED.owner, EXCLUDED.credential_limit)`,
    [
      spec.name,
      identity.systemIdentifier,
      identity.oid,
      identity.host,
      identity.port,
      identity.dbname,
      spec.plan,
      spec.color,
      spec.owner ?? null,
      spec.credentialLimit ?? null,
      by,
    ],
  );
}
