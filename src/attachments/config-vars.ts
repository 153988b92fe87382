import { spawn } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ClientBase } from 'pg';
import type { ControlStore } from '../control/store';
import { faultPoint } from '../faults';
import { configVarName } from '../model/colors';
import type { AppSpec } from '../model/config';
import { formatDuration } from '../model/duration';
import { credentialUrl } from '../reconciler/connection';

/**
 * Config vars: what an app sees. Every change bumps the app's release, rewrites
 * its env file (atomically, mode 0600) and "restarts" it by running its restart
 * command. The control store is the source of truth: a failed restart leaves the
 * app marked pending, and the next `pgcred reconcile` writes the file and
 * restarts again, so a new value is never lost.
 */
export interface AppRecord {
  readonly name: string;
  readonly envFile: string | null;
  readonly restart: string | null;
  readonly restartTimeoutMs: number;
  readonly release: number;
  readonly restartPending: boolean;
}

export async function ensureApp(db: ClientBase, name: string): Promise<void> {
  await db.query('INSERT INTO pgcred.apps (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
}

/** Declared apps win over what the store remembers of them. */
export async function syncDeclaredApps(control: ControlStore, apps: readonly AppSpec[]): Promise<void> {
  for (const app of apps) {
    await control.client.query(
      `INSERT INTO pgcred.apps (name, env_file, restart, restart_timeout_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET env_file = EXCLUDED.env_file, restart = EXCLUDED.restart,
                                        restart_timeout_ms = EXCLUDED.restart_timeout_ms`,
      [app.name, app.envFile ?? null, app.restart ?? null, app.restartTimeoutMs],
    );
  }
}

export async function getApp(db: ClientBase, name: string): Promise<AppRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM pgcred.apps WHERE name = $1', [name]);
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

/** An app's config vars as the store holds them, decrypted, by name. */
export async function configVars(
  control: ControlStore,
  app: string,
  db: ClientBase = control.client,
): Promise<Map<string, string>> {
  const { rows } = await db.query('SELECT name, value FROM pgcred.config_vars WHERE app = $1 ORDER BY name', [
    app,
  ]);
  return new Map(
    rows.map((row) => [row.name as string, control.key.decrypt(row.value, `${app}/${row.name}`)]),
  );
}

interface AttachmentRow {
  app: string;
  name: string;
  database: string;
  credential: string;
  username: string;
  host: string;
  port: number;
  dbname: string;
  sslmode: string | null;
}

/** The config vars an app should have now, from its attachments and the stored passwords. */
async function desiredVars(control: ControlStore, db: ClientBase, app: string): Promise<Map<string, string>> {
  const { rows } = await db.query<AttachmentRow>(
    'SELECT * FROM pgcred.attachments WHERE app = $1 ORDER BY name',
    [app],
  );
  const vars = new Map<string, string>();
  for (const row of rows) {
    const password = await control.getPassword(row.database, row.username);
    if (!password) {
      throw new Error(
        `no stored password for ${row.username} of ${row.database}: run pgcred apply (or credentials:rotate) so pgcred knows it`,
      );
    }
    vars.set(
      configVarName(row.name),
      credentialUrl(
        { host: row.host, port: row.port, database: row.dbname, sslmode: row.sslmode ?? undefined },
        row.username,
        password,
      ),
    );
  }
  return vars;
}

export interface ReleaseResult {
  readonly app: string;
  readonly release: number;
  readonly changed: readonly string[];
  readonly restart: RestartOutcome;
}

/**
 * Recomputes an app's config vars inside the caller's control-store transaction
 * and records a new release if any changed. Returns the release (new or current).
 */
export async function recordRelease(
  control: ControlStore,
  db: ClientBase,
  app: string,
  description: string,
): Promise<{ release: number; changed: string[] }> {
  await db.query('SELECT 1 FROM pgcred.apps WHERE name = $1 FOR UPDATE', [app]);
  const want = await desiredVars(control, db, app);
  const have = await configVars(control, app, db);
  const changed = [...new Set([...want.keys(), ...have.keys()])]
    .filter((name) => want.get(name) !== have.get(name))
    .sort();
  const current = (await getApp(db, app))!;
  if (changed.length === 0) return { release: current.release, changed };
  const release = current.release + 1;
  for (const name of changed) {
    const value = want.get(name);
    if (value === undefined) {
      await db.query('DELETE FROM pgcred.config_vars WHERE app = $1 AND name = $2', [app, name]);
    } else {
      await db.query(
        `INSERT INTO pgcred.config_vars (app, name, value, release) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app, name) DO UPDATE SET value = EXCLUDED.value, release = EXCLUDED.release`,
        [app, name, control.key.encrypt(value, `${app}/${name}`), release],
      );
    }
  }
  await db.query('UPDATE pgcred.apps SET release = $2, restart_pending = true WHERE name = $1', [
    app,
    release,
  ]);
  await db.query('INSERT INTO pgcred.releases (app, release, description) VALUES ($1, $2, $3)', [
    app,
    release,
    description,
  ]);
  await control.audit({ action: 'release', subject: app, detail: { release, changed, description } }, db);
  return { release, changed };
}

export type RestartOutcome =
  | { readonly status: 'restarted'; readonly exitCode: 0 }
  | { readonly status: 'failed'; readonly reason: string }
  | { readonly status: 'no-restart-command' };

/** Writes the env file and runs the restart command; records the outcome; never throws for a failed restart. */
export async function deliver(control: ControlStore, app: string): Promise<RestartOutcome> {
  const record = await getApp(control.client, app);
  if (!record) throw new Error(`unknown app ${app}`);
  const vars = [...(await configVars(control, app))];
  if (record.envFile) writeEnvFile(record.envFile, vars);
  faultPoint('deliver:env-written');
  let outcome: RestartOutcome = { status: 'no-restart-command' };
  if (record.restart)
    outcome = await runRestart(record.restart, record.restartTimeoutMs, record.envFile, vars);
  const reason = outcome.status === 'failed' ? outcome.reason : null;
  const failed = reason !== null;
  await control.client.query(
    `UPDATE pgcred.apps SET restart_pending = $2, last_restart_at = now(), last_restart_status = $3, last_restart_error = $4
      WHERE name = $1`,
    [app, failed, outcome.status === 'restarted' ? 0 : null, reason],
  );
  await control.audit({
    action: 'restart',
    subject: app,
    detail: { release: record.release, outcome: outcome.status, ...(reason ? { reason } : {}) },
  });
  return outcome;
}

/** dotenv lines; values are URLs of alphanumeric passwords, quoted anyway for other characters of host names. */
function envLine(name: string, value: string): string {
  return /^[A-Za-z0-9_:/@.?=%&+-]*$/.test(value)
    ? `${name}=${value}`
    : `${name}='${value.replace(/'/g, "'\\''")}'`;
}

/** Write to a temporary file in the same directory, fsync, rename: readers see the old file or the new one. */
export function writeEnvFile(path: string, vars: readonly (readonly [string, string])[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  removeStaleTemps(path);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, vars.map(([name, value]) => `${envLine(name, value)}\n`).join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  faultPoint('env-file:written');
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** A process killed between writing its temporary file and renaming it leaves the file (with secrets) behind. */
function removeStaleTemps(path: string): void {
  const prefix = `.${basename(path)}.`;
  for (const entry of readdirSync(dirname(path))) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    const pid = Number(entry.slice(prefix.length, -'.tmp'.length));
    if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    rmSync(join(dirname(path), entry), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

function runRestart(
  command: string,
  timeoutMs: number,
  envFile: string | null,
  vars: readonly (readonly [string, string])[],
): Promise<RestartOutcome> {
  return new Promise((resolve) => {
    // The command sees the config vars the way a restarted app would; its output is
    // not echoed, since an app printing its environment would print a password.
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: envFile ? dirname(envFile) : undefined,
      env: { ...process.env, ...Object.fromEntries(vars) },
      stdio: 'ignore',
      detached: true,
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      resolve({ status: 'failed', reason: `timed out after ${formatDuration(timeoutMs)}` });
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ status: 'failed', reason: error.message });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ status: 'restarted', exitCode: 0 });
      else resolve({ status: 'failed', reason: signal ? `killed by ${signal}` : `exited ${code}` });
    });
  });
}

/** Apps whose last restart failed or never ran after a change: `reconcile` delivers them again. */
export async function pendingApps(control: ControlStore): Promise<string[]> {
  const { rows } = await control.client.query(
    'SELECT name FROM pgcred.apps WHERE restart_pending ORDER BY name',
  );
  return rows.map((row) => row.name as string);
}
