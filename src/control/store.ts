import { AsyncLocalStorage } from 'node:async_hooks';
import { readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Client, ClientBase } from 'pg';
import { CONTROL_SCHEMA as S } from '../model/control-schema';
import { describeConnectionError, openClient } from '../postgres/connection';
import { projectFile } from '../project';
import { AppRepository } from './apps';
import { AttachmentRepository } from './attachments';
import { type AuditEntry, type AuditRecord, readAudit, writeAudit } from './audit-log';
import type { MasterKey } from './crypto';
import { DatabaseRegistry } from './database-registry';
import type { KeptPasswords } from './kept-passwords';
import { RotationJournal } from './rotation-journal';

export { CONTROL_SCHEMA } from '../model/control-schema';

// One advisory lock key for migrations; the reconciler uses its own.
const MIGRATION_LOCK = [0x70676372, 0x6d696772] as const;

interface Migration {
  readonly version: number;
  readonly name: string;
  /** Read only when it is applied: most commands find the store up to date. */
  sql(): string;
}

function migrations(): Migration[] {
  const dir = projectFile('src', 'control', 'migrations');
  return readdirSync(dir)
    .filter((file) => /^\d+_.*\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.split('_')[0]),
      name: file,
      sql: () => readFileSync(`${dir}/${file}`, 'utf8'),
    }));
}

export type { AuditEntry } from './audit-log';

/** The control store's database could not be connected to (down, refused, no answer, wrong password). */
export class ControlUnreachableError extends Error {
  constructor(readonly reason: string) {
    super(`cannot reach the control store: ${reason}`);
    this.name = 'ControlUnreachableError';
  }
}

/**
 * The control store, in a `pgcred` schema of a PostgreSQL database: passwords,
 * apps, attachments, config vars, the rotation journal and the audit log.
 */
export class ControlStore {
  // Private: the control store's SQL lives in src/control; others use its repositories.
  private readonly client: Client;
  private readonly gate = new TransactionGate();

  private constructor(
    raw: Client,
    readonly key: MasterKey,
    /** The database (PostgreSQL name) that holds the store. */
    readonly database: string,
    readonly actor: string,
    /** Passwords kept beside the master key (see KeptPasswords). */
    readonly kept?: KeptPasswords,
    /**
     * Read-only (plan, drift): the whole session is one transaction that is rolled
     * back, so a store that does not exist yet, or an older one, is created or
     * migrated for this session alone and nothing reaches the database.
     */
    readonly readOnly = false,
    /** Read-only only: the store did not exist; apply will create it. */
    readonly missing = false,
    /**
     * Why the store could not be reached, for drift, which checks privileges without it
     * (and reports the password checks it could not make). Every query fails.
     */
    readonly unreachable?: string,
  ) {
    // One connection serves every database of a fleet: while one of them is inside
    // transaction(), the others' statements wait for it rather than join it.
    const client = this.gate.guard(raw);
    this.client = client;
    this.apps = new AppRepository(client, key);
    this.attachments = new AttachmentRepository(client);
    this.databases = new DatabaseRegistry(client, key);
    this.rotations = new RotationJournal(client, key);
  }

  /** Apps, their config vars and releases. */
  readonly apps: AppRepository;
  readonly attachments: AttachmentRepository;
  /** One name per live database (migration 002). */
  readonly databases: DatabaseRegistry;
  /** The rotation journal (SPEC §4). */
  readonly rotations: RotationJournal;

