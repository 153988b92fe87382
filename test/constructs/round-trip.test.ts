import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { Manifest } from '../../src/constructs';
import { MasterKey } from '../../src/control/crypto';
import { ControlStore } from '../../src/control/store';
import { levelRoleName } from '../../src/model/level-roles';
import { BasicExampleStack } from '../../src/stacks';
import { type CliResult, pgcred, testKey } from '../harness/cli';
import {
  createTestDatabase,
  dropRoles,
  type TestDatabase,
  testServer,
  tryAs,
  uniqueName,
  userUrl,
  withClient,
} from '../harness/pg';
import { parseTerraform, resourcesOf, type TerraformJson } from './terraform-json';

/**
 * One synth serves both executors: the TypeScript example is synthesized, its
 * manifest is applied to a real PostgreSQL by the reconciler, and the grants that
 * its postgresql_grant and postgresql_default_privileges resources describe are
 * exactly the ones the reconciler made.
 */
describe('round trip: synthesize the example, apply its manifest, compare with its Terraform', () => {
  let db: TestDatabase;
  let stack: BasicExampleStack;
  let tf: TerraformJson;
  let manifestPath: string;
  let manifestText: string;
  let terraformText: string;
  let env: NodeJS.ProcessEnv;
  let cwd: string;
  let store: ControlStore;
  let names: { analyst: string; limited: string; billing: string };
  let owner: string;

  const run = (...args: string[]): Promise<CliResult> => pgcred(args, { env, cwd });
  const ok = async (...args: string[]): Promise<CliResult> => {
    const result = await run(...args);
    if (result.status !== 0)
      throw new Error(`pgcred ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
    return result;
  };
  const urlOf = async (username: string): Promise<string> => {
    const password = (await store.getPasswords(db.name)).get(username);
    if (!password) throw new Error(`pgcred keeps no password for ${username}`);
    return userUrl(db.name, username, password);
  };

  beforeAll(async () => {
    db = await createTestDatabase('cdktf');
    // Roles are cluster-wide and test files run side by side: this copy's names are its own.
    const prefix = `${uniqueName('rt')}_`;
    cwd = mkdtempSync(join(tmpdir(), 'pgcred-cdktf-'));
    stack = new BasicExampleStack(Testing.app(), 'sunny', {
      databaseName: db.name,
      credentialPrefix: prefix,
      schemas: ['public', 'reporting'],
      runDirectory: join(cwd, 'run'),
      // This database is the test's own: PUBLIC's privileges go, as the resources say.
      public: 'harden',
    });
    names = {
      analyst: stack.analyst.credentialName,
      limited: stack.limitedUser.credentialName,
      billing: stack.billing.credentialName,
    };
    owner = stack.database.owner!;
    const dir = join(Testing.fullSynth(stack), 'stacks', 'sunny');
    manifestPath = join(dir, Manifest.FILE_NAME);
    manifestText = readFileSync(manifestPath, 'utf8');
    terraformText = readFileSync(join(dir, 'cdk.tf.json'), 'utf8');
    tf = parseTerraform(terraformText);

    const key = testKey();
    env = { DATABASE_ADMIN_URL: db.url, PGCRED_MASTER_KEY: key };
    await ok('apply', '--manifest', manifestPath, '--yes');
    store = await ControlStore.open(db.url, MasterKey.parse(key, 'the test key'));
    // The app's migrations run as the default credential, after pgcred made it.
    await withClient(await urlOf(owner), (c) =>
      c.query(`CREATE TABLE public.users (id serial PRIMARY KEY, email text);
               INSERT INTO public.users (email) VALUES ('ada@example.com');
               CREATE TABLE public.orders (id bigint GENERATED ALWAYS AS IDENTITY, cents int);
               CREATE VIEW public.user_emails AS SELECT email FROM public.users;
               CREATE SCHEMA reporting;
               CREATE TABLE reporting.daily (day date, cents int);
               CREATE MATERIALIZED VIEW reporting.snapshot AS SELECT 1 AS one;
               CREATE SEQUENCE reporting.counter;`),
    );
    // limited_user's grant names public.users, which exists now.
    await ok('apply', '--manifest', manifestPath, '--yes');
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await db?.drop();
    const credentials = names ? Object.values(names) : [];
    await dropRoles([
      ...credentials.flatMap((n) => [`${n}-rotating`, n]),
      ...(stack ? Object.values(levelRoles()) : []),
      ...(owner ? [owner] : []),
    ]);
  });

  it('the synthesized files hold no secret, and the manifest names the database by ${VAR}', () => {
    expect(manifestText).toContain('"url": "${DATABASE_ADMIN_URL}"');
    for (const text of [manifestText, terraformText]) {
      expect(text).not.toContain(testServer().password);
      expect(text).not.toContain(db.url);
    }
  });

  it('after apply, drift exits 0', async () => {
    const drift = await run('drift', '--manifest', manifestPath);
    expect(drift.stderr).not.toContain('Drift found');
    expect(drift.status).toBe(0);
  });

  it('the grants the Terraform resources describe equal, as sets, the live ones', async () => {
    const live = await liveGrants(db, owner, grantees());
    const described = describedByTerraform(tf, await relations(db), owner);
    expect([...live].sort()).toEqual([...described].sort());
    // Not two empty sets: every kind of object is in them.
    const level = levelRoles();
    for (const tuple of [
      `${names.analyst} database CONNECT`,
      `${level.readWrite} database TEMPORARY`,
      `${level.readOnly} schema reporting USAGE`,
      `${level.readOnly} table reporting.snapshot SELECT`,
      `${level.readOnly} table public.user_emails SELECT`,
      `${level.readWrite} sequence public.orders_id_seq USAGE`,
      `${level.readWrite} table reporting.daily TRUNCATE`,
      `${names.limited} table public.users SELECT`,
      `${level.readOnly} default table * SELECT`,
      `${level.readWrite} default schema * USAGE`,
    ]) {
      expect(described).toContain(tuple);
    }
  });

  it('the memberships the postgresql_role resources list are the live ones', async () => {
    const level = levelRoles();
    const rows = await db.sql(
      `SELECT m.rolname AS member, g.rolname AS role
         FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member JOIN pg_roles g ON g.oid = a.roleid
        WHERE g.rolname = ANY($1) AND m.rolname <> $2`,
      [Object.values(level), owner],
    );
    const live = [...new Set(rows.map((row) => `${row.member} ${row.role}`))].sort();
    const described = resourcesOf(tf, 'postgresql_role')
      .filter((role) => Object.values(names).includes(role.name as string))
      .flatMap((role) =>
        // resourcesOf resolves each reference to the level role's name.
        ((role.roles as string[] | undefined) ?? []).map((levelRole) => `${role.name} ${levelRole}`),
      )
      .sort();
    expect(live).toEqual(described);
    expect(described).toEqual(
      [`${names.analyst} ${level.readOnly}`, `${names.billing} ${level.readWrite}`].sort(),
    );
  });

  it('each credential can do what its level says, and no more', async () => {
    const analyst = await urlOf(names.analyst);
    expect(await tryAs(analyst, 'SELECT * FROM reporting.snapshot')).toMatchObject({ ok: true });
    expect(await tryAs(analyst, 'SELECT email FROM public.user_emails')).toMatchObject({ ok: true });
    expect(await tryAs(analyst, 'INSERT INTO public.orders (cents) VALUES (1)')).toMatchObject({
      ok: false,
      code: '42501',
    });
    const billing = await urlOf(names.billing);
    expect(await tryAs(billing, 'INSERT INTO public.orders (cents) VALUES (1200)')).toMatchObject({
      ok: true,
    });
    expect(await tryAs(billing, 'CREATE TABLE public.mine (id int)')).toMatchObject({
      ok: false,
      code: '42501',
    });
    const limited = await urlOf(names.limited);
    expect(await tryAs(limited, 'SELECT email FROM public.users')).toEqual({
      ok: true,
      rows: [{ email: 'ada@example.com' }],
    });
    expect(await tryAs(limited, 'SELECT * FROM public.orders')).toMatchObject({ ok: false, code: '42501' });
  });

  it("the apps' env files, from the same manifest, hold URLs that log in as the attached credentials", async () => {
    const vars = (app: string) =>
      readFileSync(join(cwd, 'run', `${app}.env`), 'utf8')
        .trim()
        .split('\n')
        .map((line) => {
          const [name, ...value] = line.split('=');
          return [name!, value.join('=').replace(/^'(.*)'$/, '$1')] as const;
        });
    const loginOf = async (url: string) => {
      const result = await tryAs(url, 'SELECT current_user AS who');
      return result.ok ? result.rows[0]!.who : result.message;
    };
    const example = vars('example-app');
    expect(example.map(([name]) => name)).toEqual([
      'DATABASE_URL',
      expect.stringMatching(/^HEROKU_POSTGRESQL_[A-Z]+_URL$/),
    ]);
    expect(await loginOf(example[0]![1])).toBe(owner);
    expect(await loginOf(example[1]![1])).toBe(names.analyst);
    const billing = vars('billing-app');
    expect(billing.map(([name]) => name)).toEqual(['DATABASE_URL']);
    expect(await loginOf(billing[0]![1])).toBe(names.billing);
  });

  it('GIVEN a grant made by hand, drift exits 2 and the sets differ; apply restores both', async () => {
    await db.sql(`GRANT INSERT ON public.users TO "${names.analyst}"`);
    const drifted = await run('drift', '--manifest', manifestPath);
    expect(drifted.status).toBe(2);
    const extra = `${names.analyst} table public.users INSERT`;
    expect(await liveGrants(db, owner, grantees())).toContain(extra);
    expect(describedByTerraform(tf, await relations(db), owner)).not.toContain(extra);

    await ok('apply', '--manifest', manifestPath, '--yes');
    expect((await run('drift', '--manifest', manifestPath)).status).toBe(0);
    const live = await liveGrants(db, owner, grantees());
    expect([...live].sort()).toEqual([...describedByTerraform(tf, await relations(db), owner)].sort());
  });

  function levelRoles(): { readOnly: string; readWrite: string } {
    return {
      readOnly: levelRoleName(stack.database.name, 'read-only'),
      readWrite: levelRoleName(stack.database.name, 'read-write'),
    };
  }

  function grantees(): Set<string> {
    return new Set([...Object.values(names), ...Object.values(levelRoles()), 'public']);
  }
});

interface LiveRelation {
  readonly schema: string;
  readonly name: string;
  readonly kind: 'table' | 'sequence';
}

const SCHEMAS = `n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'pgcred')`;
// What GRANT ... ON ALL TABLES IN SCHEMA covers: tables, partitioned tables, views, materialized views, foreign tables.
const KIND = `CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END`;

async function relations(db: TestDatabase): Promise<LiveRelation[]> {
  const rows = await db.sql(
    `SELECT n.nspname AS schema, c.relname AS name, ${KIND} AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${SCHEMAS}`,
  );
  return rows as unknown as LiveRelation[];
}

/**
 * The live ACLs of `grantees` as `grantee kind object privilege` tuples. A NULL ACL
 * is PostgreSQL's default (PUBLIC may CONNECT), so acldefault fills it in.
 */
async function liveGrants(
  db: TestDatabase,
  owner: string,
  grantees: ReadonlySet<string>,
): Promise<Set<string>> {
  const grantee = `coalesce(r.rolname, 'public')`;
  const rows = await db.sql(
    `SELECT ${grantee} || ' database ' || a.privilege_type AS tuple
       FROM pg_database d
       CROSS JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d'::"char", d.datdba))) a
       LEFT JOIN pg_roles r ON r.oid = a.grantee
      WHERE d.datname = current_database()
     UNION ALL
     SELECT ${grantee} || ' schema ' || n.nspname || ' ' || a.privilege_type
       FROM pg_namespace n
       CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))) a
       LEFT JOIN pg_roles r ON r.oid = a.grantee
      WHERE ${SCHEMAS}
     UNION ALL
     SELECT ${grantee} || ' ' || ${KIND} || ' ' || n.nspname || '.' || c.relname || ' ' || a.privilege_type
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL aclexplode(coalesce(c.relacl,
         acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a
       LEFT JOIN pg_roles r ON r.oid = a.grantee
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${SCHEMAS}
     UNION ALL
     SELECT ${grantee} || ' default '
              || CASE d.defaclobjtype WHEN 'r' THEN 'table' WHEN 'S' THEN 'sequence' WHEN 'n' THEN 'schema'
                 ELSE d.defaclobjtype::text END
              || ' ' || coalesce(n.nspname, '*') || ' ' || a.privilege_type
       FROM pg_default_acl d
       LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
       CROSS JOIN LATERAL aclexplode(d.defaclacl) a
       LEFT JOIN pg_roles r ON r.oid = a.grantee
      WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
    [owner],
  );
  return new Set(
    rows
      .map((row) => row.tuple as string)
      .filter((tuple) => grantees.has(tuple.slice(0, tuple.indexOf(' ')))),
  );
}

