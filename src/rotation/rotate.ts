import type { ClientBase } from 'pg';
import { applyPlanned, type PlannedChange, type SideEffect } from '../apply/apply-plan';
import { rememberAdminPassword, resolveCredential } from '../attachments/attachments';
import { deliver, type RestartOutcome, recordRelease } from '../attachments/config-vars';
import type { Rotation } from '../control/rotation-journal';
import { faultPoint } from '../faults';
import { type DatabaseSpec, DEFAULT_CREDENTIAL, DEFAULT_GRACE_MS } from '../model/config';
import { credentialUsername, rotatingUsername } from '../model/names';
import { generatePassword } from '../model/password';
import type { Plan } from '../model/plan';
import { FOLLOWER_MESSAGE } from '../model/plans';
import type { RotationStep } from '../model/rotation-steps';
import { CredentialError, credentialRefusal, inspectDatabase } from '../reconciler/credentials';
import { borrowRole, dropRole, planNewPassword, planRotatingUsername } from '../reconciler/diff-roles';
import type { LiveState } from '../reconciler/live-state';
import { PlanBuilder } from '../reconciler/plan-builder';
import {
  credentialSource,
  keepVerifierDigests,
  openAdmin,
  type ReconcileContext,
} from '../reconciler/reconcile';

/**
 * Zero-downtime rotation (SPEC §4), as a journal of steps in the control store.
 * Each step is a plan, computed by a pure function from the journal entry and the
 * live state, applied by the apply module like any other change; what cannot roll
 * back (the apps' URLs, ending sessions) are side effects the step names. The
 * journal moves on only once a step's plan and effects are done, and every step can
 * be done again, so `pgcred reconcile` finishes a rotation killed at any point.
 */
export type { Rotation } from '../control/rotation-journal';

export interface RotationOptions {
  readonly force?: boolean;
  /** How long old connections may live (default 30 minutes, or the credential's policy). */
  readonly graceMs?: number;
  /** How long an old username must have had no connections before the rotation moves on (default 5 s). */
  readonly settleMs?: number;
  /**
   * The database as the caller just inspected it. Rotating every credential reads the
   * database once instead of once per credential, which at 100,000 tables is the
   * difference between seconds and minutes.
   */
  readonly live?: LiveState;
}

/** What a rotation waits for, for the progress display. */
export interface RotationWait {
  readonly credential: string;
  /** The username whose connections must end. */
  readonly waitingFor: string;
  readonly connections: number;
  /** Until the remaining connections are terminated. */
  readonly remainingMs: number;
}

export type RotationEvent =
  | { readonly kind: 'step'; readonly rotation: Rotation; readonly description: string }
  | { readonly kind: 'terminated'; readonly username: string; readonly count: number }
  | {
      readonly kind: 'restart';
      readonly app: string;
      readonly release: number;
      readonly outcome: RestartOutcome;
    }
  | { readonly kind: 'notice'; readonly text: string };

export interface AdvanceResult {
  readonly rotation: Rotation;
  /** Set when the rotation waits for connections to end. */
  readonly waiting?: RotationWait;
}

/**
 * Clients that read their env file just before it changed still connect with the
 * old username; an old username counts as idle only once it has had no connections
 * for this long after the switch.
 */
export function settleMs(graceMs: number, settle?: number): number {
  return Math.min(settle ?? DEFAULT_SETTLE_MS, graceMs);
}

export const DEFAULT_SETTLE_MS = 5_000;

export async function openRotation(
  ctx: ReconcileContext,
  database: string,
  credential: string,
): Promise<Rotation | undefined> {
  return ctx.control.rotations.open(database, credential);
}

export async function openRotations(ctx: ReconcileContext, database?: string): Promise<Rotation[]> {
  return ctx.control.rotations.openAll(database);
}

/**
 * Step 1: the new password goes into the journal before anything else changes.
 * A rotation already under way for the credential is returned as it is.
 * The default credential always rotates at once, as on Heroku (connections reset).
 */
