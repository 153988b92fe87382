import { pgcred } from '../harness/cli';
import { tryAs } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

describe('two applies started together', () => {
  let p: Project;
  let names: string[];

  beforeAll(async () => {
    p = await createProject('race', ({ url, name }) => {
      names = Array.from({ length: 8 }, (_, i) => name(`r${i}`));
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
${names.map((n, i) => `      - { name: ${n}, permission: ${i % 2 ? 'read-write' : 'read-only'} }`).join('\n')}
`;
    });
    await p.db.sql('CREATE SCHEMA a; CREATE SCHEMA b; CREATE TABLE a.t (id int); CREATE TABLE b.t (id int)');
  });
  afterAll(() => p.cleanup());

  it('both end correctly: one applies, the other waits and finds nothing to do', async () => {
    const [first, second] = await Promise.all([
      pgcred(['apply', '--yes'], { cwd: p.dir, env: p.env }),
      pgcred(['apply', '--yes'], { cwd: p.dir, env: p.env }),
    ]);
    expect([first.status, second.status]).toEqual([0, 0]);
    const all = first.stderr + second.stderr;
    expect(all).not.toContain('tuple concurrently updated');
    expect(all.match(/Applied \d+ changes to sunny in one transaction\./g)).toHaveLength(1);
    expect(all).toContain('sunny already matches the declaration.');
    const drift = await p.run('drift');
    expect(drift.status).toBe(2); // the tables belong to the superuser, not the default credential: a finding only
    expect(drift.stdout).toContain('0 changes');
    expect(await tryAs(await p.urlOf(names[0]!), 'SELECT * FROM a.t')).toMatchObject({ ok: true });
  });

  it('a failure halfway rolls everything back and names the change and the reason', async () => {
    // An event trigger makes every GRANT fail, after the plan has already created roles.
    await p.db.sql(`CREATE FUNCTION public.no_grants() RETURNS event_trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'grants are frozen for maintenance'; END $$`);
    await p.db.sql(
      "CREATE EVENT TRIGGER freeze_grants ON ddl_command_start WHEN TAG IN ('GRANT') EXECUTE FUNCTION public.no_grants()",
    );
    const newcomer = p.name('newcomer');
    p.writeConfig(`version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:
${[...names, newcomer].map((n) => `      - { name: ${n}, permission: read-only }`).join('\n')}
`);
    const before = await p.db.sql('SELECT rolname FROM pg_roles ORDER BY 1');
    const result = await p.run('apply', '--yes');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /apply of sunny failed at "newcomer_\w+: gains USAGE on schema a" \(GRANT USAGE ON SCHEMA .*\): grants are frozen for maintenance\. Nothing was changed\./,
    );
    // CREATE ROLE ran before the failing GRANT; the rollback took it back.
    expect(await p.db.sql('SELECT rolname FROM pg_roles ORDER BY 1')).toEqual(before);
    await p.db.sql('DROP EVENT TRIGGER freeze_grants; DROP FUNCTION public.no_grants()');
    await p.ok('apply', '--yes');
    expect(await p.db.sql('SELECT 1 AS found FROM pg_roles WHERE rolname = $1', [newcomer])).toEqual([
      { found: 1 },
    ]);
  });
});
