import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Client } from 'pg';
import { loadManifest } from '../../config/manifest';
import { projectFile } from '../../project';
import { CommandContext } from '../context';
import type { Io } from '../io';
import { UserError } from '../io';

interface DashboardFlags {
  port: string;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  manifest?: string;
  label?: string;
  demo?: boolean;
}

/**
 * `pgcred dashboard`: the Credentials tab of data.heroku.com for the databases of the
 * file (or a manifest), on 127.0.0.1 unless told otherwise (and then only with TLS),
 * behind a sign-in token printed once at start (or PGCRED_DASHBOARD_TOKEN).
 */
/**
 * The dashboard's server (fastify and its plugins) is loaded when the command runs:
 * loaded with the command tree, it made every other command start some 150 ms later.
 */
const dashboardServer = () => import('../../dashboard/server');

export function registerDashboard(program: Command, context: () => CommandContext): void {
  program
    .command('dashboard')
    .description(
      'serve the Credentials tab for the databases of the file, on loopback, signed in with a token',
    )
    .option('--port <n>', 'the port (0: any free one)', '5480')
    .option(
      '--host <host>',
      'the address to bind; anything but loopback needs --tls-cert and --tls-key',
      '127.0.0.1',
    )
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'the key of --tls-cert (PEM)')
    .option('--manifest <path>', 'read the manifest that cdktf synth wrote instead of pgcred.yaml')
    .option(
      '--label <name>',
      'who signs in with the token: the audit log names them (default: PGCRED_ACTOR, else dashboard)',
    )
    .option(
      '--demo',
      'start a private PostgreSQL, apply examples/basic/pgcred.yaml and serve it (npm run demo:dashboard)',
    )
    .addHelpText(
      'after',
      "\nEnvironment:\n  PGCRED_DASHBOARD_TOKEN  the sign-in token (default: a new one, printed once)\n  PGCRED_ACTOR            the audit log's actor for what the dashboard does\n",
    )
    .action(async (flags: DashboardFlags) => {
      const ctx = context();
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UserError(`--port: "${flags.port}" is not a port number`);
      if (!!flags.tlsCert !== !!flags.tlsKey) throw new UserError('--tls-cert and --tls-key go together');
      const { checkBind } = await dashboardServer();
      try {
        checkBind(flags.host, !!flags.tlsCert);
      } catch (error) {
        throw new UserError((error as Error).message);
      }
      const tls = flags.tlsCert
        ? { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey!) }
        : undefined;
      if (flags.demo) {
        await serveDemo(ctx.io, { ...flags, port }, tls);
        return;
      }
      if (flags.manifest) ctx.useConfig(loadManifest(flags.manifest, ctx.io.env).config);
      await serve(ctx, { ...flags, port }, tls);
    });
}

async function serve(
  ctx: CommandContext,
  flags: Omit<DashboardFlags, 'port'> & { port: number },
  tls: { cert: Buffer; key: Buffer } | undefined,
  after?: () => Promise<void>,
): Promise<void> {
  const env = ctx.io.env;
  const actor = flags.label ?? env.PGCRED_ACTOR ?? 'dashboard';
  ctx.actor = actor;
  const fromEnv = env.PGCRED_DASHBOARD_TOKEN;
  const token = fromEnv || randomBytes(24).toString('base64url');
  const rc = await ctx.reconcileContext();
  const { DashboardConfigError, startDashboard } = await dashboardServer();
  const { DashboardService } = await import('../../dashboard/service');
  const service = new DashboardService(rc, { configPath: ctx.configPath });
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;
  try {
    dashboard = await startDashboard({
      service,
      host: flags.host,
      port: flags.port,
      token,
      actor,
      ...(tls ? { tls } : {}),
      log: (line) => ctx.io.stderr(`${line}\n`),
    });
  } catch (error) {
    if (error instanceof DashboardConfigError) throw new UserError(error.message);
    throw error;
  }
  ctx.io.stdout(`Dashboard of ${rc.config.databases.map((db) => db.name).join(', ')}: ${dashboard.url}\n`);
  ctx.io.stdout(
    fromEnv
      ? 'Sign in with the token in PGCRED_DASHBOARD_TOKEN.\n'
      : `Sign-in token (shown once): ${token}\n`,
  );
  ctx.io.stderr(`Signed-in changes are recorded in the audit log as ${actor}. Press Ctrl-C to stop.\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  ctx.io.stderr('Stopping the dashboard; pgcred reconcile advances any rotation it left under way.\n');
  await dashboard.close();
  await after?.();
}

/** `npm run demo:dashboard`: a private PostgreSQL with the example applied, served until Ctrl-C. */
async function serveDemo(
  io: Io,
  flags: Omit<DashboardFlags, 'port'> & { port: number },
  tls: { cert: Buffer; key: Buffer } | undefined,
): Promise<void> {
  const { runCli } = await import('../main');
  const { startPostgres } = await import('../../embedded/server');
  io.stderr('Starting a private PostgreSQL (scram-sha-256, loopback only)...\n');
  const server = await startPostgres();
  const work = mkdtempSync(join(tmpdir(), 'pgcred-dashboard-demo-'));
  const ctxHolder: { ctx?: CommandContext } = {};
  try {
    const database = 'postgresql-sunny-1234';
    const admin = new Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const env: NodeJS.ProcessEnv = {
      ...io.env,
      DATABASE_ADMIN_URL: server.url(database),
      PGCRED_MASTER_KEY: randomBytes(32).toString('hex'),
      PGCRED_CONTROL_URL: '',
    };
    const file = join(work, 'pgcred.yaml');
    copyFileSync(projectFile('examples', 'basic', 'pgcred.yaml'), file);
    const sub: Io = { ...io, env, cwd: work, interactive: false };
    const quiet: Io = { ...sub, stdout: () => undefined };
    if ((await runCli(['-f', file, 'apply', '--yes'], quiet)) !== 0)
      throw new UserError('pgcred apply failed');
    const tables = new Client({ connectionString: server.url(database) });
    await tables.connect();
    await tables.query(`CREATE TABLE public.users (id serial PRIMARY KEY, email text NOT NULL);
      CREATE SCHEMA billing; CREATE TABLE billing.invoices (id serial PRIMARY KEY, amount_cents int NOT NULL)`);
    await tables.end();
    if ((await runCli(['-f', file, 'apply', '--yes'], quiet)) !== 0)
      throw new UserError('pgcred apply failed');
    const ctx = new CommandContext(sub, { config: file });
    ctxHolder.ctx = ctx;
    await serve(ctx, flags, tls);
  } finally {
    await ctxHolder.ctx?.close();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
