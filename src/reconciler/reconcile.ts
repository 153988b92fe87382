import type { ClientBase } from 'pg';
import {
  askRelationsAhead,
  auditDetail,
  CLUSTER_LOCK_DATABASE,
  claimsRoleNames,
  executePlan,
  inApplyTransaction,
  lockClusterRoles,
  type RelationsAhead,
  type SetVerifier,
  unlockClusterRoles,
} from '../apply/apply-plan';
import type { ControlStore } from '../control/store';
import { CONTROL_SCHEMA } from '../control/store';
import { declaredColumnsOf, declaredObjectsOf, declaredRoutinesOf } from '../model/access';
import type { Access, Config, DatabaseSpec } from '../model/config';
import { levelRoleNames } from '../model/level-roles';
import { credentialOfUsername, credentialUsername, ROTATING_SUFFIX, rotatingUsername } from '../model/names';
import { generatePassword } from '../model/password';
import { concatPlans, type Plan } from '../model/plan';
import { connectAdmin, endpointOf } from '../postgres/connection';
import { sqlFile } from '../project';
import { liveUsernameOf } from './credential-roles';
import {
  type DesiredCredential,
  type DesiredDatabase,
  diff,
  type ExtraChange,
  ownerName,
  type PasswordStatus,
} from './diff';
import { droppedRoles, foreignDependencyRefusals } from './foreign-dependencies';
import { type InspectOptions, inSnapshot, inspect } from './inspect';
import type { LiveState } from './live-state';
import { checkPasswords } from './passwords';

/** Everything the reconciler needs besides the database: the model, the control store, a place for progress. */
export interface ReconcileContext {
  readonly config: Config;
  readonly control: ControlStore;
  /** Progress and warnings, for stderr. */
  readonly progress: (line: string) => void;
  /**
   * Ends an admin connection whose work is done without waiting for the server to close
   * it (a backend takes milliseconds to exit); whoever gives this waits for them all
   * before it exits. Without it, every connection is ended and waited for in turn.
   */
  readonly endLater?: (client: ClientBase & { end(): Promise<void> }) => void;
  /**
   * A second admin connection to the database, when one was opened ahead: inspection
   * reads beside the first connection on it. Undefined: everything on the first.
   */
  readonly spare?: (spec: DatabaseSpec) => Promise<(ClientBase & { end(): Promise<void> }) | undefined>;
}

/** Ends an admin connection whose work is done: later, if the context allows it. */
function endAdmin(ctx: ReconcileContext, client: ClientBase & { end(): Promise<void> }): Promise<void> {
  if (ctx.endLater) {
    ctx.endLater(client);
    return Promise.resolve();
  }
  return client.end().catch(() => undefined);
}

export interface PlanOptions {
  /** Destroy managed credentials no longer declared. */
  readonly prune?: boolean;
  /** Credentials to plan instead of the declared ones (imperative commands). */
  readonly credentials?: readonly DesiredCredential[];
  /** Only these credentials are planned. */
  readonly scope?: ReadonlySet<string>;
  /** Changes a command adds, computed from the live state under the lock. */
  readonly extra?: (live: LiveState, owner: string) => ExtraChange[];
  /**
   * Changes made first, in the same transaction, before the plan is computed, so the
   * plan sees their result: repair-default hands objects over, then restores grants.
   */
  readonly prepare?: (live: LiveState, owner: string) => ExtraChange[];
  /** Destroy this managed credential and its rotating username: a prune scoped to it. */
  readonly destroy?: string;
  /** Refuse before any change (e.g. the credential is attached), computed under the lock. */
  readonly check?: (live: LiveState, owner: string) => string[];
  /**
   * A reading taken before (readDatabase): a plan only computes from it, opening no
   * connection, when it looked up every object the credentials' grants name. Plan only:
   * an apply always reads under its lock.
   */
  readonly reading?: DatabaseReading;
}

/**
 * What a plan reads of a database besides the declaration, from one snapshot: the
 * catalogs, and whether each password pgcred knows still opens its role. Taken once,
 * it serves every plan of the database's credentials until something changes it.
 */
export interface DatabaseReading {
  readonly live: LiveState;
  /**
   * Whether each known password of its roles still opens it, when asked for: a SCRAM
   * check per password (or a login), which what needs only the catalogs can skip.
   */
  readonly passwords?: ReadonlyMap<string, PasswordStatus>;
  /** The accesses whose named objects, columns and routines the inspection looked up. */
  readonly accesses: readonly Access[];
  /** Keys of those lookups (lookupKeys), to tell whether it serves other accesses. */
  readonly lookups: ReadonlySet<string>;
}

