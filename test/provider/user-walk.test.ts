import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivedOwnerName } from '../../src/reconciler/diff';
import {
  createTestDatabase,
  dropRoles,
  type TestDatabase,
  testServer,
  tryAs,
  uniqueName,
} from '../harness/pg';
import { installPackage, removeBuiltPackage } from './installed-package';
import { ROOT, type Run, run, Terraform, terraformEnv } from './terraform-cli';

/**
 * The walk a new user takes, from copies of the examples outside the repository,
 * against pgcred as the package installs it (no ../../src, no repository mirror):
 * install the provider, init, apply, a clean plan, destroy, apply again, destroy
 * again; a credential made with the CLI's URL form and imported keeps its password;
 * a wrong admin password names the database and the host; two checkouts of the CDKTF
 * example synthesize the same JSON.
 */
const MINUTE = 60_000;
const masterKey = randomBytes(32).toString('hex');
const secrets = new Set<string>();
let hclDb: TestDatabase;
let cdktfDb: TestDatabase;
let work: string;
const prefix = `${uniqueName('walk')}_`;
const hclName = `postgresql-${uniqueName('walk')}`.replace(/_/g, '-');
const cdktfName = `postgresql-${uniqueName('walkcd')}`.replace(/_/g, '-');
const names = ['analyst', 'billing', 'limited_user', 'reporter'].map((n) => `${prefix}${n}`);

/** Copies an example out of the repository, as a user does, and installs pgcred into the copy. */
function copyExample(example: string, into: string): string {
  const dir = join(work, into);
  cpSync(join(ROOT, 'examples', example), dir, {
    recursive: true,
    filter: (source) => !/cdktf\.out|node_modules|\.terraform/.test(source),
  });
  installPackage(dir);
  return dir;
}

/** Edits a copied file the way a user adapts an example: each edit must apply. */
function edit(path: string, edits: readonly [RegExp | string, string][]): void {
  let text = readFileSync(path, 'utf8');
  for (const [from, to] of edits) {
    const next = text.replace(typeof from === 'string' ? new RegExp(escapeRegExp(from), 'g') : from, to);
    if (next === text) throw new Error(`${path}: nothing matched ${String(from)}`);
    text = next;
  }
  writeFileSync(path, text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
}

async function installProviderIn(dir: string, command: readonly string[]): Promise<string> {
  const result = await run(command[0]!, command.slice(1), dir, {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
  });
  if (result.status !== 0) throw new Error(`provider install failed\n${result.stdout}\n${result.stderr}`);
  expect(result.stdout).toContain(join(dir, '.terraform-mirror', 'terraform.rc'));
  return join(dir, '.terraform-mirror', 'terraform.rc');
}

/** What the control store keeps for a database, besides its default credential's password. */
async function kept(db: TestDatabase, name: string) {
  const [row] = await db.sql(
    `SELECT (SELECT count(*)::int FROM pgcred.secrets WHERE database = $1 AND username <> $2) AS secrets,
            (SELECT count(*)::int FROM pgcred.apps) AS apps,
            (SELECT count(*)::int FROM pgcred.releases) AS releases,
            (SELECT count(*)::int FROM pgcred.attachments) AS attachments`,
    [name, derivedOwnerName(name)],
  );
  return row;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgcred-walk-'));
  [hclDb, cdktfDb] = await Promise.all([createTestDatabase('walk'), createTestDatabase('walkcd')]);
  for (const db of [hclDb, cdktfDb])
    await db.sql('CREATE TABLE public.users (id serial PRIMARY KEY, email text)');
  secrets.add(testServer().password);
}, 2 * MINUTE);

afterAll(async () => {
  await hclDb?.drop();
  await cdktfDb?.drop();
  await dropRoles([
    ...names.flatMap((n) => [n, `${n}-rotating`]),
    derivedOwnerName(hclName),
    derivedOwnerName(cdktfName),
  ]);
  if (work) rmSync(work, { recursive: true, force: true });
  removeBuiltPackage();
});

