import { Client } from 'pg';
import { endpointOf } from '../../src/postgres/connection';
import { inspect } from '../../src/reconciler/inspect';
import { checkPasswords } from '../../src/reconciler/passwords';
import { createTestDatabase, dropRoles, type TestDatabase, uniqueName } from '../harness/pg';

/** Counts the catalog queries a real client sends (not the BEGIN and ROLLBACK of inspection's snapshot). */
class CountingClient extends Client {
  count = 0;
  override query(...args: unknown[]): never {
    if (!(typeof args[0] === 'string' && /^(BEGIN|COMMIT|ROLLBACK)\b/.test(args[0]))) this.count++;
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

async function countInspection(
  db: TestDatabase,
  credentials: readonly string[],
): Promise<{ queries: number; groups: number }> {
  const client = new CountingClient({ connectionString: db.url });
  await client.connect();
  try {
    const live = await inspect(client, { declaredObjects: [{ schema: 'public', name: 't1' }] });
    const known = new Map(credentials.map((c) => [c, 'not-the-password']));
    await checkPasswords(client, live, endpointOf(db.url), known, credentials);
    return { queries: client.count, groups: live.relationPrivileges.length };
  } finally {
    await client.end();
  }
}

describe('inspection cost', () => {
  const roles: string[] = [];
  let small: TestDatabase;
  let large: TestDatabase;

  beforeAll(async () => {
    for (let i = 0; i < 60; i++) roles.push(uniqueName(`q${i}`));
    small = await createTestDatabase('q10');
    large = await createTestDatabase('q10k');
    await small.sql(
      `DO $$ BEGIN FOR i IN 1..10 LOOP EXECUTE format('CREATE TABLE t%s (id int)', i); END LOOP; END $$`,
    );
    await large.sql(
      `DO $$ BEGIN FOR i IN 1..10000 LOOP EXECUTE format('CREATE TABLE t%s (id int)', i); END LOOP; END $$`,
    );
    await small.sql(roles.map((r) => `CREATE ROLE "${r}" LOGIN PASSWORD 'x'`).join(';'));
    for (const db of [small, large]) {
      await db.sql(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${roles.map((r) => `"${r}"`).join(', ')}`);
    }
  }, 180_000);
  afterAll(async () => {
    await small.drop();
    await large.drop();
    await dropRoles(roles);
  });

  it('issues the same number of queries for 1 and 60 credentials, and for 10 and 10,000 tables', async () => {
    const one = await countInspection(small, roles.slice(0, 1));
    const sixty = await countInspection(small, roles);
    const tenThousand = await countInspection(large, roles);
    expect(sixty.queries).toBe(one.queries);
    expect(tenThousand.queries).toBe(one.queries);
    // A fixed set, whatever the size: one query per catalog kind (columns and routines included).
    expect(one.queries).toBeLessThanOrEqual(12);
    // What reaches Node is a row per schema, grantee and privilege, not one per table:
    // 60 grantees holding SELECT on 10,000 tables arrive as one group each.
    expect(tenThousand.groups).toBe(sixty.groups);
  }, 120_000);
});
