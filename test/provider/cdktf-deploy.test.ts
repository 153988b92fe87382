import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detach } from '../../src/attachments/attachments';
import { MasterKey } from '../../src/control/crypto';
import { ControlStore } from '../../src/control/store';
import type { DatabaseSpec } from '../../src/model/config';
import { levelRoleName } from '../../src/model/level-roles';
import { derivedOwnerName } from '../../src/reconciler/diff';
import {
  createTestDatabase,
  dropRoles,
  type TestDatabase,
  testServer,
  tryAs,
  uniqueName,
} from '../harness/pg';
import { type ExampleStackProps, STACK, synthesizeExample } from './example-stack';
import { installProvider, ROOT, type Run, run, Terraform, terraformEnv } from './terraform-cli';

/**
 * `cdktf deploy` that really deploys: the example stack (examples/cdktf-pgcred-provider)
 * targeting pgcred's own provider, deployed offline against a real PostgreSQL, then
 * lived with as an infra repo would: a no-op plan, drift made by hand and repaired,
 * a level change, a rotation through rotation_trigger, destroy. The apps' env files
 * are what the apps see, so every check logs in with the URL an env file holds.
 */
const MINUTE = 60_000;

let db: TestDatabase;
let project: string;
let props: ExampleStackProps;
let terraform: Terraform;
let deployOutput = '';
const masterKey = randomBytes(32).toString('hex');
const prefix = `${uniqueName('cd')}_`;
const names = { analyst: `${prefix}analyst`, limited: `${prefix}limited_user`, billing: `${prefix}billing` };
/** Every password seen, to prove none is ever printed. */
const secrets = new Set<string>();

function stackDir(): string {
  return join(project, 'cdktf.out', 'stacks', STACK);
}

/** Synthesizes the example again with changed props, in-process, where `cdktf deploy` wrote it. */
function resynthesize(changes: Partial<ExampleStackProps>): void {
  props = { ...props, ...changes };
  synthesizeExample({ ...props, outdir: join(project, 'cdktf.out') });
}

/** An app's config vars, as its env file holds them (mode 0600). */
function envFile(app: string): Record<string, string> {
  const path = join(props.runDirectory, `${app}.env`);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(?:'(.*)'|(.*))$/.exec(line);
    if (!match) continue;
    vars[match[1]!] = match[2] ?? match[3]!;
    secrets.add(new URL(vars[match[1]!]!).password);
  }
  return vars;
}

function usernameOf(url: string | undefined): string {
  return decodeURIComponent(new URL(url!).username);
}

interface State {
  readonly resources: {
    readonly type: string;
    readonly instances: { attributes: Record<string, unknown>; sensitive_attributes: unknown[] }[];
  }[];
}

/** The state file the local backend keeps (`terraform show -json` would print the sensitive values). */
function state(): State {
  return JSON.parse(readFileSync(props.statePath, 'utf8')) as State;
}

/** The attributes of the state's resources of one type. */
function stateOf(type: string): Record<string, unknown>[] {
  return state()
    .resources.filter((r) => r.type === type)
    .flatMap((r) => r.instances.map((i) => i.attributes));
}

function spec(): DatabaseSpec {
  return {
    name: db.name,
    url: db.url,
    plan: 'standard-0',
    color: 'CYAN',
    role: 'primary',
    executor: 'pgcred',
    ignoreRoles: [],
    credentials: [],
  };
}

beforeAll(async () => {
  installProvider();
  db = await createTestDatabase('cdktfp');
  // The table limited_user's grant names, and one more for the levels to cover.
  await db.sql(
    'CREATE TABLE public.users (id serial PRIMARY KEY, email text); CREATE TABLE public.orders (id serial PRIMARY KEY, cents int)',
  );
  project = mkdtempSync(join(tmpdir(), 'pgcred-cdktf-deploy-'));
  props = {
    // The Heroku-style name: also the default credential's derived username, so unique too.
    databaseName: db.name,
    credentialPrefix: prefix,
    runDirectory: join(project, 'run'),
    statePath: join(project, `terraform.${STACK}.tfstate`),
  };
  writeFileSync(join(project, 'stack.json'), JSON.stringify(props));
  writeFileSync(
    join(project, 'cdktf.json'),
    JSON.stringify({ language: 'typescript', app: `${join(ROOT, 'node_modules', '.bin', 'tsx')} main.ts` }),
  );
  writeFileSync(
    join(project, 'main.ts'),
    `require(${JSON.stringify(join(__dirname, 'example-stack.ts'))}).synthesizeExample(require('./stack.json'));\n`,
  );
  terraform = new Terraform(
    stackDir(),
    terraformEnv({ PGCRED_MASTER_KEY: masterKey, [`TF_VAR_${db.name}_url`]: db.url }),
  );
  secrets.add(testServer().password);
}, 4 * MINUTE);