export async function startRotation(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  credential: string,
  options: RotationOptions = {},
): Promise<{ rotation: Rotation; resumed: boolean }> {
  if (spec.role === 'follower') throw new CredentialError(FOLLOWER_MESSAGE);
  const live = options.live ?? (await inspectDatabase(spec, ctx));
  if (live.server.inRecovery) throw new CredentialError(FOLLOWER_MESSAGE);
  const source = credentialSource(ctx.config, spec);
  const refusal =
    credential === DEFAULT_CREDENTIAL
      ? undefined
      : credentialRefusal(live, spec.name, credential, {}, source);
  if (refusal) throw new CredentialError(refusal);
  const username = resolveCredential(ctx, spec, live, credential);
  const existing = await openRotation(ctx, source.name, credential);
  if (existing) return { rotation: existing, resumed: true };
  const policy = source.credentials.find((c) => c.name === credential)?.rotation;
  const force = options.force === true || credential === DEFAULT_CREDENTIAL;
  const graceMs = options.graceMs ?? policy?.graceMs ?? DEFAULT_GRACE_MS;
  // The default credential's password may only be in the admin URL: keep it, so the
  // store can tell apart the old password from the new one if a crash interrupts.
  await rememberAdminPassword(ctx.control, spec, source.name, username);
  const rotation = await ctx.control.rotations.start({
    database: source.name,
    credential,
    username,
    force,
    graceMs,
    newPassword: generatePassword(),
    ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}),
  });
  if (!rotation) {
    const raced = await openRotation(ctx, source.name, credential);
    return { rotation: raced!, resumed: true };
  }
  faultPoint('rotation:journaled');
  await ctx.control.audit({
    action: 'rotation:start',
    database: spec.name,
    subject: credential,
    detail: { force, graceMs },
  });
  return { rotation, resumed: false };
}

/** What a rotation step reads of the live database; the step is decided from it alone. */
export interface RotationFacts {
  /** current_database(): the rotating username's marker names it. */
  readonly database: string;
  readonly isSuperuser: boolean;
  readonly currentUser: string;
  /** The admin logs in as the rotated role (the default credential). */
  readonly isAdmin: boolean;
  /** `<name>-rotating` exists. */
  readonly rotatingExists: boolean;
  /** Connections, not pgcred's own, of the username the step waits on. */
  readonly connections: number;
  /** Roles a CREATEROLE admin must borrow to hand the rotating username's objects to the credential. */
  readonly borrow: readonly string[];
  /** How long ago the journal's step was recorded. */
  readonly waitedMs: number;
}

/** A side effect a step names: data, so the pure step function stays pure. */
export type RotationEffect =
  | { readonly kind: 'store-password'; readonly username: string }
  | { readonly kind: 'end-sessions'; readonly username: string; readonly always?: boolean }
  | { readonly kind: 'point-apps'; readonly username: string; readonly fault?: string }
  | { readonly kind: 'keep-admin-password' }
  | { readonly kind: 'forget-password'; readonly username: string };

export interface RotationStepPlan {
  readonly plan: Plan;
  /** Done before the plan's transaction. */
  readonly before: readonly RotationEffect[];
  /** Done after its commit. */
  readonly after: readonly RotationEffect[];
  /** The journal's step once plan and effects are done. */
  readonly next: RotationStep;
  /** The audit record's action. */
  readonly audit: string;
  readonly description: string;
  /** Fault points (src/faults.ts): after the commit, after the journal moved on. */
  readonly committedFault?: string;
  readonly recordedFault?: string;
}

/** The username a step waits to see no connections of, if any. */
export function waitsOn(rotation: Rotation): string | undefined {
  if (rotation.force) return undefined;
  if (rotation.step === 'rotating-username') return rotation.username;
  if (rotation.step === 'password-set') return rotatingUsername(rotation.username);
  return undefined;
}

/**
 * The next step of a rotation, from its journal entry and the live state: a plan and
 * its side effects, or what it waits for, or nothing when it is finished. Pure.
 */
