import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attach } from '../../src/attachments/attachments';
import { MasterKey } from '../../src/control/crypto';
import { ControlStore } from '../../src/control/store';
import type { DatabaseSpec } from '../../src/model/config';
import { levelRoleName } from '../../src/model/level-roles';
import { createCredential } from '../../src/reconciler/credentials';
import { derivedOwnerName } from '../../src/reconciler/diff';
import { createTestDatabase, dropRoles, type TestDatabase, tryAs, uniqueName } from '../harness/pg';
import { installProvider, type Run, Terraform, terraformEnv } from './terraform-cli';

/**
 * The provider end to end: real `terraform` (offline, from the mirror that
 * `npm run provider:install` lays out) against a real PostgreSQL. One scenario in
 * order, as an infra repo lives it: create, no-op plan, drift by hand, repair, a
 * level change, import, refusals at plan time, destroy.
 */
const MINUTE = 60_000;

let db: TestDatabase;
let work: string;
let terraform: Terraform;
const DATABASE = `pg-${randomBytes(4).toString('hex')}`;
const analyst = uniqueName('tf_analyst');
const writer = uniqueName('tf_writer');
const limited = uniqueName('tf_limited');
const imported = uniqueName('tf_imported');
const extra = uniqueName('tf_extra');
const legacy = uniqueName('tf_legacy');
const masterKey = randomBytes(32).toString('hex');
const REPORTS_APP = 'reports';

/** Runs terraform and fails the test with its output when the exit status is not `expected`. */
function tf(args: readonly string[], expected = 0, dir = work): Promise<Run> {
  return terraform.run(args, expected, dir);
}

interface Declared {
  readonly analystLevel: string;
  readonly rotationTrigger?: string;
  readonly withImported?: boolean;
}

function credential(address: string, name: string, body: string): string {
  return `resource "pgcred_credential" "${address}" {\n  database = "${DATABASE}"\n  name     = "${name}"\n${body}}\n\ndata "pgcred_credential_url" "${address}" {\n  database   = "${DATABASE}"\n  name       = "${name}"\n  depends_on = [pgcred_credential.${address}]\n}\n\noutput "${address}_url" {\n  value     = data.pgcred_credential_url.${address}.url\n  sensitive = true\n}\n`;
}

function providerBlock(
  databases = `  database {\n    name = "${DATABASE}"\n    url  = var.admin_url\n  }\n`,
): string {
  return `terraform {\n  required_providers {\n    pgcred = { source = "pgcred/pgcred", version = "0.1.0" }\n  }\n}\n\nvariable "admin_url" {\n  type      = string\n  sensitive = true\n}\n\nprovider "pgcred" {\n${databases}}\n\n`;
}

function writeConfig(declared: Declared): void {
  const parts = [
    providerBlock(),
    credential(
      'analyst',
      analyst,
      `  permission = "${declared.analystLevel}"\n` +
        (declared.rotationTrigger
          ? `  rotation_trigger = "${declared.rotationTrigger}"\n  rotation {\n    grace = "2s"\n  }\n`
          : ''),
    ),
    credential('writer', writer, '  permission = "read-write"\n'),
    credential(
      'limited',
      limited,
      '  grant {\n    privileges = ["SELECT"]\n    on         = "table"\n    objects    = ["public.orders"]\n  }\n',
    ),
    `data "pgcred_credential_url" "default" {\n  database   = "${DATABASE}"\n  depends_on = [pgcred_credential.analyst]\n}\n\noutput "default_url" {\n  value     = data.pgcred_credential_url.default.url\n  sensitive = true\n}\n`,
  ];
  if (declared.withImported) {
    parts.push(
      credential('imported', imported, '  permission = "read-only"\n'),
      `resource "pgcred_app" "reports" {\n  name = "${REPORTS_APP}"\n}\n\n` +
        `resource "pgcred_attachment" "reports" {\n  database   = "${DATABASE}"\n  credential = pgcred_credential.imported.name\n` +
        `  app        = pgcred_app.reports.name\n  as         = "REPORTS"\n}\n`,
    );
  }
  writeFileSync(join(work, 'main.tf'), parts.join('\n'));
}

async function urls(): Promise<Record<string, string>> {
  const run = await tf(['output', '-json']);
  const outputs = JSON.parse(run.stdout) as Record<string, { value: string; sensitive: boolean }>;
  for (const output of Object.values(outputs)) expect(output.sensitive).toBe(true);
  return Object.fromEntries(
    Object.entries(outputs).map(([key, output]) => [key.replace(/_url$/, ''), output.value]),
  );
}

