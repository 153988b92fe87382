import { buildSeedFlows } from '../fixtures/databases';
import { tryAs, withClient } from '../harness/pg';
import type { Project } from '../harness/project';

/**
 * The seed's flows, end to end: pgcred applies, then each credential logs in and
 * tries to read, write and create, as a user of it would.
 */
describe('the seed flows against a real PostgreSQL', () => {
  let p: Project;
  let analyst: string;
  let writer: string;
  let nobody: string;
  let limited: string;

  beforeAll(async () => {
    ({ p, analyst, writer, nobody, limited } = await buildSeedFlows());
  });

  afterAll(() => p.cleanup());

  it('a new credential can log in but cannot read a table', async () => {
    const fresh = p.name('fresh');
    const created = await p.ok('credentials:create', '--name', fresh);
    expect(created.stderr).toContain(`Creating credential ${fresh}... done`);
    const url = await p.urlOf(fresh);
    expect(await tryAs(url, 'SELECT 1 AS one')).toEqual({ ok: true, rows: [{ one: 1 }] });
    expect(await tryAs(url, 'SELECT * FROM public.users')).toMatchObject({ ok: false, code: '42501' });
    expect(await tryAs(url, 'SELECT * FROM public.leaky')).toMatchObject({ ok: false, code: '42501' });
  });

  it('read-only reads every table, view and sequence in every schema, including ones created after apply', async () => {
    const url = await p.urlOf(analyst);
    for (const sql of [
      'SELECT * FROM public.users',
      'SELECT * FROM billing.invoices',
      'SELECT * FROM billing.totals',
      'SELECT * FROM billing.snapshot',
      'SELECT last_value FROM public.users_id_seq',
    ]) {
      expect(await tryAs(url, sql)).toMatchObject({ ok: true });
    }
    // A schema and a table the default credential creates later are covered by default privileges.
    await withClient(await p.urlOf('default'), (c) =>
      c.query('CREATE SCHEMA later; CREATE TABLE later.events (at timestamptz)'),
    );
    expect(await tryAs(url, 'SELECT * FROM later.events')).toMatchObject({ ok: true });
  });

  it('read-only cannot write, create, or make temporary tables', async () => {
    const url = await p.urlOf(analyst);
    for (const sql of [
      "INSERT INTO public.users (email) VALUES ('x')",
      'UPDATE public.users SET email = email',
      'DELETE FROM public.users',
      'TRUNCATE public.users',
      "SELECT nextval('public.users_id_seq')",
      'CREATE TABLE public.mine (id int)',
      'CREATE SCHEMA mine',
      'CREATE TEMP TABLE scratch (id int)',
    ]) {
      expect(await tryAs(url, sql)).toMatchObject({ ok: false, code: '42501' });
    }
  });

  it('read-write writes and generates sequence values, but creates nothing', async () => {
    const url = await p.urlOf(writer);
    expect(
      await tryAs(url, "INSERT INTO public.users (email) VALUES ('grace@example.com') RETURNING id"),
    ).toMatchObject({ ok: true });
    expect(await tryAs(url, 'INSERT INTO billing.invoices (cents) VALUES (1200)')).toMatchObject({
      ok: true,
    });
    expect(await tryAs(url, 'UPDATE billing.invoices SET cents = cents + 1')).toMatchObject({ ok: true });
    expect(await tryAs(url, 'CREATE TEMP TABLE scratch (id int)')).toMatchObject({ ok: true });
    expect(await tryAs(url, 'CREATE TABLE public.mine (id int)')).toMatchObject({ ok: false, code: '42501' });
    expect(await tryAs(url, 'CREATE SCHEMA mine')).toMatchObject({ ok: false, code: '42501' });
  });

  it('none reads nothing, even what PUBLIC could read before pgcred', async () => {
    const url = await p.urlOf(nobody);
    expect(await tryAs(url, 'SELECT * FROM public.leaky')).toMatchObject({ ok: false, code: '42501' });
    expect(await tryAs(url, 'SELECT * FROM public.users')).toMatchObject({ ok: false, code: '42501' });
  });

  it('custom grants give exactly one table, as the seed example does', async () => {
    const url = await p.urlOf(limited);
    expect(await tryAs(url, 'SELECT email FROM public.users LIMIT 1')).toMatchObject({ ok: true });
    expect(await tryAs(url, 'SELECT * FROM billing.invoices')).toMatchObject({ ok: false, code: '42501' });
    expect(await tryAs(url, "INSERT INTO public.users (email) VALUES ('x')")).toMatchObject({
      ok: false,
      code: '42501',
    });
  });

  it('a downgrade from read-write to read-only takes the writes away', async () => {
    const url = await p.urlOf(writer);
    const result = await p.ok('credentials:permissions', '--name', writer, '--level', 'read-only');
    // A level change is a membership: the plan says what the move gains and loses.
    expect(result.stdout).toContain('read-write → read-only: becomes a member of level role');
    expect(result.stdout).toContain(
      'loses TEMPORARY on the database; INSERT, UPDATE, DELETE, TRUNCATE on all tables; USAGE on all sequences',
    );
    expect(await tryAs(url, "INSERT INTO public.users (email) VALUES ('x')")).toMatchObject({
      ok: false,
      code: '42501',
    });
    expect(await tryAs(url, 'SELECT count(*) FROM public.users')).toMatchObject({ ok: true });
    // The file still says read-write: the next apply puts it back, and says so first.
    const plan = await p.ok('plan');
    expect(plan.stdout).toContain(
      'read-only → read-write: becomes a member of level role pgcred:read-write:sunny; gains TEMPORARY on the database; INSERT, UPDATE, DELETE, TRUNCATE on all tables',
    );
    await p.ok('apply', '--yes');
    expect(await tryAs(url, "INSERT INTO public.users (email) VALUES ('back')")).toMatchObject({ ok: true });
  });

  it('a second apply finds nothing to do', async () => {
    const again = await p.ok('apply', '--yes');
    expect(again.stderr).toContain('sunny already matches the declaration.');
    const plan = await p.ok('plan', '--format', 'json');
    expect(JSON.parse(plan.stdout).databases[0].summary.changes).toBe(0);
  });

  it('destroy hands the objects a credential owns to the default credential', async () => {
    const owner = p.name('owner');
    await p.ok('credentials:create', '--name', owner);
    await p.db.sql(
      `CREATE TABLE public.owned_by_credential (id int); ALTER TABLE public.owned_by_credential OWNER TO "${owner}"`,
    );
    const refused = await p.run('credentials:destroy', '--name', owner);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`To proceed, re-run this command with --confirm sunny`);
    const destroyed = await p.ok('credentials:destroy', '--name', owner, '--confirm', 'sunny');
    expect(destroyed.stdout).toBe(
      `The credential has been destroyed within sunny.\nDatabase objects owned by ${owner} will be assigned to the default credential.\n`,
    );
    const [row] = await p.db.sql(
      "SELECT pg_get_userbyid(relowner) AS owner, pg_get_userbyid((SELECT datdba FROM pg_database WHERE datname = current_database())) AS dba FROM pg_class WHERE relname = 'owned_by_credential'",
    );
    expect(row!.owner).toBe(row!.dba);
    expect(await p.db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [owner])).toEqual([]);
  });

  it('the default credential cannot be destroyed', async () => {
    const result = await p.run('credentials:destroy', '--name', 'default', '--confirm', 'sunny');
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('▸    Default credential cannot be destroyed.');
  });
});
