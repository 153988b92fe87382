import type { Command } from 'commander';
import type { CommandContext } from '../context';
import { UserError } from '../io';

/** `pgcred fork FOLLOWER`: Heroku's unfollow; the follower becomes an independent, writable fork. */
export function registerFork(program: Command, context: () => CommandContext): void {
  program
    .command('fork')
    .description(
      'promote a follower into a fork: a writable copy that keeps the credentials it has now, on its own from then on',
    )
    .argument('<database>', 'a follower declared in the file')
    .option('--confirm <database>', 'skip the prompt by giving the database name')
    .action(async (database: string, options: { confirm?: string }) => {
      const ctx = context();
      const spec = ctx.database(database);
      if (spec.role === 'primary' || !spec.source) {
        throw new UserError(
          `${spec.name} is not a follower: declare it with role: follower and source: <its primary> first`,
        );
      }
      await ctx.confirm(
        spec.name,
        [
          `${spec.name} will stop following ${spec.source} and become a writable fork.`,
          `It keeps the credentials it has now; later changes on ${spec.source} will not reach it. This cannot be undone.`,
        ],
        options.confirm,
      );
      const rc = await ctx.reconcileContext();
      // Loaded here: every other command starts without it.
      const { forkDeclaration, forkFollower } = await import('../../forks/fork');
      const result = await ctx.action(`Promoting ${spec.name} (a follower of ${spec.source}) to a fork`, () =>
        forkFollower(rc, spec),
      );
      const source = rc.config.databases.find((db) => db.name === result.source)!;
      const names = result.credentials.length > 0 ? ` (${result.credentials.join(', ')})` : '';
      ctx.io.stdout(
        `${spec.name} is a fork of ${result.source} now: it keeps the ${result.credentials.length} credential${result.credentials.length === 1 ? '' : 's'} it had${names}, ` +
          `and changes on ${result.source} no longer reach it.\n` +
          `Declare it in ${ctx.configPath} as a fork with the credentials it keeps:\n${forkDeclaration(spec, source, result.credentials)}`,
      );
      if (result.mismatched.length > 0) {
        ctx.io.stderr(
          ` ▸    The stored password of ${result.mismatched.join(', ')} does not open the fork's role (it changed on ${result.source} as the fork was made): pgcred apply ${spec.name} sets it back.\n`,
        );
      }
    });
}
