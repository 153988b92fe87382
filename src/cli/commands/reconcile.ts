import type { Command } from 'commander';
import { syncDeclaredAttachments } from '../../attachments/attachments';
import { deliver, pendingApps, syncDeclaredApps } from '../../attachments/config-vars';
import { inspectDatabase } from '../../reconciler/credentials';
import type { LiveState } from '../../reconciler/live-state';
import { applyDatabase } from '../../reconciler/reconcile';
import { advanceRotation, dueRotations, openRotations, startRotation } from '../../rotation/rotate';
import type { CommandContext } from '../context';
import { restartSuffix } from './attachments';

/**
 * `pgcred reconcile`, for a scheduled job: repair drift, advance rotations and start
 * the ones a policy says are due, make the declared attachments exist, and deliver
 * config vars to apps whose last restart failed.
 */
export function registerReconcile(program: Command, context: () => CommandContext): void {
  program
    .command('reconcile')
    .description('advance rotations, rotate what is due, repair drift, retry failed restarts')
    .action(async () => {
      const ctx = context();
      const config = ctx.config();
      const rc = await ctx.reconcileContext();
      const say = (line: string) => ctx.io.stderr(`${line}\n`);
      await syncDeclaredApps(rc.control, config.apps);
      const lives = new Map<string, LiveState>();
      for (const spec of config.databases) {
        if (spec.role === 'follower') continue;
        const result = await applyDatabase(rc, spec, {});
        if (result.applied)
          say(
            `${spec.name}: repaired ${result.plan.changes.length} change${result.plan.changes.length === 1 ? '' : 's'}.`,
          );
        for (const rotation of await openRotations(rc, spec.name)) {
          const advanced = await advanceRotation(rc, spec, rotation);
          say(
            advanced.rotation.step === 'finished'
              ? `${spec.name}: the rotation of ${rotation.credential} is complete.`
              : `${spec.name}: the rotation of ${rotation.credential} is at ${advanced.rotation.step}` +
                  (advanced.waiting
                    ? ` (${advanced.waiting.connections} connection(s) left on ${advanced.waiting.waitingFor})`
                    : '') +
                  '.',
          );
        }
        for (const name of await dueRotations(rc, spec)) {
          const { rotation } = await startRotation(rc, spec, name);
          const advanced = await advanceRotation(rc, spec, rotation);
          say(`${spec.name}: ${name} was due for rotation; the rotation is at ${advanced.rotation.step}.`);
        }
        lives.set(spec.name, await inspectDatabase(spec, rc));
      }
      const sync = await syncDeclaredAttachments(rc, lives);
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
      say('Reconciled.');
    });
}