afterAll(async () => {
  await db?.drop();
  await dropRoles([
    ...Object.values(names).flatMap((name) => [name, `${name}-rotating`]),
    ...(db ? [derivedOwnerName(db.name)] : []),
  ]);
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('cdktf deploy with the pgcred provider, offline, against a real PostgreSQL', () => {
  it(
    'creates the credentials, the apps and their attachments; the env files log in with each level',
    async () => {
      const deploy: Run = await run(
        join(ROOT, 'node_modules', '.bin', 'cdktf'),
        ['deploy', '--skip-provider-lock', '--auto-approve'],
        project,
        { ...terraform.env, CI: '1', FORCE_COLOR: '0' },
      );
      deployOutput = deploy.stdout + deploy.stderr;
      if (deploy.status !== 0) throw new Error(`cdktf deploy exited ${deploy.status}\n${deployOutput}`);
      expect(deployOutput).toContain('Apply complete! Resources: 8 added, 0 changed, 0 destroyed.');

      const example = envFile('example-app');
      const billing = envFile('billing-app');
      // The default credential first, as on Heroku: DATABASE_URL; then the database's color.
      expect(Object.keys(example).sort()).toEqual(['DATABASE_URL', 'HEROKU_POSTGRESQL_CYAN_URL']);
      expect(usernameOf(example.DATABASE_URL)).toBe(derivedOwnerName(db.name));
      expect(usernameOf(example.HEROKU_POSTGRESQL_CYAN_URL)).toBe(names.analyst);
      expect(Object.keys(billing)).toEqual(['DATABASE_URL']);
      expect(usernameOf(billing.DATABASE_URL)).toBe(names.billing);

      const analyst = example.HEROKU_POSTGRESQL_CYAN_URL!;
      expect(await tryAs(analyst, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
      expect(await tryAs(analyst, 'INSERT INTO public.orders (cents) VALUES (1)')).toMatchObject({
        ok: false,
        code: '42501',
      });
      expect(
        await tryAs(billing.DATABASE_URL!, 'INSERT INTO public.orders (cents) VALUES (2)'),
      ).toMatchObject({
        ok: true,
      });
      expect(await tryAs(example.DATABASE_URL!, 'SELECT current_user AS who')).toMatchObject({
        ok: true,
        rows: [{ who: derivedOwnerName(db.name) }],
      });
      const limited = await db.sql(
        `SELECT has_table_privilege($1, 'public.users', 'SELECT') AS users,
                has_table_privilege($1, 'public.orders', 'SELECT') AS orders`,
        [names.limited],
      );
      expect(limited).toEqual([{ users: true, orders: false }]);

      // Terraform's state names the attachments as the apps see them; the URL is sensitive.
      const attachments = stateOf('pgcred_attachment');
      expect(attachments.map((a) => `${a.app}/${a.name} ${a.config_var}`).sort()).toEqual([
        'billing-app/DATABASE DATABASE_URL',
        'example-app/DATABASE DATABASE_URL',
        'example-app/HEROKU_POSTGRESQL_CYAN HEROKU_POSTGRESQL_CYAN_URL',
      ]);
      expect(attachments.find((a) => a.credential === names.analyst)?.url).toBe(analyst);
    },
    4 * MINUTE,
  );

  it(
    'plans no change after the deploy',
    async () => {
      const plan = await terraform.plan(0);
      expect(plan.stdout).toContain('No changes.');
    },
    2 * MINUTE,
  );

  it(
    'shows a grant revoked and an attachment detached by hand in the next plan, and apply repairs both',
    async () => {
      // analyst reads through the read-only level role, which loses a table by hand.
      await db.sql(`REVOKE SELECT ON public.orders FROM "${levelRoleName(db.name, 'read-only')}"`);
      const control = await ControlStore.open(db.url, MasterKey.parse(masterKey, 'the test key'));
      try {
        const config = { version: 1 as const, databases: [spec()], apps: [], attachments: [], control: {} };
        await detach({ config, control, progress: () => undefined }, 'billing-app', 'DATABASE');
      } finally {
        await control.close();
      }
      const analyst = envFile('example-app').HEROKU_POSTGRESQL_CYAN_URL!;
      expect(await tryAs(analyst, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: false });
      expect(envFile('billing-app')).toEqual({});

      const plan = await terraform.plan(2);
      expect(plan.stdout).toMatch(/pgcred_credential\.\w*Analyst\w* will be updated in-place/);
      expect(plan.stdout).toMatch(
        /"lacks SELECT on public\.orders \(1 of \d+ tables in schema public\), which read-only grants"/,
      );
      expect(plan.stdout).toMatch(/pgcred_attachment\.\w*BillingAppBilling\w* will be created/);
      expect(plan.stdout).toContain('Plan: 1 to add, 1 to change, 0 to destroy.');

      await terraform.apply();
      expect(await tryAs(analyst, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
      const billing = envFile('billing-app');
      expect(Object.keys(billing)).toEqual(['DATABASE_URL']);
      expect(await tryAs(billing.DATABASE_URL!, 'SELECT 1')).toMatchObject({ ok: true });
      await terraform.plan(0);
    },
    3 * MINUTE,
  );

  it(
    'applies a level change',
    async () => {
      resynthesize({ analystPermission: 'read-write' });
      const apply = await terraform.apply();
      expect(apply.stdout).toMatch(/~ permission = "read-only" -> "read-write"/);
      expect(apply.stdout).toContain('Resources: 0 added, 1 changed, 0 destroyed.');
      const analyst = envFile('example-app').HEROKU_POSTGRESQL_CYAN_URL!;
      expect(await tryAs(analyst, 'INSERT INTO public.orders (cents) VALUES (3)')).toMatchObject({
        ok: true,
      });
      await terraform.plan(0);
    },
    3 * MINUTE,
  );

  it(
    'rotates billing when rotation_trigger changes: the old password is refused, the app has the new URL',
    async () => {
      const before = envFile('billing-app').DATABASE_URL!;
      resynthesize({ billingRotationTrigger: '2026-11-27' });
      const apply = await terraform.apply();
      expect(apply.stdout).toMatch(/\+ rotation_trigger = "2026-11-27"/);
      expect(apply.stdout).toContain('Resources: 0 added, 1 changed, 0 destroyed.');

      const after = envFile('billing-app').DATABASE_URL!;
      expect(usernameOf(after)).toBe(names.billing);
      expect(new URL(after).password).not.toBe(new URL(before).password);
      expect(await tryAs(before, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
      expect(await tryAs(after, 'INSERT INTO public.orders (cents) VALUES (4)')).toMatchObject({ ok: true });
      expect(
        await db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${names.billing}-rotating`]),
      ).toEqual([]);

      // The attachment is not replaced: a refresh brings its new URL into the state.
      await terraform.plan(0);
      await terraform.run(['apply', '-refresh-only', '-auto-approve', '-input=false']);
      const attachment = stateOf('pgcred_attachment').find((a) => a.credential === names.billing);
      expect(attachment?.url).toBe(after);
    },
    4 * MINUTE,
  );

  it('prints no secret in plan or apply output, and keeps passwords in the state only in the sensitive url', () => {
    expect(secrets.size).toBeGreaterThanOrEqual(5); // admin, default, analyst, billing before and after
    const printed = deployOutput + terraform.printed();
    for (const secret of secrets) expect(printed).not.toContain(secret);

    const { resources } = state();
    expect(resources.filter((r) => r.type === 'pgcred_attachment')).toHaveLength(3);
    for (const resource of resources) {
      for (const instance of resource.instances) {
        const sensitive = JSON.stringify(instance.sensitive_attributes);
        const { url, ...rest } = instance.attributes;
        if (resource.type === 'pgcred_attachment') {
          // By Terraform's design the state holds a sensitive value; Terraform marks it so.
          expect(sensitive).toContain('"url"');
          expect([...secrets].some((secret) => String(url).includes(secret))).toBe(true);
        }
        const text = JSON.stringify(rest);
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
    }
  });

  it(
    'destroys everything in one run and hands what the credentials own to the default credential',
    async () => {
      await db.sql(
        `CREATE TABLE public.made_by_billing (x int); ALTER TABLE public.made_by_billing OWNER TO "${names.billing}"`,
      );
      const destroy = await terraform.run(['destroy', '-auto-approve', '-input=false']);
      expect(destroy.stdout).toContain('Resources: 8 destroyed');
      const left = await db.sql('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [
        Object.values(names).flatMap((name) => [name, `${name}-rotating`]),
      ]);
      expect(left).toEqual([]);
      expect(await db.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_billing'")).toEqual([
        { tableowner: derivedOwnerName(db.name) },
      ]);
      const store = await db.sql(
        'SELECT (SELECT count(*) FROM pgcred.apps) AS apps, (SELECT count(*) FROM pgcred.attachments) AS attachments',
      );
      expect(store).toEqual([{ apps: '0', attachments: '0' }]);
      for (const app of ['example-app', 'billing-app']) {
        expect(existsSync(join(props.runDirectory, `${app}.env`))).toBe(false);
      }
    },
    3 * MINUTE,
  );
});
