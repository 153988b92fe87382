import { join } from 'node:path';
import { MasterKey } from '../control/crypto';
import { type DatabaseIdentity, identityOf } from '../control/database-registry';
import { ControlStore } from '../control/store';
import type { Access, Config, DatabaseSpec } from '../model/config';
import { describeConnectionError, whereOf } from '../postgres/connection';
import type { LiveState } from '../reconciler/live-state';
import {
  applyDatabase,
  type DatabaseReading,
  lookupKeys,
  openAdmin,
  planDatabase,
  type ReconcileContext,
  readDatabase,
} from '../reconciler/reconcile';
import type { ProviderSettings } from './provider-config';

/**
 * What one provider process knows between requests: the configured databases as
 * the model describes them, the control store (opened on first use), one reading of
 * each database (catalogs and password checks, shared by all its resources' plans and
 * refreshes, forgotten after any change to it), and the
 * credentials this plan creates, so the credential limit holds across resources.
 */
export class ProviderSession {
  readonly config: Config;
  private control?: Promise<ControlStore>;
  private readonly readings = new Map<string, Promise<DatabaseReading>>();
  private readonly identities = new Map<string, Promise<DatabaseIdentity>>();
  private readonly nameChecks = new Map<string, Promise<string | undefined>>();
  private readonly prepared = new Set<string>();
  private readonly creates = new Map<string, Set<string>>();
  private readonly apps = new Set<string>();
  private lastCreate = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly databaseQueues = new Map<string, Promise<unknown>>();

  private constructor(
    private readonly settings: ProviderSettings,
    databases: readonly DatabaseSpec[],
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.config = {
      version: 1,
      databases,
      apps: [],
      attachments: [],
      control: { url: settings.controlUrl, ...(settings.keyFile ? { keyFile: settings.keyFile } : {}) },
    };
  }

  static async open(settings: ProviderSettings, env: NodeJS.ProcessEnv): Promise<ProviderSession> {
    const needsColor = settings.databases.some((db) => !db.color);
    // The config loader (yaml, ajv) is loaded only for the default color.
    const defaultColor = needsColor ? (await import('../config/load')).defaultColor : () => 'CYAN';
    const databases = settings.databases.map(
      (db): DatabaseSpec => ({
        name: db.name,
        url: db.url,
        plan: db.plan,
        color: db.color ?? defaultColor(db.name),
        role: 'primary',
        executor: 'pgcred',
        ignoreRoles: [],
        credentials: [],
        ...(db.owner ? { owner: db.owner } : {}),
        ...(db.credentialLimit !== undefined ? { credentialLimit: db.credentialLimit } : {}),
        ...(db.usernamePrefix !== undefined ? { usernamePrefix: db.usernamePrefix } : {}),
      }),
    );
    return new ProviderSession(settings, databases, env);
  }

  database(name: string): DatabaseSpec | undefined {
    return this.config.databases.find((db) => db.name === name);
  }

  databaseNames(): string {
    return this.config.databases.map((db) => db.name).join(', ') || 'none';
  }

  async context(): Promise<ReconcileContext> {
    return { config: this.config, control: await this.controlStore(), progress: (line) => log(line) };
  }

  private controlStore(): Promise<ControlStore> {
    if (!this.control) {
      this.control = (async () => {
        const key = this.settings.masterKey
          ? MasterKey.parse(this.settings.masterKey.trim(), "the provider's master_key")
          : MasterKey.fromEnvironmentOrFile(
              this.env,
              this.settings.keyFile ?? join(process.cwd(), '.pgcred', 'master.key'),
            );
        try {
          return await ControlStore.open(this.settings.controlUrl, key);
        } catch (caught) {
          throw new Error(this.controlStoreFailure(caught));
        }
      })();
      this.control.catch(() => {
        this.control = undefined;
      });
    }
    return this.control;
  }

