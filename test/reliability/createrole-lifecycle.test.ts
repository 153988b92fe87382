import { writeFileSync } from 'node:fs';
import { configDir, pgcred, testKey } from '../harness/cli';
import {
  adminUrl,
  dropLevelRolesOf,
  dropRoles,
  testServer,
  tryAs,
  uniqueName,
  userUrl,
  withClient,
} from '../harness/pg';

/**
 * The whole life of a credential under the smaller admin setup (the database owner
 * with CREATEROLE, no superuser) on this run's major: PostgreSQL 16 changed what
 * CREATEROLE may do (only roles it has ADMIN OPTION on), so create, rotate (with its
 * temporary username), downgrade and destroy must each work on every major.
 */
describe(`CREATEROLE admin, a credential's whole life (PostgreSQL ${testServer().majorVersion})`, () => {
  const owner = uniqueName('owner');
  const analyst = uniqueName('analyst');
  const database = uniqueName('crdb');
  const password = 'Owner0Password0With0Enough0Entropy';
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => pgcred(args, { cwd: dir, env });
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    if (result.status !== 0) throw new Error(`pgcred ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  const urlOf = async (name: string) =>
    (await ok('credentials:url', '--name', name)).stdout
      .split('\n')
      .find((l) => l.trim().startsWith('postgres://'))!
      .trim();

  beforeAll(async () => {
    await withClient(adminUrl(), async (c) => {
      await c.query(`CREATE ROLE "${owner}" LOGIN CREATEROLE PASSWORD '${password}'`);
      await c.query(
        `GRANT pg_monitor, pg_read_all_settings, pg_read_all_stats, pg_signal_backend TO "${owner}"`,
      );
      await c.query(`CREATE DATABASE "${database}" OWNER "${owner}"`);
    });
    // The README's step for 14 (15 and later need none).
    await withClient(adminUrl(database), (c) => c.query(`ALTER SCHEMA public OWNER TO "${owner}"`));
    await withClient(userUrl(database, owner, password), (c) => c.query('CREATE TABLE public.t (id int)'));
    dir = configDir(`version: 1
databases:
  - name: owned
    url: \${DATABASE_ADMIN_URL}
    credentials:
      - { name: ${analyst}, permission: read-write }
`);
    env = { DATABASE_ADMIN_URL: userUrl(database, owner, password), PGCRED_MASTER_KEY: testKey() };
  });
  afterAll(async () => {
    await withClient(adminUrl(), (c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
    await dropLevelRolesOf(database);
    await dropRoles([`${analyst}-rotating`, analyst, owner]);
  });

  it('repair-default hands a credential’s objects over, and apply --prune destroys it', async () => {
    const extra = `${analyst}_x`;
    const file = (credentials: string[]) =>
      `version: 1\ndatabases:\n  - name: owned\n    url: \${DATABASE_ADMIN_URL}\n    credentials: [${credentials.join(', ')}]\n`;
    writeFileSync(`${dir}/pgcred.yaml`, file([`{ name: ${extra}, permission: read-only }`]));
    try {
      await ok('apply', '--yes');
      await withClient(adminUrl(database), (c) =>
        c.query(`CREATE TABLE public.theirs (id int); ALTER TABLE public.theirs OWNER TO "${extra}"`),
      );
      await ok('credentials:repair-default', '--confirm', 'owned');
      const ownerOf = async () =>
        (
          await withClient(adminUrl(database), (c) =>
            c.query("SELECT relowner::regrole::text AS owner FROM pg_class WHERE relname = 'theirs'"),
          )
        ).rows[0].owner;
      expect(await ownerOf()).toBe(owner);
      // The admin gave back the privileges it took for the hand-over.
      const member = await withClient(adminUrl(), (c) =>
        c.query("SELECT pg_has_role($1, $2, 'USAGE') AS has", [owner, extra]),
      );
      expect(member.rows).toEqual([{ has: false }]);
      await withClient(adminUrl(database), (c) => c.query(`ALTER TABLE public.theirs OWNER TO "${extra}"`));
      writeFileSync(`${dir}/pgcred.yaml`, file([]));
      await ok('apply', '--prune', '--yes');
      expect(await ownerOf()).toBe(owner);
      const gone = await withClient(adminUrl(), (c) =>
        c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [extra]),
      );
      expect(gone.rows).toEqual([]);
    } finally {
      writeFileSync(`${dir}/pgcred.yaml`, file([`{ name: ${analyst}, permission: read-write }`]));
      await dropRoles([extra]);
    }
  });

  it('creates, rotates through the temporary username, downgrades and destroys', async () => {
    await ok('apply', '--yes');
    const first = await urlOf(analyst);
    expect(await tryAs(first, 'INSERT INTO public.t VALUES (1)')).toMatchObject({ ok: true });
    await ok('credentials:rotate', '--name', analyst, '--grace', '1s', '--confirm', 'owned');
    const second = await urlOf(analyst);
    expect(second).not.toBe(first);
    expect(await tryAs(second, 'SELECT count(*) FROM public.t')).toMatchObject({ ok: true });
    expect(await tryAs(first, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });
    const roles = await withClient(adminUrl(), (c) =>
      c.query('SELECT rolname FROM pg_roles WHERE rolname = $1', [`${analyst}-rotating`]),
    );
    expect(roles.rows).toEqual([]);
    await ok('credentials:permissions', '--name', analyst, '--level', 'read-only');
    expect(await tryAs(second, 'INSERT INTO public.t VALUES (2)')).toMatchObject({
      ok: false,
      code: '42501',
    });
    // The credential owns something: destroy hands it to the default credential first.
    await withClient(adminUrl(database), (c) =>
      c.query(`CREATE TABLE public.mine (id int); ALTER TABLE public.mine OWNER TO "${analyst}"`),
    );
    await ok('credentials:destroy', '--name', analyst, '--confirm', 'owned');
    const left = await withClient(adminUrl(database), (c) =>
      c.query(
        "SELECT (SELECT count(*)::int FROM pg_roles WHERE rolname = $1) AS roles, (SELECT relowner::regrole::text FROM pg_class WHERE relname = 'mine') AS owner",
        [analyst],
      ),
    );
    expect(left.rows).toEqual([{ roles: 0, owner }]);
  });
});
