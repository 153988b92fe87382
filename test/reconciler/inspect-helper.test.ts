import { Client } from 'pg';
import { inspect } from '../../src/reconciler/inspect';
import { createTestDatabase, dropRoles, type TestDatabase, uniqueName, withClient } from '../harness/pg';

/**
 * Inspection may read most catalogs on a second connection (a helper) while pg_class
 * is read on the first: the helper reads the first connection's snapshot, so what it
 * sees is what the first would have seen, and nothing committed after that snapshot.
 */
describe('inspection with a helper connection', () => {
  const reader = uniqueName('reader');
  const late = uniqueName('late');
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('helper');
    await db.sql(`CREATE ROLE "${reader}" LOGIN; CREATE ROLE "${late}" NOLOGIN`);
    await db.sql(`
      CREATE SCHEMA app;
      CREATE TABLE app.orders (id serial, total int, note text);
      GRANT USAGE ON SCHEMA app TO "${reader}";
      GRANT SELECT ON app.orders TO "${reader}";
      GRANT SELECT (note) ON app.orders TO "${late}";
      ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO "${reader}";
      CREATE FUNCTION app.total() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
    `);
  }, 60_000);
  afterAll(async () => {
    await db.drop();
    await dropRoles([reader, late]);
  });

  async function connect(): Promise<Client> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    return client;
  }

  it('reads the same state as one connection, from the same snapshot', async () => {
    const main = await connect();
    const helper = await connect();
    try {
      await main.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await main.query('SELECT 1'); // the transaction's snapshot is taken here
      // Committed after the snapshot: neither connection may see it.
      await withClient(db.url, (other) =>
        other.query(
          `CREATE SCHEMA later; GRANT USAGE ON SCHEMA later TO "${late}"; GRANT "${late}" TO "${reader}"`,
        ),
      );
      const declared = { declaredObjects: [{ schema: 'app', name: 'orders' }] };
      const asked: string[] = [];
      const query = helper.query.bind(helper) as (...args: unknown[]) => unknown;
      (helper as { query: unknown }).query = (...args: unknown[]) => {
        asked.push(String(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text));
        return query(...args);
      };
      const both = await inspect(main, { ...declared, helper });
      // The helper read in main's snapshot: the roles, schemas and the rest were asked there.
      expect(asked[0]).toMatch(
        /^BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '/,
      );
      expect(asked.length).toBeGreaterThan(6);
      expect(asked[asked.length - 1]).toBe('ROLLBACK');
      const alone = await inspect(main, declared);
      expect(both).toEqual(alone);
      expect(both.schemas.map((s) => s.name)).toContain('app');
      expect(both.schemas.map((s) => s.name)).not.toContain('later');
      expect(both.roles.get(reader)?.memberOf ?? []).toEqual([]);
      expect(both.definerFunctions.map((f) => f.name)).toContain('total');
      expect((both.columnPrivileges ?? []).map((c) => `${c.grantee} ${c.column}`)).toContain(`${late} note`);
      // The helper's transaction is over: it is idle again.
      expect(helper.getTransactionStatus?.() ?? 'I').toBe('I');
      await main.query('ROLLBACK');
      // A snapshot of now sees what was committed since.
      const now = await inspect(main, { helper });
      expect(now.schemas.map((s) => s.name)).toContain('later');
    } finally {
      await main.end();
      await helper.end();
      await db.sql('DROP SCHEMA IF EXISTS later');
    }
  });
});
