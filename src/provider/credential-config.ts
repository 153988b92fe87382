import {
  type Access,
  type CredentialSpec,
  DEFAULT_GRACE_MS,
  GRANT_ON,
  type GrantOn,
  type GrantSpec,
  type RotationPolicy,
} from '../model/config';
import { parseDuration } from '../model/duration';
import { PermissionLevel } from '../model/permission-level';
import { credentialProblems } from '../model/validate';
import { type Diagnostic, error, type PathStep } from './diagnostics';
import { isWhollyKnown, type ObjectValue, stringOf, stringsOf, UNKNOWN } from './values';

/**
 * A pgcred_credential's configuration or state, read into the model. Checks are the
 * model's own (credentialProblems), with its attribute paths in the schema's names so
 * Terraform points at the line: the model's `grants[1].privileges[0]` is `grant[1].privileges[0]`.
 */
export function accessOf(value: ObjectValue): Access {
  const grants = Array.isArray(value.grant) ? (value.grant as ObjectValue[]) : [];
  if (grants.length > 0) return { kind: 'grants', grants: grants.map(grantOf) };
  const level = stringOf(value.permission);
  return { kind: 'level', level: PermissionLevel.isName(level) ? level : 'none' };
}

function grantOf(grant: ObjectValue): GrantSpec {
  return {
    privileges: stringsOf(grant.privileges) ?? [],
    on: stringOf(grant.on) as GrantOn,
    objects: stringsOf(grant.objects) ?? [],
  };
}

/** The rotation block's settle time: how long apply's rotation waits on each old username with no connections. */
export function settleOf(value: ObjectValue): number | undefined {
  const rotation = value.rotation as ObjectValue | null;
  const settle = rotation && typeof rotation === 'object' ? stringOf(rotation.settle) : undefined;
  return settle ? parseDuration(settle) : undefined;
}

export function rotationOf(value: ObjectValue): RotationPolicy | undefined {
  const rotation = value.rotation as ObjectValue | null;
  if (!rotation || typeof rotation !== 'object') return undefined;
  const every = stringOf(rotation.every);
  const grace = stringOf(rotation.grace);
  return {
    ...(every ? { everyMs: parseDuration(every) } : {}),
    graceMs: grace ? parseDuration(grace) : DEFAULT_GRACE_MS,
  };
}

/** What `terraform validate` reports: everything that can be told without a database. */
export function validateCredentialConfig(config: ObjectValue): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const permission = config.permission;
  const grants = Array.isArray(config.grant) ? (config.grant as ObjectValue[]) : [];
  if (typeof permission === 'string' && !PermissionLevel.isName(permission)) {
    diagnostics.push(
      error('Invalid permission level', `"${permission}" is not a level: use none, read-only or read-write`, [
        'permission',
      ]),
    );
  }
  if (permission !== null && permission !== undefined && (grants.length > 0 || config.grant === UNKNOWN)) {
    diagnostics.push(
      error(
        'Permission and grants together',
        'a credential has a permission level or custom grant blocks, not both',
        ['permission'],
      ),
    );
  }
  grants.forEach((grant, g) => {
    if (typeof grant.on === 'string' && !(GRANT_ON as readonly string[]).includes(grant.on)) {
      diagnostics.push(
        error('Invalid grant', `on must be one of ${GRANT_ON.join(', ')}`, ['grant', g, 'on']),
      );
    }
  });
  const rotation = config.rotation as ObjectValue | null;
  if (rotation && typeof rotation === 'object') {
    for (const key of ['every', 'grace', 'settle'] as const) {
      const text = rotation[key];
      if (typeof text !== 'string') continue;
      try {
        parseDuration(text);
      } catch (caught) {
        diagnostics.push(error('Invalid duration', (caught as Error).message, ['rotation', key]));
      }
    }
  }

  // The model's rules on the known parts: a placeholder stands in for an unknown name,
  // and grants with unknown parts wait for plan.
  const name = typeof config.name === 'string' ? config.name : 'placeholder';
  const knownGrants = grants
    .map((grant, g) => ({ grant, g }))
    .filter(({ grant }) => isWhollyKnown(grant) && (GRANT_ON as readonly unknown[]).includes(grant.on));
  const access: Access =
    knownGrants.length > 0
      ? { kind: 'grants', grants: knownGrants.map(({ grant }) => grantOf(grant)) }
      : { kind: 'level', level: 'none' };
  const rotationKnown =
    rotation &&
    typeof rotation === 'object' &&
    isWhollyKnown(rotation) &&
    !diagnostics.some((d) => d.summary === 'Invalid duration');
  const credential: CredentialSpec = {
    name,
    access,
    ...(rotationKnown ? { rotation: rotationOf(config) } : {}),
  };
  for (const problem of credentialProblems(credential)) {
    const steps: PathStep[] = [...problem.attribute];
    if (steps[0] === 'name' && typeof config.name !== 'string') continue;
    // The model's grants are the schema's grant blocks, counting known ones only: map them back to the block's index.
    if (steps[0] === 'grants') {
      steps[0] = 'grant';
      steps[1] = knownGrants[steps[1] as number]!.g;
    }
    // "every must be longer than grace": Terraform points at attributes, not at a block.
    if (steps.length === 1 && steps[0] === 'rotation') steps.push('every');
    diagnostics.push(error(summaryOf(steps), problem.message, steps));
  }
  return diagnostics;
}

function summaryOf(steps: readonly PathStep[]): string {
  if (steps[0] === 'name') return 'Invalid credential name';
  if (steps[0] === 'grant') return 'Invalid grant';
  if (steps[0] === 'rotation') return 'Invalid rotation policy';
  return 'Invalid credential';
}
