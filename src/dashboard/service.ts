/**
 * What the dashboard shows and does, through the services the CLI commands call:
 * the listing, createCredential, setPermissionLevel, destroyCredential, rotations
 * from the journal, attach and detach. Nothing here changes a role by itself.
 */
import { randomBytes } from 'node:crypto';
import { attach, attachmentsOf, detach } from '../attachments/attachments';
import type { AuditRecord } from '../control/audit-log';
import { type Access, type DatabaseSpec, DEFAULT_CREDENTIAL, DEFAULT_GRACE_MS } from '../model/config';
import { formatDuration, parseDuration } from '../model/duration';
import { credentialUsername } from '../model/names';
import type { PermissionLevelName } from '../model/permission-level';
import { hasDrift, type Plan } from '../model/plan';
import { ESSENTIAL_TIER_MESSAGE, FOLLOWER_MESSAGE, planLimits } from '../model/plans';
import { USERNAME_STATE_TEXT, usernamesAt } from '../model/rotation-steps';
import { connectionInfoString, credentialUrl, endpointOf } from '../postgres/connection';
import {
  CredentialError,
  createCredential,
  credentialRefusal,
  destroyCredential,
  inspectDatabase,
  setPermissionLevel,
} from '../reconciler/credentials';
import { findLogin, type ListedCredential, listCredentials } from '../reconciler/listing';
import type { LiveState } from '../reconciler/live-state';
import {
  credentialSource,
  openAdmin,
  PlanRefusedError,
  planDatabase,
  type ReconcileContext,
} from '../reconciler/reconcile';
import {
  type Fingerprint,
  liveFingerprint,
  movedParts,
  readControlFacts,
  statementDifference,
} from '../reconciler/saved-plan';
import { advanceRotation, openRotations, startRotation } from '../rotation/rotate';
import { accessMatrix, levelOf, type Matrix } from './matrix';

/** A refusal the page shows as it is (Heroku's wording where the CLI has it). */
export class DashboardRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DashboardRefusal';
  }
}

export const TERRAFORM_MESSAGE =
  'Terraform owns the roles and grants of this database (executor: terraform): change credentials and their levels in the Terraform configuration, then run cdktf deploy.';

/** One change at a time: the control store is one connection, and its transactions must not interleave. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** A plan the page showed, kept until it is confirmed: the confirmation applies exactly it. */
interface Pending {
  readonly kind: 'level' | 'destroy' | 'rotate';
  readonly database: string;
  readonly credential: string;
  readonly level?: PermissionLevelName;
  readonly force?: boolean;
  readonly graceMs?: number;
  readonly statements: Plan['statements'];
  readonly live?: Fingerprint;
  /** rotate: the credential's state and usernames when the warning was shown. */
  readonly state?: string;
  readonly at: number;
}

export interface Preview {
  readonly id: string;
  readonly plan?: Plan;
  readonly impact: readonly string[];
}

export interface DatabaseSummary {
  readonly spec: DatabaseSpec;
  readonly status: string;
  readonly drifted: boolean;
}

export interface CredentialsPage {
  readonly spec: DatabaseSpec;
  readonly credentials: readonly ListedCredential[];
  readonly matrix: Matrix;
  /** The level each credential holds through its level role, where it has one. */
  readonly levelsLive: ReadonlyMap<string, string>;
  /** Why every action is disabled (a follower), else undefined. */
  readonly disabled?: string;
  /** Why create, level and destroy are refused (executor: terraform). */
  readonly rolesRefused?: string;
  /** Why Create Credential is not offered (Essential tier). */
  readonly createRefused?: string;
  readonly declared: ReadonlyMap<string, string>;
  readonly apps: readonly string[];
  readonly rotating: boolean;
}

export interface RotationStatus {
  readonly credential: string;
  readonly step: string;
  readonly usernames: readonly {
    readonly user: string;
    readonly state: string;
    readonly connections: number;
  }[];
}

const PENDING_TTL_MS = 15 * 60_000;

/** Stops a preview inside applyDatabase, after it has computed and shown the plan, before any change. */
class PreviewOnly extends Error {}

function accessText(access: Access): string {
  return access.kind === 'level' ? access.level : 'custom grants';
}

export class DashboardService {
  private readonly serial = new Serial();
  private readonly pending = new Map<string, Pending>();

  constructor(
    readonly rc: ReconcileContext,
    readonly options: { readonly configPath: string; readonly settleMs?: number } = { configPath: '' },
  ) {}

