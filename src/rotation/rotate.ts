import type { ClientBase } from 'pg';
import { rememberAdminPassword, resolveCredential } from '../attachments/attachments';
import { deliver, type RestartOutcome, recordRelease } from '../attachments/config-vars';
import { faultPoint } from '../faults';
import { type DatabaseSpec, DEFAULT_CREDENTIAL, DEFAULT_GRACE_MS } from '../model/config';
import { quoteIdent, quoteLiteral } from '../model/identifiers';
import { rotatingUsername } from '../model/names';
import { generatePassword } from '../model/password';
import { FOLLOWER_MESSAGE } from '../model/plans';
import { CredentialError, credentialRefusal, inspectDatabase } from '../reconciler/credentials';
import type { LiveState } from '../reconciler/live-state';
import { managedComment } from '../reconciler/markers';
import { credentialSource, openAdmin, type ReconcileContext } from '../reconciler/reconcile';
import { scramVerifier } from '../reconciler/scram';
import type { RotationStep } from './steps';

/**
 * Zero-downtime rotation (SPEC §4), as a journal of steps in the control store.
 * Every step is written down before its work is done and every step's work can be
 * done again, so `pgcred reconcile` finishes a rotation killed at any point.
 */
export interface Rotation {
  readonly id: number;
  /** The database whose credentials these are (a follower's are its primary's). */
  readonly database: string;
  readonly credential: string;
  /** The role: the credential's name, or the owner for `default`. */
  readonly username: string;
  readonly step: RotationStep;
  readonly force: boolean;
  readonly graceMs: number;
  /** How long an old username must have had no connections (see settleMs); undefined: the default. */
  readonly settleMs?: number;
  readonly stepAt: Date;
  readonly startedAt: Date;
}

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

function fromRow(row: Record<string, unknown>): Rotation {
  return {
    id: Number(row.id),
    database: row.database as string,
    credential: row.credential as string,
    username: row.username as string,
    step: row.step as RotationStep,
    force: row.force as boolean,
    graceMs: Number(row.grace_ms),
    ...(row.settle_ms === null || row.settle_ms === undefined ? {} : { settleMs: Number(row.settle_ms) }),
    stepAt: row.step_at as Date,
    startedAt: row.started_at as Date,
  };
}

