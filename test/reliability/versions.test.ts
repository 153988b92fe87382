import { testServer, tryAs, withClient } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

/**
 * What differs between the supported majors, on whichever one this run has
 * (`npm run test:matrix` runs it on all five): the public schema's defaults (15),
 * MAINTAIN (17). CREATEROLE's change in 16 is test/reconciler/createrole-admin.
 */
describe(`what differs between PostgreSQL majors (this run: ${testServer().majorVersion})`, () => {
  const major = testServer().majorVersion;
  let p: Project;
  let nobody: string;
  let keeper: string;

  beforeAll(async () => {
    p = await createProject('versions', ({ url, name }) => {
      nobody = name('nobody');
      keeper = name('keeper');
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
      - { name: ${nobody}, permission: none }
`;
    });
  });
  afterAll(() => p.cleanup());

  const publicSchema = async () =>
    (
      await p.db.sql(
        `SELECT nspowner::regrole::text AS owner,
                has_schema_privilege('public', 'public', 'CREATE') AS public_create,
                has_schema_privilege('public', 'public', 'USAGE') AS public_usage
           FROM pg_namespace WHERE nspname = 'public'`,
      )
    )[0];

  it('public: the bootstrap superuser’s and writable by all before 15, the database owner’s after; PUBLIC holds nothing once applied', async () => {
    expect(await publicSchema()).toEqual(
      major < 15
        ? { owner: 'postgres', public_create: true, public_usage: true }
        : { owner: 'pg_database_owner', public_create: false, public_usage: true },
    );
    await p.ok('apply', '--yes');
    const owner = new URL(await p.urlOf('default')).username;
    expect(await publicSchema()).toEqual({
      owner: major < 15 ? owner : 'pg_database_owner',
      public_create: false,
      public_usage: false,
    });
    const url = await p.urlOf(nobody);
    expect(await tryAs(url, 'CREATE TABLE public.mine (id int)')).toMatchObject({ ok: false, code: '42501' });
    await withClient(await p.urlOf('default'), (c) => c.query('CREATE TABLE public.t (id int)'));
    expect(await tryAs(url, 'SELECT * FROM public.t')).toMatchObject({ ok: false, code: '42501' });
    expect((await p.run('drift')).status).toBe(0);
  });

  it('MAINTAIN: granted on 17 and later (the credential may REINDEX), refused by name before', async () => {
    p.writeConfig(`version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:
      - { name: ${nobody}, permission: none }
      - name: ${keeper}
        grants: [ { privileges: [SELECT, MAINTAIN], on: table, objects: [public.t] } ]
`);
    const roles = async () => p.db.sql('SELECT rolname FROM pg_roles ORDER BY 1');
    const before = await roles();
    const result = await p.run('apply', '--yes');
    if (major < 17) {
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(
        `▸    credential ${keeper} is granted MAINTAIN, which PostgreSQL ${major} does not have (it came in 17)`,
      );
      expect(await roles()).toEqual(before);
    } else {
      expect(result.status).toBe(0);
      const url = await p.urlOf(keeper);
      // ANALYZE without the privilege only warns; REINDEX refuses, so it tells.
      expect(await tryAs(url, 'REINDEX TABLE public.t')).toMatchObject({ ok: true });
      expect(await tryAs(await p.urlOf(nobody), 'REINDEX TABLE public.t')).toMatchObject({ ok: false });
      expect(await tryAs(url, 'SELECT * FROM public.t')).toMatchObject({ ok: true });
      expect(await tryAs(url, 'INSERT INTO public.t VALUES (1)')).toMatchObject({ ok: false, code: '42501' });
      expect((await p.run('drift')).status).toBe(0);
    }
  });
});