  get databases(): readonly DatabaseSpec[] {
    return this.rc.config.databases;
  }

  database(name: string): DatabaseSpec {
    const spec = this.databases.find((db) => db.name === name);
    if (!spec) throw new DashboardRefusal(`unknown database ${name}`);
    return spec;
  }

  /** Serializes the work of requests and of the rotation ticker. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.serial.run(work);
  }

  async summaries(): Promise<DatabaseSummary[]> {
    const out: DatabaseSummary[] = [];
    for (const spec of this.databases) {
      if (spec.role === 'follower') {
        out.push({ spec, status: `follower of ${spec.source ?? 'its primary'}`, drifted: false });
        continue;
      }
      try {
        const plan = await planDatabase(this.rc, spec);
        const drifted = hasDrift(plan) || plan.changes.length > 0;
        out.push({
          spec,
          drifted,
          status:
            plan.errors.length > 0
              ? `refused: ${plan.errors[0]}`
              : drifted
                ? `drifted: ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'} pending`
                : 'in sync',
        });
      } catch (error) {
        out.push({ spec, drifted: true, status: `error: ${(error as Error).message}` });
      }
    }
    return out;
  }

  /** One inspection of the database, as `pgcred credentials` makes it. */
  async credentialsPage(spec: DatabaseSpec): Promise<CredentialsPage> {
    const live = await inspectDatabase(spec, this.rc);
    const credentials = await listCredentials(this.rc, spec, live);
    const source = credentialSource(this.rc.config, spec);
    const apps = new Set(this.rc.config.apps.map((a) => a.name));
    for (const name of await this.rc.control.apps.names()) apps.add(name);
    return {
      spec,
      credentials,
      matrix: accessMatrix(live, credentials),
      levelsLive: new Map(
        credentials.flatMap((c): [string, string][] => {
          const level = levelOf(live, c.username);
          return level ? [[c.name, level]] : [];
        }),
      ),
      ...(this.followerRefusal(spec, live) ? { disabled: FOLLOWER_MESSAGE } : {}),
      ...(spec.executor === 'terraform' ? { rolesRefused: TERRAFORM_MESSAGE } : {}),
      ...(planLimits(spec.plan, spec.credentialLimit).defaultOnly
        ? { createRefused: ESSENTIAL_TIER_MESSAGE }
        : {}),
      declared: new Map(source.credentials.map((c) => [c.name, accessText(c.access)])),
      apps: [...apps].sort(),
      rotating: credentials.some((c) => c.usernames),
    };
  }

  private followerRefusal(spec: DatabaseSpec, live?: LiveState): boolean {
    return spec.role === 'follower' || !!live?.server.inRecovery;
  }

  private refuseRoles(spec: DatabaseSpec): void {
    if (spec.role === 'follower') throw new DashboardRefusal(FOLLOWER_MESSAGE);
    if (spec.executor === 'terraform') throw new DashboardRefusal(TERRAFORM_MESSAGE);
  }

  private refuseFollower(spec: DatabaseSpec): void {
    if (spec.role === 'follower') throw new DashboardRefusal(FOLLOWER_MESSAGE);
  }

  private declaredNames(spec: DatabaseSpec): string[] {
    return credentialSource(this.rc.config, spec).credentials.map((c) => c.name);
  }

  private async fingerprint(spec: DatabaseSpec, live: LiveState): Promise<Fingerprint> {
    const source = credentialSource(this.rc.config, spec);
    return liveFingerprint(
      live,
      spec,
      source.credentials.map((c) => credentialUsername(source, c.name)),
      await readControlFacts(this.rc.control, source.name),
    );
  }

  /**
   * Runs the service as the confirmation will, and stops it under the lock once the
   * plan is computed: the page shows the very plan, and nothing changes.
   */
  private async previewOf(
    spec: DatabaseSpec,
    call: (verify: (plan: Plan, live: LiveState) => Promise<void>) => Promise<unknown>,
  ): Promise<{ plan: Plan; live: Fingerprint }> {
    let seen: { plan: Plan; live: Fingerprint } | undefined;
    try {
      await call(async (plan, live) => {
        seen = { plan, live: await this.fingerprint(spec, live) };
        throw new PreviewOnly();
      });
    } catch (error) {
      if (!(error instanceof PreviewOnly)) throw error;
    }
    if (!seen) throw new DashboardRefusal('the plan could not be computed');
    return seen;
  }