export async function openRotation(
  ctx: ReconcileContext,
  database: string,
  credential: string,
): Promise<Rotation | undefined> {
  const { rows } = await ctx.control.client.query(
    'SELECT * FROM pgcred.rotations WHERE database = $1 AND credential = $2 AND finished_at IS NULL',
    [database, credential],
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function openRotations(ctx: ReconcileContext, database?: string): Promise<Rotation[]> {
  const { rows } = await ctx.control.client.query(
    'SELECT * FROM pgcred.rotations WHERE finished_at IS NULL AND ($1::text IS NULL OR database = $1) ORDER BY id',
    [database ?? null],
  );
  return rows.map(fromRow);
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
    credential === DEFAULT_CREDENTIAL ? undefined : credentialRefusal(live, spec.name, credential);
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
  const { rows } = await ctx.control.client.query(
    `INSERT INTO pgcred.rotations (database, credential, username, step, force, grace_ms, new_password, settle_ms)
     VALUES ($1, $2, $3, 'journaled', $4, $5, $6, $7)
     ON CONFLICT (database, credential) WHERE finished_at IS NULL DO NOTHING
     RETURNING *`,
    [
      source.name,
      credential,
      username,
      force,
      graceMs,
      ctx.control.key.encrypt(generatePassword(), `${source.name}/rotation/${credential}`),
      options.settleMs ?? null,
    ],
  );
  if (!rows[0]) {
    const raced = await openRotation(ctx, source.name, credential);
    return { rotation: raced!, resumed: true };
  }
  const rotation = fromRow(rows[0]);
  faultPoint('rotation:journaled');
  await ctx.control.audit({
    action: 'rotation:start',
    database: spec.name,
    subject: credential,
    detail: { force, graceMs },
  });
  return { rotation, resumed: false };
}

async function newPassword(ctx: ReconcileContext, rotation: Rotation): Promise<string> {
  const { rows } = await ctx.control.client.query('SELECT new_password FROM pgcred.rotations WHERE id = $1', [
    rotation.id,
  ]);
  return ctx.control.key.decrypt(
    rows[0].new_password,
    `${rotation.database}/rotation/${rotation.credential}`,
  );
}

async function setStep(
  ctx: ReconcileContext,
  rotation: Rotation,
  step: RotationStep,
  note?: string,
): Promise<Rotation> {
  const { rows } = await ctx.control.client.query(
    `UPDATE pgcred.rotations SET step = $2, step_at = now(), note = coalesce($3, note),
            finished_at = CASE WHEN $2 = 'finished' THEN now() END
      WHERE id = $1 RETURNING *`,
    [rotation.id, step, note ?? null],
  );
  return fromRow(rows[0]);
}

/**
 * pgcred's own sessions are never counted or ended: its admin connection, and its
 * control store's when that store lives in the same database under the same user
 * (the admin logging in as the default credential).
 */
async function ownPids(ctx: ReconcileContext, admin: ClientBase): Promise<number[]> {
  const pids = [(await admin.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number];
  pids.push((await ctx.control.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number);
  return pids;
}

async function connectionsOf(admin: ClientBase, username: string, own: readonly number[]): Promise<number> {
  const { rows } = await admin.query(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND pid <> ALL($2::int[])',
    [username, own],
  );
  return rows[0].n;
}

/**
 * What a step waits for: the old username's connections, until it has had none for
 * the settle time, or until the grace is over (then what is left is terminated).
 */
async function stillInUse(
  admin: ClientBase,
  rotation: Rotation,
  username: string,
  waited: number,
  own: readonly number[],
): Promise<RotationWait | undefined> {
  if (waited >= rotation.graceMs) return undefined;
  const connections = await connectionsOf(admin, username, own);
  if (connections === 0 && waited >= settleMs(rotation.graceMs, rotation.settleMs)) return undefined;
  return {
    credential: rotation.credential,
    waitingFor: username,
    connections,
    remainingMs: rotation.graceMs - waited,
  };
}

async function terminate(admin: ClientBase, username: string, own: readonly number[]): Promise<number> {
  const { rows } = await admin.query(
    'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE usename = $1 AND pid <> ALL($2::int[])',
    [username, own],
  );
  return rows[0].n;
}

async function setRolePassword(admin: ClientBase, username: string, password: string): Promise<void> {
  await admin.query(`ALTER ROLE ${quoteIdent(username)} PASSWORD ${quoteLiteral(scramVerifier(password))}`);
}

/** Points every attachment of the credential at `username`, records releases and restarts the apps. */
async function pointAttachments(
  ctx: ReconcileContext,
  rotation: Rotation,
  username: string,
  emit: (event: RotationEvent) => void,
): Promise<void> {
  const apps = await ctx.control.transaction(async (db) => {
    const { rows } = await db.query(
      'UPDATE pgcred.attachments SET username = $3 WHERE database = $1 AND credential = $2 RETURNING app',
      [rotation.database, rotation.credential, username],
    );
    const names = [...new Set(rows.map((row) => row.app as string))].sort();
    for (const app of names) {
      await recordRelease(ctx.control, db, app, `Rotate ${rotation.credential}: use ${username}`);
    }
    return names;
  });
  for (const app of apps) {
    const outcome = await deliver(ctx.control, app);
    const { rows } = await ctx.control.client.query('SELECT release FROM pgcred.apps WHERE name = $1', [app]);
    emit({ kind: 'restart', app, release: rows[0].release, outcome });
  }
}

/**
 * Does the next step of a rotation if it can be done now; returns what it waits
 * for otherwise. Safe to call again after a crash at any point.
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
  const { username } = rotation;
  const temp = rotatingUsername(username);
  const password = await newPassword(ctx, rotation);
  const database = (await admin.query('SELECT current_database() AS db')).rows[0].db as string;
  const isAdmin = (await admin.query('SELECT current_user AS u')).rows[0].u === username;
  const now = Date.now();
  const waited = now - rotation.stepAt.getTime();
  const own = await ownPids(ctx, admin);

  switch (rotation.step) {
    case 'journaled': {
      if (rotation.force) {
        await ctx.control.setPassword(rotation.database, username, password);
        await setRolePassword(admin, username, password);
        const count = await terminate(admin, username, own);
        emit({ kind: 'terminated', username, count });
        if (isAdmin) {
          // The admin URL now holds the old password; if the control store is reached
          // through it too, only a copy outside the database lets pgcred back in.
          ctx.control.kept?.set(spec.url, password);
          emit({
            kind: 'notice',
            text:
              `pgcred logs in to ${spec.name} as the default credential: it keeps the new password in its control store ` +
              `(and beside its master key) and uses it from now on. Update the admin URL (pgcred credentials:url ${spec.name} prints it).`,
          });
        }
        await pointAttachments(ctx, rotation, username, emit);
        const done = await setStep(ctx, rotation, 'finished');
        emit({ kind: 'step', rotation: done, description: `${username} has its new password` });
        return { rotation: done };
      }
      // Step 2: the temporary username, a member of the credential that acts as it
      // (SET role), so anything it creates is owned by the credential.
      await ctx.control.setPassword(rotation.database, temp, password);
      const exists = (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [temp])).rowCount! > 0;
      await admin.query('BEGIN');
      try {
        if (exists) await setRolePassword(admin, temp, password);
        else {
          await admin.query(
            `CREATE ROLE ${quoteIdent(temp)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT ` +
              `PASSWORD ${quoteLiteral(scramVerifier(password))}`,
          );
        }
        await admin.query(
          `COMMENT ON ROLE ${quoteIdent(temp)} IS ${quoteLiteral(managedComment('rotating username', database))}`,
        );
        await admin.query(`GRANT ${quoteIdent(username)} TO ${quoteIdent(temp)}`);
        await admin.query(`ALTER ROLE ${quoteIdent(temp)} SET role = ${quoteIdent(username)}`);
        await admin.query('COMMIT');
        faultPoint('rotation:rotating-role-created');
      } catch (error) {
        await admin.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      await pointAttachments(ctx, rotation, temp, emit);
      faultPoint('rotation:apps-on-rotating');
      const next = await setStep(ctx, rotation, 'rotating-username');
      faultPoint('rotation:rotating-username');
      emit({ kind: 'step', rotation: next, description: `${temp} is active; apps use it` });
      return advanceWith(ctx, spec, admin, next, emit);
    }
    case 'rotating-username': {
      // Step 3: once the old sessions are gone (or the grace is up), the credential
      // gets the new password and the apps move back to it.
      const waiting = await stillInUse(admin, rotation, username, waited, own);
      if (waiting) return { rotation, waiting };
      await ctx.control.setPassword(rotation.database, username, password);
      await setRolePassword(admin, username, password);
      faultPoint('rotation:password-set-on-role');
      const count = await terminate(admin, username, own);
      if (count > 0) emit({ kind: 'terminated', username, count });
      await pointAttachments(ctx, rotation, username, emit);
      faultPoint('rotation:apps-back');
      const next = await setStep(ctx, rotation, 'password-set');
      faultPoint('rotation:password-set');
      emit({
        kind: 'step',
        rotation: next,
        description: `${username} has its new password; apps use it again`,
      });
      return advanceWith(ctx, spec, admin, next, emit);
    }
    case 'password-set': {
      // Step 4: the temporary username goes once nobody uses it.
      const waiting = await stillInUse(admin, rotation, temp, waited, own);
      if (waiting) return { rotation, waiting };
      const count = await terminate(admin, temp, own);
      if (count > 0) emit({ kind: 'terminated', username: temp, count });
      if ((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [temp])).rowCount! > 0) {
        await admin.query('BEGIN');
        try {
          // REASSIGN and DROP OWNED need the privileges of both roles: a CREATEROLE admin
          // that is not a superuser takes them for this transaction (ADMIN OPTION lets it).
          const { rows } = await admin.query(
            `SELECT r.rolname AS role FROM pg_roles r, pg_roles me
              WHERE me.rolname = current_user AND NOT me.rolsuper AND r.rolname = ANY($1)
                AND NOT pg_has_role(current_user, r.oid, 'USAGE')`,
            [[temp, username]],
          );
          const borrowed = rows.map((row) => row.role as string);
          for (const role of borrowed) await admin.query(`GRANT ${quoteIdent(role)} TO CURRENT_USER`);
          await admin.query(`REASSIGN OWNED BY ${quoteIdent(temp)} TO ${quoteIdent(username)}`);
          await admin.query(`DROP OWNED BY ${quoteIdent(temp)}`);
          await admin.query(`DROP ROLE ${quoteIdent(temp)}`);
          if (borrowed.includes(username))
            await admin.query(`REVOKE ${quoteIdent(username)} FROM CURRENT_USER`);
          await admin.query('COMMIT');
          faultPoint('rotation:rotating-dropped');
        } catch (error) {
          await admin.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }
      await ctx.control.deletePassword(rotation.database, temp);
      const done = await setStep(ctx, rotation, 'finished');
      faultPoint('rotation:finished');
      await ctx.control.audit({
        action: 'rotation:finish',
        database: spec.name,
        subject: rotation.credential,
      });
      emit({ kind: 'step', rotation: done, description: `${temp} is gone` });
      return { rotation: done };
    }
    case 'finished':
      return { rotation };
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
    const setAt = await ctx.control.passwordSetAt(source.name, credential.name);
    if (setAt && now - setAt.getTime() >= every && !(await openRotation(ctx, source.name, credential.name))) {
      due.push(credential.name);
    }
  }
  return due;
}
