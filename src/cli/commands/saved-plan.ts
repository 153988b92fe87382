import { existsSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { syncDeclaredAttachments } from '../../attachments/attachments';
import { loadConfigFile } from '../../config/load';
import { loadManifest } from '../../config/manifest';
import type { DatabaseSpec } from '../../model/config';
import { credentialUsername } from '../../model/names';
import type { Plan } from '../../model/plan';
import type { LiveState } from '../../reconciler/live-state';
import {
  applyDatabase,
  credentialSource,
  planDatabaseWithLive,
  type ReconcileContext,
} from '../../reconciler/reconcile';
import type { PlanSurroundings } from '../../reconciler/render';
import {
  type DeclarationSource,
  declarationFingerprint,
  describeMoved,
  type Fingerprint,
  liveFingerprint,
  movedParts,
  readControlFacts,
  readDeclaration,
  readSavedPlan,
  SAVED_PLAN_FORMAT,
  type SavedDatabasePlan,
  type SavedPlanFile,
  savedDatabasePlan,
  savedPlanText,
  staleReason,
  statementDifference,
} from '../../reconciler/saved-plan';
import type { CommandContext } from '../context';
import { runFleet } from '../fleet';
import { UserError } from '../io';
import { restartSuffix } from './attachments';

/**
 * `apply ARG`: a database name has no dot or slash (the schema says so), so an
 * argument with one, or a file that exists, is a saved plan.
 */
export function isPlanFileArgument(ctx: CommandContext, arg: string | undefined): arg is string {
  return arg !== undefined && (/[./]/.test(arg) || existsSync(resolve(ctx.io.cwd, arg)));
}

export function declarationSource(ctx: CommandContext, manifest: string | undefined): DeclarationSource {
  return manifest
    ? { kind: 'manifest', path: resolve(ctx.io.cwd, manifest) }
    : { kind: 'config', path: ctx.configPath };
}

const ATTACHMENTS_PART = 'the attachments';

async function liveOf(
  rc: ReconcileContext,
  spec: DatabaseSpec,
  live: LiveState,
  control = rc.control,
): Promise<Fingerprint> {
  const source = credentialSource(rc.config, spec);
  return liveFingerprint(
    live,
    spec,
    source.credentials.map((c) => credentialUsername(source, c.name)),
    await readControlFacts(control, source.name),
  );
}

/** `plan --out FILE`: the plans with the fingerprints of what they were computed from. */
export async function planAndSave(
  ctx: CommandContext,
  rc: ReconcileContext,
  specs: readonly DatabaseSpec[],
  options: { out: string; manifest?: string; prune?: boolean; parallel: number; perCluster?: number },
): Promise<Plan[]> {
  const source = declarationSource(ctx, options.manifest);
  const raw = readDeclaration(source);
  const prune = options.prune ?? false;
  // The databases are planned side by side, as `plan` does; the file is written only
  // when every one of them was planned, in the file's order.
  const outcomes = await runFleet(ctx, specs, options, async (spec, say) => {
    const { plan, live } = await planDatabaseWithLive({ ...rc, progress: say }, spec, { prune });
    return {
      plan,
      saved: savedDatabasePlan(
        plan,
        declarationFingerprint(raw, spec.name, prune),
        await liveOf(rc, spec, live),
      ),
    };
  });
  const plans = outcomes.flatMap((o) => (o.value ? [o.value.plan] : []));
  const saved = outcomes.flatMap((o) => (o.value ? [o.value.saved] : []));
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (failed.length > 0) {
    ctx.io.stderr(
      `Not writing ${options.out}: ${failed.map((o) => o.spec.name).join(', ')} could not be planned.\n`,
    );
    ctx.setExitStatus(1);
    return plans;
  }
  // A plan apply would refuse is not worth saving: the reviewer would approve an error.
  if (plans.some((plan) => plan.errors.length > 0)) {
    ctx.io.stderr(`Not writing ${options.out}: the plan has errors apply would refuse.\n`);
    return plans;
  }
  const file: SavedPlanFile = {
    format: SAVED_PLAN_FORMAT,
    createdAt: new Date().toISOString(),
    // Relative to the working directory, so a CI job in another checkout finds the same file.
    source: { kind: source.kind, path: relative(ctx.io.cwd, source.path) || '.' },
    prune,
    databases: saved,
  };
  const out = resolve(ctx.io.cwd, options.out);
  writeFileSync(out, savedPlanText(file), { mode: 0o644 });
  ctx.io.stderr(
    `Saved the plan of ${saved.map((s) => s.database).join(', ')} to ${options.out}: apply it with pgcred apply ${options.out}\n`,
  );
  return plans;
}

/**
 * `apply PLAN.json`: never runs SQL from the file. Each database's plan is
 * computed again, first without the lock for all of them (so a stale database
 * stops the run before any other is changed), then under its lock, and applied
 * only when the declaration, the live state and the statements are the saved ones.
 */
export async function applySaved(
  ctx: CommandContext,
  path: string,
  options: { manifest?: string },
  finish: (rc: ReconcileContext, specs: readonly DatabaseSpec[]) => Promise<void>,
): Promise<Plan[]> {
  let file: SavedPlanFile;
  try {
    file = readSavedPlan(resolve(ctx.io.cwd, path));
  } catch (error) {
    throw new UserError((error as Error).message);
  }
  const source: DeclarationSource = options.manifest
    ? { kind: 'manifest', path: resolve(ctx.io.cwd, options.manifest) }
    : { kind: file.source.kind, path: resolve(ctx.io.cwd, file.source.path) };
  if (source.kind !== file.source.kind) {
    throw new UserError(
      `${path} was planned from ${file.source.kind === 'manifest' ? 'the manifest' : 'the config file'} ${file.source.path}; apply it from the same kind of declaration`,
    );
  }
  const config =
    source.kind === 'manifest'
      ? loadManifest(source.path, ctx.io.env).config
      : loadConfigFile(source.path, { env: ctx.io.env });
  ctx.useConfig(config);
  const raw = readDeclaration(source);
  const specs: DatabaseSpec[] = [];
  for (const saved of file.databases) {
    const spec = config.databases.find((db) => db.name === saved.database);
    if (!spec)
      throw new UserError(staleReason(saved.database, `${source.path} no longer declares this database`));
    const moved = movedParts(saved.declaration, declarationFingerprint(raw, spec.name, file.prune));
    if (moved.length > 0) throw new UserError(staleReason(spec.name, describeMoved('declaration', moved)));
    specs.push(spec);
  }
  const rc = await ctx.reconcileContext();
  const refusal = (saved: SavedDatabasePlan, plan: Plan, now: Fingerprint, skip: readonly string[] = []) => {
    const moved = movedParts(saved.live, now).filter((part) => !skip.includes(part));
    if (moved.length > 0) return staleReason(saved.database, describeMoved('live', moved));
    const difference = statementDifference(saved.statements, plan.statements);
    return difference
      ? staleReason(saved.database, `the plan computed now differs: ${difference}`)
      : undefined;
  };
  for (const [i, spec] of specs.entries()) {
    const { plan, live } = await planDatabaseWithLive(rc, spec, { prune: file.prune });
    if (plan.errors.length > 0) throw new UserError(`${spec.name}: ${plan.errors[0]}; nothing was changed`);
    const reason = refusal(file.databases[i]!, plan, await liveOf(rc, spec, live));
    if (reason) throw new UserError(reason);
  }
  // As apply does: attachments no longer declared go before a pruned credential.
  if (rc.config.attachments.length > 0 || rc.config.apps.length > 0) {
    const { detached } = await syncDeclaredAttachments(rc, new Map(), { detachOnly: true });
    for (const a of detached) {
      ctx.io.stderr(
        `Detached ${a.attachment.name} from ⬢ ${a.attachment.app}: ${restartSuffix(a.restart, a.release)}\n`,
      );
    }
  }
  const applied: Plan[] = [];
  for (const [i, spec] of specs.entries()) {
    const saved = file.databases[i]!;
    const result = await applyDatabase(rc, spec, {
      prune: file.prune,
      // Detaching just now moved the attachments on purpose; they were compared above.
      verify: async (plan, live) => {
        const reason = refusal(saved, plan, await liveOf(rc, spec, live), [ATTACHMENTS_PART]);
        if (reason) throw new UserError(reason);
      },
      // The reviewed plan is the approval: destructive changes in it need no --yes.
      confirm: async () => true,
    });
    applied.push(result.plan);
    ctx.io.stderr(
      result.applied
        ? `Applied the saved plan to ${spec.name}: ${result.plan.changes.length} change${result.plan.changes.length === 1 ? '' : 's'} in one transaction.\n`
        : `${spec.name} already matches the declaration; the saved plan had nothing to change.\n`,
    );
  }
  await finish(rc, specs);
  return applied;
}

/** What a summary line adds to a plan: the apps that restart and the rotations in progress. */
export async function surroundingsOf(
  rc: ReconcileContext,
  plans: readonly Plan[],
): Promise<Map<string, PlanSurroundings>> {
  const result = new Map<string, PlanSurroundings>();
  for (const plan of plans) {
    const spec = rc.config.databases.find((db) => db.name === plan.database);
    if (!spec) continue;
    const source = credentialSource(rc.config, spec).name;
    const facts = await readControlFacts(rc.control, source);
    const reset = new Set(
      plan.changes.filter((c) => c.action === 'reset-password' || c.action === 'drop').map((c) => c.subject),
    );
    const restarts = new Set<string>();
    for (const a of facts.attachments) if (reset.has(a.credential as string)) restarts.add(a.app as string);
    for (const a of rc.config.attachments) {
      const held = facts.attachments.some((f) => f.app === a.app && f.credential === a.credential);
      if (a.database === spec.name && !held) restarts.add(a.app);
    }
    result.set(plan.database, {
      restarts: [...restarts].sort(),
      rotating: facts.rotations.map((r) => r.credential as string),
    });
  }
  return result;
}
