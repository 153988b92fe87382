import type { ClientBase } from 'pg';
import type { AppSpec } from '../model/config';
import { CONTROL_SCHEMA as S } from '../model/control-schema';
import type { MasterKey } from './crypto';

/** An app as the control store keeps it: where its env file goes, how it restarts, its release. */
export interface AppRecord {
  readonly name: string;
  readonly envFile: string | null;
  readonly restart: string | null;
  readonly restartTimeoutMs: number;
  readonly release: number;
  readonly restartPending: boolean;
}

/**
 * Apps, their config vars (encrypted, bound to `<app>/<name>`) and their releases.
 * Every method runs on the store's one connection, so inside `ControlStore.transaction`
 * it is part of that transaction.
 */
export class AppRepository {
  constructor(
    private readonly db: ClientBase,
    private readonly key: MasterKey,
  ) {}

  async ensure(name: string): Promise<void> {
    await this.db.query(`INSERT INTO ${S}.apps (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
  }

  /** A declared app's settings win over what the store remembers of them. */
  async upsertDeclared(app: AppSpec): Promise<void> {
    await this.db.query(
      `INSERT INTO ${S}.apps (name, env_file, restart, restart_timeout_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET env_file = EXCLUDED.env_file, restart = EXCLUDED.restart,
                                        restart_timeout_ms = EXCLUDED.restart_timeout_ms`,
      [app.name, app.envFile ?? null, app.restart ?? null, app.restartTimeoutMs],
    );
  }

  async get(name: string): Promise<AppRecord | undefined> {
    const { rows } = await this.db.query(`SELECT * FROM ${S}.apps WHERE name = $1`, [name]);
    const row = rows[0];
    return row
      ? {
          name: row.name,
          envFile: row.env_file,
          restart: row.restart,
          restartTimeoutMs: row.restart_timeout_ms,
          release: row.release,
          restartPending: row.restart_pending,
        }
      : undefined;
  }

  /** The app's current release, 0 before its first config change; undefined for an unknown app. */
  async releaseOf(name: string): Promise<number | undefined> {
    const { rows } = await this.db.query(`SELECT release FROM ${S}.apps WHERE name = $1`, [name]);
    return rows[0]?.release as number | undefined;
  }

  async names(): Promise<string[]> {
    const { rows } = await this.db.query(`SELECT name FROM ${S}.apps ORDER BY name`);
    return rows.map((row) => row.name as string);
  }

  /** Apps whose last restart failed or never ran after a change. */
  async pendingRestarts(): Promise<string[]> {
    const { rows } = await this.db.query(`SELECT name FROM ${S}.apps WHERE restart_pending ORDER BY name`);
    return rows.map((row) => row.name as string);
  }

  /** Holds the app's row until the transaction ends, so two releases of one app never interleave. */
  async lock(name: string): Promise<void> {
    await this.db.query(`SELECT 1 FROM ${S}.apps WHERE name = $1 FOR UPDATE`, [name]);
  }

  /** Its config vars, releases and attachments go with it (ON DELETE CASCADE). */
  async delete(name: string): Promise<void> {
    await this.db.query(`DELETE FROM ${S}.apps WHERE name = $1`, [name]);
  }

  async recordRestart(
    name: string,
    outcome: { readonly exitCode: number | null; readonly error: string | null },
  ) {
    await this.db.query(
      `UPDATE ${S}.apps SET restart_pending = $2, last_restart_at = now(), last_restart_status = $3, last_restart_error = $4
        WHERE name = $1`,
      [name, outcome.error !== null, outcome.exitCode, outcome.error],
    );
  }

  /** An app's config vars, decrypted, by name. */
  async configVars(app: string): Promise<Map<string, string>> {
    const { rows } = await this.db.query(
      `SELECT name, value FROM ${S}.config_vars WHERE app = $1 ORDER BY name`,
      [app],
    );
    return new Map(
      rows.map((row) => [row.name as string, this.key.decrypt(row.value, `${app}/${row.name}`)]),
    );
  }

  /**
   * A new release: the config vars that changed (undefined: unset), the app's release
   * number, marked for a restart, and the release's description.
   */
  async release(
    app: string,
    release: number,
    changes: ReadonlyMap<string, string | undefined>,
    description: string,
  ): Promise<void> {
    for (const [name, value] of changes) {
      if (value === undefined) {
        await this.db.query(`DELETE FROM ${S}.config_vars WHERE app = $1 AND name = $2`, [app, name]);
      } else {
        await this.db.query(
          `INSERT INTO ${S}.config_vars (app, name, value, release) VALUES ($1, $2, $3, $4)
           ON CONFLICT (app, name) DO UPDATE SET value = EXCLUDED.value, release = EXCLUDED.release`,
          [app, name, this.key.encrypt(value, `${app}/${name}`), release],
        );
      }
    }
    await this.db.query(`UPDATE ${S}.apps SET release = $2, restart_pending = true WHERE name = $1`, [
      app,
      release,
    ]);
    await this.db.query(`INSERT INTO ${S}.releases (app, release, description) VALUES ($1, $2, $3)`, [
      app,
      release,
      description,
    ]);
  }
}