  /**
   * Why the control store cannot be opened, in the user's words: by default it lives
   * in the first database, so a wrong admin password reads as that database's.
   */
  private controlStoreFailure(caught: unknown): string {
    const url = this.settings.controlUrl;
    const cause = (caught as { code?: string }).code
      ? describeConnectionError(caught)
      : ((caught as Error).message ?? String(caught)).replace(/^cannot reach the control store: /, '');
    const db = this.settings.databases.find((d) => d.url === url);
    if (db) {
      return (
        `cannot connect to database ${db.name} ${whereOf(url)}: ${cause}. ` +
        `Check the url of its database block (pgcred also keeps its control store there, since control_url is not set)`
      );
    }
    const from = this.settings.controlUrlFrom === 'env' ? 'PGCRED_CONTROL_URL' : 'control_url';
    return `cannot connect to pgcred's control store (${from}) ${whereOf(url)}: ${cause}`;
  }

  /** Which live database a block's URL reaches (read once per process). */
  private identity(spec: DatabaseSpec): Promise<DatabaseIdentity> {
    let identity = this.identities.get(spec.name);
    if (!identity) {
      identity = this.context().then(async (ctx) => {
        const admin = await openAdmin(ctx, spec);
        try {
          return await identityOf(admin, spec.url);
        } finally {
          await admin.end().catch(() => undefined);
        }
      });
      this.identities.set(spec.name, identity);
      identity.catch(() => this.identities.delete(spec.name));
    }
    return identity;
  }

  /**
   * Refused at plan: a database block whose URL reaches a database pgcred already
   * manages under another name (a file's, another provider block's), or one the
   * reconciler would refuse to change. Reads only; once per database and process.
   */
  databaseProblem(spec: DatabaseSpec): Promise<string | undefined> {
    let problem = this.nameChecks.get(spec.name);
    if (!problem) {
      problem = this.checkName(spec);
      this.nameChecks.set(spec.name, problem);
      problem.catch(() => this.nameChecks.delete(spec.name));
    }
    return problem;
  }

  private async checkName(spec: DatabaseSpec): Promise<string | undefined> {
    const [ctx, identity] = await Promise.all([this.context(), this.identity(spec)]);
    // A read of the registry: it need not wait behind apps' restarts in the apps' queue.
    const known = await ctx.control.databases.find(identity);
    if (!known || known.name === spec.name) {
      // What the first change would refuse (a default credential another database
      // manages, an admin that can grant nothing): refused at plan rather than at apply.
      const plan = await planDatabase(ctx, spec, {
        credentials: [],
        scope: new Set(),
        reading: await this.reading(spec),
      });
      return plan.errors.length > 0 ? plan.errors.join('; ') : undefined;
    }
    return (
      `database ${identity.dbname} ${whereOf(spec.url).replace(/ as .*$/, '')} is already managed by pgcred ` +
      `under the name ${known.name}: name the database block ${known.name}, so its stored passwords are found`
    );
  }

  /** The live state of a database, read once and kept until this process changes it. */
  async liveState(spec: DatabaseSpec): Promise<LiveState> {
    // The catalogs alone: a create's checks and attachments follow every change in an
    // apply, and checking each stored password again each time would grow with the square.
    return (await this.reading(spec, [], { passwords: false })).live;
  }

  /**
   * One reading of a database for every plan and refresh of its resources: Terraform
   * asks per resource, and a fleet of 100 databases with a few credentials each must
   * not cost an inspection per credential. Read again only when a plan needs an object
   * its grants name that the reading did not look up (the reading then covers both),
   * or the password checks a reading of the catalogs alone skipped, or after a change
   * to the database.
   */
  reading(
    spec: DatabaseSpec,
    accesses: readonly Access[] = [],
    needs: { readonly passwords?: boolean } = { passwords: true },
  ): Promise<DatabaseReading> {
    const cached = this.readings.get(spec.name);
    const wanted = lookupKeys(accesses);
    const next = (async () => {
      const before = await cached?.catch(() => undefined);
      if (
        before &&
        [...wanted].every((key) => before.lookups.has(key)) &&
        (!needs.passwords || before.passwords)
      )
        return before;
      return readDatabase(await this.context(), spec, [...(before?.accesses ?? []), ...accesses], {
        passwords: needs.passwords || before?.passwords !== undefined,
      });
    })();
    this.readings.set(spec.name, next);
    next.catch(() => {
      if (this.readings.get(spec.name) === next) this.readings.delete(spec.name);
    });
    return next;
  }