describe('examples/terraform-provider, copied out of the repository', () => {
  let dir: string;
  let terraform: Terraform;
  const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> =>
    run(join(dir, 'node_modules', '.bin', 'pgcred'), args, dir, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PGCRED_MASTER_KEY: masterKey,
      ...env,
    });

  beforeAll(async () => {
    dir = copyExample('terraform-provider', 'hcl');
    // Roles are cluster-wide and test files share one: names of this test's own.
    edit(join(dir, 'main.tf'), [
      ['postgresql-sunny-1234', hclName],
      ...['analyst', 'billing', 'limited_user'].map((name): [RegExp, string] => [
        new RegExp(`(\\bname\\s*=\\s*)"${name}"`),
        `$1"${prefix}${name}"`,
      ]),
    ]);
    const rc = await installProviderIn(dir, [join(dir, 'node_modules', '.bin', 'pgcred-provider-install')]);
    terraform = new Terraform(
      dir,
      terraformEnv({ TF_CLI_CONFIG_FILE: rc, PGCRED_MASTER_KEY: masterKey, TF_VAR_admin_url: hclDb.url }),
    );
  }, 2 * MINUTE);

  it(
    'init, apply, a clean plan, destroy, apply again clean, destroy again',
    async () => {
      await terraform.init();
      expect((await terraform.apply()).stdout).toContain('Apply complete! Resources: 6 added');
      await terraform.plan(0);
      const destroy = await terraform.run(['destroy', '-auto-approve', '-input=false']);
      expect(destroy.stdout).toContain('Resources: 6 destroyed');
      // Everything it made is gone, stored passwords and the app's releases included.
      expect(await kept(hclDb, hclName)).toEqual({ secrets: 0, apps: 0, releases: 0, attachments: 0 });

      expect((await terraform.apply()).stdout).toContain('Apply complete! Resources: 6 added');
      await terraform.plan(0);
      const env = readFileSync(join(dir, 'run', 'example-app.env'), 'utf8');
      const analyst = /^DATABASE_URL='?([^'\n]+)/m.exec(env)![1]!;
      secrets.add(new URL(analyst).password);
      expect(await tryAs(analyst, 'SELECT count(*) FROM public.users')).toMatchObject({ ok: true });

      await terraform.run(['destroy', '-auto-approve', '-input=false']);
      expect(await kept(hclDb, hclName)).toEqual({ secrets: 0, apps: 0, releases: 0, attachments: 0 });
    },
    6 * MINUTE,
  );

  it(
    'credentials:create with the URL, then terraform import: the password survives the next apply',
    async () => {
      await terraform.apply();
      const reporter = `${prefix}reporter`;
      // No pgcred.yaml here: the URL names the database, the registry its Terraform name.
      const create = await cli(['credentials:create', hclDb.url, '--name', reporter]);
      expect(create).toMatchObject({ status: 0 });
      expect(create.stdout).toContain(`pgcred attach ${hclName} --credential ${reporter}`);
      const shown = await cli(['credentials:url', hclDb.url, '--name', reporter]);
      expect(shown).toMatchObject({ status: 0 });
      const url = /postgres:\/\/\S+/.exec(shown.stdout.split('Connection URL:')[1]!)![0];
      secrets.add(new URL(url).password);
      expect(await tryAs(url, 'SELECT 1')).toMatchObject({ ok: true });

      writeFileSync(
        join(dir, 'main.tf'),
        `${readFileSync(join(dir, 'main.tf'), 'utf8')}\nresource "pgcred_credential" "reporter" {\n  database   = "${hclName}"\n  name       = "${reporter}"\n  permission = "read-only"\n}\n`,
      );
      await terraform.run(['import', '-input=false', 'pgcred_credential.reporter', `${hclName}/${reporter}`]);
      const plan = await terraform.plan(2);
      expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
      expect(plan.stdout).not.toContain('password');
      await terraform.apply();
      await terraform.plan(0);
      expect(await tryAs(url, 'SELECT count(*) FROM public.users')).toMatchObject({ ok: true });

      // The CLI without a file: by Terraform's name with PGCRED_DATABASE_URL, and an app's config vars.
      const listing = await cli(['credentials', hclName], { PGCRED_DATABASE_URL: hclDb.url });
      expect(listing).toMatchObject({ status: 0 });
      expect(listing.stdout).toContain(reporter);
      const config = await cli(['config', '--app', 'example-app'], { PGCRED_CONTROL_URL: hclDb.url });
      expect(config).toMatchObject({ status: 0 });
      expect(config.stdout).toContain('DATABASE_URL');
    },
    4 * MINUTE,
  );

  it(
    'a wrong admin password: the message names the database, the host and what failed',
    async () => {
      const wrong = new Terraform(dir, {
        ...terraform.env,
        TF_VAR_admin_url: withPassword(hclDb.url, 'wrong'),
      });
      const plan = await wrong.run(['plan', '-input=false'], 1);
      // Terraform wraps diagnostics at 80 columns.
      const printed = (plan.stdout + plan.stderr).replace(/\s+/g, ' ');
      const { host, port } = testServer();
      expect(printed).toContain(`cannot connect to database ${hclName} on ${host}:${port} as postgres`);
      expect(printed).toContain('password authentication failed');
      expect(printed).not.toMatch(/PlanResourceChange|ReadResource|control store:/);
    },
    2 * MINUTE,
  );

  it(
    'destroys the imported credential with the rest; no secret was printed',
    async () => {
      await terraform.run(['destroy', '-auto-approve', '-input=false']);
      expect(await kept(hclDb, hclName)).toEqual({ secrets: 0, apps: 0, releases: 0, attachments: 0 });
      const printed = terraform.printed();
      for (const secret of secrets) expect(printed).not.toContain(secret);
    },
    2 * MINUTE,
  );
});

