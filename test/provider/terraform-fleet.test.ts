import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PostgresServer, startPostgres } from '../../src/embedded/server';
import { derivedOwnerName } from '../../src/model/names';
import {
  createTestDatabase,
  dropRoles,
  type TestDatabase,
  testServer,
  tryAs,
  withClient,
} from '../harness/pg';
import { installProvider, ROOT, Terraform, terraformEnv } from './terraform-cli';

/**
 * examples/terraform-fleet as a user runs it: copied out of the repository, with a
 * tfvars file naming four databases on two clusters. Three share the test server and
 * each has an analyst (their username prefixes keep the roles apart); the fourth is
 * on a cluster of its own and needs none.
 */
const MINUTE = 60_000;
const tag = randomBytes(3).toString('hex');
const masterKey = randomBytes(32).toString('hex');

interface FleetDatabase {
  readonly url: string;
  readonly username_prefix?: string;
  readonly credential_limit?: number;
  readonly credentials: Record<string, string>;
  readonly apps: Record<string, string>;
}

let second: PostgresServer;
let shared: TestDatabase[] = [];
let work: string;
let terraform: Terraform;
/** Terraform's names of the databases: three on the test server, one on the second cluster. */
const names = ['a', 'b', 'c', 'd'].map((letter) => `fleet-${tag}-${letter}`);
const prefixOf = (i: number) => `f${tag}${i}_`;
const secrets = new Set<string>();

function fleet(changes: (db: Record<string, FleetDatabase>) => void = () => undefined): void {
  const databases: Record<string, FleetDatabase> = {};
  shared.forEach((db, i) => {
    databases[names[i]!] = {
      url: db.url,
      username_prefix: prefixOf(i),
      credentials: { analyst: 'read-only', writer: 'read-write', auditor: 'none' },
      apps: { [`app-${tag}-${i}`]: 'analyst' },
    };
  });
  databases[names[3]!] = {
    url: second.url(names[3]!),
    credentials: { analyst: 'read-only', writer: 'read-write' },
    apps: { [`app-${tag}-3`]: 'writer' },
  };
  changes(databases);
  writeFileSync(join(work, 'fleet.auto.tfvars.json'), JSON.stringify({ databases }, null, 2));
}

/** The URL an app's env file holds (mode 0600). */
function databaseUrl(app: string): string {
  const path = join(work, 'run', `${app}.env`);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const match = /^DATABASE_URL=(?:'(.*)'|(.*))$/m.exec(readFileSync(path, 'utf8'));
  const url = match![1] ?? match![2]!;
  secrets.add(new URL(url).password);
  return url;
}

/** Transactions that ended in ROLLBACK in each database: each plan-time inspection is one read-only snapshot. */
async function rollbacks(): Promise<number[]> {
  return Promise.all(
    shared.map(async (db) => {
      const [row] = await db.sql(
        'SELECT xact_rollback::int AS n FROM pg_stat_database WHERE datname = current_database()',
      );
      return row!.n as number;
    }),
  );
}

beforeAll(async () => {
  installProvider();
  second = await startPostgres({ binDir: testServer().binDir });
  await withClient(second.url(), (c) => c.query(`CREATE DATABASE "${names[3]}"`));
  shared = await Promise.all([0, 1, 2].map((i) => createTestDatabase(`tffleet${i}`)));
  for (const url of [...shared.map((db) => db.url), second.url(names[3]!)])
    await withClient(url, (c) => c.query('CREATE TABLE public.items (id serial PRIMARY KEY, note text)'));
  work = mkdtempSync(join(tmpdir(), 'pgcred-tf-fleet-'));
  copyFileSync(join(ROOT, 'examples', 'terraform-fleet', 'main.tf'), join(work, 'main.tf'));
  terraform = new Terraform(work, terraformEnv({ PGCRED_MASTER_KEY: masterKey }));
  secrets.add(testServer().password);
  secrets.add(second.password);
}, 2 * MINUTE);