  /** Notes a credential this plan creates; returns every credential the database would then have. */
  planCreate(database: string, name: string): ReadonlySet<string> {
    let names = this.creates.get(database);
    if (!names) {
      names = new Set();
      this.creates.set(database, names);
    }
    names.add(name);
    this.lastCreate = Date.now();
    return names;
  }

  /**
   * The credentials this plan creates in a database, once Terraform has stopped
   * planning new ones for a moment. Terraform plans resources in parallel, in no
   * fixed order: a limit refused as soon as it is crossed would blame whichever
   * credential came last, and count differently from run to run.
   */
  async settledCreates(database: string, quietMs = 300): Promise<ReadonlySet<string>> {
    for (;;) {
      const left = this.lastCreate + quietMs - Date.now();
      if (left <= 0) return this.creates.get(database) ?? new Set();
      await new Promise((resolve) => setTimeout(resolve, left));
    }
  }

  /** True when this plan creates the credential (a pgcred_credential planned before). */
  plansCredential(database: string, name: string): boolean {
    return this.creates.get(database)?.has(name) ?? false;
  }

  /** Notes an app this plan creates, so attachments planned after it may name it. */
  planApp(name: string): void {
    this.apps.add(name);
  }

  plansApp(name: string): boolean {
    return this.apps.has(name);
  }

  /**
   * Runs work on apps alone: an app's release, config vars and env file are read,
   * changed and written in steps, and one app may hold credentials of many databases,
   * so every use of apps and attachments, reads included, goes through this queue.
   * (The control store's one connection keeps each transaction to its owner by itself.)
   */
  exclusive<T>(work: (ctx: ReconcileContext) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => work(await this.context()));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Runs one change to a database, after the ones queued for it before (the
   * reconciler's advisory lock would serialize them anyway); changes to different
   * databases run side by side, as a fleet's applies do, and those that touch apps
   * (`touchesApps`: attaching, rotating) also wait for the apps' queue. The first one
   * in a process makes the database Heroku-shaped: the default credential exists,
   * owns the database and the public schema, and PUBLIC holds nothing, which is what
   * `none`, destroy's hand-over and attaching `default` rely on. The live state read
   * before is forgotten, unless `keepsRoles` says the change leaves roles and
   * grants alone (an attachment), so the next attachment need not read it again.
   */
  change<T>(
    spec: DatabaseSpec,
    work: (ctx: ReconcileContext) => Promise<T>,
    options: { keepsRoles?: boolean; touchesApps?: boolean } = {},
  ): Promise<T> {
    const previous = this.databaseQueues.get(spec.name) ?? Promise.resolve();
    const result = previous.then(async () => {
      const ctx = await this.context();
      let changed = !options.keepsRoles;
      try {
        if (!this.prepared.has(spec.name)) {
          changed = true;
          const identity = await this.identity(spec);
          await ctx.control.databases.register(spec, identity, 'terraform');
          await applyDatabase(ctx, spec, { credentials: [] });
          this.prepared.add(spec.name);
          this.readings.delete(spec.name);
        }
        // Apps' queue inside the database's, never the other way round: no cycle.
        return options.touchesApps ? await this.exclusive(work) : await work(ctx);
      } finally {
        if (changed) this.readings.delete(spec.name);
      }
    });
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.databaseQueues.set(spec.name, tail);
    return result;
  }

  async close(): Promise<void> {
    const control = await this.control?.catch(() => undefined);
    await control?.close();
  }
}

/** Provider logs go to stderr, where Terraform keeps them (TF_LOG). Never a secret. */
export function log(line: string): void {
  process.stderr.write(`pgcred: ${line}\n`);
}