  static async open(
    url: string,
    key: MasterKey,
    actor = defaultActor(),
    options: { readonly kept?: KeptPasswords; readonly readOnly?: boolean } = {},
  ): Promise<ControlStore> {
    const connect = (password?: string) => openClient(url, 'pgcred control', password);
    let client: Client;
    try {
      client = await connect();
    } catch (error) {
      // The URL's password may be one pgcred rotated away; it kept the new one.
      const kept = (error as { code?: string }).code === '28P01' ? options.kept?.get(url) : undefined;
      const retried = kept ? await connect(kept).catch(() => undefined) : undefined;
      if (!retried) throw new ControlUnreachableError(describeConnectionError(error));
      client = retried;
    }
    try {
      const { present, database } = (
        await client.query(
          `SELECT to_regclass('${S}.migrations') IS NOT NULL AS present, current_database() AS database`,
        )
      ).rows[0] as { present: boolean; database: string };
      const missing = !!options.readOnly && !present;
      const store = new ControlStore(client, key, database, actor, options.kept, !!options.readOnly, missing);
      if (!present && !options.readOnly) {
        // A first apply: the store is created while the command goes on with the database
        // (connecting, locking, inspecting), and its first query waits for it. A new store
        // holds no key fingerprint yet, so no key can be refused later than here.
        store.gate.after(migrate(client, false).then(() => store.checkKey(client)));
        return store;
      }
      if (options.readOnly) await client.query('BEGIN');
      await migrate(client, present, !!options.readOnly);
      await store.checkKey();
      return store;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /**
   * A store that is down, for a command that can do without it (drift): it holds no
   * password, rotation or attachment, and anything that needs one fails with `reason`.
   */
  static unreachable(key: MasterKey, reason: string, kept?: KeptPasswords): ControlStore {
    const fail = async () => {
      throw new Error(`the control store is unreachable (${reason})`);
    };
    const none = { query: fail, end: async () => undefined, on: () => none } as unknown as Client;
    return new ControlStore(none, key, 'unknown', defaultActor(), kept, true, false, reason);
  }

  /** `end`: how its connection ends (a command about to exit need not wait for the server). */
  async close(end: (client: Client) => Promise<void> = (client) => client.end()): Promise<void> {
    // A store still being created is finished first, or rolled back whole by its error.
    await this.gate.settled();
    // A read-only session's transaction ends with it, rolled back by the server: no
    // ROLLBACK round trip first.
    await end(this.client).catch(() => undefined);
  }

  /** The first key used with a store is remembered by its fingerprint, so a wrong key fails here and not in a URL. */
  private async checkKey(db: ClientBase = this.client): Promise<void> {
    const fingerprint = this.key.fingerprint();
    // Read first: a read-only command (drift, plan) then writes nothing.
    let { rows } = await db.query(`SELECT value FROM ${S}.meta WHERE key = 'key_fingerprint'`);
    if (this.key.ephemeral) {
      if (rows[0])
        throw new Error(
          `no master key: ${this.key.source}, and the control store in database ${this.database} holds secrets written with one; ` +
            'set PGCRED_MASTER_KEY or the key file to that key',
        );
      return;
    }
    if (!rows[0]) {
      if (this.readOnly) return;
      ({ rows } = await db.query(
        `INSERT INTO ${S}.meta (key, value) VALUES ('key_fingerprint', $1)
         ON CONFLICT (key) DO UPDATE SET value = ${S}.meta.value RETURNING value`,
        [fingerprint],
      ));
    }
    if (rows[0].value !== fingerprint) {
      throw new Error(
        `the master key (${this.key.source}) is not the one this control store was written with; ` +
          'set PGCRED_MASTER_KEY or the key file to the original key',
      );
    }
  }

  async getPassword(database: string, username: string): Promise<string | undefined> {
    const { rows } = await this.client.query(
      `SELECT password FROM ${S}.secrets WHERE database = $1 AND username = $2`,
      [database, username],
    );
    return rows[0] ? this.key.decrypt(rows[0].password, `${database}/${username}`) : undefined;
  }

  async passwordSetAt(database: string, username: string): Promise<Date | undefined> {
    const { rows } = await this.client.query(
      `SELECT set_at FROM ${S}.secrets WHERE database = $1 AND username = $2`,
      [database, username],
    );
    return rows[0]?.set_at;
  }

  async getPasswords(database: string): Promise<Map<string, string>> {
    const { rows } = await this.client.query(
      `SELECT username, password FROM ${S}.secrets WHERE database = $1`,
      [database],
    );
    return new Map(
      rows.map((row) => [row.username, this.key.decrypt(row.password, `${database}/${row.username}`)]),
    );
  }

  /**
   * What pgcred knows opens each verifier it set: `opens(username, password, verifier)`
   * is true when this password made this verifier (apply kept their digest), so a
   * password check needs no PBKDF2 for it.
   */
  async verifierDigests(
    database: string,
  ): Promise<(username: string, password: string, verifier: string) => boolean> {
    const { rows } = await this.client.query(
      `SELECT username, verifier_digest FROM ${S}.secrets WHERE database = $1 AND verifier_digest IS NOT NULL`,
      [database],
    );
    const digests = new Map(rows.map((row) => [row.username as string, row.verifier_digest as string]));
    return (username, password, verifier) =>
      digests.get(username) === this.key.verifierDigest(`${database}/${username}`, password, verifier);
  }

  /** Keeps the digests of verifiers an apply set, once it committed (see verifierDigests). */
  async keepVerifierDigests(
    database: string,
    set: readonly { readonly username: string; readonly password: string; readonly verifier: string }[],
  ): Promise<void> {
    if (set.length === 0 || this.readOnly) return;
    await this.client.query(
      `UPDATE ${S}.secrets s SET verifier_digest = u.digest
         FROM unnest($2::text[], $3::text[]) AS u(username, digest)
        WHERE s.database = $1 AND s.username = u.username`,
      [
        database,
        set.map((v) => v.username),
        set.map((v) => this.key.verifierDigest(`${database}/${v.username}`, v.password, v.verifier)),
      ],
    );
  }

  /** Keeps several passwords in one statement: a cold apply of 60 credentials commits once, not 60 times. */
  async setPasswords(database: string, passwords: ReadonlyMap<string, string>): Promise<void> {
    if (passwords.size === 0) return;
    const usernames = [...passwords.keys()];
    await this.client.query(
      `INSERT INTO ${S}.secrets (database, username, password)
       SELECT $1, u.username, u.password FROM unnest($2::text[], $3::text[]) AS u(username, password)
       ON CONFLICT (database, username) DO UPDATE SET password = EXCLUDED.password, set_at = now()`,
      [
        database,
        usernames,
        usernames.map((username) => this.key.encrypt(passwords.get(username)!, `${database}/${username}`)),
      ],
    );
  }

  async setPassword(
    database: string,
    username: string,
    password: string,
    db: ClientBase = this.client,
  ): Promise<void> {
    await db.query(
      `INSERT INTO ${S}.secrets (database, username, password) VALUES ($1, $2, $3)
       ON CONFLICT (database, username) DO UPDATE SET password = EXCLUDED.password, set_at = now()`,
      [database, username, this.key.encrypt(password, `${database}/${username}`)],
    );
  }

  async deletePassword(database: string, username: string, db: ClientBase = this.client): Promise<void> {
    await db.query(`DELETE FROM ${S}.secrets WHERE database = $1 AND username = $2`, [database, username]);
  }

  /**
   * Forgets a credential whose role is gone: its passwords (its own and its rotating
   * username's) and any open rotation, so nothing pgcred kept outlives it.
   */
  async forgetCredential(
    database: string,
    name: string,
    usernames: readonly string[],
    note: string,
    db: ClientBase = this.client,
  ): Promise<void> {
    await db.query(`DELETE FROM ${S}.secrets WHERE database = $1 AND username = ANY($2)`, [
      database,
      [...usernames],
    ]);
    // The journal is on this same connection, so inside `db`'s transaction too.
    await this.rotations.abandon(database, name, note);
  }

  async audit(entry: AuditEntry, db: ClientBase = this.client): Promise<void> {
    await writeAudit(db, this.actor, entry);
  }

  /** The newest audit records, of one database or of all. */
  auditLog(options: { readonly limit: number; readonly database?: string }): Promise<AuditRecord[]> {
    return readAudit(this.client, options);
  }

  /** The store connection's backend: a rotation leaves it alone when it ends a credential's sessions. */
  async backendPid(): Promise<number> {
    return (await this.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  }

  /** Runs `work` in one transaction of the control store. */
  async transaction<T>(work: (db: ClientBase) => Promise<T>): Promise<T> {
    return this.gate.transaction(async () => {
      await this.client.query('BEGIN');
      try {
        const result = await work(this.client);
        await this.client.query('COMMIT');
        return result;
      } catch (error) {
        await this.client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }
}

/**
 * Keeps the store's one connection's transactions to whoever opened them. Jobs of a
 * fleet share the connection; a statement from outside the open transaction (told
 * apart by AsyncLocalStorage) waits until it ends, so it can neither be rolled back
 * with someone else's work nor see it half done.
 */
class TransactionGate {
  private readonly context = new AsyncLocalStorage<symbol>();
  private open?: { readonly token: symbol; readonly ended: Promise<void> };
  private tail: Promise<unknown> = Promise.resolve();
  /** Work every statement waits for (the creation of a new store); its error is theirs. */
  private ready: Promise<void> = Promise.resolve();

  after(work: Promise<void>): void {
    this.ready = work;
    // Reported to every statement that waits for it, and awaited by close().
    work.catch(() => undefined);
  }

  settled(): Promise<void> {
    return this.ready.catch(() => undefined);
  }

  private inside(): boolean {
    return this.open !== undefined && this.context.getStore() === this.open.token;
  }

  /** The client, with query() waiting for a transaction that is not the caller's. */
  guard(client: Client): Client {
    return new Proxy(client, {
      get: (target, property) => {
        const value = Reflect.get(target, property, target);
        if (property !== 'query') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          await this.ready;
          while (this.open && !this.inside()) await this.open.ended;
          // One statement at a time on the connection (pg deprecates overlapping calls).
          const result = this.tail.then(() =>
            (target.query as (...a: unknown[]) => Promise<unknown>)(...args),
          );
          this.tail = result.catch(() => undefined);
          return result;
        };
      },
    });
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.inside()) return work();
    while (this.open) await this.open.ended;
    let end: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const token = Symbol('control-store transaction');
    this.open = { token, ended };
    try {
      return await this.context.run(token, work);
    } finally {
      this.open = undefined;
      end();
    }
  }
}

/** Brings the store's schema up to date; `inTransaction`: in the caller's open transaction, for it to roll back. */
/** `present`: whether the migrations table existed when the store was opened. */
async function migrate(client: Client, present: boolean, inTransaction = false): Promise<void> {
  const all = migrations();
  // Fast path: nothing to do, and no lock taken on every command.
  if (present) {
    const { rows } = await client.query(`SELECT max(version) AS v FROM ${S}.migrations`);
    if ((rows[0].v ?? 0) >= all[all.length - 1]!.version) return;
  }
  if (!inTransaction) await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${S}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query(`SELECT version FROM ${S}.migrations`);
    const done = new Set(rows.map((row) => row.version as number));
    for (const migration of all) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql());
      await client.query(`INSERT INTO ${S}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    // Default privileges of whoever runs this may have granted credentials access to
    // the new schema and tables: take every grant back before anyone can see them.
    await client.query(`
      DO $$
      DECLARE r record;
      BEGIN
        REVOKE ALL ON SCHEMA ${S} FROM PUBLIC;
        REVOKE ALL ON ALL TABLES IN SCHEMA ${S} FROM PUBLIC;
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${S} FROM PUBLIC;
        FOR r IN SELECT DISTINCT a.grantee::regrole::text AS grantee
                   FROM pg_namespace n, aclexplode(n.nspacl) a
                  WHERE n.nspname = '${S}' AND a.grantee <> n.nspowner AND a.grantee <> 0
                 UNION
                 SELECT DISTINCT a.grantee::regrole::text
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
                  WHERE n.nspname = '${S}' AND a.grantee <> c.relowner AND a.grantee <> 0
        LOOP
          EXECUTE format('REVOKE ALL ON SCHEMA ${S} FROM %s', r.grantee);
          EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA ${S} FROM %s', r.grantee);
          EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${S} FROM %s', r.grantee);
        END LOOP;
      END $$`);
    if (!inTransaction) await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`control store migration failed: ${(error as Error).message}`);
  }
}

function defaultActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return process.env.PGCRED_ACTOR ?? user;
}