afterAll(async () => {
  await Promise.all(shared.map((db) => db.drop()));
  await dropRoles(
    shared.flatMap((_, i) => [
      ...['analyst', 'writer', 'auditor'].map((name) => `${prefixOf(i)}${name}`),
      derivedOwnerName(names[i]!),
    ]),
  );
  await second?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('examples/terraform-fleet', () => {
  it(
    'applies a fleet of four databases on two clusters, and a no-op plan is clean at -parallelism=8',
    async () => {
      fleet();
      await terraform.init();
      const apply = await terraform.apply();
      // 11 credentials, 4 apps, 4 attachments.
      expect(apply.stdout).toContain('Resources: 19 added, 0 changed, 0 destroyed.');

      const usernames = JSON.parse((await terraform.run(['output', '-json', 'usernames'])).stdout);
      expect(usernames[`${names[0]}/analyst`]).toBe(`${prefixOf(0)}analyst`);
      expect(usernames[`${names[2]}/writer`]).toBe(`${prefixOf(2)}writer`);
      expect(usernames[`${names[3]}/analyst`]).toBe('analyst');

      // Each app logs in as its database's credential, under the prefixed username, at its level.
      for (const i of [0, 1, 2]) {
        const url = databaseUrl(`app-${tag}-${i}`);
        expect(decodeURIComponent(new URL(url).username)).toBe(`${prefixOf(i)}analyst`);
        expect(new URL(url).pathname).toBe(`/${shared[i]!.name}`);
        expect(await tryAs(url, 'SELECT count(*) FROM public.items')).toMatchObject({ ok: true });
        expect(await tryAs(url, "INSERT INTO public.items (note) VALUES ('x')")).toMatchObject({
          ok: false,
          code: '42501',
        });
      }
      const writer = databaseUrl(`app-${tag}-3`);
      expect(new URL(writer).port).toBe(String(second.port));
      expect(await tryAs(writer, "INSERT INTO public.items (note) VALUES ('x')")).toMatchObject({ ok: true });

      const before = await rollbacks();
      const plan = await terraform.run(['plan', '-detailed-exitcode', '-input=false', '-parallelism=8'], 0);
      expect(plan.stdout).toContain('No changes.');
      // One reading per database for all its resources, not one per credential.
      const after = await rollbacks();
      expect(after.map((n, i) => n - before[i]!)).toEqual([1, 1, 1]);
    },
    3 * MINUTE,
  );

  it(
    "plans exactly one change when one credential's level changes in one database",
    async () => {
      fleet((databases) => {
        databases[names[1]!]!.credentials.auditor = 'read-only';
      });
      const plan = await terraform.run(['plan', '-detailed-exitcode', '-input=false', '-parallelism=8'], 2);
      expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
      expect(plan.stdout).toContain(`pgcred_credential.this["${names[1]}/auditor"] will be updated in-place`);
      expect(plan.stdout).toMatch(/~ permission\s+= "none" -> "read-only"/);

      await terraform.apply();
      const [reads] = await shared[1]!.sql(
        "SELECT has_table_privilege($1, 'public.items', 'SELECT') AS reads",
        [`${prefixOf(1)}auditor`],
      );
      expect(reads).toEqual({ reads: true });
      await terraform.run(['plan', '-detailed-exitcode', '-input=false', '-parallelism=8'], 0);
    },
    3 * MINUTE,
  );

  it(
    "creates credentials up to a database's limit in one apply, one resource at a time",
    async () => {
      // Each create is planned again just before it is applied: by then the ones before it
      // are live, and must not be counted twice against the limit.
      fleet((databases) => {
        databases[names[1]!]!.credentials.auditor = 'read-only';
        databases[names[3]!] = {
          ...databases[names[3]!]!,
          credential_limit: 5,
          credentials: {
            analyst: 'read-only',
            writer: 'read-write',
            one: 'none',
            two: 'none',
            three: 'none',
          },
        };
      });
      const apply = await terraform.run(['apply', '-auto-approve', '-input=false', '-parallelism=1']);
      expect(apply.stdout).toContain('Resources: 3 added, 0 changed, 0 destroyed.');
      await terraform.run(['plan', '-detailed-exitcode', '-input=false'], 0);
    },
    2 * MINUTE,
  );

  it(
    'refuses a username prefix that is no role-name start, and an app listed under two databases',
    async () => {
      fleet((databases) => {
        databases[names[0]!] = { ...databases[names[0]!]!, username_prefix: '9lives_' };
      });
      const refused = await terraform.run(['plan', '-input=false'], 1);
      expect(refused.stderr).toContain('Invalid username prefix');
      expect(refused.stderr.replace(/\s+/g, ' ')).toContain(
        `"9lives_" is not a username prefix (a letter or '_', then letters, digits, '-' and '_', at most 54)`,
      );

      fleet((databases) => {
        databases[names[1]!]!.apps[`app-${tag}-0`] = 'writer';
      });
      const twice = await terraform.run(['plan', '-input=false'], 1);
      expect(twice.stderr.replace(/\s+/g, ' ')).toContain(
        `App app-${tag}-0 is listed under databases ${names[0]}, ${names[1]}: an app's DATABASE_URL is one credential of one database.`,
      );
      for (const secret of secrets) expect(terraform.printed()).not.toContain(secret);
    },
    MINUTE,
  );

  it(
    'destroys the fleet: every prefixed role and the passwords pgcred kept for them',
    async () => {
      fleet();
      const destroy = await terraform.run(['destroy', '-auto-approve', '-input=false']);
      expect(destroy.stdout).toMatch(/Resources: \d+ destroyed/);
      const left = await shared[0]!.sql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'f' || $1 || '%'", [
        tag,
      ]);
      expect(left).toEqual([]);
      const onSecond = await withClient(
        second.url(),
        async (c) =>
          (await c.query("SELECT rolname FROM pg_roles WHERE rolname IN ('analyst', 'writer')")).rows,
      );
      expect(onSecond).toEqual([]);
      // The control store lives in the first database: only the default credentials' passwords stay.
      const kept = await shared[0]!.sql('SELECT DISTINCT username FROM pgcred.secrets ORDER BY 1');
      expect(kept.map((row) => row.username).sort()).toEqual(
        names.map((name) => derivedOwnerName(name)).sort(),
      );
      for (const secret of secrets) expect(terraform.printed()).not.toContain(secret);
    },
    2 * MINUTE,
  );
});
