import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type PostgresServer, startPostgres } from '../../src/embedded/server';
import { type CliResult, configDir, pgcred, testKey } from '../harness/cli';
import { tryAs, uniqueName } from '../harness/pg';
import { testBinDir } from '../harness/versions';
import { AppLoop, query, summarize } from './app-loop';
import { buildShop, run, type Shop } from './shop-fixture';

/**
 * Issue 12, "Done when": pgcred on a database that ran for years without it, walked
 * the way a new user walks it (plan, apply, reconcile, drift, the owner's new
 * SECURITY DEFINER function, the app's own migration, drift again), while the apps
 * that use the database keep running their queries in a loop. Nothing they do may
 * fail.
 *
 * This suite starts its own PostgreSQL: roles are cluster-wide, so the legacy login
 * roles made here would change what pgcred decides about PUBLIC for every other
 * database of the shared test server, and theirs would change it here.
 */
describe('brownfield: pgcred on a database it did not build', () => {
  let server: PostgresServer;
  let shop: Shop;
  let hardened: Shop;
  let loop: AppLoop;
  let dir: string;
  let hardenedDir: string;
  let env: NodeJS.ProcessEnv;
  const prefix = uniqueName('bf');
  const analyst = `${prefix}_analyst`;
  const billing = `${prefix}_billing`;
  const hardenedAnalyst = `${prefix}_h_analyst`;

  const cli = (args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> =>
    pgcred(args, { cwd: options.cwd ?? dir, env: options.env ?? env });
  /** What a failed expectation prints: the exit status and everything the command said. */
  const outcome = (r: CliResult) => ({ status: r.status, output: `${r.stdout}${r.stderr}`.slice(0, 6000) });
  const urlLine = (r: CliResult) =>
    r.stdout
      .split('\n')
      .find((l) => l.trim().startsWith('postgres://'))
      ?.trim();
  const urlOf = async (name: string): Promise<string> => {
    const r = await cli(['credentials:url', 'shop', '--name', name]);
    const url = urlLine(r);
    if (r.status !== 0 || !url)
      throw new Error(`credentials:url --name ${name}: ${r.status}\n${r.stderr}${r.stdout}`);
    return url;
  };
  /** Failures of the app loop since a mark, grouped: what an assertion prints. */
  const failuresSince = (mark: number) => summarize(loop.failures.slice(mark));
  const schemaExists = async (db: Shop, name: string) =>
    (await db.sql('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])).length > 0;
  /** Roles, their attributes and passwords, and every ACL of the database: what "writes nothing" compares. */
  const catalogSnapshot = (db: Shop) =>
    db.sql(
      `SELECT
         (SELECT json_agg(r ORDER BY r.rolname) FROM (
            SELECT a.rolname, a.rolpassword, a.rolcanlogin, a.rolconnlimit, r.rolconfig::text,
                   shobj_description(a.oid, 'pg_authid') AS comment
            FROM pg_authid a JOIN pg_roles r ON r.oid = a.oid) r) AS roles,
         (SELECT json_agg(m ORDER BY m.roleid, m.member) FROM (
            SELECT roleid::regrole::text AS roleid, member::regrole::text AS member FROM pg_auth_members) m) AS members,
         (SELECT datacl::text FROM pg_database WHERE datname = current_database()) AS database_acl,
         (SELECT json_agg(n ORDER BY n.nspname) FROM (
            SELECT nspname, nspacl::text FROM pg_namespace WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%') n) AS schemas,
         (SELECT json_agg(c ORDER BY c.nspname, c.relname) FROM (
            SELECT n.nspname, c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_t%') c) AS relations,
         (SELECT json_agg(p ORDER BY p.sig) FROM (
            SELECT p.oid::regprocedure::text AS sig, p.proacl::text FROM pg_proc p
            WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)) p) AS routines,
         (SELECT json_agg(d::text ORDER BY d::text) FROM pg_default_acl d) AS default_acls`,
    );

  beforeAll(async () => {
    server = await startPostgres({ binDir: testBinDir() });
    shop = await buildShop(server, prefix, 'shop');
    // The variant database, built now so the cluster's roles stay the same for the whole walk.
    hardened = await buildShop(server, `${prefix}_h`, 'shop_hardened');

    dir = configDir(`version: 1
databases:
  - name: shop
    url: \${SHOP_ADMIN_URL}
    owner: ${shop.roles.owner}
    credentials:
      - { name: ${shop.roles.reporting}, permission: read-only }
      - { name: ${analyst}, permission: read-only }
      - { name: ${billing}, permission: read-write }
`);
    env = { SHOP_ADMIN_URL: shop.adminUrl, PGCRED_MASTER_KEY: testKey() };
    hardenedDir = configDir(`version: 1
databases:
  - name: shop_hardened
    url: \${HARDENED_ADMIN_URL}
    owner: ${hardened.roles.owner}
    public: harden
    credentials:
      - { name: ${hardenedAnalyst}, permission: read-only }
`);

    const { roles, passwords } = shop;
    loop = new AppLoop([
      {
        name: 'shop_app',
        url: shop.url(roles.app, passwords.app),
        steps: [
          query('read products', 'SELECT id, name FROM public.products', [], (rows) =>
            rows.length >= 2 ? undefined : `${rows.length} products`,
          ),
          query(
            'read active customers (row-level security)',
            'SELECT count(*)::int AS n FROM public.customers',
            [],
            (rows) =>
              rows[0]!.n === 2 ? undefined : `${rows[0]!.n} customers visible, expected the 2 active ones`,
          ),
          {
            name: 'place_order (SECURITY DEFINER)',
            run: async (client) => {
              const placed = await client.query('SELECT public.place_order(1, 1, 1) AS id');
              const read = await client.query('SELECT status FROM public.orders WHERE id = $1', [
                placed.rows[0]?.id,
              ]);
              if (read.rows[0]?.status !== 'placed') throw new Error('the order placed is not readable');
            },
          },
          query(
            'reserve_stock (SECURITY DEFINER)',
            'SELECT inventory.reserve_stock(2, 1) AS on_hand',
            [],
            (rows) => (typeof rows[0]?.on_hand === 'number' ? undefined : 'no stock row'),
          ),
          query('read stock', 'SELECT sum(on_hand)::bigint AS n FROM inventory.stock'),
          query(
            'write app_cache (its own table)',
            `INSERT INTO public.app_cache (key, value) VALUES ('home', '{"hits": 1}')
             ON CONFLICT (key) DO UPDATE SET value = jsonb_set(app_cache.value, '{hits}', to_jsonb((app_cache.value->>'hits')::int + 1)), updated_at = now()`,
          ),
          query(
            'temporary table',
            'BEGIN; CREATE TEMP TABLE cart_scratch (product_id int) ON COMMIT DROP; INSERT INTO cart_scratch VALUES (1); COMMIT',
          ),
        ],
      },
      {
        name: 'owner',
        url: shop.url(roles.owner, passwords.owner),
        steps: [query('read orders', 'SELECT count(*) FROM public.orders')],
      },
      {
        name: 'reporting',
        url: shop.url(roles.reporting, passwords.reporting),
        steps: [
          query('read orders', 'SELECT count(*) FROM public.orders'),
          query('read order_totals (view)', 'SELECT count(*) FROM public.order_totals'),
        ],
      },
      {
        name: 'etl',
        url: shop.url(roles.etl, passwords.etl),
        steps: [
          query('read stock (via staff)', 'SELECT sum(on_hand)::bigint FROM inventory.stock'),
          query('read orders (via staff)', 'SELECT max(id) FROM public.orders'),
        ],
      },
      {
        name: 'dba_jane',
        url: shop.url(roles.jane, passwords.jane),
        steps: [
          query('read pg_stat_activity', 'SELECT count(*) FROM pg_stat_activity'),
          query('read products (via staff)', 'SELECT name FROM public.products ORDER BY id LIMIT 1'),
        ],
      },
    ]);
    loop.start();
    await loop.settle(3);
  }, 60_000);

  afterAll(async () => {
    if (loop?.isRunning) await loop.stop();
    await server?.stop();
    for (const d of [dir, hardenedDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('before pgcred, the shop is what the fixture says and its apps run clean', async () => {
    const [facts] = await shop.sql(
      `SELECT pg_get_userbyid(d.datdba) AS dba,
              (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.app_cache'::regclass) AS cache_owner,
              (SELECT relrowsecurity FROM pg_class WHERE oid = 'public.customers'::regclass) AS rls,
              (SELECT count(*)::int FROM pg_policy WHERE polrelid = 'public.customers'::regclass) AS policies,
              (SELECT count(*)::int FROM pg_extension WHERE extname = 'citext') AS citext,
              (SELECT count(*)::int FROM pg_proc WHERE prosecdef AND proname IN ('place_order', 'reserve_stock')) AS definers,
              (SELECT count(*)::int FROM pg_auth_members WHERE roleid = $1::regrole) AS staff_members,
              has_database_privilege($2, current_database(), 'CONNECT') AS etl_connects
       FROM pg_database d WHERE d.datname = current_database()`,
      [shop.roles.staff, shop.roles.etl],
    );
    expect(facts).toEqual({
      dba: shop.roles.owner,
      cache_owner: shop.roles.app,
      rls: true,
      policies: 1,
      citext: 1,
      definers: 2,
      staff_members: 2,
      etl_connects: true,
    });
    expect(failuresSince(0)).toEqual([]);
  });

  describe('the walk', () => {
    let mark = 0;
    /** Lets every app finish two more rounds, then returns what failed since the last checkpoint. */
    const checkpoint = async (): Promise<string[]> => {
      await loop.settle(2);
      const failed = failuresSince(mark);
      mark = loop.failures.length;
      return failed;
    };

    it('plan, with no master key and no control store, writes nothing and says apply will create the control store', async () => {
      const before = await catalogSnapshot(shop);
      const { PGCRED_MASTER_KEY: _unset, ...noKey } = env;
      const plan = await cli(['plan'], { env: noKey });
      // Should plan make a key file anyway, the rest of the walk uses it, as a user would
      // (a control store it wrote checks the key it was written with).
      const keyFile = join(dir, '.pgcred', 'master.key');
      const madeKey = existsSync(keyFile);
      if (madeKey) env = { ...env, PGCRED_MASTER_KEY: readFileSync(keyFile, 'utf8').trim() };
      expect(outcome(plan)).toMatchObject({ status: 0 });
      expect(`${plan.stdout}${plan.stderr}`).toMatch(/apply will create[^\n]*control store/i);
      expect(await schemaExists(shop, 'pgcred')).toBe(false);
      expect(madeKey).toBe(false);
      expect(existsSync(join(dir, '.pgcred'))).toBe(false);
      expect(await catalogSnapshot(shop)).toEqual(before);
    });

    it('plan adopts reporting keeping its password, leaves PUBLIC as it is, and still writes nothing', async () => {
      const before = await catalogSnapshot(shop);
      const text = await cli(['plan']);
      expect(outcome(text)).toMatchObject({ status: 0 });
      expect(text.stdout).toContain(`adopts existing role ${shop.roles.reporting} (password kept)`);

      const json = await cli(['plan', '--format', 'json']);
      expect(outcome(json)).toMatchObject({ status: 0 });
      const sql: string[] = JSON.parse(json.stdout).databases[0].sql;
      // No password reset of the adopted role, nothing taken from PUBLIC, nothing from the legacy roles.
      expect(sql.filter((s) => s.includes(`"${shop.roles.reporting}"`) && /PASSWORD/i.test(s))).toEqual([]);
      expect(sql.filter((s) => /\bFROM\s+PUBLIC\b/i.test(s))).toEqual([]);
      const legacy = [shop.roles.app, shop.roles.etl, shop.roles.jane, shop.roles.staff, shop.roles.owner];
      expect(sql.filter((s) => /^REVOKE/i.test(s) && legacy.some((r) => s.includes(`"${r}"`)))).toEqual([]);

      expect(await schemaExists(shop, 'pgcred')).toBe(false);
      expect(await catalogSnapshot(shop)).toEqual(before);
      expect(await checkpoint()).toEqual([]);
    });

    it('plan says, per table, that row-level security shows the levels no rows', async () => {
      const text = await cli(['plan']);
      const lines = text.stdout.split('\n').filter((l) => /row[- ]level security|\bRLS\b/i.test(l));
      expect(lines.some((l) => l.includes('customers'))).toBe(true);
    });

    it('apply --yes succeeds, and no app notices', async () => {
      const applied = await cli(['apply', '--yes']);
      expect(outcome(applied)).toMatchObject({ status: 0 });
      expect(await checkpoint()).toEqual([]);
    });

    it('after apply the legacy roles keep what PUBLIC gave them', async () => {
      const { app, etl, jane } = shop.roles;
      const [rights] = await shop.sql(
        `SELECT has_database_privilege($1, current_database(), 'CONNECT') AS app_connect,
                has_database_privilege($1, current_database(), 'TEMPORARY') AS app_temporary,
                has_database_privilege($2, current_database(), 'CONNECT') AS etl_connect,
                has_database_privilege($3, current_database(), 'CONNECT') AS jane_connect,
                has_schema_privilege($1, 'public', 'USAGE') AS app_public_usage,
                has_schema_privilege($1, 'public', 'CREATE') AS app_public_create,
                has_function_privilege($1, 'public.place_order(int, int, int)', 'EXECUTE') AS app_place_order,
                has_function_privilege($1, 'inventory.reserve_stock(int, int)', 'EXECUTE') AS app_reserve_stock`,
        [app, etl, jane],
      );
      expect(rights).toEqual({
        app_connect: true,
        app_temporary: true,
        etl_connect: true,
        jane_connect: true,
        app_public_usage: true,
        app_public_create: true,
        app_place_order: true,
        app_reserve_stock: true,
      });
    });

    it("reporting's old password still logs in after apply, and its settings are kept", async () => {
      const { reporting } = shop.roles;
      expect(
        await tryAs(
          shop.url(reporting, shop.passwords.reporting),
          'SELECT count(*)::int AS n FROM public.orders',
        ),
      ).toMatchObject({ ok: true });
      const [role] = await shop.sql('SELECT rolconnlimit, rolconfig FROM pg_roles WHERE rolname = $1', [
        reporting,
      ]);
      expect(role).toEqual({ rolconnlimit: 10, rolconfig: ['statement_timeout=30s'] });
    });

    it('the new credentials behave by their level when you log in as them', async () => {
      const analystUrl = await urlOf(analyst);
      const billingUrl = await urlOf(billing);
      /** A statement that must be refused, tried in a transaction rolled back, so one let through leaves nothing. */
      const refused = async (url: string, sql: string) =>
        expect({ sql, result: await tryAs(url, `BEGIN; ${sql}; ROLLBACK`) }).toMatchObject({
          sql,
          result: { ok: false, code: '42501' },
        });
      for (const sql of [
        'SELECT count(*) FROM public.orders',
        'SELECT count(*) FROM public.order_totals',
        'SELECT count(*) FROM inventory.stock',
        'SELECT count(*) FROM archive.orders_2019',
        // The legacy app's own table is a table of the database like any other.
        'SELECT count(*) FROM public.app_cache',
      ]) {
        expect({ sql, result: await tryAs(analystUrl, sql) }).toMatchObject({ sql, result: { ok: true } });
      }
      await refused(analystUrl, "INSERT INTO public.products (name, price_cents) VALUES ('nope', 1)");
      expect(
        await tryAs(billingUrl, "INSERT INTO public.products (name, price_cents) VALUES ('sticker', 300)"),
      ).toMatchObject({ ok: true });
      expect(
        await tryAs(billingUrl, "UPDATE public.app_cache SET updated_at = now() WHERE key = 'home'"),
      ).toMatchObject({ ok: true });
      for (const url of [analystUrl, billingUrl]) {
        await refused(url, 'CREATE SCHEMA made_by_a_credential');
        await refused(url, 'CREATE TABLE inventory.made_by_a_credential (id int)');
        // Before 15, PUBLIC holds CREATE on public, and pgcred leaves PUBLIC as it is here:
        // the levels cannot withhold it, and the notice must say so instead.
        if (server.majorVersion >= 15)
          await refused(url, 'CREATE TABLE public.made_by_a_credential (id int)');
      }
      if (server.majorVersion < 15) {
        const drift = await cli(['drift']);
        expect(
          drift.stdout.split('\n').filter((l) => /PUBLIC keeps[^\n]*CREATE on schema public/.test(l)),
        ).toHaveLength(1);
      }
    });

    it('reconcile succeeds, and no app notices', async () => {
      const reconciled = await cli(['reconcile']);
      expect(outcome(reconciled)).toMatchObject({ status: 0 });
      expect(await checkpoint()).toEqual([]);
    });

    it('drift exits 0 right after apply and reconcile, and writes nothing', async () => {
      const before = await catalogSnapshot(shop);
      const drift = await cli(['drift']);
      expect(outcome(drift)).toMatchObject({ status: 0 });
      expect(await catalogSnapshot(shop)).toEqual(before);
    });

    it('drift --strict exits 2 on the notices (the default credential has a password pgcred does not know) while drift exits 0', async () => {
      const strict = await cli(['drift', '--strict']);
      expect(outcome(strict)).toMatchObject({ status: 2 });
      expect(strict.stdout).toMatch(/does not know the password[^\n]*default credential/);
      const plain = await cli(['drift']);
      expect(outcome(plain)).toMatchObject({ status: 0 });
    });

    it("the credentials listing says what the levels cannot withhold, and that the owner's password is unknown to pgcred", async () => {
      const listing = await cli(['credentials', 'shop']);
      expect(outcome(listing)).toMatchObject({ status: 0 });
      expect(listing.stdout).toMatch(/^default\s+active, password unknown to pgcred$/m);
      expect(listing.stderr).toMatch(/PUBLIC keeps CONNECT, TEMPORARY on database shop/);
      expect(listing.stderr).toMatch(/row-level security and no policy for/);
    });

    it('credentials:url for the default credential exits 1 while pgcred does not know its password', async () => {
      const url = await cli(['credentials:url', 'shop']);
      expect(outcome(url)).toMatchObject({ status: 1 });
      expect(urlLine(url)).toBeUndefined();
    });

    it("the owner's new SECURITY DEFINER function stays callable by the app through reconcile", async () => {
      await shop.sqlAs(
        'owner',
        `CREATE FUNCTION public.cancel_order(p_order bigint) RETURNS boolean
           LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
           AS $$ UPDATE public.orders SET status = 'cancelled' WHERE id = p_order RETURNING true $$`,
      );
      loop.addStep(
        'shop_app',
        query(
          'cancel_order (new SECURITY DEFINER)',
          'SELECT public.cancel_order(public.place_order(1, 2, 1)) AS cancelled',
          [],
          (rows) => (rows[0]?.cancelled === true ? undefined : 'the order was not cancelled'),
        ),
      );
      expect(await checkpoint()).toEqual([]);
      const reconciled = await cli(['reconcile']);
      expect(outcome(reconciled)).toMatchObject({ status: 0 });
      expect(await checkpoint()).toEqual([]);
      const [row] = await shop.sql(
        `SELECT has_function_privilege($1, 'public.cancel_order(bigint)', 'EXECUTE') AS can`,
        [shop.roles.app],
      );
      expect(row).toEqual({ can: true });
    });

    it("a migration run by the app's own role: drift stays 0, and the levels cover its new table", async () => {
      await shop.sqlAs(
        'app',
        `CREATE TABLE public.app_events (id bigserial PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL DEFAULT now());
         INSERT INTO public.schema_migrations (version) VALUES ('20240101000000');`,
      );
      loop.addStep(
        'shop_app',
        query('write app_events (its new table)', "INSERT INTO public.app_events (kind) VALUES ('visit')"),
      );
      expect(await checkpoint()).toEqual([]);
      const drift = await cli(['drift']);
      expect(outcome(drift)).toMatchObject({ status: 0 });
      // Default privileges FOR ROLE the app (the admin is a superuser): its new table is in the levels.
      expect(await tryAs(await urlOf(analyst), 'SELECT count(*) FROM public.app_events')).toMatchObject({
        ok: true,
      });
      expect(
        await tryAs(await urlOf(billing), "INSERT INTO public.app_events (kind) VALUES ('billing')"),
      ).toMatchObject({ ok: true });
      expect(await checkpoint()).toEqual([]);
    });

    it('a grant changed by hand makes drift exit 2, and apply repairs it', async () => {
      await shop.sqlAs('owner', `GRANT INSERT ON public.products TO "${analyst}"`);
      const drift = await cli(['drift']);
      expect(outcome(drift)).toMatchObject({ status: 2 });
      expect(drift.stdout).toContain(analyst);
      expect(drift.stdout).toMatch(/INSERT/);
      const repaired = await cli(['apply', '--yes']);
      expect(outcome(repaired)).toMatchObject({ status: 0 });
      expect(
        await tryAs(
          await urlOf(analyst),
          "INSERT INTO public.products (name, price_cents) VALUES ('nope', 1)",
        ),
      ).toMatchObject({ ok: false, code: '42501' });
      expect(outcome(await cli(['drift']))).toMatchObject({ status: 0 });
      expect(await checkpoint()).toEqual([]);
    });

    it('a password changed by hand makes drift exit 2, and apply repairs it', async () => {
      await shop.sql(`ALTER ROLE "${billing}" PASSWORD 'changed-by-hand'`);
      const drift = await cli(['drift']);
      expect(outcome(drift)).toMatchObject({ status: 2 });
      expect(drift.stdout).toContain(billing);
      const repaired = await cli(['apply', '--yes']);
      expect(outcome(repaired)).toMatchObject({ status: 0 });
      expect(await tryAs(await urlOf(billing), 'SELECT 1 AS one')).toMatchObject({ ok: true });
      expect(outcome(await cli(['drift']))).toMatchObject({ status: 0 });
    });

    it("handing pgcred the owner's current password: verified first, then credentials:url logs in", async () => {
      const { owner } = shop.roles;
      const wrong = await cli(['credentials:password', 'shop', '--name', 'default'], {
        env: { ...env, PGCRED_PASSWORD: 'not-the-password' },
      });
      expect(outcome(wrong)).toMatchObject({ status: 1 });
      expect(outcome(await cli(['credentials:url', 'shop']))).toMatchObject({ status: 1 });

      const handed = await cli(['credentials:password', 'shop', '--name', 'default'], {
        env: { ...env, PGCRED_PASSWORD: shop.passwords.owner },
      });
      expect(outcome(handed)).toMatchObject({ status: 0 });
      expect(`${handed.stdout}${handed.stderr}`).not.toContain(shop.passwords.owner);

      const printed = await cli(['credentials:url', 'shop']);
      expect(outcome(printed)).toMatchObject({ status: 0 });
      const url = urlLine(printed);
      expect(url).toBeDefined();
      expect(await tryAs(url!, 'SELECT current_user AS who')).toEqual({ ok: true, rows: [{ who: owner }] });
      // Handing it over changed nothing: the apps' copy of the owner's password still works.
      expect(await tryAs(shop.url(owner, shop.passwords.owner), 'SELECT 1 AS one')).toMatchObject({
        ok: true,
      });

      const strict = await cli(['drift', '--strict']);
      expect(strict.stdout).not.toMatch(/does not know the password[^\n]*default credential/);
      expect(await checkpoint()).toEqual([]);
    });

    it("handing pgcred the adopted role's password: credentials:url then logs in as reporting, and nothing changed", async () => {
      const { reporting } = shop.roles;
      const handed = await cli(['credentials:password', 'shop', '--name', reporting], {
        env: { ...env, PGCRED_PASSWORD: shop.passwords.reporting },
      });
      expect(outcome(handed)).toMatchObject({ status: 0 });
      const url = await urlOf(reporting);
      expect(await tryAs(url, 'SELECT current_user AS who')).toEqual({
        ok: true,
        rows: [{ who: reporting }],
      });
      expect(await checkpoint()).toEqual([]);
    });

    it("no notice tells the user to hand the app's own tables to the default credential", async () => {
      // The levels cover them through default privileges FOR ROLE the app; repair-default would
      // take the tables its migrations made away from it.
      const drift = await cli(['drift']);
      expect(drift.stdout).not.toMatch(/repair-default/);
    });

    it('drift exits 0 at the end of the walk', async () => {
      const drift = await cli(['drift']);
      expect(outcome(drift)).toMatchObject({ status: 0 });
    });

    it('the app loop ran throughout with zero failures', async () => {
      const report = await loop.stop();
      expect(report.ended).toBe('stopped');
      expect(summarize(report.failures)).toEqual([]);
      for (const [actor, count] of Object.entries(report.iterations)) {
        expect({ actor, ranAtLeast20: count >= 20 }).toEqual({ actor, ranAtLeast20: true });
      }
    });
  });

  describe('public: harden on a brownfield database', () => {
    let henv: NodeJS.ProcessEnv;
    beforeAll(() => {
      henv = { HARDENED_ADMIN_URL: hardened.adminUrl, PGCRED_MASTER_KEY: testKey() };
    });
    const hcli = (...args: string[]) => cli(args, { cwd: hardenedDir, env: henv });
    const canConnect = (role: 'app' | 'etl' | 'jane') =>
      tryAs(hardened.url(hardened.roles[role], hardened.passwords[role]), 'SELECT 1 AS one');

    it("the plan names each role that is not pgcred's and what it loses, marked destructive, and changes nothing", async () => {
      const before = await catalogSnapshot(hardened);
      const text = await hcli('plan');
      expect(outcome(text)).toMatchObject({ status: 0 });
      expect(text.stdout).toContain(hardened.roles.app);
      expect(text.stdout).toContain(hardened.roles.etl);
      expect(text.stdout).toMatch(/CONNECT/);

      const json = await hcli('plan', '--format', 'json');
      expect(outcome(json)).toMatchObject({ status: 0 });
      const changes: { destructive: boolean; subject: string; target: string; description: string }[] =
        JSON.parse(json.stdout).databases[0].changes;
      for (const role of [hardened.roles.app, hardened.roles.etl, hardened.roles.jane]) {
        const losses = changes.filter(
          (c) =>
            c.destructive &&
            `${c.subject} ${c.description}`.includes(role) &&
            /CONNECT/.test(`${c.target} ${c.description}`),
        );
        expect({ role, destructiveConnectLosses: losses.length > 0 }).toEqual({
          role,
          destructiveConnectLosses: true,
        });
      }
      expect(await schemaExists(hardened, 'pgcred')).toBe(false);
      expect(await catalogSnapshot(hardened)).toEqual(before);
      expect(await canConnect('etl')).toMatchObject({ ok: true });
    });

    it('apply without --yes refuses the destructive hardening, and every legacy role still connects', async () => {
      const refused = await hcli('apply');
      expect(outcome(refused)).toMatchObject({ status: 1 });
      expect(refused.stderr).toMatch(/--yes/);
      for (const role of ['app', 'etl', 'jane'] as const) {
        expect({ role, result: await canConnect(role) }).toMatchObject({ role, result: { ok: true } });
      }
      const [acl] = await run(
        server.url('shop_hardened'),
        `SELECT bool_or(a.grantee = 0 AND a.privilege_type = 'CONNECT') AS public_connect
         FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
         WHERE d.datname = current_database()`,
      );
      expect(acl).toEqual({ public_connect: true });
    });
  });
});
