import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Client } from 'pg';
import { defaultColor, loadConfigFile } from '../config/load';
import { MasterKey } from '../control/crypto';
import {
  type DatabaseIdentity,
  identityOf,
  type RegisteredDatabase,
  URL_FORM,
} from '../control/database-registry';
import { KeptPasswords } from '../control/kept-passwords';
import { ControlStore, ControlUnreachableError } from '../control/store';
import type { Config, DatabaseSpec } from '../model/config';
import { showName } from '../model/names';
import {
  connectAdmin,
  connectTimeoutFrom,
  endBeforeExit,
  openAhead,
  openSpareAhead,
  setConnectTimeout,
  takeSpare,
} from '../postgres/connection';
import type { ReconcileContext } from '../reconciler/reconcile';
import { type Io, UserError } from './io';

export const DEFAULT_CONFIG = 'pgcred.yaml';

export interface GlobalOptions {
  readonly config?: string;
}

/**
 * What every command shares: the config file, the database an argument names,
 * the control store, and the confirmation of destructive actions.
 */
/**
 * Of two exit statuses, the one a scheduled job must see: an error (1) outranks drift
 * (2), which outranks success (0), so a drift found after a failure never hides it.
 */
export function worseExit(a: number, b: number): number {
  const rank = (status: number) => (status === 0 ? 0 : status === 2 ? 1 : 2);
  return rank(b) > rank(a) ? b : a;
}

export class CommandContext {
  private configCache?: Config;
  private control?: ControlStore;
  private readonly byUrl: { spec: DatabaseSpec; what: string; name?: string }[] = [];
  /** The exit status a command chose (drift found: 2; a restart failed: 1). */
  exitStatus = 0;
  /** plan and drift change nothing: no control schema, no row, no key file. */
  private readOnly = false;
  /** Who the audit log names (the dashboard's user); default PGCRED_ACTOR or the OS user. */
  actor?: string;

  constructor(
    readonly io: Io,
    private readonly options: GlobalOptions,
  ) {
    // Every connection this command opens (admin, control store, password checks) is bounded.
    try {
      setConnectTimeout(connectTimeoutFrom(io.env));
    } catch (error) {
      throw new UserError((error as Error).message);
    }
  }

  get hasConfigFile(): boolean {
    return existsSync(this.configPath);
  }

  get configPath(): string {
    return resolve(this.io.cwd, this.options.config ?? DEFAULT_CONFIG);
  }

  /** The config file, or an empty one when a command names its database by URL and there is no file. */
  config(allowMissing = false): Config {
    if (this.configCache) return this.configCache;
    if (allowMissing && !this.options.config && !existsSync(this.configPath)) {
      this.configCache = { version: 1, databases: [], apps: [], attachments: [], control: {} };
    } else {
      this.configCache = loadConfigFile(this.configPath, { env: this.io.env });
    }
    return this.configCache;
  }

  useConfig(config: Config): void {
    this.configCache = config;
  }

  /**
   * `[DATABASE]`: a name from the config file, a postgres:// URL, or (omitted) the only
   * primary. Without a file, PGCRED_DATABASE_URL reaches the database, and a name
   * argument is what it is called (a Terraform user's database block name).
   */
  database(arg: string | undefined): DatabaseSpec {
    const isUrl = arg !== undefined && /^postgres(ql)?:\/\//.test(arg);
    const fromEnv = this.io.env.PGCRED_DATABASE_URL;
    if (fromEnv && !isUrl && !this.options.config && !this.hasConfigFile) {
      return this.databaseByUrl(this.config(true), fromEnv, 'PGCRED_DATABASE_URL', arg);
    }
    const config = this.config(isUrl);
    if (isUrl) {
      const found = config.databases.find((db) => db.url === arg);
      if (found) return found;
      return this.databaseByUrl(config, arg, 'DATABASE');
    }
    if (arg === undefined) {
      const primaries = config.databases.filter((db) => db.role !== 'follower');
      if (config.databases.length === 1) return config.databases[0]!;
      if (primaries.length === 1) return primaries[0]!;
      throw new UserError(
        `name the database: ${this.configPath} declares ${config.databases.map((db) => db.name).join(', ')}`,
      );
    }
    const found = config.databases.find((db) => db.name === arg);
    if (!found) {
      throw new UserError(
        `unknown database ${showName(arg)}: ${this.configPath} declares ${config.databases.map((db) => db.name).join(', ') || 'none'}`,
      );
    }
    return found;
  }

