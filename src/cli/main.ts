import { Command, CommanderError, Option } from 'commander';
import { formatProblem, InvalidInputError } from '../model/problem';
import type { Refusal } from '../model/refusals';
import { closeUnclaimed } from '../postgres/connection';
import { CredentialError } from '../reconciler/credentials';
import { PlanRefusedError } from '../reconciler/reconcile';
import { registerAttachmentCommands } from './commands/attachments';
import { registerAudit } from './commands/audit';
import { registerCredentialCommands } from './commands/credentials';
import { registerDashboard } from './commands/dashboard';
import { registerDemo } from './commands/demo';
import { registerFork } from './commands/fork';
import { registerImport } from './commands/import';
import { registerPasswordCommand } from './commands/password';
import { registerPlanCommands } from './commands/plan';
import { registerReconcile } from './commands/reconcile';
import { registerRotate } from './commands/rotate';
import { CommandContext, worseExit } from './context';
import { type Io, processIo, UserError } from './io';

export const VERSION = '0.1.0';

const ENVIRONMENT_HELP = `
Environment:
  PGCRED_CONTROL_URL   the control store's database (default: control.url of the file, else its first
                       database; with Terraform: the provider's control_url, else its first database's url)
  PGCRED_MASTER_KEY    the key of the stored passwords, 64 hex digits (default: PGCRED_KEY_FILE)
  PGCRED_KEY_FILE      the key file (default: .pgcred/master.key beside the file, else in the current directory)
  PGCRED_DATABASE_URL  without a file: the admin URL of the database a command names (or of the only one)
  PGCRED_ACTOR         who the audit log says ran the command (default: the OS user)
  PGCRED_CONNECT_TIMEOUT  seconds any connection may take to open (default 10)

Without a pgcred.yaml (databases managed with Terraform), name a database by its admin URL, or by its
Terraform name with PGCRED_DATABASE_URL set; pgcred finds the name the provider registered for it:
  PGCRED_MASTER_KEY=... PGCRED_DATABASE_URL=$TF_VAR_admin_url pgcred credentials postgresql-sunny-1234
  PGCRED_MASTER_KEY=... pgcred credentials:create "$TF_VAR_admin_url" --name reporter
  PGCRED_MASTER_KEY=... PGCRED_CONTROL_URL=$TF_VAR_admin_url pgcred detach --app example-app DATABASE
`;

/** Builds the command tree; one file per command family under commands/. */
export function buildProgram(io: Io, contexts: CommandContext[]): Command {
  const program = new Command('pgcred');
  program
    .description(
      'Heroku Postgres credentials for any PostgreSQL: declared as code, planned, applied, checked for drift.',
    )
    .version(VERSION, '-v, --version')
    .addOption(new Option('-f, --config <file>', 'the declarative file').default(undefined, './pgcred.yaml'))
    .addHelpText('after', ENVIRONMENT_HELP)
    .showHelpAfterError('(run pgcred --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
    })
    .exitOverride();
  const context = () => {
    const ctx = new CommandContext(io, program.opts());
    contexts.push(ctx);
    return ctx;
  };
  registerPlanCommands(program, context);
  registerCredentialCommands(program, context);
  registerPasswordCommand(program, context);
  registerRotate(program, context);
  registerAttachmentCommands(program, context);
  registerReconcile(program, context);
  registerAudit(program, context);
  registerFork(program, context);
  registerImport(program, context);
  registerDemo(program, context);
  registerDashboard(program, context);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t) });
  }
  return program;
}

/** Runs one command line and returns its exit status: 0 done, 1 error, 2 drift found. */
export async function runCli(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const contexts: CommandContext[] = [];
  const program = buildProgram(io, contexts);
  let status = 0;
  try {
    await program.parseAsync([...argv], { from: 'user' });
    status = contexts.reduce((worst, ctx) => worseExit(worst, ctx.exitStatus), 0);
  } catch (error) {
    status = report(error, io);
  } finally {
    await Promise.all([...contexts.map((ctx) => ctx.close()), closeUnclaimed()]);
  }
  return status;
}

/** A refusal as the CLI prints it: a malformed value names the option it was typed in (`--name: …`). */
function refusalLine(refusal: Refusal): string {
  return refusal.code === 'invalid-name'
    ? `--${refusal.attribute.join('.')}: ${refusal.message}`
    : refusal.message;
}

function report(error: unknown, io: Io): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message; help and version exit 0.
    return error.exitCode === 0 ? 0 : 1;
  }
  if (error instanceof InvalidInputError) {
    for (const problem of error.problems)
      io.stderr(`${error.source ? `${error.source}: ` : ''}${formatProblem(problem)}\n`);
    return 1;
  }
  if (error instanceof PlanRefusedError) {
    for (const reason of error.reasons) io.stderr(` ▸    ${reason}\n`);
    return 1;
  }
  if (error instanceof CredentialError && error.refusal) {
    io.stderr(` ▸    ${refusalLine(error.refusal)}\n`);
    return 1;
  }
  if (error instanceof UserError || error instanceof CredentialError) {
    io.stderr(` ▸    ${error.message}\n`);
    return (error as UserError).exitCode ?? 1;
  }
  io.stderr(` ▸    ${(error as Error).message ?? String(error)}\n`);
  if (io.env.PGCRED_DEBUG) io.stderr(`${(error as Error).stack}\n`);
  return 1;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
