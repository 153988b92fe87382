import { tryAs, withClient } from '../harness/pg';
import { createProject, type Project } from '../harness/project';

/**
 * Schema and table names that are legal in PostgreSQL but hostile to anyone who
 * builds SQL from strings: quotes, spaces, semicolons, unicode, comment markers,
 * mixed case, 63 bytes. Levels and custom grants must reach exactly them.
 */
const SCHEMAS = [
  'we"ird',
  'with space',
  'semi;colon',
  'ünïcødé 名前',
  "it's",
  '--not a comment',
  'Mixed Case',
  'a'.repeat(63),
  'emoji 😀',
  'public.dot',
];
const TABLE = 'tab"le; DROP TABLE x --';
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

describe('hostile but legal schema and table names', () => {
  let p: Project;
  let reader: string;
  let picker: string;
  let nobody: string;

  beforeAll(async () => {
    p = await createProject('hostile', ({ url, name }) => {
      reader = name('reader');
      picker = name('picker');
      nobody = name('nobody');
      // Custom grants name the objects as a reviewer writes them: parts in double quotes.
      const grant = `'${quote(SCHEMAS[0]!).replace(/'/g, "''")}.${quote(TABLE).replace(/'/g, "''")}'`;
      const schemaGrant = `'${quote(SCHEMAS[3]!).replace(/'/g, "''")}'`;
      return `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
      - { name: ${reader}, permission: read-only }
      - { name: ${nobody}, permission: none }
      - name: ${picker}
        grants:
          - { privileges: [SELECT, INSERT], on: table, objects: [${grant}] }
          - { privileges: [SELECT], on: all-tables, objects: [${schemaGrant}] }
`;
    });
    await p.ok('apply', '--yes');
    await withClient(await p.urlOf('default'), async (c) => {
      for (const schema of SCHEMAS) {
        await c.query(`CREATE SCHEMA ${quote(schema)}`);
        await c.query(`CREATE TABLE ${quote(schema)}.${quote(TABLE)} (id int)`);
        await c.query(`CREATE TABLE ${quote(schema)}.${quote('other ✓')} (id int)`);
        await c.query(`INSERT INTO ${quote(schema)}.${quote(TABLE)} VALUES (1)`);
      }
    });
    await p.ok('apply', '--yes');
  });
  afterAll(() => p.cleanup());

  it('read-only reads every table of every hostile schema, and writes none', async () => {
    const url = await p.urlOf(reader);
    for (const schema of SCHEMAS) {
      for (const table of [TABLE, 'other ✓']) {
        const select = `SELECT count(*)::int AS n FROM ${quote(schema)}.${quote(table)}`;
        expect({ schema, table, ...(await tryAs(url, select)) }).toMatchObject({ schema, table, ok: true });
      }
      const insert = await tryAs(url, `INSERT INTO ${quote(schema)}.${quote(TABLE)} VALUES (2)`);
      expect({ schema, ...insert }).toMatchObject({ schema, ok: false, code: '42501' });
    }
  });

  it('custom grants reach exactly the objects they name', async () => {
    const url = await p.urlOf(picker);
    const named = `${quote(SCHEMAS[0]!)}.${quote(TABLE)}`;
    expect(await tryAs(url, `SELECT * FROM ${named}`)).toMatchObject({ ok: true });
    expect(await tryAs(url, `INSERT INTO ${named} VALUES (3)`)).toMatchObject({ ok: true });
    expect(await tryAs(url, `SELECT * FROM ${quote(SCHEMAS[0]!)}.${quote('other ✓')}`)).toMatchObject({
      ok: false,
      code: '42501',
    });
    for (const table of [TABLE, 'other ✓']) {
      expect(await tryAs(url, `SELECT * FROM ${quote(SCHEMAS[3]!)}.${quote(table)}`)).toMatchObject({
        ok: true,
      });
    }
    expect(await tryAs(url, `SELECT * FROM ${quote(SCHEMAS[1]!)}.${quote(TABLE)}`)).toMatchObject({
      ok: false,
      code: '42501',
    });
  });

  it('none reads nothing in them, and a second apply and drift find nothing to do', async () => {
    const url = await p.urlOf(nobody);
    for (const schema of SCHEMAS) {
      expect(await tryAs(url, `SELECT * FROM ${quote(schema)}.${quote(TABLE)}`)).toMatchObject({
        ok: false,
        code: '42501',
      });
    }
    expect((await p.ok('apply', '--yes')).stderr).toContain('sunny already matches the declaration.');
    const drift = await p.run('drift');
    expect(drift.stdout).toContain('0 changes');
  });
});
