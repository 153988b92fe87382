import type { Access, DatabaseSpec } from '../model/config';
import { credentialUsername } from '../model/names';
import { PermissionLevel, type PermissionLevelName } from '../model/permission-level';
import type { Change, Plan } from '../model/plan';
import { usernamesAt } from '../model/rotation-steps';
import { isAdoptable, liveCredentials, liveUsernameOf } from '../reconciler/credentials';
import { planDatabase } from '../reconciler/reconcile';
import { openRotations } from '../rotation/rotate';
import { driftOf } from './drift-words';
import type { ProviderSession } from './session';

/** What a refresh learns of one credential. */
export interface CredentialStatus {
  readonly exists: boolean;
  /** The username apps should use now. */
  readonly username: string;
  readonly state: string;
  /** When the live privileges are exactly another level's (set by hand with credentials:permissions). */
  readonly level?: PermissionLevelName;
  /** What is wrong in the live database, one line per change apply would make; empty when in sync. */
  readonly drift: readonly string[];
  /** The same changes as the plan words them: what apply does to repair the drift. */
  readonly repairs: readonly string[];
}

interface Waiting {
  readonly name: string;
  readonly access: Access;
  readonly resolve: (status: CredentialStatus) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Reads credentials the way drift does: the reconciler's plan for just these
 * credentials (inspect, then the pure diff, scoped), so a refresh reports exactly
 * what apply would repair. Terraform refreshes up to ten resources at once; the
 * requests that arrive while one read runs share the next, and every batch plans from
 * the session's one reading of the database, so a database costs one inspection per
 * run, whatever the number of its credentials.
 */
export class CredentialStatusReader {
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly running = new Set<string>();

  constructor(private readonly session: ProviderSession) {}

  read(spec: DatabaseSpec, name: string, access: Access): Promise<CredentialStatus> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(spec.name) ?? [];
      list.push({ name, access, resolve, reject });
      this.waiting.set(spec.name, list);
      if (!this.running.has(spec.name)) setImmediate(() => void this.flush(spec));
    });
  }

  private async flush(spec: DatabaseSpec): Promise<void> {
    const batch = this.waiting.get(spec.name) ?? [];
    if (batch.length === 0 || this.running.has(spec.name)) return;
    this.waiting.delete(spec.name);
    this.running.add(spec.name);
    try {
      const statuses = await this.readBatch(spec, batch);
      for (const item of batch) item.resolve(statuses.get(item.name)!);
    } catch (error) {
      for (const item of batch) item.reject(error);
    } finally {
      this.running.delete(spec.name);
      if (this.waiting.has(spec.name)) void this.flush(spec);
    }
  }

  private async readBatch(
    spec: DatabaseSpec,
    batch: readonly Waiting[],
  ): Promise<Map<string, CredentialStatus>> {
    const ctx = await this.session.context();
    const accesses = new Map(batch.map((item) => [item.name, item.access]));
    const names = new Set(accesses.keys());
    // Which credentials exist: the live state this process already read (refreshes
    // come before any change); rotations under way: the journal.
    // A role pgcred does not manage is there too once imported: its first apply adopts it.
    const reading = await this.session.reading(spec, [...accesses.values()]);
    const live = reading.live;
    const existing = new Set([
      ...liveCredentials(live, spec),
      ...batch
        .map((item) => item.name)
        .filter((name) => {
          const role = live.roles.get(credentialUsername(spec, name));
          return role !== undefined && isAdoptable(role);
        }),
    ]);
    const rotations = new Map((await openRotations(ctx, spec.name)).map((r) => [r.credential, r]));
    const plan = await planDatabase(ctx, spec, {
      credentials: [...accesses].map(([name, access]) => ({ name, access })),
      scope: names,
      reading,
    });

    // A level credential whose privileges drifted may hold exactly another level:
    // then the refresh reports that level, and the plan shows the level change.
    const matched = new Map<string, PermissionLevelName>();
    const drifted = [...accesses].filter(
      ([name, access]) => access.kind === 'level' && ownChanges(plan, name).some(isPrivilegeChange),
    );
    for (const level of PermissionLevel.NAMES) {
      const candidates = drifted.filter(
        ([name, access]) => access.kind === 'level' && access.level !== level && !matched.has(name),
      );
      if (candidates.length === 0) continue;
      const alternative = await planDatabase(ctx, spec, {
        credentials: candidates.map(([name]) => ({ name, access: { kind: 'level', level } })),
        scope: new Set(candidates.map(([name]) => name)),
        reading,
      });
      for (const [name] of candidates) {
        // Its own changes only: a level role's drift is every member's, whatever their level.
        if (!ownChanges(alternative, name).some(isPrivilegeChange)) matched.set(name, level);
      }
    }

    const statuses = new Map<string, CredentialStatus>();
    for (const name of names) {
      if (!existing.has(name)) {
        statuses.set(name, { exists: false, username: name, state: 'gone', drift: [], repairs: [] });
        continue;
      }
      const level = matched.get(name);
      const changes = changesOf(plan, name, accesses.get(name)!).filter(
        (c) => !level || !isPrivilegeChange(c),
      );
      const rotation = rotations.get(name);
      const username = liveUsernameOf(live, spec, name);
      statuses.set(name, {
        exists: true,
        username: rotation
          ? usernamesAt(username, rotation.step, rotation.force).find((u) => u.state === 'active')!.user
          : username,
        state: rotation ? 'rotating' : 'active',
        ...(level ? { level } : {}),
        drift: changes.map((c) => driftOf(c, accesses.get(name)!)),
        repairs: changes.map((c) => c.description),
      });
    }
    return statuses;
  }
}

/** The changes to the credential's own role and grants, its membership in a level role included. */
function ownChanges(plan: Plan, name: string): Change[] {
  return plan.changes.filter((c) => c.subject === name);
}

/**
 * The plan's changes about one credential: its own, the default credential's admin
 * option on it, and those of its level's level role, which hold its level's privileges.
 */
function changesOf(plan: Plan, name: string, access: Access): Change[] {
  const level = access.kind === 'level' ? `level ${access.level}` : undefined;
  return plan.changes.filter(
    (c) =>
      c.subject === name ||
      (c.subject === 'default' && c.target === `role ${name}`) ||
      (level !== undefined && c.subject === level && c.action !== 'create'),
  );
}

/** A change of what the credential may do: a privilege, or its membership in a level role. */
function isPrivilegeChange(change: Change): boolean {
  return (
    change.action === 'grant' ||
    change.action === 'revoke' ||
    ((change.action === 'grant-membership' || change.action === 'revoke-membership') &&
      change.target.startsWith('role pgcred:'))
  );
}
