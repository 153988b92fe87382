import type { ClientBase } from 'pg';
import type { ControlStore } from '../control/store';
import { CONTROL_SCHEMA } from '../control/store';
import { faultPoint } from '../faults';
import type { Config, DatabaseSpec } from '../model/config';
import { quoteLiteral } from '../model/identifiers';
import { rotatingUsername } from '../model/names';
import { generatePassword } from '../model/password';
import { connectAdmin, endpointOf } from './connection';
import { declaredColumnsOf, declaredObjectsOf, declaredRoutinesOf } from './desired';
import { type DesiredCredential, type DesiredDatabase, diff, type ExtraChange, ownerName } from './diff';
import { inSnapshot, inspect } from './inspect';
import type { LiveState } from './live-state';
import { checkPasswords } from './passwords';
import { concatPlans, PASSWORD_PLACEHOLDER, type Plan } from './plan';
import { scramVerifier } from './scram';

/** Everything the reconciler needs besides the database: the model, the control store, a place for progress. */
export interface ReconcileContext {
  readonly config: Config;
  readonly control: ControlStore;
  /** Progress and warnings, for stderr. */
  readonly progress: (line: string) => void;
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
  /** Refuse before any change (e.g. the credential is attached), computed under the lock. */
  readonly check?: (live: LiveState, owner: string) => string[];
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
    async (user) => (await ctx.control.getPassword(source, user)) ?? ctx.control.kept?.get(spec.url),
    ctx.progress,
  );
}

// Advisory locks are per database; one key for "pgcred is changing roles here".
const APPLY_LOCK = [0x70676372, 0x61706c79] as const;

async function desiredState(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  client: ClientBase,
  live: LiveState,
  options: PlanOptions,
): Promise<DesiredDatabase> {
  const source = credentialSource(ctx.config, spec);
  const owner = ownerName(source, live);
  const known = await ctx.control.getPasswords(source.name);
  const rotating = await openRotations(ctx.control, source.name);
  const credentials =
    options.credentials ??
    source.credentials.map((c) => ({
      name: c.name,
      access: c.access,
      ...(c.memberOf ? { memberOf: c.memberOf } : {}),
    }));
  const names = [owner, ...credentials.map((c) => c.name)];
  const adminPassword = new URL(spec.url).password;
  if (owner === live.server.currentUser && adminPassword && !known.has(owner))
    known.set(owner, decodeURIComponent(adminPassword));
  const passwords = await checkPasswords(client, live, endpointOf(spec.url), known, names);
  const attached = await attachedApps(ctx.control, source.name);
  return {
    name: source.name,
    executor: spec.executor,
    owner: source.owner,
    credentials,
    ignoreRoles: spec.ignoreRoles,
    ...(spec.public ? { publicPolicy: spec.public } : {}),
    controlSchema: CONTROL_SCHEMA,
    rotating: rotating.map((name) => rotatingUsername(name)),
    passwords,
    prune: options.prune ?? false,
    attachedApps: attached,
    scope: options.scope,
    extra: options.extra?.(live, owner),
  };
}

async function openRotations(control: ControlStore, database: string): Promise<string[]> {
  const { rows } = await control.client.query(
    'SELECT credential FROM pgcred.rotations WHERE database = $1 AND finished_at IS NULL',
    [database],
  );
  return rows.map((row) => row.credential as string);
}

async function attachedApps(control: ControlStore, database: string): Promise<Map<string, string[]>> {
  const { rows } = await control.client.query(
    'SELECT credential, array_agg(DISTINCT app ORDER BY app) AS apps FROM pgcred.attachments WHERE database = $1 GROUP BY credential',
    [database],
  );
  return new Map(rows.map((row) => [row.credential as string, row.apps as string[]]));
}

