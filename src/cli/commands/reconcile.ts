import type { Command } from 'commander';
import { syncDeclaredAttachments } from '../../attachments/attachments';
import { deliver, pendingApps, syncDeclaredApps } from '../../attachments/config-vars';
import { inspectDatabase } from '../../reconciler/credentials';
import type { LiveState } from '../../reconciler/live-state';
import { applyDatabase } from '../../reconciler/reconcile';
import { advanceRotation, dueRotations, openRotations, startRotation } from '../../rotation/rotate';
import type { CommandContext } from '../context';
import { addFleetOptions, type FleetSelection, runFleet } from '../fleet';
import { restartSuffix } from './attachments';
import { targets } from './plan';

/**
 * `pgcred reconcile`, for a scheduled job: repair drift, advance rotations and start
 * the ones a policy says are due, make the declared attachments exist, and deliver
 * config vars to apps whose last restart failed.
 */
export function registerReconcile(program: Command, context: () => CommandContext): void {
  addFleetOptions(
    program
      .command('reconcile')
      .description('advance rotations, rotate what is due, repair drift, retry failed restarts'),
  ).action(async (options: Partial<FleetSelection> & { parallel: number }) => {
    const ctx = context();
    const config = ctx.config();
    const specs = targets(ctx, undefined, options).filter((spec) => spec.role !== 'follower');
    const rc = await ctx.reconcileContext();
    const say = (line: string) => ctx.io.stderr(`${line}\n`);
    await syncDeclaredApps(rc.control, config.apps);
    const outcomes = await runFleet(ctx, specs, options, async (spec, tell) => {
      const job = { ...rc, progress: tell };
      const result = await applyDatabase(job, spec, {});
      if (result.applied)
        tell(
          `${spec.name}: repaired ${result.plan.changes.length} change${result.plan.changes.length === 1 ? '' : 's'}.`,
        );
      for (const rotation of await openRotations(job, spec.name)) {
        const advanced = await advanceRotation(job, spec, rotation);
        tell(
          advanced.rotation.step === 'finished'
            ? `${spec.name}: the rotation of ${rotation.credential} is complete.`
            : `${spec.name}: the rotation of ${rotation.credential} is at ${advanced.rotation.step}` +
                (advanced.waiting
                  ? ` (${advanced.waiting.connections} connection(s) left on ${advanced.waiting.waitingFor})`
                  : '') +
                '.',
        );
      }
      for (const name of await dueRotations(job, spec)) {
        const { rotation } = await startRotation(job, spec, name);
        const advanced = await advanceRotation(job, spec, rotation);
        tell(`${spec.name}: ${name} was due for rotation; the rotation is at ${advanced.rotation.step}.`);
      }
      return inspectDatabase(spec, job);
    });
    const lives = new Map<string, LiveState>();
    for (const outcome of outcomes) if (outcome.value) lives.set(outcome.spec.name, outcome.value);
    const failed = new Set(outcomes.filter((o) => o.error !== undefined).map((o) => o.spec.name));
    const sync = await syncDeclaredAttachments(rc, lives, { skipDatabases: failed });
    for (const a of sync.attached)
      say(
        `Attached ${a.attachment.credential} to ⬢ ${a.attachment.app} as ${a.attachment.name} (v${a.release}).`,
      );
    for (const a of sync.detached)
      say(`Detached ${a.attachment.name} from ⬢ ${a.attachment.app} (v${a.release}).`);
    for (const app of await pendingApps(rc.control)) {
      const outcome = await deliver(rc.control, app);
      say(`Restarting ⬢ ${app}... ${restartSuffix(outcome, (await rc.control.apps.releaseOf(app)) ?? 0)}`);
      if (outcome.status === 'failed') ctx.setExitStatus(1);
    }
    if (failed.size > 0) {
      say(`Reconciled, except ${[...failed].join(', ')}.`);
      ctx.setExitStatus(1);
    } else say('Reconciled.');
  });
}
