import { type Command, Option } from 'commander';
import { DEFAULT_CREDENTIAL } from '../../model/config';
import { PermissionLevel, type PermissionLevelName } from '../../model/permission-level';
import { connectionInfoString, credentialUrl, endpointOf } from '../../reconciler/connection';
import {
  attachedAppsOf,
  checkCreate,
  createCredential,
  destroyCredential,
  detachFirstMessage,
  refuseUnlessWritable,
  repairDefault,
  setPermissionLevel,
} from '../../reconciler/credentials';
import { activeLogin, listCredentials, renderListing } from '../../reconciler/listing';
import { credentialSource } from '../../reconciler/reconcile';
import { checkCredentialArgument } from '../arguments';
import type { CommandContext } from '../context';
import { UserError } from '../io';

const levelOption = (flag: string, description: string) =>
  new Option(flag, description).choices(PermissionLevel.NAMES as string[]);

export function registerCredentialCommands(program: Command, context: () => CommandContext): void {
  program
    .command('credentials')
    .description('list the credentials of a database, their attachments, and usernames during a rotation')
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .option('--json', 'print JSON')
    .action(async (database: string | undefined, options: { json?: boolean }) => {
      const ctx = context();
      const spec = ctx.database(database);
      const listing = await listCredentials(await ctx.reconcileContext(), spec);
      ctx.io.stdout(options.json ? `${JSON.stringify(listing, null, 2)}\n` : renderListing(listing));
    });

  program
    .command('credentials:create')
    .description('create a credential: it can log in, and reads nothing until given a level')
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .requiredOption('-n, --name <name>', 'name of the credential (its username)')
    .addOption(levelOption('--permission <level>', 'permission level').default('none'))
    .action(
      async (database: string | undefined, options: { name: string; permission: PermissionLevelName }) => {
        const ctx = context();
        const spec = ctx.database(database);
        checkCreate(spec, options.name);
        const rc = await ctx.reconcileContext();
        await ctx.action(`Creating credential ${options.name}`, () =>
          createCredential(rc, spec, options.name, options.permission),
        );
        ctx.io.stdout(
          `Attach it to the apps that use it: pgcred attach ${spec.name} --credential ${options.name} --app APP\n` +
            (options.permission === 'none'
              ? `Give it a permission level: pgcred credentials:permissions ${spec.name} --name ${options.name} --level read-only\n`
              : ''),
        );
        warnIfUndeclared(
          ctx,
          spec.name,
          options.name,
          credentialSource(rc.config, spec).credentials.map((c) => c.name),
        );
      },
    );

  program
    .command('credentials:permissions')
    .description('set the permission level of a credential (a downgrade revokes what the new level lacks)')
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .requiredOption('-n, --name <name>', 'name of the credential')
    .addOption(levelOption('--level <level>', 'permission level').makeOptionMandatory())
    .action(async (database: string | undefined, options: { name: string; level: PermissionLevelName }) => {
      const ctx = context();
      const spec = ctx.database(database);
      refuseUnlessWritable(spec, undefined);
      checkCredentialArgument('--name', options.name, true);
      const rc = await ctx.reconcileContext();
      const result = await ctx.action(
        `Setting ${options.name} on ${spec.name} to ${PermissionLevel.of(options.level).title.toLowerCase()}`,
        () => setPermissionLevel(rc, spec, options.name, options.level),
        (r) =>
          r.applied
            ? `, ${r.plan.changes.length} change${r.plan.changes.length === 1 ? '' : 's'}`
            : ', no change',
      );
      for (const change of result.plan.changes) ctx.io.stdout(`${change.subject} ${change.description}\n`);
      const declared = credentialSource(rc.config, spec).credentials.find((c) => c.name === options.name);
      if (declared && !(declared.access.kind === 'level' && declared.access.level === options.level)) {
        ctx.io.stderr(
          ` ▸    ${options.name} is declared differently in ${ctx.configPath}: the next apply puts that back.\n`,
        );
      }
    });

  program
    .command('credentials:destroy')
    .description('destroy a credential; objects it owns go to the default credential')
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .requiredOption('-n, --name <name>', 'name of the credential')
    .option('--confirm <database>', 'skip the prompt by giving the database name')
    .action(async (database: string | undefined, options: { name: string; confirm?: string }) => {
      const ctx = context();
      const spec = ctx.database(database);
      refuseUnlessWritable(spec, undefined);
      checkCredentialArgument('--name', options.name, true);
      if (options.name === DEFAULT_CREDENTIAL) throw new UserError('Default credential cannot be destroyed.');
      const rc = await ctx.reconcileContext();
      const attachedTo = await attachedAppsOf(rc, credentialSource(rc.config, spec).name, options.name);
      if (attachedTo.length > 0) throw new UserError(detachFirstMessage(options.name, attachedTo));
      await ctx.confirm(
        spec.name,
        [
          `The credential ${options.name} will be destroyed within ${spec.name}.`,
          `Objects it owns will be assigned to the default credential.`,
        ],
        options.confirm,
      );
      await ctx.action(`Destroying credential ${options.name}`, () =>
        destroyCredential(rc, spec, options.name),
      );
      ctx.io.stdout(
        `The credential has been destroyed within ${spec.name}.\nDatabase objects owned by ${options.name} will be assigned to the default credential.\n`,
      );
      if (credentialSource(rc.config, spec).credentials.some((c) => c.name === options.name)) {
        ctx.io.stderr(
          ` ▸    ${options.name} is still declared in ${ctx.configPath}: the next apply creates it again.\n`,
        );
      }
    });

  program
    .command('credentials:repair-default')
    .description('make the default credential the owner of every object and restore the factory permissions')
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .option('--confirm <database>', 'skip the prompt by giving the database name')
    .action(async (database: string | undefined, options: { confirm?: string }) => {
      const ctx = context();
      const spec = ctx.database(database);
      refuseUnlessWritable(spec, undefined);
      const rc = await ctx.reconcileContext();
      await ctx.confirm(
        spec.name,
        [
          `Ownership of all database objects in ${spec.name} will be given to the default credential,`,
          'and the default credential will get admin option on every additional credential.',
        ],
        options.confirm,
      );
      const result = await ctx.action(
        'Resetting permissions and object ownership for default role to factory settings',
        () => repairDefault(rc, spec),
      );
      for (const change of result.plan.changes) ctx.io.stdout(`${change.subject} ${change.description}\n`);
    });

  program
    .command('credentials:url')
    .description('print the connection info string and URL of a credential (shows its password)')
    .argument('[database]', 'a database of the file, or a postgres:// URL')
    .option('-n, --name <name>', 'name of the credential', DEFAULT_CREDENTIAL)
    .action(async (database: string | undefined, options: { name: string }) => {
      const ctx = context();
      const spec = ctx.database(database);
      checkCredentialArgument('--name', options.name, true);
      const rc = await ctx.reconcileContext();
      const login = await activeLogin(rc, spec, options.name);
      if (!login) throw new UserError(`Could not find any active credentials for ${options.name}`);
      const { user: active, password } = login;
      const endpoint = endpointOf(spec.url);
      ctx.io.stdout(
        `Connection information for ${options.name} credential.\nConnection info string:\n` +
          `  "${connectionInfoString(endpoint, active, password)}"\nConnection URL:\n  ${credentialUrl(endpoint, active, password)}\n`,
      );
    });
}

function warnIfUndeclared(
  ctx: CommandContext,
  database: string,
  name: string,
  declared: readonly string[],
): void {
  if (
    !declared.includes(name) &&
    ctx.hasConfigFile &&
    ctx.config().databases.some((db) => db.name === database)
  ) {
    ctx.io.stderr(
      ` ▸    ${name} is not declared in ${ctx.configPath}: pgcred apply reports it as undeclared, and apply --prune would destroy it.\n`,
    );
  }
}
