import { Client } from 'pg';
import { CONTROL_SCHEMA } from '../../src/control/store';
import { levelRoleName } from '../../src/model/level-roles';
import { PASSWORD_PLACEHOLDER } from '../../src/model/plan';
import { type DesiredDatabase, diff } from '../../src/reconciler/diff';
import { inspect } from '../../src/reconciler/inspect';
import { AppLoop } from '../brownfield/app-loop';
import { tryAs } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

/**
 * A database an earlier pgcred applied, with each level granted to each credential
 * directly, meets level roles: one apply moves every credential to its level role
 * while the apps keep querying, and no one has less access at any moment.
 */
describe('upgrade in place from direct grants to level roles', () => {
  let p: Project;
  let analyst: string;
  let writer: string;
  let nobody: string;
  const database = 'sunny';

  const directGrants = async (role: string): Promise<number> =>
    Number(
      (
        await p.db.sql(
          `SELECT count(*) AS n FROM information_schema.table_privileges WHERE grantee = $1 AND table_schema = 'public'`,
          [role],
        )
      )[0]!.n,
    );

  beforeAll(async () => {
    p = await createProject('upgrade', ({ name }) => {
      analyst = name('analyst');
      writer = name('writer');
      nobody = name('nobody');
      return `version: 1
databases:
  - name: ${database}
    url: \${DATABASE_ADMIN_URL}
    credentials:
      - { name: ${analyst}, permission: read-only }
      - { name: ${writer}, permission: read-write }
      - { name: ${nobody}, permission: none }
`;
    });
    await p.db.sql(
      `CREATE TABLE public.orders (id bigint GENERATED ALWAYS AS IDENTITY, cents int);
       INSERT INTO public.orders (cents) VALUES (100);
       CREATE TABLE public.notes (body text)`,
    );
    await p.ok('apply', '--yes');
    // Back to the form an earlier pgcred left: the same diff, granting each level to
    // each credential directly, run as that version's apply ran it (one transaction).
    const client = new Client({ connectionString: p.db.url });
    await client.connect();
    try {
      const live = await inspect(client);
      const desired: DesiredDatabase = {
        name: database,
        executor: 'pgcred',
        levelForm: 'direct',
        credentials: [
          { name: analyst, access: { kind: 'level', level: 'read-only' } },
          { name: writer, access: { kind: 'level', level: 'read-write' } },
          { name: nobody, access: { kind: 'level', level: 'none' } },
        ],
        ignoreRoles: [],
        controlSchema: CONTROL_SCHEMA,
        rotating: [],
        passwords: new Map([analyst, writer, nobody].map((n) => [n, 'ok'])),
        prune: false,
      };
      const plan = diff(desired, live);
      expect(plan.errors).toEqual([]);
      await client.query('BEGIN');
      for (const statement of plan.statements) {
        expect(statement.sql).not.toContain(PASSWORD_PLACEHOLDER);
        await client.query(statement.sql);
      }
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  }, 120_000);

  afterAll(async () => {
    await p?.cleanup();
  });

  it('starts from the direct form: each credential holds its level itself, and there are no level roles', async () => {
    expect(await directGrants(analyst)).toBe(2);
    expect(await directGrants(writer)).toBe(10);
    const levelRoles = await p.db.sql('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [
      [levelRoleName(database, 'read-only'), levelRoleName(database, 'read-write')],
    ]);
    expect(levelRoles).toEqual([]);
  });

  it('plan says what moves, and what this one apply costs', async () => {
    const plan = await p.run('plan');
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain(`becomes a member of level role ${levelRoleName(database, 'read-only')}`);
    expect(plan.stdout).toContain(`becomes a member of level role ${levelRoleName(database, 'read-write')}`);
    expect(plan.stdout.replace(/\s+/g, ' ')).toContain(
      'hold their level by direct grants, as an earlier pgcred made them: this apply makes them members of the level roles',
    );
  });

  it('one apply converges while the apps query, with no failed query; then drift is clean', async () => {
    const loop = new AppLoop(
      [
        {
          name: 'reporting',
          url: await p.urlOf(analyst),
          steps: [
            {
              name: 'read orders',
              run: async (c) => {
                const { rows } = await c.query('SELECT count(*)::int AS n FROM public.orders');
                if (rows[0].n < 1) throw new Error('no orders');
              },
            },
          ],
        },
        {
          name: 'app',
          url: await p.urlOf(writer),
          steps: [
            {
              name: 'write a note',
              run: async (c) => void (await c.query("INSERT INTO public.notes VALUES ('x')")),
            },
            { name: 'temp table', run: async (c) => void (await c.query('CREATE TEMP TABLE t (x int)')) },
          ],
        },
      ],
      { pauseMs: 5, maxMs: 120_000 },
    );
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const applied = await p.run('apply', '--yes');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const report = await loop.stop();
    expect(applied.status).toBe(0);
    expect(report.failures).toEqual([]);
    expect(Object.values(report.iterations).every((n) => n > 1)).toBe(true);

    const drift = await p.run('drift');
    // The tables are the admin's, which a notice says; nothing is drift.
    expect(drift.stdout).toContain('0 changes, 0 drift findings');
    expect(drift.status).toBe(0);
  }, 180_000);

  it('after it, the credentials hold no level privilege themselves, and each still does what its level says', async () => {
    expect(await directGrants(analyst)).toBe(0);
    expect(await directGrants(writer)).toBe(0);
    const analystUrl = await p.urlOf(analyst);
    expect(await tryAs(analystUrl, 'SELECT count(*) FROM public.orders')).toMatchObject({ ok: true });
    expect(await tryAs(analystUrl, "INSERT INTO public.notes VALUES ('no')")).toMatchObject({
      ok: false,
      code: '42501',
    });
    expect(await tryAs(await p.urlOf(writer), 'INSERT INTO public.orders (cents) VALUES (5)')).toMatchObject({
      ok: true,
    });
    expect(await tryAs(await p.urlOf(nobody), 'SELECT count(*) FROM public.orders')).toMatchObject({
      ok: false,
      code: '42501',
    });
    // A second apply has nothing to do.
    const plan = await p.run('plan', '--format', 'json');
    expect(JSON.parse(plan.stdout).databases[0].summary.changes).toBe(0);
  });
});