export interface ApplyOptions extends PlanOptions {
  /** Asked with the plan once the lock is held; false leaves everything as it was. */
  readonly confirm?: (plan: Plan) => Promise<boolean>;
  /**
   * Reads what `prepare` needs, under the lock and in the snapshot the plan is computed
   * from, so the two never disagree about what exists.
   */
  readonly read?: (client: ClientBase) => Promise<void>;
  /** How long to wait for another apply of the same database (default 5 minutes). */
  readonly lockTimeoutMs?: number;
  /**
   * Called under the lock with the plan and the live state it was computed from,
   * empty or not, before confirm: a saved plan refuses here when it is stale.
   */
  readonly verify?: (plan: Plan, live: LiveState, client: ClientBase) => Promise<void>;
  /** The audit record's action and subject (default: apply, the database). */
  readonly audit?: { readonly action: string; readonly subject?: string };
}

export class PlanRefusedError extends Error {
  constructor(
    readonly database: string,
    readonly reasons: readonly string[],
  ) {
    super(reasons.join('\n'));
    this.name = 'PlanRefusedError';
  }
}

/** The database whose credentials a database has: a follower has its primary's. */
export function credentialSource(config: Config, spec: DatabaseSpec): DatabaseSpec {
  if (spec.role === 'follower' && spec.source) {
    return config.databases.find((db) => db.name === spec.source) ?? spec;
  }
  return spec;
}

/** The admin connection, falling back to the password pgcred keeps after rotating the default credential. */
export function openAdmin(ctx: ReconcileContext, spec: DatabaseSpec) {
  const source = credentialSource(ctx.config, spec).name;
  return connectAdmin(
    spec.url,
    spec.name,
    async (user) =>
      (ctx.control.unreachable ? undefined : await ctx.control.getPassword(source, user)) ??
      ctx.control.kept?.get(spec.url),
    ctx.progress,
  );
}

async function desiredState(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  client: ClientBase | undefined,
  live: LiveState,
  options: PlanOptions,
  stored: StoredFacts,
  verified?: SetVerifier[],
): Promise<DesiredDatabase> {
  const source = credentialSource(ctx.config, spec);
  const owner = ownerName(source, live);
  const rotating = await stored.rotating;
  // The diff works on role names: each credential goes in as its username (the
  // database's username scheme), and the plan's subjects come back as credential names.
  const username = (name: string) => credentialUsername(source, name);
  const credentials = (
    options.credentials ??
    source.credentials.map((c) => ({
      name: c.name,
      access: c.access,
      ...(c.memberOf ? { memberOf: c.memberOf } : {}),
    }))
  ).map((c) => ({ ...c, name: username(c.name) }));
  const names = [owner, ...credentials.map((c) => c.name)];
  const read = options.reading?.passwords;
  const passwords = read
    ? new Map(names.filter((name) => read.has(name)).map((name) => [name, read.get(name)!]))
    : await passwordStatuses(ctx, spec, client!, live, owner, names, stored, verified);
  const attached = attachedApps(await stored.attachments, username);
  return {
    name: source.name,
    executor: spec.executor,
    owner: source.owner,
    credentials,
    ignoreRoles: spec.ignoreRoles,
    ...(spec.public ? { publicPolicy: spec.public } : {}),
    controlSchema: CONTROL_SCHEMA,
    rotating: rotating
      .filter((name) => name !== options.destroy)
      .map((name) => rotatingUsername(username(name))),
    passwords,
    prune: options.prune ?? options.destroy !== undefined,
    ...(options.destroy !== undefined ? { destroy: liveUsernameOf(live, source, options.destroy) } : {}),
    attachedApps: attached,
    scope: options.scope && new Set([...options.scope].map(username)),
    ...(source.usernamePrefix !== undefined
      ? { usernameScheme: { usernamePrefix: source.usernamePrefix } }
      : {}),
    extra: options.extra?.(live, owner),
  };
}