function spec(): DatabaseSpec {
  return {
    name: DATABASE,
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
  db = await createTestDatabase('tfprov');
  await db.sql(
    'CREATE TABLE public.orders (id serial PRIMARY KEY, note text); CREATE TABLE public.secrets (id int)',
  );
  work = mkdtempSync(join(tmpdir(), 'pgcred-tf-'));
  terraform = new Terraform(work, terraformEnv({ PGCRED_MASTER_KEY: masterKey, TF_VAR_admin_url: db.url }));
}, 4 * MINUTE);

afterAll(async () => {
  await db?.drop();
  await dropRoles([
    analyst,
    `${analyst}-rotating`,
    writer,
    limited,
    imported,
    extra,
    legacy,
    derivedOwnerName(DATABASE),
  ]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the pgcred Terraform provider', () => {
  it(
    'installs offline from the mirror with terraform init',
    async () => {
      writeConfig({ analystLevel: 'read-only' });
      const run = await tf(['init', '-input=false']);
      expect(run.stdout).toContain('Installed pgcred/pgcred v0.1.0');
      expect(existsSync(join(work, '.terraform.lock.hcl'))).toBe(true);
    },
    3 * MINUTE,
  );

  it(
    'creates credentials whose logins have exactly their level or grants',
    async () => {
      const run = await tf(['apply', '-auto-approve', '-input=false']);
      expect(run.stdout).toContain('Resources: 3 added');
      const url = await urls();
      for (const value of Object.values(url))
        expect(run.stdout + run.stderr).not.toContain(new URL(value).password);
      expect(new URL(url.analyst!).username).toBe(analyst);

      expect(await tryAs(url.analyst!, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
      expect(await tryAs(url.analyst!, "INSERT INTO public.orders (note) VALUES ('x')")).toMatchObject({
        ok: false,
        code: '42501',
      });
      expect(await tryAs(url.writer!, "INSERT INTO public.orders (note) VALUES ('x')")).toMatchObject({
        ok: true,
      });
      expect(await tryAs(url.limited!, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
      expect(await tryAs(url.limited!, 'SELECT count(*) FROM public.secrets')).toMatchObject({
        ok: false,
        code: '42501',
      });
      // The default credential (created on first use, as every Heroku database has one) owns the database.
      expect(await tryAs(url.default!, 'SELECT current_user AS who')).toMatchObject({
        ok: true,
        rows: [{ who: derivedOwnerName(DATABASE) }],
      });
    },
    3 * MINUTE,
  );

  it(
    'plans no change right after apply',
    async () => {
      const run = await tf(['plan', '-detailed-exitcode', '-input=false']);
      expect(run.stdout).toContain('No changes.');
    },
    3 * MINUTE,
  );

  it(
    'shows grants changed by hand in the next plan, and apply repairs them',
    async () => {
      const owner = derivedOwnerName(DATABASE);
      // The read-only level role, which analyst reads through, loses a table by hand.
      const readOnly = levelRoleName(DATABASE, 'read-only');
      const readWrite = levelRoleName(DATABASE, 'read-write');
      await db.sql(`REVOKE SELECT ON public.orders FROM "${readOnly}"`);
      // writer taken down to exactly read-only by hand, as credentials:permissions would
      await db.sql(`GRANT "${readOnly}" TO "${writer}" WITH INHERIT TRUE, SET FALSE GRANTED BY "${owner}";
      REVOKE "${readWrite}" FROM "${writer}" GRANTED BY "${owner}"`);
      const url = await urls();
      expect(await tryAs(url.analyst!, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: false });

      const plan = await tf(['plan', '-detailed-exitcode', '-input=false'], 2);
      expect(plan.stdout).toContain('pgcred_credential.analyst will be updated in-place');
      // drift says what is wrong in the database; the warning, what apply does about it.
      expect(plan.stdout).toContain(
        '"lacks SELECT on public.orders (1 of 2 tables in schema public), which read-only grants"',
      );
      expect(plan.stdout.replace(/\s+/g, ' ')).toContain(
        `${analyst} gains SELECT on all tables in schema public (2 tables); SELECT missing on 1 of 2: public.orders`,
      );
      expect(plan.stdout).toMatch(/~ permission = "read-only" -> "read-write"/);
      expect(plan.stdout).toContain('Plan: 0 to add, 2 to change, 0 to destroy.');

      await tf(['apply', '-auto-approve', '-input=false']);
      expect(await tryAs(url.analyst!, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
      expect(await tryAs(url.writer!, "INSERT INTO public.orders (note) VALUES ('y')")).toMatchObject({
        ok: true,
      });
      await tf(['plan', '-detailed-exitcode', '-input=false'], 0);
    },
    3 * MINUTE,
  );

  it(
    'applies a level change',
    async () => {
      writeConfig({ analystLevel: 'read-write' });
      const apply = await tf(['apply', '-auto-approve', '-input=false']);
      expect(apply.stdout).toMatch(/~ permission = "read-only" -> "read-write"/);
      const url = await urls();
      expect(await tryAs(url.analyst!, "INSERT INTO public.orders (note) VALUES ('z')")).toMatchObject({
        ok: true,
      });
      await tf(['plan', '-detailed-exitcode', '-input=false'], 0);
    },
    3 * MINUTE,
  );

  it(
    'rotates the password when rotation_trigger changes',
    async () => {
      const before = (await urls()).analyst!;
      writeConfig({ analystLevel: 'read-write', rotationTrigger: '2026-11-27' });
      const apply = await tf(['apply', '-auto-approve', '-input=false']);
      expect(apply.stdout).toMatch(/\+ rotation_trigger = "2026-11-27"/);
      const after = (await urls()).analyst!;
      expect(new URL(after).username).toBe(analyst);
      expect(new URL(after).password).not.toBe(new URL(before).password);
      expect(await tryAs(before, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
      expect(await tryAs(after, "INSERT INTO public.orders (note) VALUES ('rotated')")).toMatchObject({
        ok: true,
      });
      const rotating = await db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${analyst}-rotating`]);
      expect(rotating).toHaveLength(0);
      await tf(['plan', '-detailed-exitcode', '-input=false'], 0);
    },
    3 * MINUTE,
  );

  it(
    'imports a credential, an app and an attachment made outside Terraform',
    async () => {
      const control = await ControlStore.open(db.url, MasterKey.parse(masterKey, 'test key'));
      try {
        const ctx = {
          config: { version: 1 as const, databases: [spec()], apps: [], attachments: [], control: {} },
          control,
          progress: () => undefined,
        };
        await createCredential(ctx, spec(), imported, 'read-only');
        await attach(ctx, { spec: spec(), credential: imported, app: REPORTS_APP, as: 'REPORTS' });
      } finally {
        await control.close();
      }
      writeConfig({ analystLevel: 'read-write', rotationTrigger: '2026-11-27', withImported: true });
      const before = await tf(['plan', '-input=false'], 1);
      expect(before.stderr).toContain(`credential ${imported} already exists on ${DATABASE}: import it`);

      expect(before.stderr).toContain(
        `app ${REPORTS_APP} already exists in pgcred's control store: import it`,
      );

      await tf(['import', '-input=false', 'pgcred_credential.imported', `${DATABASE}/${imported}`]);
      await tf(['import', '-input=false', 'pgcred_app.reports', REPORTS_APP]);
      await tf(['import', '-input=false', 'pgcred_attachment.reports', `${REPORTS_APP}/REPORTS`]);
      const state = await tf(['state', 'show', 'pgcred_credential.imported']);
      expect(state.stdout).toMatch(/permission\s+= "read-only"/);
      const attachment = await tf(['state', 'show', 'pgcred_attachment.reports']);
      expect(attachment.stdout).toMatch(new RegExp(`credential\\s+= "${imported}"`));
      expect(attachment.stdout).toMatch(/config_var\s+= "REPORTS_URL"/);
      expect(attachment.stdout).toMatch(/url\s+= \(sensitive value\)/);
      // Only the data source of the imported credential is new, and `as` written down: nothing replaced.
      const plan = await tf(['plan', '-input=false']);
      expect(plan.stdout).not.toMatch(/pgcred_(credential|app)\.\w+ will be/);
      expect(plan.stdout).not.toMatch(/must be replaced|will be created/);
      await tf(['apply', '-auto-approve', '-input=false']);
      const url = (await urls()).imported!;
      expect(await tryAs(url, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
    },
    3 * MINUTE,
  );

  it(
    'refuses to create over a role it does not manage, and import adopts it with its password kept',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pgcred-tf-adopt-'));
      try {
        await db.sql(
          `CREATE ROLE "${legacy}" LOGIN PASSWORD 'legacy-password'; GRANT CONNECT ON DATABASE "${db.name}" TO "${legacy}"`,
        );
        const legacyUrl = db.url.replace(/\/\/[^@]+@/, `//${legacy}:legacy-password@`);
        writeFileSync(
          join(dir, 'main.tf'),
          providerBlock() +
            `resource "pgcred_credential" "legacy" {\n  database   = "${DATABASE}"\n  name       = "${legacy}"\n  permission = "read-only"\n}\n`,
        );
        await tf(['init', '-input=false'], 0, dir);
        const refused = await tf(['plan', '-input=false'], 1, dir);
        // Terraform wraps diagnostics at its terminal width.
        const said = refused.stderr.replace(/\s+/g, ' ');
        expect(said).toContain('pgcred does not manage it: to adopt it (its password is kept)');
        expect(said).toContain(`terraform import pgcred_credential.<address> ${DATABASE}/${legacy}`);
        await tf(['import', '-input=false', 'pgcred_credential.legacy', `${DATABASE}/${legacy}`], 0, dir);
        await tf(['apply', '-auto-approve', '-input=false'], 0, dir);
        const [role] = await db.sql(
          `SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1`,
          [legacy],
        );
        expect(role!.comment).toBe(`managed by pgcred: credential of database "${db.name}" (adopted)`);
        // Whatever used its password still logs in, and now reads at its level.
        expect(await tryAs(legacyUrl, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
        expect(await tryAs(legacyUrl, 'INSERT INTO public.orders DEFAULT VALUES')).toMatchObject({
          ok: false,
        });
        const clean = await tf(['plan', '-input=false', '-detailed-exitcode'], 0, dir);
        expect(clean.stdout).toContain('No changes.');
        // Adopted, it is a credential like the others: destroy drops it (the later cases count credentials).
        await tf(['destroy', '-auto-approve', '-input=false'], 0, dir);
        expect(await db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [legacy])).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    3 * MINUTE,
  );

  it(
    'refuses at plan time, on the attribute: bad names, one credential too many, an Essential-tier database, an unknown credential or app, a taken attachment name',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pgcred-tf-refuse-'));
      try {
        const databases =
          `  database {\n    name             = "${DATABASE}"\n    url              = var.admin_url\n    credential_limit = 4\n  }\n` +
          `  database {\n    name = "${DATABASE}-essential"\n    url  = var.admin_url\n    plan = "essential-0"\n  }\n`;
        const resource = (address: string, database: string, name: string) =>
          `resource "pgcred_credential" "${address}" {\n  database = "${database}"\n  name     = "${name}"\n}\n`;
        const attachment = (address: string, credential: string, app: string, as?: string) =>
          `resource "pgcred_attachment" "${address}" {\n  database   = "${DATABASE}"\n  credential = "${credential}"\n  app        = "${app}"\n` +
          `${as ? `  as         = "${as}"\n` : ''}}\n`;
        writeFileSync(
          join(dir, 'main.tf'),
          providerBlock(databases) +
            resource('bad', DATABASE, 'pg_reserved') +
            attachment('bad_app', 'default', 'Billing_App'),
        );
        await tf(['init', '-input=false'], 0, dir);
        const invalid = await tf(['validate'], 1, dir);
        expect(invalid.stderr).toContain('Invalid credential name');
        expect(invalid.stderr).toMatch(/name\s+= "pg_reserved"/);
        expect(invalid.stderr).toContain('names starting with pg_ belong to PostgreSQL');
        expect(invalid.stderr).toContain('Invalid app name');
        expect(invalid.stderr).toMatch(/app\s+= "Billing_App"/);

        // validate counts what the configuration declares: five in a database that allows four.
        writeFileSync(
          join(dir, 'main.tf'),
          providerBlock(databases) +
            [1, 2, 3, 4, 5].map((i) => resource(`c${i}`, DATABASE, `${extra}_${i}`)).join(''),
        );
        const declared = await tf(['validate'], 1, dir);
        expect(declared.stderr.replace(/\s+/g, ' ')).toContain(
          `database ${DATABASE} allows at most 4 credentials besides default (plan standard-0); this configuration declares 5`,
        );

        // The database has 4 credentials (analyst, writer, limited, imported): a fifth is one too many.
        writeFileSync(
          join(dir, 'main.tf'),
          providerBlock(databases) +
            resource('fifth', DATABASE, extra) +
            resource('essential', `${DATABASE}-essential`, extra) +
            attachment('nobody', 'nobody', REPORTS_APP) +
            attachment('ghost', 'default', 'ghost-app') +
            attachment('taken', 'default', REPORTS_APP, 'REPORTS'),
        );
        const refused = await tf(['plan', '-input=false'], 1, dir);
        expect(refused.stderr).toContain('Too many credentials');
        // The same words whichever credential Terraform plans last: the database, the limit, the count.
        expect(refused.stderr.replace(/\s+/g, ' ')).toContain(
          `database ${DATABASE} allows at most 4 credentials besides default (plan standard-0); it has 4 and this plan would make it 5`,
        );
        expect(refused.stderr).toMatch(new RegExp(`database = "${DATABASE}"`));
        expect(refused.stderr).toContain("You can't create a custom credential on Essential-tier databases.");
        expect(refused.stderr).toMatch(new RegExp(`database = "${DATABASE}-essential"`));
        expect(refused.stderr).toContain(`Could not find credential nobody on ${DATABASE}`);
        expect(refused.stderr).toMatch(/credential = "nobody"/);
        expect(refused.stderr).toContain("Couldn't find that app: ghost-app");
        expect(refused.stderr).toMatch(/app\s+= "ghost-app"/);
        expect(refused.stderr).toContain(`⬢ ${REPORTS_APP} already has an attachment named REPORTS`);
        expect(refused.stderr).toMatch(/as\s+= "REPORTS"/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const roles = await db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [extra]);
      expect(roles).toHaveLength(0);
    },
    3 * MINUTE,
  );

  it(
    "refuses at plan a second database block whose owner is the first one's default credential",
    async () => {
      const second = await createTestDatabase('tfsecond');
      const dir = mkdtempSync(join(tmpdir(), 'pgcred-tf-second-'));
      try {
        const databases =
          `  database {\n    name = "${DATABASE}"\n    url  = var.admin_url\n  }\n` +
          `  database {\n    name  = "${DATABASE}-second"\n    url   = var.second_url\n    owner = "${derivedOwnerName(DATABASE)}"\n  }\n`;
        writeFileSync(
          join(dir, 'main.tf'),
          `${providerBlock(databases)}variable "second_url" {\n  type      = string\n  sensitive = true\n}\n\n` +
            `resource "pgcred_credential" "other" {\n  database = "${DATABASE}-second"\n  name     = "${extra}_second"\n}\n`,
        );
        const secondTf = new Terraform(dir, { ...terraform.env, TF_VAR_second_url: second.url });
        await secondTf.init();
        const refused = await secondTf.run(['plan', '-input=false'], 1);
        expect(refused.stderr.replace(/\s+/g, ' ')).toContain(
          `role ${derivedOwnerName(DATABASE)} is already the default credential of database`,
        );
        expect(refused.stderr).toMatch(new RegExp(`database = "${DATABASE}-second"`));
        const owners = await db.sql(
          'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
          [second.name],
        );
        expect(owners).toEqual([{ owner: 'postgres' }]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await second.drop();
      }
    },
    3 * MINUTE,
  );

  it(
    'destroys every credential, the attached one after its attachment, and hands what they own to the default credential',
    async () => {
      await db.sql(
        `CREATE TABLE public.made_by_writer (x int); ALTER TABLE public.made_by_writer OWNER TO "${writer}"`,
      );
      const run = await tf(['destroy', '-auto-approve', '-input=false']);
      expect(run.stdout).toContain('Resources: 6 destroyed');
      expect(run.stdout.indexOf('pgcred_attachment.reports: Destruction complete')).toBeLessThan(
        run.stdout.indexOf('pgcred_credential.imported: Destroying'),
      );
      const store = await db.sql(
        'SELECT (SELECT count(*) FROM pgcred.apps) AS apps, (SELECT count(*) FROM pgcred.attachments) AS attachments',
      );
      expect(store).toEqual([{ apps: '0', attachments: '0' }]);
      const left = await db.sql('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [
        [analyst, writer, limited, imported],
      ]);
      expect(left).toEqual([]);
      const owner = await db.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_writer'");
      expect(owner).toEqual([{ tableowner: derivedOwnerName(DATABASE) }]);
    },
    3 * MINUTE,
  );
});