export function planRotationStep(
  rotation: Rotation,
  facts: RotationFacts,
): RotationStepPlan | { readonly waiting: RotationWait } | undefined {
  const { username, credential } = rotation;
  const temp = rotatingUsername(username);
  const b = new PlanBuilder();
  const build = () => b.build(rotation.database, facts.database, username, 'pgcred');
  const waiting = waitsOn(rotation);
  if (waiting && facts.waitedMs < rotation.graceMs) {
    if (facts.connections > 0 || facts.waitedMs < settleMs(rotation.graceMs, rotation.settleMs)) {
      return {
        waiting: {
          credential,
          waitingFor: waiting,
          connections: facts.connections,
          remainingMs: rotation.graceMs - facts.waitedMs,
        },
      };
    }
  }
  switch (rotation.step) {
    case 'journaled': {
      if (rotation.force) {
        planNewPassword(b, credential, username, 'gets its new password; its connections are ended');
        return {
          plan: build(),
          before: [{ kind: 'store-password', username }],
          after: [
            { kind: 'end-sessions', username, always: true },
            ...(facts.isAdmin ? [{ kind: 'keep-admin-password' } as const] : []),
            { kind: 'point-apps', username },
          ],
          next: 'finished',
          audit: 'rotation:force',
          description: `${username} has its new password`,
        };
      }
      // Step 2: the temporary username carries the apps while the old sessions end.
      planRotatingUsername(b, temp, username, facts.database, facts.rotatingExists);
      return {
        plan: build(),
        before: [{ kind: 'store-password', username: temp }],
        after: [{ kind: 'point-apps', username: temp, fault: 'rotation:apps-on-rotating' }],
        next: 'rotating-username',
        audit: 'rotation:rotating-username',
        description: `${temp} is active; apps use it`,
        committedFault: 'rotation:rotating-role-created',
        recordedFault: 'rotation:rotating-username',
      };
    }
    case 'rotating-username':
      // Step 3: the old sessions are gone (or the grace is up): the credential gets
      // the new password, what is left of its sessions ends, the apps move back.
      planNewPassword(b, credential, username, 'gets its new password; apps move back to it');
      return {
        plan: build(),
        before: [{ kind: 'store-password', username }],
        after: [
          { kind: 'end-sessions', username },
          { kind: 'point-apps', username, fault: 'rotation:apps-back' },
        ],
        next: 'password-set',
        audit: 'rotation:password-set',
        description: `${username} has its new password; apps use it again`,
        committedFault: 'rotation:password-set-on-role',
        recordedFault: 'rotation:password-set',
      };
    case 'password-set':
      // Step 4: the temporary username goes, what it made going to the credential.
      if (facts.rotatingExists) {
        if (facts.borrow.includes(username)) borrowRole(b, credential, username);
        dropRole(
          b,
          facts,
          temp,
          username,
          'rotating username',
          'is dropped: the rotation is over',
          credential,
        );
      }
      return {
        plan: build(),
        before: [{ kind: 'end-sessions', username: temp }],
        after: [{ kind: 'forget-password', username: temp }],
        next: 'finished',
        audit: 'rotation:finish',
        description: `${temp} is gone`,
        committedFault: 'rotation:rotating-dropped',
        recordedFault: 'rotation:finished',
      };
    case 'finished':
      return undefined;
  }
}

/**
 * pgcred's own sessions are never counted or ended: its admin connection, and its
 * control store's when that store lives in the same database under the same user
 * (the admin logging in as the default credential).
 */
