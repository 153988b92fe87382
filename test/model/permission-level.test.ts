import { PermissionLevel } from '../../src/model/permission-level';

describe('PermissionLevel', () => {
  it.each([
    ['none', ['CONNECT'], [], [], []],
    ['read-only', ['CONNECT'], ['USAGE'], ['SELECT'], ['SELECT']],
    [
      'read-write',
      ['CONNECT', 'TEMPORARY'],
      ['USAGE'],
      ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'],
      ['USAGE', 'SELECT'],
    ],
  ])('%s holds the privileges of SPEC §3', (name, database, schemas, tables, sequences) => {
    const level = PermissionLevel.of(name);
    expect(level.database).toEqual(database);
    expect(level.schemas).toEqual(schemas);
    expect(level.tables).toEqual(tables);
    expect(level.sequences).toEqual(sequences);
  });

  it('never lets a level create objects', () => {
    for (const level of PermissionLevel.ALL) {
      expect(level.database).not.toContain('CREATE');
      expect(level.schemas).not.toContain('CREATE');
    }
  });

  it('is a closed set', () => {
    expect(PermissionLevel.NAMES).toEqual(['none', 'read-only', 'read-write']);
    expect(() => PermissionLevel.of('admin')).toThrow(
      'unknown permission level "admin": use none, read-only or read-write',
    );
    expect(PermissionLevel.isName('read-only')).toBe(true);
    expect(PermissionLevel.isName('READ-ONLY')).toBe(false);
  });
});
