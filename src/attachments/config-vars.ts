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
import type { AttachmentRecord } from '../control/attachments';
import type { ControlStore } from '../control/store';
import { faultPoint } from '../faults';
import { configVarName } from '../model/colors';
import type { AppSpec } from '../model/config';
import { formatDuration } from '../model/duration';
import { credentialUrl } from '../postgres/connection';

/**
 * Config vars: what an app sees. Every change bumps the app's release, rewrites
 * its env file (atomically, mode 0600) and "restarts" it by running its restart
 * command. The control store is the source of truth: a failed restart leaves the
 * app marked pending, and the next `pgcred reconcile` writes the file and
 * restarts again, so a new value is never lost.
 */

/** Declared apps win over what the store remembers of them. */
export async function syncDeclaredApps(control: ControlStore, apps: readonly AppSpec[]): Promise<void> {
  for (const app of apps) await control.apps.upsertDeclared(app);
}

/** The config vars an app should have now, from its attachments and the stored passwords. */
async function desiredVars(control: ControlStore, app: string): Promise<Map<string, string>> {
  const rows: AttachmentRecord[] = await control.attachments.list({ app });
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
  await control.apps.lock(app);
  const want = await desiredVars(control, app);
  const have = await control.apps.configVars(app);
  const changed = [...new Set([...want.keys(), ...have.keys()])]
    .filter((name) => want.get(name) !== have.get(name))
    .sort();
  const current = (await control.apps.get(app))!;
  if (changed.length === 0) return { release: current.release, changed };
  const release = current.release + 1;
  await control.apps.release(
    app,
    release,
    new Map(changed.map((name) => [name, want.get(name)])),
    description,
  );
  await control.audit({ action: 'release', subject: app, detail: { release, changed, description } }, db);
  return { release, changed };
}

export type RestartOutcome =
  | { readonly status: 'restarted'; readonly exitCode: 0 }
  | { readonly status: 'failed'; readonly reason: string }
  | { readonly status: 'no-restart-command' };

/** Writes the env file and runs the restart command; records the outcome; never throws for a failed restart. */
export async function deliver(control: ControlStore, app: string): Promise<RestartOutcome> {
  const record = await control.apps.get(app);
  if (!record) throw new Error(`unknown app ${app}`);
  const vars = [...(await control.apps.configVars(app))];
  if (record.envFile) writeEnvFile(record.envFile, vars);
  faultPoint('deliver:env-written');
  let outcome: RestartOutcome = { status: 'no-restart-command' };
  if (record.restart)
    outcome = await runRestart(record.restart, record.restartTimeoutMs, record.envFile, vars);
  const reason = outcome.status === 'failed' ? outcome.reason : null;
  await control.apps.recordRestart(app, {
    exitCode: outcome.status === 'restarted' ? 0 : null,
    error: reason,
  });
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
  return control.apps.pendingRestarts();
}