describe('examples/cdktf-pgcred-provider, copied out of the repository', () => {
  let dir: string;
  let terraform: Terraform;
  let deployEnv: NodeJS.ProcessEnv;
  const cdktf = async (args: readonly string[]): Promise<Run> => {
    const result = await run(join(dir, 'node_modules', '.bin', 'cdktf'), args, dir, deployEnv);
    if (result.status !== 0)
      throw new Error(`cdktf ${args.join(' ')} exited ${result.status}\n${result.stdout}${result.stderr}`);
    terraform.runs.push(result);
    return result;
  };
  const stackDir = () => join(dir, 'cdktf.out', 'stacks', 'sunny');
  const synthesized = (project: string) =>
    ['cdk.tf.json', 'pgcred.manifest.json'].map((file) =>
      readFileSync(join(project, 'cdktf.out', 'stacks', 'sunny', file), 'utf8'),
    );

  beforeAll(async () => {
    dir = copyExample('cdktf-pgcred-provider', 'cdktf-a');
    const other = copyExample('cdktf-pgcred-provider', join('elsewhere', 'cdktf-b'));
    for (const project of [dir, other]) {
      edit(join(project, 'main.ts'), [
        [
          "{ terraformProvider: 'pgcred' }",
          `{ terraformProvider: 'pgcred', databaseName: '${cdktfName}', credentialPrefix: '${prefix}' }`,
        ],
      ]);
    }
    const base = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CHECKPOINT_DISABLE: '1',
      CI: '1',
      FORCE_COLOR: '0',
    };
    // Two checkouts at different paths synthesize the same JSON: no machine's path, no generated owner.
    for (const project of [dir, other]) {
      const synth = await run(join(project, 'node_modules', '.bin', 'cdktf'), ['synth'], project, base);
      if (synth.status !== 0) throw new Error(`cdktf synth failed\n${synth.stdout}${synth.stderr}`);
    }
    const [tf, manifest] = synthesized(dir);
    expect(synthesized(other)).toEqual([tf, manifest]);
    expect(`${tf}${manifest}`).not.toContain(work);
    expect(tf).not.toContain(derivedOwnerName(cdktfName));
    expect(tf).toContain('"env_file": "../../../run/example-app.env"');
    expect(manifest).toContain('"grace": "30m"');

    const rc = await installProviderIn(dir, ['npm', 'run', '--silent', 'provider:install']);
    const variable = `TF_VAR_${cdktfName.replace(/-/g, '_')}_url`;
    deployEnv = { ...base, TF_CLI_CONFIG_FILE: rc, PGCRED_MASTER_KEY: masterKey, [variable]: cdktfDb.url };
    terraform = new Terraform(stackDir(), terraformEnv(deployEnv));
  }, 3 * MINUTE);

  it(
    'cdktf deploy, a clean plan, cdktf destroy, deploy again clean, destroy again',
    async () => {
      expect((await cdktf(['deploy', '--skip-provider-lock', '--auto-approve'])).stdout).toContain(
        'Apply complete! Resources: 8 added',
      );
      // `cdktf diff` exits 0 whatever it finds: CI gates on terraform's detailed exit code.
      await terraform.plan(0);
      expect((await cdktf(['destroy', '--auto-approve'])).stdout).toContain(
        'Destroy complete! Resources: 8 destroyed',
      );
      expect(await kept(cdktfDb, cdktfName)).toEqual({ secrets: 0, apps: 0, releases: 0, attachments: 0 });
      expect((await cdktf(['deploy', '--skip-provider-lock', '--auto-approve'])).stdout).toContain(
        'Apply complete! Resources: 8 added',
      );
      await terraform.plan(0);
      const env = readFileSync(join(dir, 'run', 'billing-app.env'), 'utf8');
      const billing = /^DATABASE_URL='?([^'\n]+)/m.exec(env)![1]!;
      secrets.add(new URL(billing).password);
      expect(await tryAs(billing, 'INSERT INTO public.users (email) VALUES (NULL)')).toMatchObject({
        ok: true,
      });
      await cdktf(['destroy', '--auto-approve']);
      expect(await kept(cdktfDb, cdktfName)).toEqual({ secrets: 0, apps: 0, releases: 0, attachments: 0 });
      const printed = terraform.printed();
      for (const secret of secrets) expect(printed).not.toContain(secret);
    },
    8 * MINUTE,
  );
});