/** Whether each known password of these usernames still opens its role. */
async function passwordStatuses(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  client: ClientBase,
  live: LiveState,
  owner: string,
  names: readonly string[],
  stored: StoredPasswords,
  verified?: SetVerifier[],
): Promise<Map<string, PasswordStatus>> {
  // Without the control store (drift while it is down) nothing is known: the
  // privileges are checked, the passwords are reported as not checked.
  const down = ctx.control.unreachable !== undefined;
  const known = new Map(await stored.passwords);
  const adminPassword = new URL(spec.url).password;
  if (owner === live.server.currentUser && adminPassword && !known.has(owner))
    known.set(owner, decodeURIComponent(adminPassword));
  const madeFrom = await stored.verifierDigests;
  const passwords = await checkPasswords(
    client,
    live,
    endpointOf(spec.url),
    known,
    names,
    madeFrom,
    verified,
  );
  if (down)
    for (const [name, status] of passwords) if (status === 'unknown') passwords.set(name, 'unchecked');
  return passwords;
}

/**
 * What a plan reads from the control store, asked for before the database is
 * inspected: the store has its own connection, so its few queries run while the
 * catalogs are read instead of after. Each is awaited where it is needed; without the
 * store (drift while it is down) nothing is known.
 */
interface StoredFacts {
  readonly rotating: Promise<string[]>;
  readonly passwords: Promise<ReadonlyMap<string, string>>;
  readonly verifierDigests: Promise<Awaited<ReturnType<ControlStore['verifierDigests']>> | undefined>;
  readonly attachments: Promise<Awaited<ReturnType<ControlStore['attachments']['list']>>>;
}

type StoredPasswords = Pick<StoredFacts, 'passwords' | 'verifierDigests'>;

function askStore(ctx: ReconcileContext, database: string): StoredFacts {
  const down = ctx.control.unreachable !== undefined;
  return {
    ...askStoredPasswords(ctx, database),
    rotating: asked(
      down
        ? []
        : ctx.control.rotations
            .openAll(database)
            .then((rotations) => rotations.map((rotation) => rotation.credential)),
    ),
    attachments: asked(down ? [] : ctx.control.attachments.list({ database })),
  };
}

function askStoredPasswords(ctx: ReconcileContext, database: string): StoredPasswords {
  const down = ctx.control.unreachable !== undefined;
  return {
    passwords: asked(down ? new Map() : ctx.control.getPasswords(database)),
    verifierDigests: asked(down ? undefined : ctx.control.verifierDigests(database)),
  };
}

/** A question to the store that a plan failing first (inspection, a refusal) never awaits. */
function asked<T>(answer: T | Promise<T>): Promise<T> {
  const promise = Promise.resolve(answer);
  promise.catch(() => undefined);
  return promise;
}

/**
 * The apps attached to each role, by username: the credential's username under the
 * scheme, and the username the attachment's URL holds, which differ after the scheme
 * changed (a role no app uses any more is the only one prune may take).
 */
function attachedApps(
  attachments: Awaited<StoredFacts['attachments']>,
  username: (credential: string) => string,
): Map<string, string[]> {
  const apps = new Map<string, string[]>();
  const add = (role: string, app: string) => {
    const list = apps.get(role) ?? [];
    if (!list.includes(app)) apps.set(role, [...list, app].sort());
  };
  for (const a of attachments) {
    add(username(a.credential), a.app);
    if (a.username !== username(a.credential) && !a.username.endsWith(ROTATING_SUFFIX))
      add(a.username, a.app);
  }
  return apps;
}

/** What inspection must look up for these accesses: the objects, columns and routines their grants name. */
function inspectOptionsOf(source: DatabaseSpec, accesses: readonly Access[]): InspectOptions {
  return {
    declaredObjects: declaredObjectsOf(accesses),
    declaredColumns: declaredColumnsOf(accesses),
    declaredRoutines: declaredRoutinesOf(accesses),
    ...(source.owner ? { owner: source.owner } : {}),
  };
}

/** One key per lookup inspection makes for these accesses. */
export function lookupKeys(accesses: readonly Access[]): Set<string> {
  return new Set([
    ...declaredObjectsOf(accesses).map((o) => `object ${JSON.stringify(o)}`),
    ...declaredColumnsOf(accesses).map((c) => `column ${JSON.stringify(c)}`),
    ...declaredRoutinesOf(accesses).map((r) => `routine ${JSON.stringify(r)}`),
  ]);
}

/** The accesses a plan with these options declares. */
function plannedAccesses(ctx: ReconcileContext, spec: DatabaseSpec, options: PlanOptions): Access[] {
  return (options.credentials ?? credentialSource(ctx.config, spec).credentials).map((c) => c.access);
}

