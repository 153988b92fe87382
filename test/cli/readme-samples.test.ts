import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Io } from '../../src/cli/io';
import { runCli } from '../../src/cli/main';
import { type PostgresServer, startPostgres } from '../../src/embedded/server';
import { levelRoleName } from '../../src/model/level-roles';
import { testKey } from '../harness/cli';
import {
  readmeSample,
  readmeSamples,
  rebase,
  rebasing,
  type Sample,
  unmarkedOutputBlocks,
  writeRebased,
} from '../harness/readme';
import { testBinDir } from '../harness/versions';

/**
 * Every sample output in README.md, produced by pgcred against a real PostgreSQL and
 * compared whole: what a terminal shows, stdout and stderr in the order they were
 * written. Only what changes from run to run is normalised (the server's port, the
 * passwords pgcred generates, the test's directory). The server is this file's own, so
 * the roles have the README's names (analyst, shop_owner, shop_app) rather than
 * suffixed ones that would shift every column. States are made, not waited for: the
 * rotation's open connection is one the test holds.
 *
 * The README is the golden. After a change that alters the output on purpose:
 * `PGCRED_README_REBASE=1 npx jest test/cli/readme-samples.test.ts`, then review the
 * README's diff.
 */

/** The samples this file produces, each in the test named for it below. */
const PRODUCED_HERE = [
  'file-shape-problems',
  'file-limit-problems',
  'attach',
  'credentials',
  'url',
  'plan',
  'drift-in-sync',
  'destroy-refusals',
  'stale-plan',
  'rotating',
  'public-notice',
  'level-change',
];

/** The samples other test files produce (their clusters hold what these need). */
const ELSEWHERE: Record<string, string> = {
  'import-console': 'test/import/brownfield-import.test.ts',
  'import-yaml': 'test/import/brownfield-import.test.ts',
  'fleet-drift': 'test/cli/fleet.test.ts',
  'destroy-elsewhere': 'test/reconciler/foreign-dependencies.test.ts',
};

const DATABASE = 'postgresql-sunny-1234';

const FILE = `version: 1
databases:
  - name: ${DATABASE}
    url: \${DATABASE_ADMIN_URL}
    owner: shop_owner
    color: CYAN
    credentials:
      - { name: analyst, permission: read-only }
apps:
  - { name: example-app }
`;

let server: PostgresServer;
let dir: string;
let env: NodeJS.ProcessEnv;

interface Run {
  readonly status: number;
  /** stdout and stderr as a terminal interleaves them, normalised. */
  readonly output: string;
}

function normalise(text: string): string {
  let out = text.split(`${dir}/`).join('');
  if (server) {
    out = out
      .split(`127.0.0.1:${server.port}`)
      .join('db.example.com:5432')
      .split(`host=127.0.0.1 port=${server.port}`)
      .join('host=db.example.com port=5432');
  }
  // Generated passwords: 65 letters and digits. The README shows one of its own.
  return out.replace(/\b[A-Za-z0-9]{65}\b/g, '<password>');
}

