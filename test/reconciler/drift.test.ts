import { tryAs, withClient } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

/** GIVEN drift made by hand WHEN drift runs THEN it exits 2 and names it; apply repairs; drift exits 0. */
describe('drift', () => {
  let p: Project;
  let analyst: string;
  let writer: string;
  let intruder: string;

  beforeAll(async () => {
    p = await createProject('drift', ({ url, name }) => {
      analyst = name('analyst');
      writer = name('writer');
      intruder = name('intruder');
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
      - { name: ${analyst}, permission: read-only }
      - { name: ${writer}, permission: read-write }
`;
    });
    await p.ok('apply', '--yes');
    await withClient(await p.urlOf('default'), (c) =>
      c.query(
        'CREATE TABLE public.orders (id serial PRIMARY KEY, total int); CREATE TABLE public.notes (body text)',
      ),
    );
  });
  afterAll(async () => {
    await p.db.sql(`DROP ROLE IF EXISTS "${intruder}"`).catch(() => undefined);
    await p.cleanup();
  });

  it('is quiet when nothing changed by hand', async () => {
    const result = await p.run('drift');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('No changes: the database matches the declaration.');
  });

  it('names each change made by hand, grouped by credential, and exits 2', async () => {
    const analystUrl = await p.urlOf(analyst);
    // The level's privileges are the level role's: revoked from it by hand, they are drift of the level.
    await p.db.sql('REVOKE SELECT ON public.orders FROM "pgcred:read-only:sunny"');
    await p.db.sql(`GRANT INSERT ON public.notes TO "${analyst}"`);
    await p.db.sql(`ALTER ROLE "${writer}" CREATEDB BYPASSRLS`);
    await p.db.sql(`ALTER ROLE "${analyst}" PASSWORD 'changed-by-hand'`);
    await p.db.sql(
      `CREATE ROLE "${intruder}" LOGIN; GRANT CONNECT ON DATABASE "${p.db.name}" TO "${intruder}"`,
    );
    await p.db.sql(`CREATE TABLE public.stray (id int); ALTER TABLE public.stray OWNER TO "${writer}"`);

    const text = await p.run('drift');
    expect(text.status).toBe(2);
    const out = text.stdout;
    const section = (name: string) =>
      out.slice(out.indexOf(`\n${name}\n`), out.indexOf('\n\n', out.indexOf(`\n${name}\n`) + 1));
    expect(section('level read-only')).toContain(
      `+ gains SELECT on all tables in schema public (3 tables); SELECT missing on 2 of 3: public.orders, public.stray (level role pgcred:read-only:sunny, for ${analyst})`,
    );
    expect(section(analyst)).toContain(
      '- loses INSERT on all tables in schema public (INSERT held on 1 of 3: public.notes)',
    );
    // A reset breaks whoever holds the old password: marked destructive, as a replacement.
    expect(section(analyst)).toContain('\n! -/+ password was changed outside pgcred');
    expect(section(writer)).toContain(
      'CREATEDB was turned on outside pgcred; BYPASSRLS was turned on outside pgcred',
    );
    expect(out).toContain(`role ${intruder} is not managed by pgcred and holds CONNECT on database`);
    expect(out).toContain(
      `${writer}, not the default credential, owns 1 table in schema public: public.stray.`,
    );
    expect(text.stderr).toContain('Drift found in sunny.');
    // The hand-made password locks the credential's apps out until pgcred sets its own back.
    expect(await tryAs(analystUrl, 'SELECT 1')).toMatchObject({ ok: false, code: '28P01' });

    const json = await p.run('drift', '--format', 'json');
    expect(json.status).toBe(2);
    const report = JSON.parse(json.stdout).databases[0];
    expect(report.summary.changes).toBeGreaterThanOrEqual(4);
    expect(report.findings.map((f: { kind: string }) => f.kind).sort()).toEqual([
      'foreign-owner',
      'unmanaged-role',
    ]);

    const markdown = await p.run('drift', '--format', 'markdown');
    expect(markdown.stdout).toContain(`#### ${analyst.replace(/_/g, '\\_')}`);
    expect(markdown.stdout).toContain('<details><summary>SQL:');

    // Nothing in any report holds a password.
    for (const output of [text.stdout, text.stderr, json.stdout, markdown.stdout]) {
      expect(output).not.toContain('changed-by-hand');
      expect(output).not.toMatch(/[A-Za-z0-9]{65}/);
    }
  });

  it('apply repairs what it owns; the findings need their own remedy; then drift exits 0', async () => {
    await p.ok('apply', '--yes');
    expect(await tryAs(await p.urlOf(analyst), 'SELECT * FROM public.orders')).toMatchObject({ ok: true });
    expect(await tryAs(await p.urlOf(analyst), "INSERT INTO public.notes VALUES ('x')")).toMatchObject({
      ok: false,
    });
    const [writerRole] = await p.db.sql('SELECT rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = $1', [
      writer,
    ]);
    expect(writerRole).toEqual({ rolcreatedb: false, rolbypassrls: false });

    const remaining = await p.run('drift');
    expect(remaining.status).toBe(2);
    expect(remaining.stdout).toContain('Drift (apply does not repair these; drift exits 2):');
    expect(remaining.stdout).not.toMatch(/^[ !] *(-\/\+|[+~-]) /m);

    await p.db.sql(`DROP ROLE "${intruder}"`).catch(async () => {
      await p.db.sql(`REVOKE ALL ON DATABASE "${p.db.name}" FROM "${intruder}"; DROP ROLE "${intruder}"`);
    });
    const repair = await p.ok('credentials:repair-default', '--confirm', 'sunny');
    expect(repair.stderr).toContain(
      'Resetting permissions and object ownership for default role to factory settings... done',
    );
    expect(repair.stdout).toContain(`becomes the owner of every object ${writer} owns`);

    const clean = await p.run('drift');
    expect(clean.stdout).toContain('No changes');
    expect(clean.status).toBe(0);
    const second = await p.ok('apply', '--yes');
    expect(second.stderr).toContain('already matches the declaration');
  });
});
