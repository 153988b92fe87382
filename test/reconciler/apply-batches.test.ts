/**
 * Apply sends a plan's small statements to the server together (one round trip, in a
 * savepoint), and a first apply creates the control store while it inspects the
 * database. Neither may cost what a user relies on: a failure still names its own
 * change, and a store that cannot be created leaves the database as it was.
 */
import { executePlan } from '../../src/apply/apply-plan';
import type { Plan } from '../../src/model/plan';
import { pgcred } from '../harness/cli';
import { adminUrl, dropRoles, uniqueName, withClient } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

function planOf(statements: { subject: string; description: string; sql: string }[]): Plan {
  return {
    database: 'batches',
    changes: statements.map((s, id) => ({
      id,
      action: 'create',
      subject: s.subject,
      target: `role ${s.subject}`,
      description: s.description,
      destructive: false,
      statement: id,
    })),
    statements: statements.map((s, id) => ({ sql: s.sql, changes: [id] })),
    findings: [],
    errors: [],
  } as unknown as Plan;
}

describe('a batch of statements', () => {
  const first = uniqueName('batch_first');
  const second = uniqueName('batch_second');
  const missing = uniqueName('batch_missing');
  afterAll(() => dropRoles([first, second]));

  it('that fails names the statement that failed, and nothing of it stays', async () => {
    const plan = planOf([
      { subject: first, description: 'is created', sql: `CREATE ROLE "${first}" NOLOGIN` },
      { subject: first, description: 'is marked', sql: `COMMENT ON ROLE "${first}" IS 'batch test'` },
      { subject: first, description: 'joins a role', sql: `GRANT "${missing}" TO "${first}"` },
      { subject: second, description: 'is created', sql: `CREATE ROLE "${second}" NOLOGIN` },
    ]);
    await withClient(adminUrl(), async (client) => {
      await client.query('BEGIN');
      await expect(executePlan(client, 'batches', plan, async () => '')).rejects.toThrow(
        `apply of batches failed at "${first}: joins a role" (GRANT "${missing}" TO "${first}"): role "${missing}" does not exist. Nothing was changed.`,
      );
      await client.query('ROLLBACK');
      const { rows } = await client.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [
        [first, second],
      ]);
      expect(rows).toEqual([]);
    });
  });

  it('that succeeds makes every change, in order', async () => {
    const plan = planOf([
      { subject: first, description: 'is created', sql: `CREATE ROLE "${first}" NOLOGIN` },
      { subject: first, description: 'is marked', sql: `COMMENT ON ROLE "${first}" IS 'batch test'` },
      {
        subject: second,
        description: 'is created',
        sql: `CREATE ROLE "${second}" NOLOGIN IN ROLE "${first}"`,
      },
    ]);
    await withClient(adminUrl(), async (client) => {
      await client.query('BEGIN');
      await executePlan(client, 'batches', plan, async () => '');
      await client.query('COMMIT');
      const { rows } = await client.query(
        `SELECT r.rolname, shobj_description(r.oid, 'pg_authid') AS comment,
                pg_has_role(r.rolname, $1, 'USAGE') AS member
           FROM pg_roles r WHERE r.rolname = ANY($2) ORDER BY r.rolname`,
        [first, [first, second]],
      );
      expect(rows).toEqual([
        { rolname: first, comment: 'batch test', member: true },
        { rolname: second, comment: null, member: true },
      ]);
    });
  });
});

describe('a first apply whose control store cannot be created', () => {
  let project: Project;
  const controlUser = uniqueName('batch_control');
  const controlDb = uniqueName('batch_control_db');
  beforeAll(async () => {
    project = await createProject(
      'batchctl',
      ({ url, name }) => `version: 1
databases:
  - name: ${name('batchdb')}
    url: ${url}
    credentials:
      - { name: ${name('reader')}, permission: read-only }
`,
    );
    await withClient(adminUrl(), async (c) => {
      await c.query(`CREATE ROLE "${controlUser}" LOGIN PASSWORD 'control-pw'`);
      await c.query(`CREATE DATABASE "${controlDb}"`);
      // It may connect, and create nothing: the store's schema is refused.
      await c.query(`REVOKE CREATE ON DATABASE "${controlDb}" FROM PUBLIC`);
    });
  });
  afterAll(async () => {
    await project.cleanup();
    await withClient(adminUrl(), (c) => c.query(`DROP DATABASE IF EXISTS "${controlDb}" WITH (FORCE)`));
    await dropRoles([controlUser]);
  });

  it('fails with the reason and changes nothing in the database', async () => {
    const url = new URL(adminUrl(controlDb));
    url.username = controlUser;
    url.password = 'control-pw';
    const result = await pgcred(['apply', '--yes'], {
      cwd: project.dir,
      env: { ...project.env, PGCRED_CONTROL_URL: url.toString() },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`permission denied for database ${controlDb}`);
    // The store was created while the database was inspected; its failure rolled the apply back.
    const roles = await project.db.sql(
      `SELECT rolname FROM pg_roles WHERE rolname = $1 OR rolname LIKE 'pgcred:%:' || $2`,
      [project.name('reader'), project.name('batchdb')],
    );
    expect(roles).toEqual([]);
    const schemas = await withClient(adminUrl(controlDb), (c) =>
      c.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'pgcred'`),
    );
    expect(schemas.rows).toEqual([]);
  });
});
