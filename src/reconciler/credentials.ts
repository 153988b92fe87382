import type { Access, DatabaseSpec } from '../model/config';
import { credentialUsername, rotatingUsername, type UsernameScheme } from '../model/names';
import { PermissionLevel, type PermissionLevelName } from '../model/permission-level';
import type { Plan } from '../model/plan';
import { FOLLOWER_MESSAGE } from '../model/plans';
import {
  attachedRefusal,
  type CredentialFacts,
  createRefusals,
  defaultLevelRefusals,
  destroyRefusals,
  followerRefusal,
  liveCreateRefusals,
  managedCredentialRefusals,
  type Refusal,
} from '../model/refusals';
import { connectAdmin } from '../postgres/connection';
import { liveCredentialRoles, liveUsernameOf } from './credential-roles';
import type { DesiredCredential } from './diff';
import { handOverToDefault, type OwnedObject } from './diff-roles';
import { catalogSql, inspect } from './inspect';
import type { LiveRole, LiveState } from './live-state';
import { parseManagedComment } from './markers';
import {
  type ApplyOptions,
  type ApplyResult,
  applyDatabase,
  credentialSource,
  openAdmin,
  type ReconcileContext,
} from './reconcile';

export { liveCredentialRoles, liveUsernameOf };

export class CredentialError extends Error {
  /** What was refused, as the catalogue holds it (src/model/refusals), when it was a refusal. */
  readonly refusal?: Refusal;

  constructor(message: string | Refusal) {
    super(typeof message === 'string' ? message : message.message);
    this.name = 'CredentialError';
    if (typeof message !== 'string') this.refusal = message;
  }
}

/** Throws the first refusal, if any. */
export function refuse(refusals: readonly Refusal[]): void {
  if (refusals[0]) throw new CredentialError(refusals[0]);
}

/**
 * What the catalogue's checks read of a live database, by credential name: under a
 * username scheme, credential `analyst` is the role `db17_analyst`.
 */
export function credentialFacts(live: LiveState, scheme: UsernameScheme = {}): CredentialFacts {
  const credentials = liveCredentials(live, scheme);
  return {
    inRecovery: live.server.inRecovery,
    credentials,
    role: (name) => {
      const role = live.roles.get(liveUsernameOf(live, scheme, name));
      if (!role) return undefined;
      const mark = parseManagedComment(role.comment);
      return {
        ...(mark ? { managed: { kind: mark.kind, database: mark.database } } : {}),
        adoptable: isAdoptable(role),
      };
    },
  };
}

/**
 * Managed credentials of a database, by credential name, as live roles show them (not
 * counting default): under a username scheme the role `db17_analyst` is credential
 * `analyst`. A managed role the scheme cannot make (made before the scheme) keeps its role name.
 */
export function liveCredentials(live: LiveState, scheme: UsernameScheme = {}): string[] {
  return [...liveCredentialRoles(live, scheme).keys()].sort();
}

/**
 * Why a command cannot act on credential `name` of this database, or undefined when
 * it is one of the database's managed credentials: said before any prompt, and again
 * under the apply lock.
 */
export function credentialRefusal(
  live: LiveState,
  database: string,
  name: string,
  options: { readonly adopt?: boolean } = {},
  scheme: UsernameScheme = {},
): string | undefined {
  // An import asks with adopt: the role becomes a credential, keeping its password.
  return managedCredentialRefusals(database, name, credentialFacts(live, scheme), options)[0]?.message;
}

/** A role pgcred may adopt when asked: not pgcred's, not a superuser, able to log in. */
export function isAdoptable(role: LiveRole): boolean {
  return !parseManagedComment(role.comment) && !role.superuser && role.login;
}