async function pgcred(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<Run> {
  let output = '';
  const io: Io = {
    stdout: (text) => {
      output += text;
    },
    stderr: (text) => {
      output += text;
    },
    env: { PATH: process.env.PATH, ...(options.env ?? env) },
    cwd: options.cwd ?? dir,
    interactive: false,
    prompt: async () => '',
    ...(options.stdin !== undefined ? { readStdin: async () => options.stdin! } : {}),
  };
  const status = await runCli(args, io);
  return { status, output: normalise(output) };
}

async function ok(...args: string[]): Promise<Run> {
  const run = await pgcred(args);
  if (run.status !== 0) throw new Error(`pgcred ${args.join(' ')} exited ${run.status}:\n${run.output}`);
  return run;
}

async function sql(database: string, ...statements: string[]): Promise<void> {
  const client = new Client({ connectionString: server.url(database) });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

function expectExit(run: Run, status: number): void {
  if (run.status !== status) throw new Error(`exit ${run.status}, not ${status}:\n${run.output}`);
}

/** Compares a whole output with the README's sample (or, rebasing, writes it there). */
function expectSample(name: string, actual: string): void {
  expect(PRODUCED_HERE).toContain(name);
  const sample = readmeSample(name);
  if (sample.excerpt) {
    // Lines cut out of a longer output: they must be whole, consecutive lines of it.
    expect(`\n${actual}`).toContain(`\n${normalise(sample.text)}`);
    return;
  }
  if (rebasing) rebase(name, actual);
  else expect(actual).toBe(normalise(sample.text));
}

/** The words of a `$ pgcred ...` line: its comment dropped, "quoted" words kept whole. */
function words(line: string): string[] {
  const command = line.replace(/^\$ /, '').replace(/\s+#.*$/, '');
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
}

/**
 * Runs each `$ pgcred ...` line of a console sample in turn and compares the
 * transcript, commands and outputs, with the sample; `statuses` are the exit codes.
 */
async function expectConsole(name: string, statuses: readonly number[]): Promise<void> {
  const sample: Sample = readmeSample(name);
  const commands = sample.text.split('\n').filter((line) => line.startsWith('$ '));
  let transcript = '';
  const got: number[] = [];
  for (const command of commands) {
    const run = await pgcred(words(command));
    got.push(run.status);
    transcript += `${command}\n${run.output}`;
  }
  expect(got).toEqual(statuses);
  expectSample(name, transcript);
}

beforeAll(async () => {
  server = await startPostgres({ binDir: testBinDir() });
  dir = mkdtempSync(join(tmpdir(), 'pgcred-readme-'));
  writeFileSync(join(dir, 'pgcred.yaml'), FILE);
  env = { DATABASE_ADMIN_URL: server.url('sunny'), PGCRED_MASTER_KEY: testKey() };
  // A database that has run for a while: an owner whose password pgcred does not know,
  // and the tables its migrations made.
  await sql(
    'postgres',
    "CREATE ROLE shop_owner LOGIN PASSWORD 'legacy-owner-password'",
    'CREATE DATABASE sunny OWNER shop_owner',
    'REVOKE CONNECT, TEMPORARY ON DATABASE sunny FROM PUBLIC',
  );
  await sql(
    'sunny',
    'SET ROLE shop_owner',
    'CREATE SCHEMA billing',
    ...Array.from({ length: 39 }, (_, i) => `CREATE TABLE public.t${i + 1} (id int)`),
    'CREATE TABLE public.notes (id int)',
    ...Array.from({ length: 12 }, (_, i) => `CREATE TABLE billing.b${i + 1} (id int)`),
  );
  await ok('apply', '--yes');
}, 120_000);

afterAll(async () => {
  if (rebasing) writeRebased();
  await server?.stop();
});

describe('the README samples are what pgcred prints', () => {
  it('the file problems: first its shape and environment, then its limits and references', async () => {
    const credentials = Array.from({ length: 61 }, (_, i) =>
      i === 3 ? '      - { name: "bad name!" }' : `      - { name: reader${i} }`,
    );
    const file = (names: string[]) => `version: 1
databases:
  - name: ${DATABASE}
    url: \${DATABASE_ADMIN_URL}
    plan: standard-0
    credentials:
${names.join('\n')}
apps:
  - { name: example-app }
attachments:
  - { database: ${DATABASE}, credential: analist, app: example-app }
`;
    const bad = mkdtempSync(join(tmpdir(), 'pgcred-readme-bad-'));
    writeFileSync(join(bad, 'pgcred.yaml'), file(credentials));
    const shape = await pgcred(['plan'], { cwd: bad, env: { PGCRED_MASTER_KEY: testKey() } });
    expect(shape.status).toBe(1);
    expectSample('file-shape-problems', shape.output.split(`${bad}/`).join(''));

    writeFileSync(
      join(bad, 'pgcred.yaml'),
      file(credentials.map((c, i) => (i === 3 ? '      - { name: reader3 }' : c))),
    );
    const semantic = await pgcred(['plan'], { cwd: bad });
    expect(semantic.status).toBe(1);
    expectSample('file-limit-problems', semantic.output.split(`${bad}/`).join(''));
  });

  it('attach, config and detach', async () => {
    await expectConsole('attach', [0, 0, 0]);
  });

  it('the credentials listing, with a default credential whose password pgcred does not know', async () => {
    await ok('attach', DATABASE, '--credential', 'analyst', '--app', 'example-app');
    await expectConsole('credentials', [0]);
  });

  it("a credential's URL", async () => {
    // From here on pgcred knows the owner's password, as after the listing's advice.
    expectExit(
      await pgcred(['credentials:password', DATABASE, '--name', 'default'], {
        stdin: 'legacy-owner-password',
      }),
      0,
    );
    await expectConsole('url', [0]);
  });

  it('plan, drift and apply on a database changed by hand, then drift in sync', async () => {
    await sql(
      'sunny',
      'GRANT INSERT ON public.notes TO analyst',
      // analyst reads through its level role: the level role loses a schema's tables.
      `REVOKE SELECT ON ALL TABLES IN SCHEMA billing FROM "${levelRoleName(DATABASE, 'read-only')}"`,
      "ALTER ROLE analyst PASSWORD 'changed-by-hand'",
      'CREATE ROLE shop_app LOGIN',
      'GRANT CONNECT ON DATABASE sunny TO shop_app',
    );
    const plan = await pgcred(['plan']);
    expect(plan.status).toBe(0);
    expectSample('plan', plan.output);
    // drift and apply print the same plan under their own heading, and one line on stderr.
    const golden = rebasing ? plan.output : normalise(readmeSample('plan').text);
    const drift = await pgcred(['drift']);
    expect(drift).toEqual({
      status: 2,
      output: `${golden.replace(/^Plan for /, 'Drift for ')}Drift found in ${DATABASE}.\n`,
    });
    const apply = await pgcred(['apply', '--yes']);
    const count = /: (\d+) changes?,/.exec(golden)![1];
    expect(apply).toEqual({
      status: 0,
      output: `Applied ${count} changes to ${DATABASE} in one transaction.\n${golden.replace(/^Plan for /, 'Applied for ')}`,
    });
    await expectConsole('drift-in-sync', [0]);
  });

  it("destroy's refusals, each before anything is asked", async () => {
    await expectConsole('destroy-refusals', [1, 1, 1, 1]);
  });

  it('a saved plan the database moved away from', async () => {
    await ok('plan', '--out', 'plan.json');
    await sql('sunny', 'ALTER ROLE analyst CONNECTION LIMIT 5');
    const apply = await pgcred(['apply', 'plan.json']);
    expect(apply.status).toBe(1);
    expectSample('stale-plan', apply.output);
  });

  it('the listing during a rotation, with a connection the old username still holds', async () => {
    await sql('sunny', 'ALTER ROLE analyst CONNECTION LIMIT -1');
    await ok('apply', '--yes');
    // The app gets DATABASE from default and HEROKU_POSTGRESQL_CYAN from analyst.
    await ok('detach', '--app', 'example-app', 'DATABASE');
    await ok('attach', DATABASE, '--credential', 'default', '--app', 'example-app');
    await ok('attach', DATABASE, '--credential', 'analyst', '--app', 'example-app');
    const held = new Client({ connectionString: await rawUrl('analyst') });
    await held.connect();
    try {
      await ok('credentials:rotate', DATABASE, '--name', 'analyst', '--no-wait', '--confirm', DATABASE);
      await expectConsole('rotating', [0]);
    } finally {
      await held.end();
    }
  });

  it('a level change: two membership statements', async () => {
    // shop_app, which the plan above found, is left out of this sample: its notice is shown there.
    await sql('sunny', 'REVOKE CONNECT ON DATABASE sunny FROM shop_app');
    writeFileSync(
      join(dir, 'pgcred.yaml'),
      FILE.replace('{ name: analyst, permission: read-only }', '{ name: analyst, permission: read-write }'),
    );
    try {
      const plan = await pgcred(['plan']);
      expectExit(plan, 0);
      if (server.majorVersion >= 16) expectSample('level-change', plan.output);
      // Before 16 a membership has no options and one grantor: the same plan, plainer statements.
      else
        expect(plan.output).toBe(
          normalise(readmeSample('level-change').text).replace(
            / WITH INHERIT TRUE, SET FALSE GRANTED BY "[^"]+"| GRANTED BY "[^"]+"/g,
            '',
          ),
        );
    } finally {
      writeFileSync(join(dir, 'pgcred.yaml'), FILE);
      await sql('sunny', 'GRANT CONNECT ON DATABASE sunny TO shop_app');
    }
  });

  it('the notice where PUBLIC is left as it is', async () => {
    await sql(
      'postgres',
      "CREATE ROLE shop_admin LOGIN PASSWORD 'legacy-admin-password'",
      'CREATE ROLE etl LOGIN',
      'CREATE ROLE dba_jane LOGIN',
      // shop_app is the one the plan above found on sunny, when that test ran.
      'DO $$ BEGIN CREATE ROLE shop_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$',
      'CREATE DATABASE shop OWNER shop_admin',
    );
    await sql(
      'shop',
      'SET ROLE shop_admin',
      "CREATE FUNCTION public.place_order() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
      "CREATE FUNCTION public.refund() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
      'RESET ROLE',
      // The README shows PostgreSQL 15 and later, where PUBLIC may not CREATE in public.
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
    );
    const shop = mkdtempSync(join(tmpdir(), 'pgcred-readme-shop-'));
    writeFileSync(
      join(shop, 'pgcred.yaml'),
      'version: 1\ndatabases:\n  - name: shop\n    url: ${SHOP_URL}\n    owner: shop_admin\n',
    );
    const plan = await pgcred(['plan'], { cwd: shop, env: { ...env, SHOP_URL: server.url('shop') } });
    expectExit(plan, 0);
    expectSample('public-notice', plan.output);
  });

  it('mark every output block, and each is produced by a test', () => {
    expect(unmarkedOutputBlocks()).toEqual([]);
    const produced = [...PRODUCED_HERE, ...Object.keys(ELSEWHERE)].sort();
    expect([...readmeSamples().keys()].sort()).toEqual(produced);
  });
});

/** A credential's URL as `credentials:url` prints it, not normalised: to connect with. */
async function rawUrl(credential: string): Promise<string> {
  let output = '';
  const io: Io = {
    stdout: (text) => {
      output += text;
    },
    stderr: () => undefined,
    env: { PATH: process.env.PATH, ...env },
    cwd: dir,
    interactive: false,
    prompt: async () => '',
  };
  await runCli(['credentials:url', DATABASE, '--name', credential], io);
  return /postgres:\/\/\S+/.exec(output)![0];
}