/** True when the reading looked up everything a plan with these options needs. */
function readingServes(ctx: ReconcileContext, spec: DatabaseSpec, options: PlanOptions): boolean {
  const reading = options.reading;
  if (!reading?.passwords) return false;
  for (const key of lookupKeys(plannedAccesses(ctx, spec, options)))
    if (!reading.lookups.has(key)) return false;
  return true;
}

/**
 * Reads a database once for many plans (planDatabase's `reading`), in one read-only
 * snapshot: the catalogs, with the lookups `accesses` need, and, with `passwords`,
 * every known password of its roles, checked (a plan needs them).
 */
export async function readDatabase(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  accesses: readonly Access[] = [],
  options: { readonly passwords?: boolean } = {},
): Promise<DatabaseReading> {
  const source = credentialSource(ctx.config, spec);
  const client = await openAdmin(ctx, spec);
  try {
    return await inSnapshot(client, async () => {
      const stored = options.passwords ? askStoredPasswords(ctx, source.name) : undefined;
      const live = await inspect(client, inspectOptionsOf(source, accesses));
      const reading = { live, accesses: [...accesses], lookups: lookupKeys(accesses) };
      if (!stored) return reading;
      const owner = ownerName(source, live);
      const names = [...new Set([owner, ...live.roles.keys()])];
      return {
        ...reading,
        passwords: await passwordStatuses(ctx, spec, client, live, owner, names, stored),
      };
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function computePlan(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  client: ClientBase | undefined,
  options: PlanOptions,
  verified?: SetVerifier[],
  /** Called with the live state once every query planning needs has been answered. */
  beforeDiff?: (live: LiveState) => void,
  /** A second connection for inspection (ReconcileContext.spare), before the transaction changes anything. */
  helper?: ClientBase,
): Promise<{ plan: Plan; live: LiveState }> {
  const source = credentialSource(ctx.config, spec);
  const stored = askStore(ctx, source.name);
  const live =
    client === undefined
      ? options.reading!.live
      : await inspect(client, {
          ...inspectOptionsOf(source, plannedAccesses(ctx, spec, options)),
          ...(helper ? { helper } : {}),
        });
  // Under a client the plan reads for itself: a reading is for plans that open none.
  const own: PlanOptions = client ? { ...options, reading: undefined } : options;
  const desired = await desiredState(ctx, spec, client, live, own, stored, verified);
  beforeDiff?.(live);
  const plan = diff(desired, live);
  const refusals = options.check?.(live, ownerName(desired, live)) ?? [];
  // A plan from a reading (no connection) changes nothing; apply plans again and checks.
  const dropped = client ? droppedRoles(plan) : [];
  const elsewhere = await foreignDependencyRefusals(client!, dropped, (role) => {
    const credential = credentialOfUsername(source, role.replace(ROTATING_SUFFIX_PATTERN, ''));
    return role.endsWith(ROTATING_SUFFIX) ? `rotating username ${role}` : `credential ${credential ?? role}`;
  });
  return {
    plan: { ...plan, database: spec.name, errors: [...plan.errors, ...refusals, ...elsewhere] },
    live,
  };
}

const ROTATING_SUFFIX_PATTERN = new RegExp(`${ROTATING_SUFFIX}$`);

/** The plan for one database, from one read-only snapshot: nothing is locked or changed. */
export async function planDatabase(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  options: PlanOptions = {},
): Promise<Plan> {
  return (await planDatabaseWithLive(ctx, spec, options)).plan;
}

/** planDatabase, with the live state it read: a saved plan fingerprints it. */
export async function planDatabaseWithLive(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  options: PlanOptions = {},
): Promise<{ plan: Plan; live: LiveState }> {
  if (readingServes(ctx, spec, options)) return computePlan(ctx, spec, undefined, options);
  const client = await openAdmin(ctx, spec);
  const helper = await ctx.spare?.(spec);
  try {
    return await inSnapshot(client, () =>
      computePlan(ctx, spec, client, options, undefined, undefined, helper),
    );
  } finally {
    if (helper) await endAdmin(ctx, helper);
    await endAdmin(ctx, client);
  }
}

export interface ApplyResult {
  readonly plan: Plan;
  readonly applied: boolean;
}

/**
 * Applies one database's plan through the apply module: the plan is computed after
 * the lock is held, in the transaction that makes it, so two applies never act on a
 * stale view, and any failure rolls everything back.
 */
export async function applyDatabase(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const first = await applyOnce(ctx, spec, options, false);
  if (first !== CLAIMS_NAMES) return first;
  // The plan creates or marks roles: plan again, and apply, holding the cluster's role-name lock.
  const release = await holdClusterRoleLock(ctx, spec, options.lockTimeoutMs ?? 300_000);
  try {
    const second = await applyOnce(ctx, spec, options, true);
    if (second === CLAIMS_NAMES) throw new Error('unreachable: the role-name lock is held');
    return second;
  } finally {
    await release();
  }
}

const CLAIMS_NAMES = Symbol('the plan claims role names');

/** The admin URL of the database of a cluster where applies take its role-name lock. */
function clusterLockUrl(spec: DatabaseSpec): string {
  const url = new URL(spec.url);
  url.pathname = `/${CLUSTER_LOCK_DATABASE}`;
  return url.toString();
}

/**
 * A session of the cluster's lock database holding the role-name lock; ending it
 * releases the lock. An admin that cannot reach that database applies without it.
 */
async function holdClusterRoleLock(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  timeoutMs: number,
): Promise<() => Promise<void>> {
  let client: Awaited<ReturnType<typeof openAdmin>>;
  try {
    client = await openAdmin(ctx, { ...spec, url: clusterLockUrl(spec) });
  } catch (error) {
    ctx.progress(
      `${spec.name}: applying without the cluster's role-name lock (${(error as Error).message}); ` +
        'two applies on this cluster that create the same role at once may fail',
    );
    return async () => undefined;
  }
  try {
    await lockClusterRoles(client, spec.name, timeoutMs, ctx.progress);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return async () => {
    // Released here, so the session can end later: a fleet's next apply on this
    // cluster must find the lock free, not a backend still exiting with it.
    const released = await unlockClusterRoles(client).then(
      () => true,
      () => false,
    );
    if (released) await endAdmin(ctx, client);
    else await client.end().catch(() => undefined);
  };
}

async function applyOnce(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  options: ApplyOptions,
  clusterLocked: boolean,
): Promise<ApplyResult | typeof CLAIMS_NAMES> {
  const client = await openAdmin(ctx, spec);
  // Inspection's helper, for the first plan only: a second one (after the role-name
  // lock, after prepared changes) reads on the transaction's own connection.
  let helper = clusterLocked ? undefined : await ctx.spare?.(spec);
  const source = credentialSource(ctx.config, spec);
  let releaseClusterLock: (() => Promise<void>) | undefined;
  const set: SetVerifier[] = [];
  try {
    // A plan that will create or mark a role (a first apply, a new credential) takes
    // the cluster's role-name lock before its snapshot: one query instead of planning,
    // rolling back and planning again under the lock.
    if (!clusterLocked && (await claimsNamesAhead(client, source, options))) {
      releaseClusterLock = await holdClusterRoleLock(ctx, spec, options.lockTimeoutMs ?? 300_000);
      clusterLocked = true;
    }
    const result = await inApplyTransaction(
      client,
      {
        label: spec.name,
        progress: ctx.progress,
        ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
      },
      async () => {
        await options.read?.(client);
        // Asked now and awaited when needed: on a first apply the control store is still
        // being created, and the database is inspected meanwhile.
        const knownPasswords = ctx.control.getPasswords(source.name);
        knownPasswords.catch(() => undefined);
        const password = async (username: string) =>
          passwordFor(ctx.control, source.name, username, await knownPasswords);
        let prepared: Plan | undefined;
        set.length = 0;
        if (options.prepare) {
          ({ plan: prepared } = await computePlan(
            ctx,
            spec,
            client,
            { ...options, scope: new Set(), extra: options.prepare },
            set,
          ));
          if (prepared.errors.length > 0) throw new PlanRefusedError(spec.name, prepared.errors);
          set.push(...(await executePlan(client, spec.name, prepared, password)));
        }
        let ahead: RelationsAhead | undefined;
        const { plan: main, live } = await computePlan(
          ctx,
          spec,
          client,
          options,
          set,
          (live) => {
            // A first apply (no level roles yet) grants the levels on every schema.
            if (!prepared && missesLevelRoles(live, source))
              ahead = askRelationsAhead(
                client,
                live.schemas.map((schema) => schema.name).filter((name) => name !== CONTROL_SCHEMA),
              );
          },
          prepared ? undefined : helper,
        );
        if (helper) {
          await endAdmin(ctx, helper);
          helper = undefined;
        }
        const plan = prepared ? concatPlans(prepared, main) : main;
        if (plan.errors.length > 0) throw new PlanRefusedError(spec.name, plan.errors);
        if (!clusterLocked && claimsRoleNames(plan))
          return { commit: false, value: CLAIMS_NAMES as ApplyResult | typeof CLAIMS_NAMES };
        await options.verify?.(plan, live, client);
        if (plan.changes.length === 0 || (options.confirm && !(await options.confirm(plan))))
          return { commit: false, value: { plan, applied: false } };
        await keepNewPasswords(ctx.control, source.name, main, await knownPasswords);
        set.push(...(await executePlan(client, spec.name, main, password, ahead)));
        return { commit: true, value: { plan, applied: true } };
      },
    );
    // The roles it created are committed: the role-name lock is released while the
    // store is written, not after.
    const unlocking = releaseClusterLock?.();
    releaseClusterLock = undefined;
    try {
      // The passwords it set, and those it verified by PBKDF2 (kept before this version,
      // or set by hand to what pgcred knows): their digests spare the next checks.
      if (result !== CLAIMS_NAMES) await keepVerifierDigests(ctx.control, source.name, set);
      if (result !== CLAIMS_NAMES && result.applied) {
        await ctx.control.audit({
          action: options.audit?.action ?? 'apply',
          database: spec.name,
          ...(options.audit?.subject ? { subject: options.audit.subject } : {}),
          detail: auditDetail(result.plan),
        });
      }
    } finally {
      await unlocking;
    }
    return result;
  } finally {
    if (helper) await endAdmin(ctx, helper);
    await endAdmin(ctx, client);
    // Never later: another apply on the cluster may be waiting for this lock.
    await releaseClusterLock?.();
  }
}

/** Whether a level role of the database does not exist yet: its first apply, or the one upgrading to level roles. */
function missesLevelRoles(live: LiveState, source: DatabaseSpec): boolean {
  return [...levelRoleNames(source.name).values()].some((name) => !live.roles.has(name));
}

/**
 * Whether the declared roles (credentials, the default credential when named, the
 * level roles) include one that is not yet a role pgcred marked: then the plan will
 * claim a name. A miss costs only the rollback and second plan applyDatabase makes.
 */
async function claimsNamesAhead(
  client: ClientBase,
  source: DatabaseSpec,
  options: ApplyOptions,
): Promise<boolean> {
  if (options.destroy !== undefined) return false;
  const declared = options.credentials ?? source.credentials;
  const names = [
    ...(source.owner ? [source.owner] : []),
    ...declared.map((c) => credentialUsername(source, c.name)),
    ...(declared.length > 0 ? levelRoleNames(source.name).values() : []),
  ];
  if (names.length === 0) return false;
  const { rows } = await client.query(sqlFile('reconciler', 'unclaimed_roles'), [names]);
  return rows.length > 0;
}

/**
 * Keeps the digests of the passwords a committed apply set, so the next password checks
 * need no PBKDF2. Only a speed-up: a store that fails here leaves the checks slower and
 * the apply, already committed, reported as it is.
 */
export async function keepVerifierDigests(
  control: ControlStore,
  database: string,
  set: readonly SetVerifier[],
): Promise<void> {
  await control.keepVerifierDigests(database, set).catch(() => undefined);
}

/** The stored password of a username, or a new one, stored (committed) before the database is touched. */
/** Makes and keeps, in one statement, the password of every username a plan sets that pgcred does not know yet. */
async function keepNewPasswords(
  control: ControlStore,
  database: string,
  plan: Plan,
  known: Map<string, string>,
): Promise<void> {
  const fresh = new Map<string, string>();
  for (const statement of plan.statements) {
    const username = statement.passwordFor;
    if (username && !known.has(username) && !fresh.has(username)) fresh.set(username, generatePassword());
  }
  await control.setPasswords(database, fresh);
  for (const [username, password] of fresh) known.set(username, password);
}

async function passwordFor(
  control: ControlStore,
  database: string,
  username: string,
  known: Map<string, string>,
): Promise<string> {
  const existing = known.get(username);
  if (existing) return existing;
  const password = generatePassword();
  await control.setPassword(database, username, password);
  known.set(username, password);
  return password;
}