  /** The check a confirmation makes under the lock: the plan shown, from the database as it was. */
  private verifier(spec: DatabaseSpec, pending: Pending) {
    return async (plan: Plan, live: LiveState) => {
      const moved = pending.live ? movedParts(pending.live, await this.fingerprint(spec, live)) : [];
      if (moved.length > 0) {
        throw new DashboardRefusal(
          `${spec.name} changed since the page showed this plan (${moved.slice(0, 3).join(', ')}); nothing was changed. Review the plan again.`,
        );
      }
      const difference = statementDifference(pending.statements, plan.statements);
      if (difference) {
        throw new DashboardRefusal(
          `The plan is no longer the one the page showed: ${difference}; nothing was changed. Review the plan again.`,
        );
      }
    };
  }

  private remember(pending: Omit<Pending, 'at'>): string {
    const now = Date.now();
    for (const [id, p] of this.pending) if (now - p.at > PENDING_TTL_MS) this.pending.delete(id);
    const id = randomBytes(18).toString('base64url');
    this.pending.set(id, { ...pending, at: now });
    return id;
  }

  private take(id: string, kind: Pending['kind'], database: string, credential: string): Pending {
    const pending = this.pending.get(id);
    if (
      !pending ||
      pending.kind !== kind ||
      pending.database !== database ||
      pending.credential !== credential
    )
      throw new DashboardRefusal('This confirmation has expired or was already used; review the plan again.');
    this.pending.delete(id);
    return pending;
  }

  // -------------------------------------------------------------------------
  // Actions

  async create(spec: DatabaseSpec, name: string, level: PermissionLevelName): Promise<string[]> {
    this.refuseRoles(spec);
    await createCredential(this.rc, spec, name, level);
    const notes = [`Created credential ${name} with permission level ${level}.`];
    if (!this.declaredNames(spec).includes(name))
      notes.push(
        `${name} is not declared in ${this.options.configPath}: pgcred apply reports it as undeclared, and apply --prune would destroy it.`,
      );
    return notes;
  }

  async previewLevel(spec: DatabaseSpec, name: string, level: PermissionLevelName): Promise<Preview> {
    this.refuseRoles(spec);
    if (name === DEFAULT_CREDENTIAL)
      throw new DashboardRefusal('the default credential owns the database; its access has no level');
    const { plan, live } = await this.previewOf(spec, (verify) =>
      setPermissionLevel(this.rc, spec, name, level, { verify }),
    );
    const id = this.remember({
      kind: 'level',
      database: spec.name,
      credential: name,
      level,
      statements: plan.statements,
      live,
    });
    return { id, plan, impact: this.levelNotes(spec, name, level) };
  }

  private levelNotes(spec: DatabaseSpec, name: string, level: PermissionLevelName): string[] {
    const declared = credentialSource(this.rc.config, spec).credentials.find((c) => c.name === name);
    if (declared && !(declared.access.kind === 'level' && declared.access.level === level))
      return [
        `${name} is declared differently in ${this.options.configPath}: the next apply puts that back.`,
      ];
    return [];
  }

  async confirmLevel(spec: DatabaseSpec, name: string, id: string): Promise<string[]> {
    this.refuseRoles(spec);
    const pending = this.take(id, 'level', spec.name, name);
    const result = await setPermissionLevel(this.rc, spec, name, pending.level!, {
      verify: this.verifier(spec, pending),
    });
    return [
      result.applied
        ? `Set ${name} on ${spec.name} to ${pending.level}: ${result.plan.changes.length} change${result.plan.changes.length === 1 ? '' : 's'}.`
        : `${name} already has level ${pending.level}: no change.`,
      ...this.levelNotes(spec, name, pending.level!),
    ];
  }

  async previewDestroy(spec: DatabaseSpec, name: string): Promise<Preview> {
    this.refuseRoles(spec);
    const { plan, live } = await this.previewOf(spec, (verify) =>
      destroyCredential(this.rc, spec, name, { verify }),
    );
    const id = this.remember({
      kind: 'destroy',
      database: spec.name,
      credential: name,
      statements: plan.statements,
      live,
    });
    return {
      id,
      plan,
      impact: [
        `The credential ${name} will be destroyed within ${spec.name}.`,
        'Objects it owns will be assigned to the default credential.',
      ],
    };
  }

