import { buildGrantKinds, type GrantKinds } from '../fixtures/databases';
import { tryAs, withClient } from '../harness/pg';
import { privilegeMatrix } from '../import/privilege-matrix';

/**
 * The grant kinds besides levels against a real PostgreSQL: CREATE on a schema,
 * privileges on columns, EXECUTE on routines and a membership in a group role, as a
 * user of the credential meets them; then what is no longer declared is revoked, and
 * the plan says so as destructive.
 */
describe('schema CREATE, column, routine and group-role grants', () => {
  let f: GrantKinds;

  beforeAll(async () => {
    f = await buildGrantKinds();
  });
  afterAll(() => f.p.cleanup());

  it('apply gives each credential exactly what its grants say, and a second apply nothing', async () => {
    const support = await f.p.urlOf(f.support);
    expect(await tryAs(support, 'SELECT id, email FROM public.users')).toMatchObject({ ok: true });
    expect(await tryAs(support, 'SELECT card FROM public.users')).toMatchObject({ ok: false, code: '42501' });
    expect(await tryAs(support, "UPDATE public.users SET email = 'x' WHERE false")).toMatchObject({
      ok: true,
    });
    expect(await tryAs(support, 'SELECT billing.refund(1)')).toMatchObject({ ok: true });
    expect(await tryAs(support, 'CALL billing.close_month()')).toMatchObject({ ok: true });
    // Dropped again at once: a table a credential owns is drift of its own.
    expect(
      await tryAs(support, 'CREATE TABLE scratch.notes (t text); DROP TABLE scratch.notes'),
    ).toMatchObject({
      ok: true,
    });
    expect(await tryAs(support, 'SELECT * FROM billing.invoices')).toMatchObject({
      ok: false,
      code: '42501',
    });
    const member = await f.p.urlOf(f.member);
    expect(await tryAs(member, 'SELECT * FROM billing.invoices')).toMatchObject({ ok: true });
    expect(await tryAs(member, 'SELECT * FROM public.users')).toMatchObject({ ok: false, code: '42501' });
    const again = await f.p.ok('apply', '--yes');
    expect(again.stderr).toContain('kinds already matches the declaration.');
  });

  it('a routine or column that does not exist is a notice, and apply grants the rest', async () => {
    f.p.writeConfig(`version: 1
databases:
  - name: kinds
    url: \${DATABASE_ADMIN_URL}
    ignoreRoles: [${f.staff}]
    credentials:
      - name: ${f.support}
        grants:
          - { privileges: [USAGE, CREATE], on: schema, objects: [scratch] }
          - { privileges: [SELECT], on: column, objects: [public.users], columns: [id, email, nope] }
          - { privileges: [UPDATE], on: column, objects: [public.users], columns: [email] }
          - { privileges: [EXECUTE], on: routine, objects: ["billing.refund(int)", "billing.close_month()", "billing.nosuch(text)", "billing.refund(nosuchtype)"] }
      - { name: ${f.member}, permission: none, memberOf: [${f.staff}] }
`);
    const plan = await f.p.ok('plan', '--format', 'json');
    const report = JSON.parse(plan.stdout).databases[0];
    expect(report.summary.changes).toBe(0);
    expect(report.findings.map((x: { description: string }) => x.description)).toEqual(
      expect.arrayContaining([
        `column nope of public.users, named by the grants of ${f.support}, does not exist`,
        `routine billing.nosuch(text), named by the grants of ${f.support}, does not exist`,
        // A type that does not exist: before 16 the server's lookup raises, and the rest is still read.
        `routine billing.refund(nosuchtype), named by the grants of ${f.support}, does not exist`,
      ]),
    );
    await f.p.ok('apply', '--yes');
  });

  it('what is no longer declared is revoked, destructively; the membership too', async () => {
    f.p.writeConfig(`version: 1
databases:
  - name: kinds
    url: \${DATABASE_ADMIN_URL}
    ignoreRoles: [${f.staff}]
    credentials:
      - name: ${f.support}
        grants:
          - { privileges: [USAGE], on: schema, objects: [scratch] }
          - { privileges: [SELECT], on: column, objects: [public.users], columns: [id] }
      - { name: ${f.member}, permission: none }
`);
    const plan = await f.p.ok('plan', '--format', 'json');
    const changes = JSON.parse(plan.stdout).databases[0].changes as {
      description: string;
      destructive: boolean;
      sql: string;
    }[];
    const revokes = changes.filter((c) => c.sql.startsWith('REVOKE'));
    expect(revokes.map((c) => c.sql).sort()).toEqual(
      [
        `REVOKE "${f.staff}" FROM "${f.member}"`,
        `REVOKE CREATE ON SCHEMA "scratch" FROM "${f.support}"`,
        `REVOKE EXECUTE ON FUNCTION "billing"."refund"(invoice integer) FROM "${f.support}"`,
        `REVOKE EXECUTE ON PROCEDURE "billing"."close_month"() FROM "${f.support}"`,
        `REVOKE SELECT ("email"), UPDATE ("email") ON TABLE "public"."users" FROM "${f.support}"`,
        // USAGE came with the routines in billing.
        `REVOKE USAGE ON SCHEMA "billing" FROM "${f.support}"`,
      ].sort(),
    );
    expect(revokes.every((c) => c.destructive)).toBe(true);
    await f.p.ok('apply', '--yes');
    const held = await privilegeMatrix(f.p.db.url, [f.support, f.member]);
    expect(held.filter((line) => / (column|routine) | schema (scratch|billing) /.test(line))).toEqual([
      `${f.support} column public.users.id SELECT`,
      `${f.support} schema scratch USAGE`,
    ]);
    expect(
      await withClient(
        f.p.db.url,
        async (c) =>
          (
            await c.query(
              'SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1',
              [f.member],
            )
          ).rowCount,
      ),
    ).toBe(0);
    expect((await f.p.run('drift')).status).toBe(0);
  });
});
