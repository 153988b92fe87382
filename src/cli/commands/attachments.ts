import type { Command } from 'commander';
import { attach, detach } from '../../attachments/attachments';
import type { RestartOutcome } from '../../attachments/config-vars';
import { checkAppArgument as checkApp, checkAttachmentArgument, checkCredentialArgument } from '../arguments';
import type { CommandContext } from '../context';
import { UserError } from '../io';

export function restartSuffix(outcome: RestartOutcome, release: number): string {
  if (outcome.status === 'failed')
    return `done, v${release} (restart failed: ${outcome.reason}; pgcred reconcile retries it)`;
  return `done, v${release}`;
}

export function registerAttachmentCommands(program: Command, context: () => CommandContext): void {
  program
    .command('attach')
    .description(
      'attach a credential to an app as a config var (DATABASE_URL, HEROKU_POSTGRESQL_<COLOR>_URL or --as)',
    )
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .requiredOption(
      '--credential <name>',
      'the credential to attach (default: the default credential)',
      'default',
    )
    .requiredOption('-a, --app <app>', 'the app')
    .option('--as <name>', 'attachment name; the config var is NAME_URL')
    .action(
      async (database: string | undefined, options: { credential: string; app: string; as?: string }) => {
        const ctx = context();
        checkApp(options.app);
        checkCredentialArgument('--credential', options.credential, true);
        if (options.as !== undefined) checkAttachmentArgument('--as', options.as);
        const spec = ctx.database(database);
        const rc = await ctx.reconcileContext();
        ctx.io.stderr(`Attaching ${options.credential} of ⛁ ${spec.name} to ⬢ ${options.app}... `);
        let result: Awaited<ReturnType<typeof attach>>;
        try {
          result = await attach(rc, {
            spec,
            credential: options.credential,
            app: options.app,
            as: options.as,
          });
        } catch (error) {
          ctx.io.stderr('!\n');
          throw error;
        }
        ctx.io.stderr('done\n');
        ctx.io.stderr(
          `Setting ${result.attachment.name} config vars and restarting ⬢ ${options.app}... ${restartSuffix(result.restart, result.release)}\n`,
        );
        ctx.io.stdout(`${result.attachment.configVar}\n`);
        if (result.restart.status === 'failed') ctx.setExitStatus(1);
      },
    );

  program
    .command('detach')
    .description('remove an attachment (and its config var) from an app')
    .argument('<name>', 'the attachment (DATABASE) or its config var (DATABASE_URL)')
    .requiredOption('-a, --app <app>', 'the app')
    .action(async (name: string, options: { app: string }) => {
      const ctx = context();
      checkApp(options.app);
      checkAttachmentArgument('the attachment', name, true);
      const rc = await ctx.reconcileContext();
      const result = await detach(rc, options.app, name);
      ctx.io.stderr(
        `Detaching ${result.attachment.name} from ⛁ ${result.attachment.database} from ⬢ ${options.app}... done\n`,
      );
      ctx.io.stderr(
        `Unsetting ${result.attachment.name} config vars and restarting ⬢ ${options.app}... ${restartSuffix(result.restart, result.release)}\n`,
      );
      if (result.restart.status === 'failed') ctx.setExitStatus(1);
    });

  program
    .command('config')
    .description("show an app's config vars (values masked unless --reveal)")
    .requiredOption('-a, --app <app>', 'the app')
    .option('--reveal', 'print the values (they hold passwords)')
    .option('--json', 'print JSON')
    .action(async (options: { app: string; reveal?: boolean; json?: boolean }) => {
      const ctx = context();
      checkApp(options.app);
      const rc = await ctx.reconcileContext();
      const app = await rc.control.apps.get(options.app);
      if (!app) throw new UserError(`Couldn't find that app: ${options.app}`);
      const vars = [...(await rc.control.apps.configVars(options.app))].map(([name, value]) => ({
        name,
        value: options.reveal ? value : mask(value),
      }));
      if (options.json) {
        ctx.io.stdout(
          `${JSON.stringify({ app: options.app, release: app.release, restartPending: app.restartPending, vars }, null, 2)}\n`,
        );
        return;
      }
      ctx.io.stdout(
        `=== ⬢ ${options.app} Config Vars (v${app.release}${app.restartPending ? ', restart pending' : ''})\n`,
      );
      const width = Math.max(0, ...vars.map((v) => v.name.length + 1));
      for (const v of vars) ctx.io.stdout(`${`${v.name}:`.padEnd(width)} ${v.value}\n`);
    });
}

/** postgres://user:••••@host:port/db: enough to see which credential, never the password. */
export function mask(value: string): string {
  return value.replace(/^(postgres(?:ql)?:\/\/[^:@/]+:)[^@]*@/, '$1••••••••@');
}
