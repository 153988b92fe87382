import { createProject, type Project } from '../harness/project';

/**
 * GIVEN an apply that set the credentials' passwords WHEN drift checks them THEN a
 * verifier pgcred set is vouched for by its kept digest, and anything else is checked
 * against the password itself: a password set again by hand (same password, new salt)
 * is still in sync, another role's verifier or another password is a change.
 */
describe('password checks by kept verifier digests', () => {
  let p: Project;
  let analyst: string;
  let writer: string;
  let auditor: string;

  const passwordOf = async (name: string) => decodeURIComponent(new URL(await p.urlOf(name)).password);
  const verifierOf = async (name: string) =>
    (await p.db.sql('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [name]))[0]!
      .rolpassword as string;

  beforeAll(async () => {
    p = await createProject('digests', ({ url, name }) => {
      analyst = name('analyst');
      writer = name('writer');
      auditor = name('auditor');
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
      - { name: ${analyst}, permission: read-only }
      - { name: ${writer}, permission: read-write }
      - { name: ${auditor}, permission: none }
`;
    });
    await p.ok('apply', '--yes');
  });
  afterAll(() => p.cleanup());

  it('apply keeps a digest for every password it set, and none of the digests is a password or a verifier', async () => {
    const rows = await p.db.sql(
      'SELECT username, verifier_digest FROM pgcred.secrets WHERE username = ANY($1) ORDER BY username',
      [[analyst, writer, auditor]],
    );
    expect(rows.map((r) => r.username)).toEqual([analyst, auditor, writer].sort());
    for (const row of rows as { username: string; verifier_digest: string }[]) {
      expect(row.verifier_digest).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(row.verifier_digest).not.toContain(await passwordOf(row.username));
      expect(await verifierOf(row.username)).not.toContain(row.verifier_digest);
    }
    const drift = await p.run('drift');
    expect(drift.status).toBe(0);
  });

  it('passwords kept before digests existed get theirs from the next apply, which changes nothing else', async () => {
    await p.db.sql('UPDATE pgcred.secrets SET verifier_digest = NULL WHERE username = ANY($1)', [
      [analyst, writer],
    ]);
    const apply = await p.ok('apply', '--yes');
    expect(apply.stderr + apply.stdout).toContain('already matches the declaration');
    const rows = await p.db.sql(
      'SELECT count(*)::int AS n FROM pgcred.secrets WHERE username = ANY($1) AND verifier_digest IS NOT NULL',
      [[analyst, writer]],
    );
    expect(rows[0]!.n).toBe(2);
    // plan and drift keep none: they change nothing, not even the control store.
    await p.db.sql('UPDATE pgcred.secrets SET verifier_digest = NULL WHERE username = $1', [analyst]);
    await p.ok('plan');
    expect((await p.run('drift')).status).toBe(0);
    const after = await p.db.sql('SELECT verifier_digest FROM pgcred.secrets WHERE username = $1', [analyst]);
    expect(after[0]!.verifier_digest).toBeNull();
    await p.ok('apply', '--yes');
  });

  it('the same password set again by hand (a new salt) is still in sync', async () => {
    await p.db.sql(`ALTER ROLE "${analyst}" PASSWORD '${await passwordOf(analyst)}'`);
    const drift = await p.run('drift');
    expect(drift.stdout).toContain('No changes: the database matches the declaration.');
    expect(drift.status).toBe(0);
  });

  it("another credential's verifier, copied by hand, is a changed password", async () => {
    await p.db.sql(`ALTER ROLE "${auditor}" PASSWORD '${await verifierOf(writer)}'`);
    const drift = await p.run('drift');
    expect(drift.status).toBe(2);
    expect(drift.stdout).toContain(auditor);
    expect(drift.stdout).toMatch(/password/);
    // apply sets it back, and the credential logs in with its own password again.
    await p.ok('apply', '--yes');
    expect((await p.run('drift')).status).toBe(0);
  });

  it('a password changed by hand is a change even though a digest is kept for the old verifier', async () => {
    await p.db.sql(`ALTER ROLE "${writer}" PASSWORD 'set-by-hand-elsewhere'`);
    const drift = await p.run('drift');
    expect(drift.status).toBe(2);
    expect(drift.stdout).toContain(writer);
  });
});
