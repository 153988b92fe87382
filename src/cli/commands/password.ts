import type { Command } from 'commander';
import { handOverPassword } from '../../reconciler/hand-over';
import { checkCredentialArgument } from '../arguments';
import type { CommandContext } from '../context';
import { UserError } from '../io';

/** The variable that carries a password to credentials:password; never a command-line argument, which `ps` shows. */
export const PASSWORD_VARIABLE = 'PGCRED_PASSWORD';

export function registerPasswordCommand(program: Command, context: () => CommandContext): void {
  program
    .command('credentials:password')
    .description(
      `hand pgcred the current password of an adopted credential or of default, read from standard input or ${PASSWORD_VARIABLE}; it is verified, then stored encrypted (nothing on the database changes)`,
    )
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .requiredOption('-n, --name <name>', 'the credential, or default')
    .action(async (database: string | undefined, options: { name: string }) => {
      const ctx = context();
      checkCredentialArgument('--name', options.name, true);
      const spec = ctx.database(database);
      const fromEnv = ctx.io.env[PASSWORD_VARIABLE];
      let password = fromEnv && fromEnv.length > 0 ? fromEnv : undefined;
      if (password === undefined && ctx.io.readStdin)
        password = (await ctx.io.readStdin()).replace(/\r?\n$/, '');
      if (!password) {
        throw new UserError(
          `credentials:password: no password given: pipe it on standard input or set ${PASSWORD_VARIABLE} (never an argument)`,
        );
      }
      const rc = await ctx.reconcileContext();
      const secret = password;
      const result = await ctx.action(`Verifying the password of ${options.name} on ${spec.name}`, () =>
        handOverPassword(rc, spec, options.name, secret),
      );
      ctx.io.stdout(
        `pgcred now keeps the password of ${options.name} (${result.username}), checked by ${result.verifiedBy}; it was not changed.\n`,
      );
    });
}
