import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PostgresServer, startPostgres } from '../../src/embedded/server';
import { buildShop, run, type Shop } from '../brownfield/shop-fixture';
import { type CliResult, configDir, pgcred, testKey } from '../harness/cli';
import { uniqueName } from '../harness/pg';
import { testBinDir } from '../harness/versions';
import { privilegeMatrix } from './privilege-matrix';

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
  const analyst = `${prefix}_analyst`;
  const limited = `${prefix}_limited`;
  const writer = `${prefix}_writer`;
  const auditor = `${prefix}_auditor`;
  const caller = `${prefix}_caller`;
  const nobody = `${prefix}_nobody`;

  const cli = (args: string[]): Promise<CliResult> => pgcred(args, { cwd: dir, env });
  const outcome = (r: CliResult) => ({ status: r.status, output: `${r.stdout}${r.stderr}`.slice(0, 8000) });
  const allRoles = async () =>
    (await shop.sql("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1")).map(
      (r) => r.rolname as string,
    );

  beforeAll(async () => {
    server = await startPostgres({ binDir: testBinDir() });
    shop = await buildShop(server, prefix, 'shop');
    const { owner, app } = shop.roles;
    // Roles made by hand the way a team would: one that is exactly read-only (as the
    // levels define it, the app's own tables and future objects included), one with a
    // few grants, one read-write with everything but a level's TEMPORARY, one with a
    // column grant, one allowed to call an ordinary function, one that can only connect.
    await run(
      server.url(),
      `CREATE ROLE "${analyst}" LOGIN PASSWORD 'analyst-legacy';
       CREATE ROLE "${limited}" LOGIN PASSWORD 'limited-legacy';
       CREATE ROLE "${writer}" LOGIN PASSWORD 'writer-legacy';
       CREATE ROLE "${auditor}" LOGIN PASSWORD 'auditor-legacy';
       CREATE ROLE "${caller}" LOGIN PASSWORD 'caller-legacy';
       CREATE ROLE "${nobody}" LOGIN PASSWORD 'nobody-legacy';`,
    );
    await shop.sql(
      `GRANT CONNECT ON DATABASE shop TO "${analyst}", "${nobody}";
       GRANT USAGE ON SCHEMA public, inventory, archive TO "${analyst}";
       GRANT SELECT ON ALL TABLES IN SCHEMA public, inventory, archive TO "${analyst}";
       GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, inventory, archive TO "${analyst}";
       ALTER DEFAULT PRIVILEGES FOR ROLE "${owner}", "${app}" GRANT SELECT ON TABLES TO "${analyst}";
       ALTER DEFAULT PRIVILEGES FOR ROLE "${owner}", "${app}" GRANT SELECT ON SEQUENCES TO "${analyst}";
       ALTER DEFAULT PRIVILEGES FOR ROLE "${owner}", "${app}" GRANT USAGE ON SCHEMAS TO "${analyst}";
       GRANT SELECT ON public.products, public.order_totals TO "${limited}";
       GRANT USAGE ON SCHEMA inventory TO "${limited}";
       GRANT SELECT, UPDATE ON inventory.stock TO "${limited}";
       GRANT USAGE ON SCHEMA inventory, archive TO "${writer}";
       GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA inventory, archive TO "${writer}";
       GRANT SELECT (email) ON public.customers TO "${auditor}";
       CREATE FUNCTION public.order_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM public.orders';
       ALTER FUNCTION public.order_count() OWNER TO "${owner}";
       REVOKE EXECUTE ON FUNCTION public.order_count() FROM PUBLIC;
       GRANT EXECUTE ON FUNCTION public.order_count() TO "${caller}";`,
    );
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

  it('writes the file, and applying it changes no one’s access', async () => {
    const before = await privilegeMatrix(shop.adminUrl, await allRoles());
    const imported = await cli(['import', '--url', shop.adminUrl]);
    console.log(imported.stdout, imported.stderr);
    expect(outcome(imported)).toMatchObject({ status: 0 });
    writeFileSync(join(dir, 'pgcred.yaml'), imported.stdout);
    const applied = await cli(['apply', '--yes']);
    console.log(applied.stdout, applied.stderr);
    expect(outcome(applied)).toMatchObject({ status: 0 });
    const after = await privilegeMatrix(shop.adminUrl, await allRoles());
    expect(after).toEqual(before);
    const plan = await cli(['plan', '--format', 'json']);
    expect(JSON.parse(plan.stdout).databases[0].summary.changes).toBe(0);
    const drift = await cli(['drift']);
    expect(outcome(drift)).toMatchObject({ status: 0 });
  });
});