  async confirmDestroy(spec: DatabaseSpec, name: string, id: string, typed: string): Promise<string[]> {
    this.refuseRoles(spec);
    if (typed !== spec.name)
      throw new DashboardRefusal(`Confirmation ${typed} did not match ${spec.name}. Aborted.`);
    const pending = this.take(id, 'destroy', spec.name, name);
    await destroyCredential(this.rc, spec, name, { verify: this.verifier(spec, pending) });
    const notes = [
      `The credential has been destroyed within ${spec.name}.`,
      `Database objects owned by ${name} will be assigned to the default credential.`,
    ];
    if (this.declaredNames(spec).includes(name))
      notes.push(`${name} is still declared in ${this.options.configPath}: the next apply creates it again.`);
    return notes;
  }

  /** The warning `credentials:rotate` prints, for the page to show before Confirm. */
  async previewRotate(spec: DatabaseSpec, name: string, force: boolean, grace?: string): Promise<Preview> {
    this.refuseFollower(spec);
    let graceMs: number | undefined;
    if (grace) {
      try {
        graceMs = parseDuration(grace);
      } catch (error) {
        throw new DashboardRefusal(`grace: ${(error as Error).message}`);
      }
    }
    const live = await inspectDatabase(spec, this.rc);
    if (live.server.inRecovery) throw new DashboardRefusal(FOLLOWER_MESSAGE);
    const source = credentialSource(this.rc.config, spec);
    const refusal =
      name === DEFAULT_CREDENTIAL ? undefined : credentialRefusal(live, spec.name, name, {}, source);
    if (refusal) throw new DashboardRefusal(refusal);
    const entry = (await listCredentials(this.rc, spec, live)).find((c) => c.name === name);
    const apps = [
      ...new Set(
        (await attachmentsOf(this.rc.control, { database: source.name }))
          .filter((a) => a.credential === name)
          .map((a) => a.app),
      ),
    ].sort();
    const policyGrace = source.credentials.find((c) => c.name === name)?.rotation?.graceMs;
    const shownGrace = graceMs ?? policyGrace ?? DEFAULT_GRACE_MS;
    const impact = [
      `The password for the ${name} credential will rotate.`,
      name !== DEFAULT_CREDENTIAL && !force
        ? `Connections older than ${formatDuration(shownGrace)} will be reset, and a temporary rotation username will be used during the process.`
        : 'Connections will be reset and applications will be restarted.',
      ...(apps.length > 0
        ? [
            `This command will affect the app${apps.length > 1 ? 's' : ''} ${apps.map((a) => `⬢ ${a}`).join(', ')}.`,
          ]
        : []),
    ];
    const id = this.remember({
      kind: 'rotate',
      database: spec.name,
      credential: name,
      force,
      ...(graceMs !== undefined ? { graceMs } : {}),
      statements: [],
      state: JSON.stringify(entry ?? null),
    });
    return { id, impact };
  }

  /**
   * Starts the rotation in the journal; the server's ticker (or `pgcred reconcile`,
   * if the server stops) advances it, never this request.
   */
  async confirmRotate(spec: DatabaseSpec, name: string, id: string): Promise<string[]> {
    this.refuseFollower(spec);
    const pending = this.take(id, 'rotate', spec.name, name);
    const live = await inspectDatabase(spec, this.rc);
    const entry = (await listCredentials(this.rc, spec, live)).find((c) => c.name === name);
    if (JSON.stringify(entry ?? null) !== pending.state)
      throw new DashboardRefusal(
        `${name} changed since the page showed this warning; nothing was changed. Review it again.`,
      );
    const { resumed } = await startRotation(this.rc, spec, name, {
      force: pending.force === true,
      live,
      ...(pending.graceMs !== undefined ? { graceMs: pending.graceMs } : {}),
      ...(this.options.settleMs !== undefined ? { settleMs: this.options.settleMs } : {}),
    });
    return [
      resumed
        ? `A rotation of ${name} was already under way; it continues.`
        : `Rotating ${name} on ⛁ ${spec.name}... started. The dashboard advances it; pgcred reconcile takes over if the dashboard stops.`,
    ];
  }

  async attach(spec: DatabaseSpec, credential: string, app: string, as?: string): Promise<string[]> {
    this.refuseFollower(spec);
    const result = await attach(this.rc, { spec, credential, app, ...(as ? { as } : {}) });
    return [
      `Attaching ${credential} of ⛁ ${spec.name} to ⬢ ${app}... done`,
      `Setting ${result.attachment.name} config vars and restarting ⬢ ${app}... done, v${result.release}${result.restart.status === 'failed' ? ` (restart failed: ${result.restart.reason}; pgcred reconcile retries it)` : ''}`,
    ];
  }

