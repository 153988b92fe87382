import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Client } from 'pg';
import { projectFile } from '../../project';
import type { CommandContext } from '../context';
import type { Io } from '../io';
import { UserError } from '../io';

/**
 * `npm run demo`: the main job on a private PostgreSQL. It starts one, applies
 * examples/basic/pgcred.yaml, lets the app's migrations create tables as the
 * default credential, logs in as each credential to show its level, prints the
 * listing and the plans, and stops the server.
 */
export function registerDemo(program: Command, context: () => CommandContext): void {
  program
    .command('demo')
    .description('run pgcred against a private PostgreSQL it starts and stops (npm run demo)')
    .option('--config-file <file>', 'the file to apply', projectFile('examples', 'basic', 'pgcred.yaml'))
    .action(async (options: { configFile: string }) => {
      const ctx = context();
      await runDemo(ctx.io, options.configFile);
    });
}

async function runDemo(io: Io, configFile: string): Promise<void> {
  // Imported here: main imports this file, and the demo runs the CLI itself.
  const { runCli } = await import('../main');
  const say = (line: string) => io.stderr(`\n=== ${line}\n`);
  say('Starting a private PostgreSQL (scram-sha-256, loopback only)');
  // Loaded here: every other command starts without the embedded server.
  const { startPostgres } = await import('../../embedded/server');
  const server = await startPostgres();
  const work = mkdtempSync(join(tmpdir(), 'pgcred-demo-'));
  try {
    io.stderr(`PostgreSQL ${server.majorVersion} on 127.0.0.1:${server.port}\n`);
    const database = 'postgresql-sunny-1234';
    await withClient(server.url(), (c) => c.query(`CREATE DATABASE "${database}"`));
    const env: NodeJS.ProcessEnv = {
      ...io.env,
      DATABASE_ADMIN_URL: server.url(database),
      PGCRED_MASTER_KEY: randomBytes(32).toString('hex'),
      PGCRED_CONTROL_URL: '',
    };
    const sub: Io = { ...io, env, cwd: work, interactive: false };
    // A copy beside the run, so the apps' env files land in the temporary directory.
    copyFileSync(configFile, join(work, 'pgcred.yaml'));
    configFile = join(work, 'pgcred.yaml');
    const cli = async (...args: string[]) => {
      io.stderr(`\n$ pgcred ${args.join(' ')}\n`);
      const status = await runCli(['-f', configFile, ...args], sub);
      if (status !== 0 && !(args[0] === 'drift' && status === 2))
        throw new UserError(`pgcred ${args[0]} exited ${status}`);
      return status;
    };

    say('What apply will do');
    await cli('plan');
    say('Apply it, in one transaction');
    await cli('apply', '--yes');

    say("The app's migrations run as the default credential");
    const defaultUrl = await captureUrl(runCli, sub, configFile, 'default');
    await withClient(defaultUrl, (c) =>
      c.query(`CREATE TABLE public.users (id serial PRIMARY KEY, email text NOT NULL);
               INSERT INTO public.users (email) VALUES ('ada@example.com'), ('grace@example.com');
               CREATE SCHEMA billing;
               CREATE TABLE billing.invoices (id serial PRIMARY KEY, amount_cents int NOT NULL);`),
    );
    io.stderr('created public.users, schema billing and billing.invoices\n');

    say('Apply again: the table that limited_user is granted now exists');
    await cli('apply', '--yes');

    say('Each credential logs in and tries what its level allows');
    for (const [credential, sql] of [
      ['analyst', 'SELECT count(*) AS n FROM billing.invoices'],
      ['analyst', "INSERT INTO public.users (email) VALUES ('eve@example.com')"],
      ['limited_user', 'SELECT count(*) AS n FROM public.users'],
      ['limited_user', 'SELECT count(*) AS n FROM billing.invoices'],
      ['billing', 'INSERT INTO billing.invoices (amount_cents) VALUES (1200)'],
      ['billing', 'CREATE TABLE public.sneaky (id int)'],
    ] as const) {
      const url = await captureUrl(runCli, sub, configFile, credential);
      const outcome = await withClient(url, (c) => c.query(sql)).then(
        () => 'allowed',
        (error: Error) => `refused (${error.message})`,
      );
      io.stderr(`${credential.padEnd(13)} ${sql.padEnd(62)} ${outcome}\n`);
    }

    say('Credentials and their attachments');
    await cli('credentials');
    say("The app's config vars (masked; --reveal shows them)");
    await cli('config', '--app', 'example-app');

    say('Rotate analyst with no downtime, while the app holds a connection');
    const envFile = join(work, 'run', 'example-app.env');
    const before = envVar(envFile, 'HEROKU_POSTGRESQL_CYAN_URL');
    const held = new Client({ connectionString: before });
    held.on('error', () => undefined);
    await held.connect();
    await cli(
      'credentials:rotate',
      '--name',
      'analyst',
      '--grace',
      '10s',
      '--no-wait',
      '--confirm',
      database,
    );
    io.stderr(
      `the app's HEROKU_POSTGRESQL_CYAN_URL now uses ${new URL(envVar(envFile, 'HEROKU_POSTGRESQL_CYAN_URL')).username}\n`,
    );
    await cli('credentials');
    io.stderr('(the app finishes its work on the old connection and closes it)\n');
    await held.query('SELECT count(*) FROM public.users');
    await held.end();
    for (let i = 0; i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let out = '';
      await runCli(['-f', configFile, 'reconcile'], { ...sub, stderr: (text) => (out += text) });
      if (out.includes('is complete')) break;
    }
    await cli('reconcile');
    await cli('credentials');
    const after = envVar(envFile, 'HEROKU_POSTGRESQL_CYAN_URL');
    for (const [label, url] of [
      ['old password', before],
      ['new password', after],
    ] as const) {
      const outcome = await withClient(url, (c) => c.query('SELECT 1')).then(
        () => 'logs in',
        (error: Error) => `refused (${error.message})`,
      );
      io.stderr(`analyst with the ${label}: ${outcome}\n`);
    }

    say('Drift check (what a scheduled job runs)');
    await cli('drift');
  } finally {
    say('Stopping PostgreSQL');
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function captureUrl(
  runCli: (argv: readonly string[], io: Io) => Promise<number>,
  io: Io,
  configFile: string,
  name: string,
): Promise<string> {
  let out = '';
  const status = await runCli(['-f', configFile, 'credentials:url', '--name', name], {
    ...io,
    stdout: (text) => {
      out += text;
    },
  });
  const url = out.split('\n').find((line) => line.trim().startsWith('postgres://'));
  if (status !== 0 || !url) throw new UserError(`no URL for ${name}`);
  return url.trim();
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function envVar(file: string, name: string): string {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}=`));
  if (!line) throw new UserError(`${name} is not in ${file}`);
  return line.slice(name.length + 1);
}
