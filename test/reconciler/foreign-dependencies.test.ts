import { createTestDatabase, type TestDatabase, tryAs } from '../harness/pg';
import { createProject, type Project } from '../harness/project';
import { readmeSample, rebase, rebasing, writeRebased } from '../harness/readme';

/**
 * GIVEN a credential that owns a table and holds a grant in another database of its
 * cluster WHEN it is destroyed THEN the plan refuses before any change, naming that
 * database (this database's REASSIGN OWNED cannot reach it, and DROP ROLE would fail);
 * once handed over there, the destroy goes through.
 */
describe('a role that owns objects in another database of its cluster', () => {
  let p: Project;
  let other: TestDatabase;
  let analyst: string;
  let keeper: string;
  const config = (credentials: string[]) => `version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:${credentials.length === 0 ? ' []' : ''}
${credentials.map((c) => `      - { name: ${c}, permission: read-only }`).join('\n')}
`;

  beforeAll(async () => {
    p = await createProject('elsewhere', ({ name }) => {
      analyst = name('analyst');
      keeper = name('keeper');
      return 'version: 1\ndatabases: []\n';
    });
    p.writeConfig(config([analyst, keeper]));
    await p.ok('apply', '--yes');
    other = await createTestDatabase('elsewhere_other');
    await other.sql(`CREATE TABLE public.kept (id int); ALTER TABLE public.kept OWNER TO "${analyst}"`);
    await other.sql(`CREATE TABLE public.shared (id int); GRANT SELECT ON public.shared TO "${analyst}"`);
  });
  afterAll(async () => {
    writeRebased();
    await other?.sql(`DROP OWNED BY "${analyst}"`).catch(() => undefined);
    await other?.drop();
    await p.cleanup();
  });

  it('destroy is refused before any change, naming the other database', async () => {
    p.writeConfig(config([keeper]));
    const pruned = await p.run('apply', '--prune', '--yes');
    expect(pruned.status).toBe(1);
    expect(pruned.stderr).toContain(
      `credential ${analyst} cannot be dropped: role ${analyst} owns 1 object and holds privileges on 1 in database "${other.name}" of this cluster`,
    );
    expect(pruned.stderr).toContain(`REASSIGN OWNED BY "${analyst}"`);
    // The README shows it, with the names a reader would have.
    const shown = `$ pgcred apply --prune --yes\n${pruned.stderr}`
      .replaceAll(analyst, 'analyst')
      .replaceAll(other.name, 'reports');
    if (rebasing) rebase('destroy-elsewhere', shown);
    else expect(shown).toBe(readmeSample('destroy-elsewhere').text);
    // Nothing changed: the credential still logs in and reads as before.
    expect(await tryAs(await p.urlOf(analyst), 'SELECT 1')).toMatchObject({ ok: true });
    const destroy = await p.run('credentials:destroy', 'sunny', '--name', analyst, '--confirm', 'sunny');
    expect(destroy.status).toBe(1);
    expect(destroy.stderr).toContain(`database "${other.name}"`);
  });

  it('once handed over there, the destroy goes through', async () => {
    await other.sql(`REASSIGN OWNED BY "${analyst}" TO CURRENT_USER; DROP OWNED BY "${analyst}"`);
    await p.ok('apply', '--prune', '--yes');
    expect(await p.db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [analyst])).toEqual([]);
    expect(await other.sql('SELECT tableowner FROM pg_tables WHERE tablename = $1', ['kept'])).toEqual([
      { tableowner: 'postgres' },
    ]);
  });
});