  async detach(spec: DatabaseSpec, app: string, name: string): Promise<string[]> {
    this.refuseFollower(spec);
    const source = credentialSource(this.rc.config, spec).name;
    const held = (await attachmentsOf(this.rc.control, { app, database: source })).find(
      (a) => a.name === name,
    );
    if (!held) throw new DashboardRefusal(`⬢ ${app} has no attachment named ${name} to ⛁ ${spec.name}`);
    const result = await detach(this.rc, app, name);
    return [
      `Detaching ${name} from ⛁ ${spec.name} from ⬢ ${app}... done`,
      `Unsetting ${name} config vars and restarting ⬢ ${app}... done, v${result.release}`,
    ];
  }

  /** Connection info, shown after "Show" (a POST) and recorded in the audit log. */
  async reveal(spec: DatabaseSpec, name: string): Promise<{ info: string; url: string; user: string }> {
    const login = await findLogin(this.rc, spec, name);
    if (!login.found)
      throw new DashboardRefusal(
        login.reason === 'password unknown'
          ? `pgcred does not know the password of ${name}: hand it over with pgcred credentials:password ${spec.name} --name ${name}, or rotate it`
          : `Could not find any active credentials for ${name}`,
      );
    await this.rc.control.audit({
      action: 'credentials:url',
      database: spec.name,
      subject: name,
      detail: { via: 'dashboard', user: login.user },
    });
    const endpoint = endpointOf(spec.url);
    return {
      user: login.user,
      info: connectionInfoString(endpoint, login.user, login.password),
      url: credentialUrl(endpoint, login.user, login.password),
    };
  }

  async plan(spec: DatabaseSpec): Promise<Plan> {
    return planDatabase(this.rc, spec);
  }

  async audit(spec: DatabaseSpec, limit = 200): Promise<AuditRecord[]> {
    return this.rc.control.auditLog({ limit, database: spec.name });
  }

  /**
   * The live rotation view: the journal's step and a fresh count of connections per
   * username (a statement of its own, so pg_stat_activity is not a stale snapshot).
   * It never logs in as the credential, and does not inspect the whole database.
   */
  async rotationStatus(spec: DatabaseSpec): Promise<RotationStatus[]> {
    const source = credentialSource(this.rc.config, spec).name;
    const rows = (await this.rc.control.rotations.openAll(source)).sort((a, b) =>
      a.credential < b.credential ? -1 : a.credential > b.credential ? 1 : 0,
    );
    if (rows.length === 0) return [];
    const shapes = rows.map((r) => ({
      credential: r.credential,
      step: r.step,
      usernames: usernamesAt(r.username, r.step, r.force),
    }));
    const users = shapes.flatMap((s) => s.usernames.map((u) => u.user));
    const admin = await openAdmin(this.rc, spec);
    let counts: Map<string, number>;
    try {
      const { rows: activity } = await admin.query(
        'SELECT usename, count(*)::int AS n FROM pg_stat_activity WHERE usename = ANY($1) AND pid <> pg_backend_pid() GROUP BY usename',
        [users],
      );
      counts = new Map(activity.map((a) => [a.usename as string, a.n as number]));
    } finally {
      await admin.end().catch(() => undefined);
    }
    return shapes.map((s) => ({
      credential: s.credential,
      step: s.step,
      usernames: s.usernames.map((u) => ({
        user: u.user,
        state: USERNAME_STATE_TEXT[u.state],
        connections: counts.get(u.user) ?? 0,
      })),
    }));
  }

  /** One pass of what `pgcred reconcile` does for rotations: advance each from the journal. */
  async advanceRotations(): Promise<void> {
    for (const spec of this.databases) {
      if (spec.role === 'follower') continue;
      for (const rotation of await openRotations(this.rc, spec.name)) {
        try {
          await advanceRotation(this.rc, spec, rotation);
        } catch (error) {
          this.rc.progress(
            `${spec.name}: the rotation of ${rotation.credential}: ${(error as Error).message}`,
          );
        }
      }
    }
  }
}

/** The message a refusal shows: the services' own words. */
export function refusalMessage(error: unknown): string | undefined {
  if (error instanceof DashboardRefusal || error instanceof CredentialError) return error.message;
  if (error instanceof PlanRefusedError) return error.reasons.join(' ');
  if ((error as Error)?.name === 'AttachmentError' || (error as Error)?.name === 'UserError')
    return (error as Error).message;
  return undefined;
}
