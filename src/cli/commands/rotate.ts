import { type Command, Option } from 'commander';
import type { ClientBase } from 'pg';
import { attachmentsOf } from '../../attachments/attachments';
import { type DatabaseSpec, DEFAULT_CREDENTIAL, DEFAULT_GRACE_MS } from '../../model/config';
import { formatDuration, parseDuration } from '../../model/duration';
import {
  CredentialError,
  credentialRefusal,
  inspectDatabase,
  liveCredentials,
  refuseUnlessWritable,
} from '../../reconciler/credentials';
import type { LiveState } from '../../reconciler/live-state';
import { credentialSource, openAdmin, type ReconcileContext } from '../../reconciler/reconcile';
import { type RotationEvent, runRotation, startRotation } from '../../rotation/rotate';
import { checkCredentialArgument } from '../arguments';
import type { CommandContext } from '../context';
import { UserError } from '../io';
import { RotationProgress } from '../progress';
import { restartSuffix } from './attachments';

interface RotateOptions {
  name?: string;
  all?: boolean;
  force?: boolean;
  wait: boolean;
  confirm?: string;
  grace?: string;
}

export function registerRotate(program: Command, context: () => CommandContext): void {
  program
    .command('credentials:rotate')
    .description(
      'rotate passwords with no failed request: a temporary <name>-rotating username carries the apps meanwhile',
    )
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .option('-n, --name <name>', 'the credential (default: the default credential)')
    .addOption(new Option('--all', 'rotate every credential, the default one included').conflicts('name'))
    .option('--force', 'set the new password at once and end the credential’s connections')
    .option('--no-wait', 'return after the first steps; pgcred reconcile finishes the rotation')
    .option(
      '--grace <duration>',
      'how long old connections may live, e.g. 30m (default: the policy, else 30m)',
    )
    .option('--confirm <database>', 'skip the prompt by giving the database name')
    .action(async (database: string | undefined, options: RotateOptions) => {
      const ctx = context();
      const spec = ctx.database(database);
      refuseUnlessWritable(spec, undefined);
      if (options.name !== undefined) checkCredentialArgument('--name', options.name, true);
      let graceMs: number | undefined;
      if (options.grace !== undefined) {
        try {
          graceMs = parseDuration(options.grace);
        } catch (error) {
          throw new UserError(`--grace: ${(error as Error).message}`);
        }
      }
      const rc = await ctx.reconcileContext();
      const sourceSpec = credentialSource(rc.config, spec);
      const source = sourceSpec.name;
      const live = await inspectDatabase(spec, rc);
      refuseUnlessWritable(spec, live);
      const names = options.all
        ? [DEFAULT_CREDENTIAL, ...liveCredentials(live, sourceSpec)]
        : [options.name ?? DEFAULT_CREDENTIAL];
      // Before the prompt: nobody is asked to confirm a rotation pgcred would then refuse.
      for (const name of names) {
        const refusal =
          name === DEFAULT_CREDENTIAL ? undefined : credentialRefusal(live, spec.name, name, {}, sourceSpec);
        if (refusal) throw new CredentialError(refusal);
      }
      const force = options.force === true || options.all === true;
      const apps = [
        ...new Set(
          (await attachmentsOf(rc.control, { database: source }))
            .filter((a) => names.includes(a.credential))
            .map((a) => a.app),
        ),
      ].sort();
      const policyGrace = credentialSource(rc.config, spec).credentials.find((c) => c.name === names[0])
        ?.rotation?.graceMs;
      const grace = graceMs ?? policyGrace ?? DEFAULT_GRACE_MS;
      const impact = [
        options.all
          ? 'The passwords of all credentials will rotate.'
          : `The password for the ${names[0]} credential will rotate.`,
        names[0] !== DEFAULT_CREDENTIAL && !force
          ? `Connections older than ${formatDuration(grace)} will be reset, and a temporary rotation username will be used during the process.`
          : 'Connections will be reset and applications will be restarted.',
        ...(options.all && options.force
          ? ['This forces rotation on all credentials including the default credential.']
          : []),
        ...(apps.length > 0
          ? [
              `This command will affect the app${apps.length > 1 ? 's' : ''} ${apps.map((a) => `⬢ ${a}`).join(', ')}.`,
            ]
          : []),
      ];
      await ctx.confirm(spec.name, impact, options.confirm);
      const label = options.all
        ? `Rotating all credentials on ⛁ ${spec.name}`
        : `Rotating ${names[0]} on ⛁ ${spec.name}`;
      ctx.io.stderr(`${label}... `);
      const emitted: string[] = [];
      const emit = (event: RotationEvent) => report(ctx, event, emitted);
      const progress = new RotationProgress(ctx.io);
      // One admin connection for all of them: a connection per credential was most of
      // the time `--all` took.
      const admin = await openAdmin(rc, spec);
      try {
        for (const name of names) {
          await rotateOne(rc, spec, name, {
            force,
            graceMs,
            live,
            admin,
            wait: options.wait,
            emit,
            progress,
            ctx,
          });
        }
      } catch (error) {
        progress.stop();
        ctx.io.stderr('!\n');
        throw error;
      } finally {
        await admin.end().catch(() => undefined);
      }
      progress.stop();
      const outcome = options.wait ? 'done' : 'started';
      ctx.io.stderr(progress.printed ? `${label}... ${outcome}\n` : `${outcome}\n`);
      for (const line of emitted) ctx.io.stderr(`${line}\n`);
      if (!options.wait)
        ctx.io.stderr(
          'The rotation goes on: pgcred reconcile advances it, and pgcred credentials shows its usernames.\n',
        );
    });
}

async function rotateOne(
  rc: ReconcileContext,
  spec: DatabaseSpec,
  name: string,
  options: {
    force: boolean;
    graceMs?: number;
    live: LiveState;
    admin: ClientBase;
    wait: boolean;
    emit: (event: RotationEvent) => void;
    progress: RotationProgress;
    ctx: CommandContext;
  },
): Promise<void> {
  const { rotation, resumed } = await startRotation(rc, spec, name, {
    force: options.force,
    graceMs: options.graceMs,
    live: options.live,
  });
  if (resumed)
    options.emit({
      kind: 'notice',
      text: `A rotation of ${name} was already under way (${rotation.step}); it continues.`,
    });
  if (!options.wait) {
    const { advanceRotation } = await import('../../rotation/rotate');
    await advanceRotation(rc, spec, rotation, options.emit, options.admin);
    return;
  }
  await runRotation(rc, spec, rotation, {
    admin: options.admin,
    emit: options.emit,
    onWait: (wait) => options.progress.update(wait),
  });
}

function report(ctx: CommandContext, event: RotationEvent, lines: string[]): void {
  switch (event.kind) {
    case 'terminated':
      if (event.count > 0)
        lines.push(
          `Terminated ${event.count} connection${event.count === 1 ? '' : 's'} of ${event.username}.`,
        );
      return;
    case 'restart':
      lines.push(
        `Setting config vars and restarting ⬢ ${event.app}... ${restartSuffix(event.outcome, event.release)}`,
      );
      if (event.outcome.status === 'failed') ctx.setExitStatus(1);
      return;
    case 'notice':
      lines.push(event.text);
      return;
    case 'step':
      return;
  }
}