  /** Called by commands that must change nothing, before they open the control store. */
  changeNothing(): void {
    this.readOnly = true;
  }

  /** drift: a control store that is down is reported, and the databases are checked without it. */
  private withoutControl = false;

  allowUnreachableControl(): void {
    this.withoutControl = true;
  }

  /**
   * A database reached by URL. Its name is the database's own until the control store
   * opens: then the registry gives the name Terraform or a file gave it (see
   * resolveByUrl), so the passwords this command stores are the ones they find.
   */
  private databaseByUrl(config: Config, value: string, what: string, name?: string): DatabaseSpec {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    // The value is never echoed: it holds a password.
    if (!url?.hostname) {
      throw new UserError(
        `${what}: not a PostgreSQL URL such as postgres://USER:PASSWORD@HOST:5432/DATABASE (value not shown)`,
      );
    }
    const own = name ?? (decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres');
    const spec: DatabaseSpec = {
      name: own,
      url: value,
      plan: 'standard-0',
      color: defaultColor(own),
      role: 'primary',
      executor: 'pgcred',
      ignoreRoles: [],
      credentials: [],
    };
    this.byUrl.push({ spec, what, ...(name ? { name } : {}) });
    this.configCache = { ...config, databases: [...config.databases, spec] };
    return spec;
  }

  /** Gives the databases reached by URL the name (and settings) the control store's registry holds for them. */
  private async resolveByUrl(control: ControlStore): Promise<void> {
    for (const { spec, what, name } of this.byUrl.splice(0)) {
      if (control.missing || control.unreachable) continue; // no store (yet): nothing is registered
      const admin = await connectAdmin(spec.url, spec.name, async () => control.kept?.get(spec.url));
      let known: RegisteredDatabase | undefined;
      let identity: DatabaseIdentity;
      try {
        identity = await identityOf(admin, spec.url);
        known = await control.databases.find(identity);
      } finally {
        await admin.end().catch(() => undefined);
      }
      // Registered under the URL's name, so a provider block or file that names this
      // database later takes over what this command stores (read-only commands write nothing).
      if (!known && !name && !control.readOnly) await control.databases.register(spec, identity, URL_FORM);
      if (!known || known.name === spec.name) continue;
      if (name) {
        throw new UserError(
          `${what} reaches the database pgcred manages as ${known.name}, not ${name}: name it ${known.name}`,
        );
      }
      // The spec was handed out already: the command holds this very object.
      Object.assign(spec, known);
    }
  }

  async controlStore(): Promise<ControlStore> {
    if (this.control) return this.control;
    const env = this.io.env;
    const config = this.configCache ?? this.config(true);
    const url =
      env.PGCRED_CONTROL_URL ||
      config.control.url ||
      config.databases.find((db) => db.role !== 'follower')?.url ||
      env.PGCRED_DATABASE_URL;
    if (!url)
      throw new UserError(
        'no control store: set PGCRED_CONTROL_URL (with Terraform: its control_url, else the url of its first database block) ' +
          'or control.url in the file, or name a database',
      );
    const baseDir = existsSync(this.configPath) ? dirname(this.configPath) : this.io.cwd;
    const keyFile = config.control.keyFile ?? env.PGCRED_KEY_FILE ?? join(baseDir, '.pgcred', 'master.key');
    let key: MasterKey;
    try {
      key = MasterKey.fromEnvironmentOrFile(env, keyFile, { create: !this.readOnly });
    } catch (error) {
      throw new UserError((error as Error).message);
    }
    const kept = KeptPasswords.beside(keyFile, key);
    let control: ControlStore;
    try {
      control = await ControlStore.open(url, key, this.actor, { kept, readOnly: this.readOnly });
    } catch (error) {
      if (!(error instanceof ControlUnreachableError) || !this.withoutControl || !this.readOnly) throw error;
      this.io.stderr(
        `The control store is unreachable (${error.reason}): privileges are checked, passwords are not.\n`,
      );
      control = ControlStore.unreachable(key, error.reason, kept);
    }
    try {
      await this.resolveByUrl(control);
    } catch (error) {
      await control.close();
      throw error;
    }
    this.control = control;
    if (this.control.missing || key.ephemeral) {
      const parts = [
        ...(this.control.missing
          ? [`the control store (schema pgcred in database ${this.control.database})`]
          : []),
        ...(key.ephemeral ? [`the master key file ${keyFile}`] : []),
      ];
      this.io.stderr(`Nothing is written now; pgcred apply will create ${parts.join(' and ')}.\n`);
    }
    return this.control;
  }

  async reconcileContext(): Promise<ReconcileContext> {
    return {
      // Commands that name their database by URL, or none (detach, config), need no file.
      config: this.config(true),
      control: await this.controlStore(),
      progress: (line) => this.io.stderr(`${line}\n`),
      spare: (spec) => takeSpare(spec.url),
      endLater: (client) => {
        const ending = endBeforeExit(client as Client).finally(() => this.ending.delete(ending));
        this.ending.add(ending);
      },
    };
  }

  /** Admin connections ended and not yet closed by their server: close() waits for them. */
  private readonly ending = new Set<Promise<void>>();

  /**
   * Opens the admin connections of the first databases a command works on while the
   * control store opens, instead of after it (see openAhead).
   */
  openAhead(specs: readonly DatabaseSpec[], parallel = 1): void {
    for (const spec of specs.slice(0, parallel)) openAhead(spec.url);
    // One database: a second connection for inspection to read beside the first.
    if (specs.length === 1) openSpareAhead(specs[0]!.url);
  }

  /**
   * Heroku's confirmation: state the impact, then ask for the database's name,
   * unless --confirm NAME was given. Without a terminal it refuses.
   */
  async confirm(name: string, impact: readonly string[], given: string | undefined): Promise<void> {
    if (given !== undefined) {
      if (given !== name) throw new UserError(`Confirmation ${given} did not match ${name}. Aborted.`);
      return;
    }
    const lines = [' ▸    WARNING: Destructive Action', ...impact.map((line) => ` ▸    ${line}`)];
    if (!this.io.interactive) {
      throw new UserError(`${impact.join(' ')} To proceed, re-run this command with --confirm ${name}`);
    }
    this.io.stderr(
      `${lines.join('\n')}\n ▸    To proceed, type ${name} or re-run this command with --confirm ${name}\n\n`,
    );
    const answer = (await this.io.prompt('> ')).trim();
    if (answer !== name) throw new UserError(`Confirmation ${answer} did not match ${name}. Aborted.`);
  }

  /** `Doing something... done` on stderr, the way the Heroku CLI reports an action. */
  async action<T>(label: string, work: () => Promise<T>, suffix?: (result: T) => string): Promise<T> {
    this.io.stderr(`${label}... `);
    try {
      const result = await work();
      this.io.stderr(`done${suffix ? suffix(result) : ''}\n`);
      return result;
    } catch (error) {
      this.io.stderr('!\n');
      throw error;
    }
  }

  setExitStatus(status: number): void {
    this.exitStatus = worseExit(this.exitStatus, status);
  }

  async close(): Promise<void> {
    await Promise.all([this.control?.close(endBeforeExit), ...this.ending]);
  }
}
