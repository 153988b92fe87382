import { type Command, Option } from 'commander';
import { DEFAULT_CREDENTIAL } from '../../model/config';
import { PermissionLevel, type PermissionLevelName } from '../../model/permission-level';
import { type FindingKind, notices } from '../../model/plan';
import { attachedRefusal, destroyRefusals } from '../../model/refusals';
import { connectionInfoString, credentialUrl, endpointOf } from '../../postgres/connection';
import {
  attachedAppsOf,
  checkCreate,
  createCredential,
  destroyCredential,
  type RepairImpact,
  refuse,
  refuseUnlessWritable,
  repairDefault,
  setPermissionLevel,
} from '../../reconciler/credentials';
import { findLogin, listCredentials, renderListing } from '../../reconciler/listing';
import { credentialSource, planDatabaseWithLive } from '../../reconciler/reconcile';
import { checkCredentialArgument } from '../arguments';
import type { CommandContext } from '../context';
import { UserError } from '../io';
import { PASSWORD_VARIABLE } from './password';

const LISTED_NOTICES = new Set<FindingKind>(['public-kept', 'row-security', 'default-privileges']);

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
      ctx.changeNothing();
      const spec = ctx.database(database);
      const rc = await ctx.reconcileContext();
      // One inspection serves the listing and its notices: what no level can withhold here,
      // as plan and drift say it, so nobody reads `none` as nothing while PUBLIC grants something.
      const { plan, live } = await planDatabaseWithLive(rc, spec);
      const listing = await listCredentials(rc, spec, live);
      ctx.io.stdout(options.json ? `${JSON.stringify(listing, null, 2)}\n` : renderListing(listing));
      for (const notice of notices(plan).filter((n) => LISTED_NOTICES.has(n.kind)))
        ctx.io.stderr(` ▸    ${notice.description}\n`);
      for (const credential of listing.filter((c) => c.passwordKnown === false))
        ctx.io.stderr(
          ` ▸    ${passwordUnknownMessage(spec.name, credential.name, credential.username, ' (credentials:url and attach need it)')}\n`,
        );
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
      refuse(destroyRefusals(options.name));
      const rc = await ctx.reconcileContext();
      const attachedTo = await attachedAppsOf(rc, credentialSource(rc.config, spec).name, options.name);
      if (attachedTo.length > 0) refuse([attachedRefusal(options.name, attachedTo)]);
      // Asked under the apply lock, after its checks: a credential that is not
      // pgcred's, or is not there, is refused before anyone is asked anything.
      const action = new ConfirmedAction(ctx, `Destroying credential ${options.name}`);
      await action.run(() =>
        destroyCredential(rc, spec, options.name, {
          confirm: () =>
            action.confirm(
              spec.name,
              [
                `The credential ${options.name} will be destroyed within ${spec.name}.`,
                `Objects it owns will be assigned to the default credential.`,
              ],
              options.confirm,
            ),
        }),
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
      const action = new ConfirmedAction(
        ctx,
        'Resetting permissions and object ownership for default role to factory settings',
      );
      const result = await action.run(() =>
        repairDefault(rc, spec, {
          confirm: (impact) => {
            ctx.io.stderr(repairImpactText(impact));
            return action.confirm(
              spec.name,
              [
                `Ownership of all database objects in ${spec.name} will be given to the default credential,`,
                'and the default credential will get admin option on every additional credential.',
              ],
              options.confirm,
            );
          },
        }),
      );
      if (!result.applied) {
        ctx.io.stderr(
          `Nothing to repair on ${spec.name}: the default credential owns every object, with the factory permissions.\n`,
        );
      }
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
      const login = await findLogin(rc, spec, options.name);
      if (!login.found) {
        throw new UserError(
          login.reason === 'password unknown'
            ? passwordUnknownMessage(spec.name, options.name, login.user, ', so it has no URL to print')
            : `Could not find any active credentials for ${options.name}`,
        );
      }
      const { user: active, password } = login;
      const endpoint = endpointOf(spec.url);
      ctx.io.stdout(
        `Connection information for ${options.name} credential.\nConnection info string:\n` +
          `  "${connectionInfoString(endpoint, active, password)}"\nConnection URL:\n  ${credentialUrl(endpoint, active, password)}\n`,
      );
    });
}

/** Says that pgcred cannot hand out a credential's password, and the two ways to give it one. */
function passwordUnknownMessage(database: string, name: string, user: string, why: string): string {
  const who = name === DEFAULT_CREDENTIAL ? `the default credential (${user})` : `credential ${name}`;
  const rotate =
    name === DEFAULT_CREDENTIAL
      ? `pgcred credentials:rotate ${database} (resets its connections)`
      : `pgcred credentials:rotate ${database} --name ${name}`;
  return (
    `pgcred does not know the password of ${who}${why}: hand it over with ` +
    `pgcred credentials:password ${database} --name ${name} (on standard input or in ${PASSWORD_VARIABLE}), ` +
    `or give it a new one with ${rotate}`
  );
}

/** The objects repair-default hands over and who loses what, as the prompt shows them. */
function repairImpactText(impact: RepairImpact, perOwner = 20): string {
  const lines: string[] = [];
  const total = impact.reassigned.reduce((n, r) => n + r.objects.length, 0);
  if (total === 0) lines.push('No object changes owner.');
  else lines.push(`Objects given to the default credential (${impact.owner}): ${total}`);
  for (const { from, objects } of impact.reassigned) {
    for (const object of objects.slice(0, perOwner)) lines.push(`  ${object} (from ${from})`);
    if (objects.length > perOwner) lines.push(`  … and ${objects.length - perOwner} more from ${from}`);
  }
  if (impact.losses.length === 0) lines.push('No role loses access through it.');
  else lines.push('Roles that lose access through it:');
  for (const { role, loses } of impact.losses) for (const what of loses) lines.push(`  ${role}: ${what}`);
  return `${lines.map((line) => ` ▸    ${line}`).join('\n')}\n`;
}

/**
 * A destructive action confirmed from inside the reconciler, once it holds the lock
 * and has made its refusals; reported as Heroku's `Doing something... done` only
 * once the user has agreed, so no refusal follows a prompt.
 */
class ConfirmedAction {
  private started = false;

  constructor(
    private readonly ctx: CommandContext,
    private readonly label: string,
  ) {}

  async confirm(database: string, impact: readonly string[], given: string | undefined): Promise<boolean> {
    await this.ctx.confirm(database, impact, given);
    this.ctx.io.stderr(`${this.label}... `);
    this.started = true;
    return true;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      if (this.started) this.ctx.io.stderr('done\n');
      return result;
    } catch (error) {
      if (this.started) this.ctx.io.stderr('!\n');
      throw error;
    }
  }
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