async function computePlan(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  client: ClientBase,
  options: PlanOptions,
): Promise<{ plan: Plan; live: LiveState }> {
  const source = credentialSource(ctx.config, spec);
  const accesses = (options.credentials ?? source.credentials).map((c) => c.access);
  const live = await inspect(client, {
    declaredObjects: declaredObjectsOf(accesses),
    declaredColumns: declaredColumnsOf(accesses),
    declaredRoutines: declaredRoutinesOf(accesses),
    ...(source.owner ? { owner: source.owner } : {}),
  });
  const desired = await desiredState(ctx, spec, client, live, options);
  const plan = diff(desired, live);
  const refusals = options.check?.(live, ownerName(desired, live)) ?? [];
  return { plan: { ...plan, database: spec.name, errors: [...plan.errors, ...refusals] }, live };
}

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
  const client = await openAdmin(ctx, spec);
  try {
    return await inSnapshot(client, () => computePlan(ctx, spec, client, options));
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface ApplyResult {
  readonly plan: Plan;
  readonly applied: boolean;
}

/**
 * Applies one database's plan in one transaction under an advisory lock: the plan
 * is computed after the lock is held, so two applies never act on a stale view,
 * and any failure rolls everything back. The lock is a session lock taken before
 * the transaction begins: a REPEATABLE READ snapshot is taken at its first query,
 * so an apply that waited reads the state the one before it committed.
 */
export async function applyDatabase(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const client = await openAdmin(ctx, spec);
  const source = credentialSource(ctx.config, spec);
  let lost = false;
  client.once('end', () => {
    lost = true;
  });
  let locked = false;
  try {
    await lockForApply(client, spec.name, options.lockTimeoutMs ?? 300_000, ctx.progress);
    locked = true;
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    faultPoint('apply:locked');
    await options.read?.(client);
    const known = await ctx.control.getPasswords(source.name);
    let prepared: Plan | undefined;
    if (options.prepare) {
      ({ plan: prepared } = await computePlan(ctx, spec, client, {
        ...options,
        scope: new Set(),
        extra: options.prepare,
      }));
      if (prepared.errors.length > 0) throw new PlanRefusedError(spec.name, prepared.errors);
      await execute(spec, client, prepared, (username) =>
        passwordFor(ctx.control, source.name, username, known),
      );
    }
    const { plan: main, live } = await computePlan(ctx, spec, client, options);
    const plan = prepared ? concatPlans(prepared, main) : main;
    if (plan.errors.length > 0) throw new PlanRefusedError(spec.name, plan.errors);
    await options.verify?.(plan, live, client);
    if (plan.changes.length === 0 || (options.confirm && !(await options.confirm(plan)))) {
      await client.query('ROLLBACK');
      return { plan, applied: false };
    }
    await execute(spec, client, main, (username) => passwordFor(ctx.control, source.name, username, known));
    faultPoint('apply:before-commit');
    await client.query('COMMIT');
    faultPoint('apply:committed');
    await ctx.control.audit({
      action: 'apply',
      database: spec.name,
      detail: {
        changes: plan.changes.map((c) => ({
          action: c.action,
          subject: c.subject,
          target: c.target,
          description: c.description,
        })),
      },
    });
    return { plan, applied: true };
  } catch (error) {
    if (lost) {
      // Cut mid-apply: the server rolled the transaction back, or (cut at COMMIT) committed it whole.
      throw new Error(
        `lost the connection to database ${spec.name} during apply (${(error as Error).message}): ` +
          'its transaction either committed whole or not at all; run the command again to finish',
      );
    }
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    if (locked && !lost)
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...APPLY_LOCK]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Runs a plan's statements on the open transaction; a failure names the change and PostgreSQL's reason. */
async function execute(
  spec: DatabaseSpec,
  client: ClientBase,
  plan: Plan,
  password: (username: string) => Promise<string>,
): Promise<void> {
  for (const statement of plan.statements) {
    let sql = statement.sql;
    if (statement.passwordFor) {
      const verifier = scramVerifier(await password(statement.passwordFor));
      sql = sql.slice(0, sql.length - PASSWORD_PLACEHOLDER.length) + quoteLiteral(verifier);
    }
    faultPoint('apply:statement');
    try {
      await client.query(sql);
    } catch (error) {
      const change = plan.changes[statement.changes[0]!];
      throw new Error(
        `apply of ${spec.name} failed at "${change ? `${change.subject}: ${change.description}` : statement.sql}" ` +
          `(${statement.sql.replace(PASSWORD_PLACEHOLDER, "'…'")}): ${(error as Error).message}. Nothing was changed.`,
      );
    }
  }
}

/** The stored password of a username, or a new one, stored (committed) before the database is touched. */
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

/** Takes the session-level apply lock, waiting at most timeoutMs for another apply to end. */
async function lockForApply(
  client: ClientBase,
  label: string,
  timeoutMs: number,
  progress: (line: string) => void,
) {
  const { rows } = await client.query('SELECT pg_try_advisory_lock($1, $2) AS got', [...APPLY_LOCK]);
  if (rows[0].got) return;
  progress(`Waiting for another pgcred apply on ${label} to finish...`);
  // The wait runs in a transaction of its own so SET LOCAL bounds it alone; a session
  // lock taken in a transaction outlives its COMMIT.
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    await client.query('SELECT pg_advisory_lock($1, $2)', [...APPLY_LOCK]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: string }).code === '55P03') {
      throw new Error(
        `another pgcred apply on ${label} held its lock for more than ${Math.round(timeoutMs / 1000)} s; nothing was changed`,
      );
    }
    throw error;
  }
}