/** Reads the live state of a database, from one snapshot, without changing it. */
export async function inspectDatabase(spec: DatabaseSpec, ctx?: ReconcileContext): Promise<LiveState> {
  const client = ctx ? await openAdmin(ctx, spec) : await connectAdmin(spec.url, spec.name);
  try {
    return await inspect(client, spec.owner ? { owner: spec.owner } : {});
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The checks every credential-changing command makes first, in the seed's words. */
export function refuseUnlessWritable(spec: DatabaseSpec, live: LiveState | undefined): void {
  if (spec.role === 'follower' || live?.server.inRecovery)
    throw new CredentialError(followerRefusal(spec.name));
}

function declaredCredentials(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  except?: string,
): DesiredCredential[] {
  return credentialSource(ctx.config, spec)
    .credentials.filter((c) => c.name !== except)
    .map((c) => ({ name: c.name, access: c.access, ...(c.memberOf ? { memberOf: c.memberOf } : {}) }));
}

/** What can be refused about a new credential before connecting anywhere. */
export function checkCreate(spec: DatabaseSpec, name: string): void {
  refuse(createRefusals(spec, name));
}

/** A level name, or a level or custom grants as the model writes them. */
function accessOf(access: PermissionLevelName | Access): Access {
  return typeof access === 'string' ? { kind: 'level', level: PermissionLevel.of(access).name } : access;
}

/** `credentials:create`: a LOGIN role with CONNECT and the given level (none by default) or grants. */
export async function createCredential(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  name: string,
  level: PermissionLevelName | Access = 'none',
  options: Pick<ApplyOptions, 'verify'> = {},
): Promise<ApplyResult> {
  checkCreate(spec, name);
  return applyDatabase(ctx, spec, {
    ...options,
    credentials: [...declaredCredentials(ctx, spec, name), { name, access: accessOf(level) }],
    scope: new Set([name]),
    check: (live) =>
      liveCreateRefusals(spec, name, credentialFacts(live, credentialSource(ctx.config, spec))).map(
        (r) => r.message,
      ),
  });
}

/** `credentials:permissions`: converge the credential to exactly this level (or these grants). */
export async function setPermissionLevel(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  name: string,
  level: PermissionLevelName | Access,
  /** adopt: a role pgcred does not manage becomes this credential (Terraform's import), its password kept. */
  options: { readonly adopt?: boolean } & Pick<ApplyOptions, 'verify'> = {},
): Promise<ApplyResult> {
  refuseUnlessWritable(spec, undefined);
  const access = accessOf(level);
  refuse(defaultLevelRefusals(name));
  return applyDatabase(ctx, spec, {
    ...(options.verify ? { verify: options.verify } : {}),
    credentials: [...declaredCredentials(ctx, spec, name), { name, access }],
    scope: new Set([name]),
    check: (live) => {
      if (live.server.inRecovery) return [FOLLOWER_MESSAGE];
      const refusal = credentialRefusal(live, spec.name, name, options, credentialSource(ctx.config, spec));
      return refusal ? [refusal] : [];
    },
  });
}

/**
 * `credentials:destroy`: the prune diff scoped to one credential (and its rotating
 * username), built by diff-roles.ts: its privileges are revoked in grouped statements,
 * objects it owns go to the default credential, what is left goes, then the role, in
 * one transaction.
 */
export async function destroyCredential(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  name: string,
  options: Pick<ApplyOptions, 'confirm' | 'verify'> = {},
): Promise<ApplyResult> {
  refuseUnlessWritable(spec, undefined);
  refuse(destroyRefusals(name));
  const sourceSpec = credentialSource(ctx.config, spec);
  const source = sourceSpec.name;
  // The role destroyed, as the check sees it under the lock (a role made before the scheme keeps its name).
  let username = credentialUsername(sourceSpec, name);
  const apps = await attachedAppsOf(ctx, source, name);
  if (apps.length > 0) refuse([attachedRefusal(name, apps)]);
  const result = await applyDatabase(ctx, spec, {
    ...options,
    credentials: declaredCredentials(ctx, spec, name),
    scope: new Set(),
    check: (live, owner) => {
      const facts = credentialFacts(live, sourceSpec);
      if (facts.inRecovery) return [followerRefusal(spec.name).message];
      username = liveUsernameOf(live, sourceSpec, name);
      return [...destroyRefusals(name, owner), ...managedCredentialRefusals(spec.name, name, facts)]
        .slice(0, 1)
        .map((r) => r.message);
    },
    destroy: name,
  });
  if (!result.applied) return result;
  await ctx.control.transaction(async (db) => {
    await ctx.control.forgetCredential(
      source,
      name,
      [username, rotatingUsername(username)],
      'credential destroyed',
      db,
    );
    await ctx.control.audit({ action: 'credentials:destroy', database: spec.name, subject: name }, db);
  });
  return result;
}

export async function attachedAppsOf(
  ctx: ReconcileContext,
  database: string,
  credential: string,
): Promise<string[]> {
  return ctx.control.attachments.appsOf(database, credential);
}

/** What repair-default takes from whom, for the prompt: said before anything changes. */
export interface RepairImpact {
  /** The default credential's username. */
  readonly owner: string;
  /** Every object handed to the default credential, by its owner until now. */
  readonly reassigned: readonly { readonly from: string; readonly objects: readonly string[] }[];
  /** Each role that loses access, and what it loses. */
  readonly losses: readonly { readonly role: string; readonly loses: readonly string[] }[];
}

export function repairImpact(
  plan: Plan,
  objects: readonly OwnedObject[],
  live: LiveState,
  owner: string,
): RepairImpact {
  const byOwner = new Map<string, string[]>();
  for (const object of objects) {
    if (object.owner === owner) continue;
    byOwner.set(object.owner, [...(byOwner.get(object.owner) ?? []), `${object.kind} ${object.identity}`]);
  }
  const reassigned = [...byOwner]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([from, list]) => ({ from, objects: list }));
  const losses = new Map<string, string[]>();
  const add = (role: string, what: string) => losses.set(role, [...(losses.get(role) ?? []), what]);
  for (const { from, objects: list } of reassigned) {
    // A superuser bypasses privilege checks, and pg_database_owner stands for the database's
    // owner, the default credential itself: handing their objects over takes nothing from them.
    if (from === 'pg_database_owner' || live.roles.get(from)?.superuser) continue;
    add(
      from,
      `the ownership of ${list.length} object${list.length === 1 ? '' : 's'}, and every privilege it held as their owner`,
    );
  }
  for (const change of plan.changes) if (change.destructive) add(change.subject, change.description);
  return {
    owner,
    reassigned,
    losses: [...losses].sort(([a], [b]) => a.localeCompare(b)).map(([role, loses]) => ({ role, loses })),
  };
}

/**
 * `credentials:repair-default`: the default credential becomes the owner of every
 * object, gets admin option on every credential, and the factory permissions come
 * back, all in one transaction. `confirm` is asked under the lock with what it
 * takes from whom, from the snapshot it acts on.
 */
export async function repairDefault(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  options: { readonly confirm?: (impact: RepairImpact, plan: Plan) => Promise<boolean> } = {},
): Promise<ApplyResult> {
  refuseUnlessWritable(spec, undefined);
  let objects: OwnedObject[] = [];
  let seen: { live: LiveState; owner: string } | undefined;
  const confirm = options.confirm;
  return applyDatabase(ctx, spec, {
    read: async (client) => {
      objects = (await client.query(catalogSql('foreign_objects'))).rows;
    },
    ...(confirm
      ? { confirm: (plan: Plan) => confirm(repairImpact(plan, objects, seen!.live, seen!.owner), plan) }
      : {}),
    check: (live) => (live.server.inRecovery ? [FOLLOWER_MESSAGE] : []),
    prepare: (live, owner) => {
      seen = { live, owner };
      return handOverToDefault(objects, live, owner, liveCredentials(live));
    },
  });
}
