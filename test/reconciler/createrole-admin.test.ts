import { buildCreateroleOwned, type CreateroleOwned } from '../fixtures/databases';
import { adminUrl, tryAs, uniqueName, userUrl, withClient } from '../harness/pg';

/**
 * The smaller of the two admin setups the README documents: no superuser, only
 * the database owner with CREATEROLE, logging in as the default credential.
 */
describe('admin: the database owner with CREATEROLE', () => {
  let fixture: CreateroleOwned;
  let owner: string;
  let analyst: string;
  let writer: string;
  let database: string;
  const legacy = uniqueName('legacy');
  const run = (...args: string[]) => fixture.run(...args);

  beforeAll(async () => {
    fixture = await buildCreateroleOwned();
    ({ owner, analyst, writer, database } = fixture);
  });
  afterAll(() => fixture.cleanup([legacy]));

  it('refuses while a superuser owns schema public, and names the one statement a superuser must run', async () => {
    const before = await withClient(adminUrl(), (c) => c.query('SELECT rolname FROM pg_roles ORDER BY 1'));
    const refused = await run('apply', '--yes');
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `▸    schema public belongs to postgres, and the admin role ${owner} is not a superuser: a superuser must run ` +
        `ALTER SCHEMA public OWNER TO "${owner}" in database ${database} once (PostgreSQL 15 and later give public to the database owner themselves)`,
    );
    const after = await withClient(adminUrl(), (c) => c.query('SELECT rolname FROM pg_roles ORDER BY 1'));
    expect(after.rows).toEqual(before.rows);
    // The README's step for PostgreSQL 14 and older.
    await withClient(adminUrl(database), (c) => c.query(`ALTER SCHEMA public OWNER TO "${owner}"`));
  });

  it('applies, and the credentials get their levels', async () => {
    const applied = await run('apply', '--yes');
    expect(applied.stderr).toContain('Applied');
    expect(applied.status).toBe(0);
    const urlOf = async (name: string) =>
      (await run('credentials:url', '--name', name)).stdout
        .split('\n')
        .find((l) => l.trim().startsWith('postgres://'))!
        .trim();
    expect(await tryAs(await urlOf(analyst), 'SELECT * FROM public.accounts')).toMatchObject({ ok: true });
    expect(
      await tryAs(await urlOf(analyst), "INSERT INTO public.accounts (name) VALUES ('x')"),
    ).toMatchObject({ ok: false });
    expect(await tryAs(await urlOf(writer), "INSERT INTO public.accounts (name) VALUES ('x')")).toMatchObject(
      { ok: true },
    );
    // The default credential is the admin itself: its URL is the admin's.
    expect(await urlOf('default')).toContain(`${owner}:`);
  });

  it('checks passwords by logging in, since it cannot read pg_authid, and finds no drift', async () => {
    const drift = await run('drift');
    expect(drift.stdout).toContain('No changes');
    expect(drift.status).toBe(0);
    await withClient(adminUrl(), (c) => c.query(`ALTER ROLE "${analyst}" PASSWORD 'by-hand'`));
    const changed = await run('drift');
    expect(changed.status).toBe(2);
    expect(changed.stdout).toContain('password was changed outside pgcred');
    await run('apply', '--yes');
    expect((await run('drift')).status).toBe(0);
  });

  it('keeps credentials out of its own control schema', async () => {
    const url = (await run('credentials:url', '--name', analyst)).stdout
      .split('\n')
      .find((l) => l.trim().startsWith('postgres://'))!
      .trim();
    expect(await tryAs(url, 'SELECT * FROM pgcred.secrets')).toMatchObject({ ok: false, code: '42501' });
    expect(await tryAs(url, 'SELECT * FROM pgcred.audit')).toMatchObject({ ok: false, code: '42501' });
  });

  it('refuses, before any change, to grant on a table a legacy role owns, naming it and what a superuser must run', async () => {
    await withClient(adminUrl(), (c) => c.query(`CREATE ROLE "${legacy}" LOGIN PASSWORD 'legacy-app'`));
    await withClient(adminUrl(database), (c) =>
      c.query(
        `GRANT CONNECT ON DATABASE "${database}" TO "${legacy}"; GRANT USAGE, CREATE ON SCHEMA public TO "${legacy}"`,
      ),
    );
    await withClient(userUrl(database, legacy, 'legacy-app'), (c) =>
      c.query('CREATE TABLE public.app_cache (k text PRIMARY KEY, v text)'),
    );
    const grantsBefore = await withClient(adminUrl(database), (c) =>
      c.query(
        `SELECT relname, relacl::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`,
      ),
    );
    const why =
      `table public.app_cache belongs to ${legacy}, and the admin role ${owner} is neither a superuser nor a member of ${legacy}, ` +
      `so it cannot grant on it: a superuser must run GRANT "${legacy}" TO "${owner}" in this cluster, or run pgcred apply once as a superuser`;
    const plan = await run('plan');
    expect(plan.status).toBe(1);
    expect(`${plan.stdout}${plan.stderr}`).toContain(why);
    const refused = await run('apply', '--yes');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(why);
    const grantsAfter = await withClient(adminUrl(database), (c) =>
      c.query(
        `SELECT relname, relacl::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`,
      ),
    );
    expect(grantsAfter.rows).toEqual(grantsBefore.rows);
    // The statement the message names, and pgcred covers the legacy role's table.
    await withClient(adminUrl(), (c) => c.query(`GRANT "${legacy}" TO "${owner}"`));
    expect((await run('apply', '--yes')).status).toBe(0);
    const url = (await run('credentials:url', '--name', analyst)).stdout
      .split('\n')
      .find((l) => l.trim().startsWith('postgres://'))!
      .trim();
    expect(await tryAs(url, 'SELECT * FROM public.app_cache')).toMatchObject({ ok: true });
    expect((await run('drift')).status).toBe(0);
  });

  it('rotating the default credential it logs in as does not lock pgcred out', async () => {
    const oldAdmin = String(fixture.env.DATABASE_ADMIN_URL);
    const rotated = await run('credentials:rotate', '--confirm', 'owned');
    expect(rotated.status).toBe(0);
    expect(rotated.stderr).toContain(
      'it keeps the new password in its control store (and beside its master key) and uses it from now on',
    );
    // The admin URL's password is refused now; pgcred carries on with the one it keeps, and says so.
    expect(await tryAs(oldAdmin, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    const drift = await run('drift');
    expect(drift.stderr).toContain('pgcred uses the one it keeps');
    expect(drift.status).toBe(0);
    const url = (await run('credentials:url', '--name', 'default')).stdout
      .split('\n')
      .find((l) => l.trim().startsWith('postgres://'))!
      .trim();
    expect(url).not.toBe(oldAdmin);
    expect(await tryAs(url, 'SELECT 1')).toMatchObject({ ok: true });
  });
});
