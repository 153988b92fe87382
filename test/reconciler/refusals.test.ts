import { createProject, type Project } from '../harness/project';

/** The limits, names, Essential tier and follower rule: refused with the exact message, nothing changed. */
describe('refusals', () => {
  let p: Project;
  let names: string[];

  const roles = async () => (await p.db.sql('SELECT rolname FROM pg_roles ORDER BY 1')).map((r) => r.rolname);

  beforeAll(async () => {
    p = await createProject('refuse', ({ url, name }) => {
      names = Array.from({ length: 60 }, (_, i) => name(`c${i}`));
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
${names.map((n) => `      - { name: ${n}, permission: read-only }`).join('\n')}
  - name: tiny
    url: ${url}
    plan: essential-0
  - name: moonlight
    url: ${url}
    role: follower
    source: sunny
`;
    });
    await p.ok('apply', 'sunny', '--yes');
  });
  afterAll(() => p.cleanup());

  it('refuses the 61st credential of a database', async () => {
    const before = await roles();
    const extra = p.name('c60');
    const result = await p.run('credentials:create', 'sunny', '--name', extra);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      '▸    sunny already has 60 credentials besides default, the most its plan (standard-0) allows',
    );
    expect(await roles()).toEqual(before);
  });

  it('refuses a bad name', async () => {
    const result = await p.run('credentials:create', 'sunny', '--name', "x'; DROP ROLE postgres; --");
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `▸    --name: "x'; DROP ROLE postgres; --" may contain only letters, digits, '-' and '_' (at most 50)`,
    );
  });

  it('refuses named credentials on an Essential-tier database', async () => {
    const result = await p.run('credentials:create', 'tiny', '--name', p.name('x'));
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "▸    You can't create a custom credential on Essential-tier databases.",
    );
  });

  it('refuses every credential-changing command against a follower', async () => {
    const before = await roles();
    for (const args of [
      ['credentials:create', 'moonlight', '--name', p.name('y')],
      ['credentials:permissions', 'moonlight', '--name', names[0]!, '--level', 'none'],
      ['credentials:destroy', 'moonlight', '--name', names[0]!, '--confirm', 'moonlight'],
      ['credentials:repair-default', 'moonlight', '--confirm', 'moonlight'],
      ['credentials:rotate', 'moonlight', '--name', names[0]!, '--confirm', 'moonlight'],
      ['apply', 'moonlight', '--yes'],
    ]) {
      const result = await p.run(...args);
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe('▸    This operation is not supported for follower databases.');
    }
    expect(await roles()).toEqual(before);
  });

  it('a credential that exists cannot be created twice', async () => {
    const result = await p.run('credentials:create', 'sunny', '--name', names[1]!);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`credential ${names[1]} already exists on sunny`);
  });
});