/** The same tuples, as the synthesized resources describe them over the objects that exist. */
function describedByTerraform(tf: TerraformJson, live: readonly LiveRelation[], owner: string): Set<string> {
  const tuples = new Set<string>();
  for (const grant of resourcesOf(tf, 'postgresql_grant')) {
    const role = grant.role as string;
    const privileges = grant.privileges as string[];
    const objects = grant.objects as string[] | undefined;
    const targets: string[] =
      grant.object_type === 'database'
        ? ['database']
        : grant.object_type === 'schema'
          ? [`schema ${grant.schema}`]
          : (
              objects ??
              live.filter((r) => r.schema === grant.schema && r.kind === grant.object_type).map((r) => r.name)
            )
              .filter((name) => live.some((r) => r.schema === grant.schema && r.name === name))
              .map((name) => `${grant.object_type} ${grant.schema}.${name}`);
    for (const target of targets)
      for (const privilege of privileges) tuples.add(`${role} ${target} ${privilege}`);
  }
  for (const defaults of resourcesOf(tf, 'postgresql_default_privileges')) {
    expect(defaults.owner).toBe(owner);
    for (const privilege of defaults.privileges as string[]) {
      tuples.add(`${defaults.role} default ${defaults.object_type} ${defaults.schema ?? '*'} ${privilege}`);
    }
  }
  return tuples;
}
