import { catalogSql, detailSchemas, inspect } from '../../src/reconciler/inspect';
import { EXCEPTION_CAP } from '../../src/reconciler/live-state';
import type { RelationPrivilegeRow } from '../../src/reconciler/relation-groups';
import { createTestDatabase, dropRoles, type TestDatabase, uniqueName, withClient } from '../harness/pg';

/**
 * relation_details.sql names the relations that the counts leave unnamed. When they are
 * in schemas holding few of the database's relations, it finds them through pg_depend
 * instead of a pass over pg_class: both ways must give the same rows.
 */
describe('relation details', () => {
  const owner = uniqueName('owner');
  const legacy = uniqueName('legacy');
  const reader = uniqueName('reader');
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('details');
    await db.sql(
      `CREATE ROLE "${owner}" NOLOGIN; CREATE ROLE "${legacy}" NOLOGIN; CREATE ROLE "${reader}" NOLOGIN;
       ALTER DATABASE "${db.name}" OWNER TO "${owner}"`,
    );
    // The database's owner, the default credential, owns everything but what legacy owns.
    await db.sql(`
      SET ROLE "${owner}";
      CREATE SCHEMA bulk;
      DO $$ BEGIN FOR i IN 1..150 LOOP
        EXECUTE format('CREATE TABLE bulk.t%s (id int GENERATED ALWAYS AS IDENTITY)', i);
      END LOOP; END $$;
      CREATE SCHEMA odd;
      CREATE TABLE odd.theirs (id int);
      CREATE SEQUENCE odd.their_seq;
      CREATE TABLE odd.guarded (id int);
      ALTER TABLE odd.guarded ENABLE ROW LEVEL SECURITY;
      CREATE POLICY mine ON odd.guarded TO "${reader}" USING (true);
      CREATE TABLE odd.shared (id serial);
      GRANT SELECT ON odd.shared TO "${reader}";
      CREATE VIEW odd.v AS SELECT 1 AS one;
      RESET ROLE;
      ALTER TABLE odd.theirs OWNER TO "${legacy}";
      ALTER SEQUENCE odd.their_seq OWNER TO "${legacy}";
      CREATE SCHEMA "${legacy}_own" AUTHORIZATION "${legacy}";
    `);
  }, 120_000);
  afterAll(async () => {
    await db.drop();
    await dropRoles([legacy, reader, owner]);
  });

  /** relation_details.sql's rows, looking in `schemas` (null: everywhere). */
  async function details(schemas: string[] | null | 'chosen') {
    return withClient(db.url, async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const relations = (
        await client.query<RelationPrivilegeRow>(catalogSql('relation_privileges'), [EXCEPTION_CAP, null])
      ).rows;
      const rare = relations.filter((row) => row.kind === 'rare');
      const chosen = detailSchemas(relations);
      const { rows } = await client.query(catalogSql('relation_details'), [
        null,
        rare.map((row) => row.schema),
        rare.map((row) => row.class),
        rare.map((row) => row.acl_text),
        rare.map((row) => row.acl),
        schemas === 'chosen' ? chosen : schemas,
      ]);
      await client.query('ROLLBACK');
      return { chosen, rows };
    });
  }

  it('looks only in the schemas that need it when they are few, and finds what a whole pass finds', async () => {
    const looked = await details('chosen');
    // bulk's 300 relations share one ACL and one owner: only odd needs naming.
    expect(looked.chosen).toEqual(['odd']);
    const everywhere = await details(null);
    expect(looked.rows).toEqual(everywhere.rows);
    const kinds = (rows: { kind: string; schema: string; name: string | null; names: string[] | null }[]) =>
      rows.map((r) => `${r.kind} ${r.schema} ${r.name ?? ''} ${(r.names ?? []).join(',')}`);
    expect(kinds(looked.rows)).toEqual(
      expect.arrayContaining([
        'owned odd  theirs',
        'owned odd  their_seq',
        'few odd  shared',
        `owned ${legacy}_own  ${legacy}_own`,
        'rls odd guarded ',
      ]),
    );
    // A look in a schema that needs nothing finds no relation there, only what is everywhere.
    const elsewhere = await details(['bulk']);
    expect(kinds(elsewhere.rows).filter((k) => / odd /.test(k))).toEqual([]);
  });

  it('makes one pass when the schemas that need naming hold much of the database', async () => {
    await db.sql(`GRANT SELECT ON bulk.t1 TO "${reader}"`);
    try {
      const looked = await details('chosen');
      expect(looked.chosen).toBeNull();
      const live = await withClient(db.url, (client) => inspect(client));
      const t1 = live.relationPrivileges.find(
        (p) =>
          p.schema === 'bulk' && p.class === 'tables' && p.grantee === reader && p.privilege === 'SELECT',
      );
      expect(t1?.holders).toEqual(['t1']);
    } finally {
      await db.sql(`REVOKE SELECT ON bulk.t1 FROM "${reader}"`);
    }
  });
});
