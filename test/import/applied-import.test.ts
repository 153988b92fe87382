import { parse } from 'yaml';
import { buildPgcredSetUp } from '../fixtures/databases';
import type { Project } from '../harness/project';
import { privilegeMatrix } from './privilege-matrix';

/**
 * Issue 16 on the database the seed flows build: pgcred made it (levels, a custom
 * grant, PUBLIC hardened, tables the default credential created after apply), and
 * `pgcred import` must give back a file that describes it, with the levels as levels.
 * Applying that file in the same project changes nobody's access.
 */
describe('pgcred import of a database pgcred set up', () => {
  let p: Project;
  let analyst: string;
  let writer: string;
  let nobody: string;
  let limited: string;

  beforeAll(async () => {
    ({ p, analyst, writer, nobody, limited } = await buildPgcredSetUp());
  });

  afterAll(() => p.cleanup());

  it('gives back the levels and the grants, and applying it changes no one’s access', async () => {
    const [{ owner }] = (await p.db.sql(
      'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()',
    )) as { owner: string }[];
    const roles = [analyst, writer, nobody, limited, owner];
    const before = await privilegeMatrix(p.db.url, roles);

    const imported = await p.ok('import', '--url', p.db.url, '--name', 'sunny');
    const db = parse(imported.stdout).databases[0];
    expect(db).toMatchObject({ name: 'sunny', url: '${DATABASE_ADMIN_URL}', owner, public: 'keep' });
    expect(db.credentials).toEqual([
      { name: analyst, permission: 'read-only' },
      {
        name: limited,
        // Without default privileges nothing says later sequences are meant: the ones there are, by name.
        grants: [
          { privileges: ['SELECT'], on: 'table', objects: ['public.users'] },
          { privileges: ['USAGE', 'SELECT'], on: 'sequence', objects: ['billing.invoices_id_seq'] },
        ],
      },
      { name: nobody, permission: 'none' },
      { name: writer, permission: 'read-write' },
    ]);
    // pgcred's own credentials: nothing of form to change, the default credential is set up already.
    expect(imported.stdout).not.toContain('apply grants');
    expect(imported.stdout).not.toContain('Besides adopting');

    p.writeConfig(imported.stdout);
    const applied = await p.ok('apply', '--yes');
    expect(applied.stderr).toContain('sunny already matches the declaration.');
    expect(await privilegeMatrix(p.db.url, roles)).toEqual(before);
    const plan = await p.ok('plan', '--format', 'json');
    expect(JSON.parse(plan.stdout).databases[0].summary.changes).toBe(0);
    expect((await p.run('drift')).status).toBe(0);
  });
});
