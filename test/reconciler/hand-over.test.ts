import { withClient } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

/**
 * Handing pgcred the current password of a role it adopted: checked against what
 * PostgreSQL stores before pgcred keeps it, never by changing the role.
 */
describe('credentials:password', () => {
  let p: Project;
  let legacy: string;
  const secret = 'legacy-md5-password';

  beforeAll(async () => {
    p = await createProject('handover', ({ name }) => {
      legacy = name('legacy');
      return 'version: 1\ndatabases: [ { name: sunny, url: "${DATABASE_ADMIN_URL}" } ]\n';
    });
    // A role from before SCRAM: its password stored as an md5 hash.
    await withClient(p.db.url, async (c) => {
      await c.query("SET password_encryption = 'md5'");
      await c.query(`CREATE ROLE "${legacy}" LOGIN PASSWORD '${secret}'`);
      await c.query(`GRANT CONNECT ON DATABASE "${p.db.name}" TO "${legacy}"`);
    });
    p.writeConfig(`version: 1
databases:
  - name: sunny
    url: \${DATABASE_ADMIN_URL}
    credentials:
      - { name: ${legacy}, permission: read-only }
`);
    await p.ok('apply', '--yes');
  });
  afterAll(() => p.cleanup());

  const verifier = async () =>
    (await p.db.sql('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [legacy]))[0]!.rolpassword;

  it('adoption kept the md5 password, and credentials:url says pgcred does not know it', async () => {
    // The test server accepts only scram-sha-256 logins, so this role cannot log in
    // here; on a server whose pg_hba says md5 it would, and pgcred must keep that working.
    expect(String(await verifier())).toMatch(/^md5/);
    const url = await p.run('credentials:url', '--name', legacy);
    expect(url.status).toBe(1);
  });

  it('refuses a wrong password, stores nothing, and changes nothing', async () => {
    const before = await verifier();
    const wrong = await p.run('credentials:password', '--name', legacy);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('no password given');
    const refused = await pgcredWith('not-the-password');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `That is not the current password of credential ${legacy} on sunny: nothing was stored.`,
    );
    expect(await verifier()).toBe(before);
    expect((await p.run('credentials:url', '--name', legacy)).status).toBe(1);
  });

  it('takes the right one from standard input, checked against the md5 hash, and credentials:url hands it out', async () => {
    const before = await verifier();
    const handed = await pgcredWith(`${secret}\n`, true);
    expect(handed.status).toBe(0);
    expect(handed.stdout).toContain('checked by md5 hash; it was not changed');
    expect(await verifier()).toBe(before);
    const url = await p.urlOf(legacy);
    expect(url).toContain(`${legacy}:${secret}@`);
    // Nothing in the audit log holds it.
    const audit = await p.run('audit', '--json');
    expect(audit.stdout).toContain('password-handed-over');
    expect(audit.stdout).not.toContain(secret);
  });

  async function pgcredWith(password: string, stdin = false) {
    const { pgcred } = await import('../harness/cli');
    return stdin
      ? pgcred(['credentials:password', '--name', legacy], { cwd: p.dir, env: p.env, stdin: password })
      : pgcred(['credentials:password', '--name', legacy], {
          cwd: p.dir,
          env: { ...p.env, PGCRED_PASSWORD: password },
        });
  }
});
