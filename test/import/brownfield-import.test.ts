import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type PostgresServer, startPostgres } from '../../src/embedded/server';
import { buildShop, run, type Shop } from '../brownfield/shop-fixture';
import { addHandMadeRoles, buildReadmeSunny, README_ROLES } from '../fixtures/databases';
import { type CliResult, configDir, pgcred, testKey } from '../harness/cli';
import { uniqueName } from '../harness/pg';
import { readmeSample } from '../harness/readme';
import { testBinDir } from '../harness/versions';
import { privilegeMatrix } from './privilege-matrix';
import { synthImportedStack } from './synth-typescript';

/**
 * Issue 16 on the brownfield shop: `pgcred import` writes the file, apply adopts what
 * it declares, and nobody's access changes. Its own PostgreSQL, as the brownfield
 * suite has: the shop's legacy login roles would change pgcred's decisions about
 * PUBLIC for every other test database.
 */
describe('pgcred import on a database pgcred did not build', () => {
  let server: PostgresServer;
  let shop: Shop;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const prefix = uniqueName('im');
  let analyst: string;
  let limited: string;
  let writer: string;
  let auditor: string;
  let caller: string;
  let nobody: string;

  const cli = (args: string[]): Promise<CliResult> => pgcred(args, { cwd: dir, env });
  const outcome = (r: CliResult) => ({ status: r.status, output: `${r.stdout}${r.stderr}`.slice(0, 8000) });
  const allRoles = async () =>
    (await shop.sql("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1")).map(
      (r) => r.rolname as string,
    );

  beforeAll(async () => {
    server = await startPostgres({ binDir: testBinDir() });
    shop = await buildShop(server, prefix, 'shop');
    ({ analyst, limited, writer, auditor, caller, nobody } = await addHandMadeRoles(
      server.url(),
      shop,
      prefix,
    ));
    const control = 'pgcred_control';
    await run(server.url(), `CREATE DATABASE ${control}`);
    dir = configDir('version: 1\ndatabases: []\n');
    env = {
      DATABASE_ADMIN_URL: shop.adminUrl,
      PGCRED_CONTROL_URL: server.url(control),
      PGCRED_MASTER_KEY: testKey(),
    };
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** Roles, their attributes, comments and memberships, and every ACL of the database: what "changes nothing" compares. */
  const catalog = () =>
    shop.sql(
      `SELECT
         (SELECT json_agg(r ORDER BY r.rolname) FROM (
            SELECT a.rolname, a.rolpassword, a.rolcanlogin, a.rolconnlimit, r.rolconfig::text,
                   shobj_description(a.oid, 'pg_authid') AS comment
              FROM pg_authid a JOIN pg_roles r ON r.oid = a.oid) r) AS roles,
         (SELECT json_agg(m::text ORDER BY m::text) FROM (SELECT roleid, member, admin_option FROM pg_auth_members) m) AS members,
         (SELECT datacl::text FROM pg_database WHERE datname = current_database()) AS database_acl,
         (SELECT json_agg(n.nspacl::text ORDER BY n.nspname) FROM pg_namespace n) AS schemas,
         (SELECT json_agg(c.relacl::text ORDER BY c.oid) FROM pg_class c) AS relations,
         (SELECT json_agg(p.proacl::text ORDER BY p.oid) FROM pg_proc p) AS routines,
         (SELECT json_agg(d::text ORDER BY d::text) FROM pg_default_acl d) AS default_acls,
         (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcred') AS control_schemas`,
    );
  let imported: CliResult;
  let before: string[];
  /** The roles there were before apply: apply adds only the level roles, which had no access to lose. */
  let rolesBefore: string[];
  let manifestPath: string;

  it('prints the file and changes nothing', async () => {
    const was = await catalog();
    rolesBefore = await allRoles();
    before = await privilegeMatrix(shop.adminUrl, rolesBefore);
    imported = await cli(['import', '--url', shop.adminUrl]);
    expect(outcome(imported)).toMatchObject({ status: 0 });
    expect(await catalog()).toEqual(was);
    // No control store either: the one PGCRED_CONTROL_URL names is still empty.
    expect(
      await run(
        server.url('pgcred_control'),
        "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgcred'",
      ),
    ).toEqual([{ n: 0 }]);
    // The admin URL's password never reaches the file or the report.
    const password = new URL(shop.adminUrl).password;
    expect(imported.stdout).not.toContain(password);
    expect(imported.stderr).not.toContain(password);
  });

  it('declares the owner, the roles it can reproduce, and ignores the others, saying why', () => {
    const doc = parse(imported.stdout);
    const db = doc.databases[0];
    expect(db).toMatchObject({
      name: 'shop',
      url: '${DATABASE_ADMIN_URL}',
      owner: shop.roles.owner,
      public: 'keep',
    });
    const byName = new Map(db.credentials.map((c: { name: string }) => [c.name, c]));
    const { app, reporting, staff, etl, jane } = shop.roles;
    expect([...byName.keys()].sort()).toEqual([auditor, caller, etl, jane, limited, nobody, writer].sort());
    // The grant kinds besides tables and sequences: a column, a routine, a group role.
    expect(byName.get(auditor)).toEqual({
      name: auditor,
      grants: [{ privileges: ['SELECT'], on: 'column', objects: ['public.customers'], columns: ['email'] }],
    });
    expect(byName.get(caller)).toEqual({
      name: caller,
      grants: [{ privileges: ['EXECUTE'], on: 'routine', objects: ['public.order_count()'] }],
    });
    for (const member of [etl, jane])
      expect(byName.get(member)).toEqual({ name: member, permission: 'none', memberOf: [staff] });
    expect(byName.get(nobody)).toEqual({ name: nobody, permission: 'none' });
    expect(byName.get(limited)).toEqual({
      name: limited,
      grants: [
        { privileges: ['SELECT', 'UPDATE'], on: 'table', objects: ['inventory.stock'] },
        { privileges: ['SELECT'], on: 'table', objects: ['public.order_totals', 'public.products'] },
      ],
    });
    expect(byName.get(writer)).toEqual({
      name: writer,
      grants: [
        {
          privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'],
          on: 'table',
          objects: ['archive.orders_2019', 'inventory.stock'],
        },
      ],
    });
    expect([...db.ignoreRoles].sort()).toEqual([analyst, app, reporting, staff].sort());
    const reasonOf = (role: string) => {
      const line = imported.stdout.split('\n').findIndex((l) => l.trim() === `- ${role}`);
      const reasons: string[] = [];
      for (let i = line - 1; i >= 0 && imported.stdout.split('\n')[i]!.trim().startsWith('#'); i--)
        reasons.unshift(imported.stdout.split('\n')[i]!.trim());
      return reasons.join('\n');
    };
    expect(reasonOf(staff)).toContain('a group role (NOLOGIN)');
    expect(reasonOf(app)).toContain('owns 2 relations (table app_cache, table schema_migrations)');
    expect(reasonOf(reporting)).toContain(`gains SELECT on tables ${app} creates later in schema public`);
    expect(reasonOf(analyst)).toContain(`which the default credential ${shop.roles.owner} lacks`);
    // The changes of form apply makes are named where they happen.
    expect(imported.stdout).toContain(
      '# apply grants CONNECT on database shop to it directly: it holds it through PUBLIC today\n' +
        '      # apply grants USAGE on schema public to it directly: it holds it through PUBLIC today\n' +
        `      - name: ${limited}`,
    );
    expect(imported.stdout).toContain('#   - default credential: becomes a member of pg_monitor');
    for (const role of [analyst, app, reporting])
      expect(imported.stderr).toContain(` ▸    ${role} is not declared: `);
  });

  it('--only adopts the named roles and ignores the rest; a role it cannot express is reported and ignored', async () => {
    const some = await cli(['import', '--url', shop.adminUrl, '--only', `${limited},${auditor},${analyst}`]);
    expect(outcome(some)).toMatchObject({ status: 0 });
    const db = parse(some.stdout).databases[0];
    expect(db.credentials.map((c: { name: string }) => c.name)).toEqual([auditor, limited]);
    expect(db.ignoreRoles).toEqual(
      expect.arrayContaining([analyst, caller, nobody, writer, shop.roles.reporting]),
    );
    expect(some.stdout).toMatch(new RegExp(`# not named by --only\\n\\s+- ${writer}`));
    // Named, but not expressible: reported and ignored, not declared with what could be said of it.
    expect(some.stderr).toContain(` ▸    ${analyst} is not declared: holds SELECT on table public.app_cache`);
    expect(some.stdout).not.toContain(`name: ${analyst}`);
    expect(some.stderr).not.toContain(`${writer} is not declared`);
    const unknown = await cli(['import', '--url', shop.adminUrl, '--only', `${prefix}_nosuch`]);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain(`--only names ${prefix}_nosuch, which is not a role of this cluster`);
  });

  it('--format typescript prints the same declaration as a constructs stack that synthesizes', async () => {
    const stack = await cli(['import', '--url', shop.adminUrl, '--format', 'typescript']);
    expect(outcome(stack)).toMatchObject({ status: 0 });
    const synth = synthImportedStack(stack.stdout);
    expect(synth.diagnostics).toEqual([]);
    manifestPath = synth.manifestPath;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const fromYaml = parse(imported.stdout).databases[0];
    expect(manifest.config.databases[0]).toMatchObject({
      name: 'shop',
      url: '${DATABASE_ADMIN_URL}',
      owner: shop.roles.owner,
      public: 'keep',
      executor: 'pgcred',
      ignoreRoles: fromYaml.ignoreRoles,
      credentials: fromYaml.credentials,
    });
  });

  it('round trip: apply changes no one’s access, then the plan is empty and drift exits 0', async () => {
    writeFileSync(join(dir, 'pgcred.yaml'), imported.stdout);
    const applied = await cli(['apply', '--yes']);
    expect(outcome(applied)).toMatchObject({ status: 0 });
    expect(applied.stdout).toContain(`adopts existing role ${limited} (password kept)`);
    expect(await privilegeMatrix(shop.adminUrl, rolesBefore)).toEqual(before);
    const plan = await cli(['plan', '--format', 'json']);
    expect(JSON.parse(plan.stdout).databases[0].summary.changes).toBe(0);
    expect(outcome(await cli(['drift']))).toMatchObject({ status: 0 });
    // The legacy passwords still work.
    expect(await shop.sqlAs('reporting', 'SELECT count(*)::int AS n FROM public.products')).toEqual([
      { n: 2 },
    ]);
  });

  it('the TypeScript stack’s manifest plans nothing on the applied database', async () => {
    const plan = await cli(['plan', '--manifest', manifestPath, '--format', 'json']);
    expect(outcome(plan)).toMatchObject({ status: 0 });
    expect(JSON.parse(plan.stdout).databases[0].summary.changes).toBe(0);
    expect(outcome(await cli(['drift', '--manifest', manifestPath]))).toMatchObject({ status: 0 });
  });

  it('importing the applied database gives the same file', async () => {
    const again = await cli(['import', '--url', shop.adminUrl]);
    expect(outcome(again)).toMatchObject({ status: 0 });
    const a = parse(again.stdout).databases[0];
    const b = parse(imported.stdout).databases[0];
    expect(a.credentials).toEqual(b.credentials);
    expect(a.ignoreRoles).toEqual(b.ignoreRoles);
  });

  it('the README example is what import prints', async () => {
    // Names as the README shows them: this cluster is the suite's own.
    const url = await buildReadmeSunny(server);
    const result = await cli(['import', '--url', url]);
    expect(outcome(result)).toMatchObject({ status: 0 });
    // Up to PostgreSQL 14 public belongs to the bootstrap superuser, and apply hands it to the default credential.
    const [{ version }] = await run(url, "SELECT current_setting('server_version_num')::int AS version");
    const printed =
      (version as number) < 150000
        ? result.stdout.replace(
            '#   - default credential: becomes the owner of schema public (was postgres)\n',
            '',
          )
        : result.stdout;
    expect(printed).toBe(readmeSample('import-yaml').text);
    expect(`$ pgcred import --url "$DATABASE_ADMIN_URL" > pgcred.yaml\n${result.stderr}`).toBe(
      readmeSample('import-console').text,
    );

    const sunnyDir = configDir(result.stdout);
    const sunnyEnv = { ...env, DATABASE_ADMIN_URL: url };
    const was = await privilegeMatrix(url, README_ROLES);
    expect(outcome(await pgcred(['apply', '--yes'], { cwd: sunnyDir, env: sunnyEnv }))).toMatchObject({
      status: 0,
    });
    expect(await privilegeMatrix(url, README_ROLES)).toEqual(was);
    expect(outcome(await pgcred(['drift'], { cwd: sunnyDir, env: sunnyEnv }))).toMatchObject({ status: 0 });
  });
});