async function ownPids(ctx: ReconcileContext, admin: ClientBase): Promise<number[]> {
  const pids = [(await admin.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number];
  pids.push(await ctx.control.backendPid());
  return pids;
}

async function readFacts(
  admin: ClientBase,
  rotation: Rotation,
  own: readonly number[],
): Promise<RotationFacts> {
  const temp = rotatingUsername(rotation.username);
  const waiting = waitsOn(rotation);
  const { rows } = await admin.query(
    `SELECT current_database() AS database, current_user AS current_user, me.rolsuper AS superuser,
            EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS rotating_exists,
            (SELECT count(*)::int FROM pg_stat_activity WHERE usename = $2 AND pid <> ALL($3::int[])) AS connections,
            (SELECT coalesce(array_agg(r.rolname), '{}') FROM pg_roles r
              WHERE NOT me.rolsuper AND r.rolname = $4 AND NOT pg_has_role(current_user, r.oid, 'USAGE')) AS borrow
       FROM pg_roles me WHERE me.rolname = current_user`,
    [temp, waiting ?? null, [...own], rotation.username],
  );
  const row = rows[0];
  return {
    database: row.database,
    isSuperuser: row.superuser,
    currentUser: row.current_user,
    isAdmin: row.current_user === rotation.username,
    rotatingExists: row.rotating_exists,
    connections: row.connections,
    borrow: row.borrow,
    waitedMs: Date.now() - rotation.stepAt.getTime(),
  };
}

async function terminate(admin: ClientBase, username: string, own: readonly number[]): Promise<number> {
  const { rows } = await admin.query(
    'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE usename = $1 AND pid <> ALL($2::int[])',
    [username, own],
  );
  return rows[0].n;
}

/** Points every attachment of the credential at `username`, records releases and restarts the apps. */
async function pointAttachments(
  ctx: ReconcileContext,
  rotation: Rotation,
  username: string,
  emit: (event: RotationEvent) => void,
): Promise<void> {
  const apps = await ctx.control.transaction(async (db) => {
    const names = await ctx.control.attachments.pointAt(rotation.database, rotation.credential, username);
    for (const app of names) {
      await recordRelease(ctx.control, db, app, `Rotate ${rotation.credential}: use ${username}`);
    }
    return names;
  });
  for (const app of apps) {
    const outcome = await deliver(ctx.control, app);
    emit({ kind: 'restart', app, release: (await ctx.control.apps.releaseOf(app)) ?? 0, outcome });
  }
}

/** A step's side effect, made runnable: what it does to the control store, the apps and the sessions. */
function sideEffect(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  admin: ClientBase,
  rotation: Rotation,
  password: string,
  own: readonly number[],
  emit: (event: RotationEvent) => void,
  effect: RotationEffect,
): SideEffect {
  switch (effect.kind) {
    case 'store-password':
      return {
        description: `the new password of ${effect.username} is stored encrypted`,
        run: () => ctx.control.setPassword(rotation.database, effect.username, password),
      };
    case 'end-sessions':
      return {
        description: `the remaining sessions of ${effect.username} are ended`,
        run: async () => {
          const count = await terminate(admin, effect.username, own);
          if (effect.always || count > 0) emit({ kind: 'terminated', username: effect.username, count });
        },
      };
    case 'point-apps':
      return {
        description: `apps attached to ${rotation.credential} use ${effect.username} (new releases, restarts)`,
        run: () => pointAttachments(ctx, rotation, effect.username, emit),
        ...(effect.fault ? { fault: effect.fault } : {}),
      };
    case 'keep-admin-password':
      return {
        description: 'pgcred keeps the admin role’s new password beside its master key',
        run: async () => {
          // The admin URL now holds the old password; if the control store is reached
          // through it too, only a copy outside the database lets pgcred back in.
          ctx.control.kept?.set(spec.url, password);
          emit({
            kind: 'notice',
            text:
              `pgcred logs in to ${spec.name} as the default credential: it keeps the new password in its control store ` +
              `(and beside its master key) and uses it from now on. Update the admin URL (pgcred credentials:url ${spec.name} prints it).`,
          });
        },
      };
    case 'forget-password':
      return {
        description: `the password of ${effect.username} is forgotten`,
        run: () => ctx.control.deletePassword(rotation.database, effect.username),
      };
  }
}

/**
 * Does the next steps of a rotation as far as they can be done now; returns what it
 * waits for otherwise. Safe to call again after a crash at any point.
 */
export async function advanceRotation(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  rotation: Rotation,
  emit: (event: RotationEvent) => void = () => undefined,
  /** An admin connection to use (and leave open); by default one is opened for this step. */
  shared?: ClientBase,
): Promise<AdvanceResult> {
  if (shared) return advanceWith(ctx, spec, shared, rotation, emit);
  const admin = await openAdmin(ctx, spec);
  try {
    return await advanceWith(ctx, spec, admin, rotation, emit);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function advanceWith(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  admin: ClientBase,
  rotation: Rotation,
  emit: (event: RotationEvent) => void,
): Promise<AdvanceResult> {
  const own = await ownPids(ctx, admin);
  let current = rotation;
  for (;;) {
    const step = planRotationStep(current, await readFacts(admin, current, own));
    if (!step) return { rotation: current };
    if ('waiting' in step) return { rotation: current, waiting: step.waiting };
    const password = await ctx.control.rotations.newPassword(current);
    const runnable = (effects: readonly RotationEffect[]) =>
      effects.map((effect) => sideEffect(ctx, spec, admin, current, password, own, emit, effect));
    const planned: PlannedChange = {
      plan: step.plan,
      before: runnable(step.before),
      after: runnable(step.after),
    };
    await applyPlanned(admin, planned, {
      label: spec.name,
      progress: ctx.progress,
      password: async () => password,
      audit: { action: step.audit, database: spec.name, subject: current.credential },
      writeAudit: (entry) => ctx.control.audit(entry),
      keepVerifiers: (set) => keepVerifierDigests(ctx.control, current.database, set),
      ...(step.committedFault ? { committedFault: step.committedFault } : {}),
    });
    current = await ctx.control.rotations.setStep(current, step.next);
    if (step.recordedFault) faultPoint(step.recordedFault);
    emit({ kind: 'step', rotation: current, description: step.description });
  }
}

/** Runs a rotation to its end, waiting between steps, reporting what it waits for. */
export async function runRotation(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  rotation: Rotation,
  options: {
    onWait?: (wait: RotationWait) => void;
    emit?: (event: RotationEvent) => void;
    pollMs?: number;
    /** One admin connection for every step (rotating all credentials shares one). */
    admin?: ClientBase;
  } = {},
): Promise<Rotation> {
  let current = rotation;
  for (;;) {
    const result = await advanceRotation(ctx, spec, current, options.emit, options.admin);
    current = result.rotation;
    if (current.step === 'finished') return current;
    if (result.waiting) options.onWait?.(result.waiting);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}

/** Credentials whose rotation policy says they are due, judged by when their password was set. */
export async function dueRotations(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  now = Date.now(),
): Promise<string[]> {
  const source = credentialSource(ctx.config, spec);
  const due: string[] = [];
  for (const credential of source.credentials) {
    const every = credential.rotation?.everyMs;
    if (every === undefined) continue;
    const setAt = await ctx.control.passwordSetAt(source.name, credentialUsername(source, credential.name));
    if (setAt && now - setAt.getTime() >= every && !(await openRotation(ctx, source.name, credential.name))) {
      due.push(credential.name);
    }
  }
  return due;
}
