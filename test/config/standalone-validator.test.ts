import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSchema, describeSchemaErrors, standaloneValidator } from '../../src/config/schema';
import { projectFile } from '../../src/project';

/**
 * The built CLI validates with the JavaScript the build writes from each schema;
 * tests compile the schema. Both must tell a user the same thing.
 */
const documents: Record<string, unknown> = {
  valid: {
    version: 1,
    databases: [{ name: 'db', url: '${URL}', credentials: [{ name: 'analyst', permission: 'read-only' }] }],
  },
  'bad names and an unknown key': {
    version: 1,
    databases: [
      { name: 'bad name!', url: 'x', colour: 'RED', credentials: [{ name: 'a b', permission: 'admin' }] },
    ],
  },
  'wrong types': { version: '1', databases: {} },
  'missing keys': { databases: [{ credentials: [] }] },
  'attachments without an app': { version: 1, databases: [], attachments: [{ database: 'db' }] },
};

describe.each(['pgcred.schema.json', 'manifest.schema.json'])('%s', (file) => {
  let dir: string;
  beforeAll(() => {
    // Inside the package, so that the validator's require of ajv's runtime resolves as in dist/.
    const cache = projectFile('node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    dir = mkdtempSync(join(cache, 'pgcred-validators-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(Object.keys(documents))('the built validator answers %s as the compiled one does', (name) => {
    const path = join(dir, `${file}.js`);
    writeFileSync(path, standaloneValidator(file));
    const built = require(path);
    const { validate: compiled } = compileSchema(file);
    const document = documents[name];
    const a = compiled(document);
    const b = built(document);
    expect(b).toBe(a);
    const lines = (errors: unknown) =>
      describeSchemaErrors((errors ?? []) as never).map((p) => `${p.path}: ${p.message}`);
    expect(lines(built.errors)).toEqual(lines(compiled.errors));
    if (file === 'pgcred.schema.json' && name !== 'valid')
      expect(lines(built.errors).length).toBeGreaterThan(0);
  });
});
