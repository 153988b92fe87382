import { mergeRelationRows, type RelationPrivilegeRow } from '../../src/reconciler/relation-groups';

const total = (
  schema: string,
  count: number,
  cls: 'tables' | 'sequences' = 'tables',
): RelationPrivilegeRow => ({
  kind: 'total',
  schema,
  class: cls,
  grantee: null,
  privilege: null,
  count,
  acl: null,
  names: null,
});
const held = (
  schema: string,
  grantee: string | null,
  privilege: string,
  count: number,
  cls: 'tables' | 'sequences' = 'tables',
): RelationPrivilegeRow => ({
  kind: 'held',
  schema,
  class: cls,
  grantee,
  privilege,
  count,
  acl: null,
  names: null,
});
const few = (
  schema: string,
  acl: number,
  names: string[],
  cls: 'tables' | 'sequences' = 'tables',
): RelationPrivilegeRow => ({
  kind: 'few',
  schema,
  class: cls,
  grantee: null,
  privilege: null,
  count: null,
  acl: String(acl),
  names,
});
const item = (acl: number, grantee: string | null, privilege: string): RelationPrivilegeRow => ({
  kind: 'few-item',
  schema: null,
  class: null,
  grantee,
  privilege,
  count: null,
  acl: String(acl),
  names: null,
});

const CAP = 50;

describe('mergeRelationRows', () => {
  const cases: {
    name: string;
    rows: RelationPrivilegeRow[];
    want: {
      grantee: string | null;
      privilege: string;
      holding: number;
      total: number;
      holders?: string[];
      lacking?: string[];
    }[];
  }[] = [
    {
      name: 'a schema granted as a whole lists no names',
      rows: [total('s', 100), held('s', 'ro', 'SELECT', 100)],
      want: [{ grantee: 'ro', privilege: 'SELECT', holding: 100, total: 100 }],
    },
    {
      name: 'a small schema held everywhere lists every relation, from all its rare ACLs, sorted',
      rows: [
        total('s', 3),
        held('s', 'ro', 'SELECT', 3),
        few('s', 1, ['c', 'a']),
        few('s', 2, ['b']),
        item(1, 'ro', 'SELECT'),
        item(2, 'ro', 'SELECT'),
        item(2, 'rw', 'INSERT'),
      ],
      want: [{ grantee: 'ro', privilege: 'SELECT', holding: 3, total: 3, holders: ['a', 'b', 'c'] }],
    },
    {
      name: 'two of a hundred lack a privilege: they are listed as lacking',
      rows: [
        total('s', 100),
        held('s', 'ro', 'SELECT', 98),
        few('s', 7, ['t2', 't1']),
        item(7, 'owner', 'SELECT'),
      ],
      want: [{ grantee: 'ro', privilege: 'SELECT', holding: 98, total: 100, lacking: ['t1', 't2'] }],
    },
    {
      name: 'two of a hundred hold a privilege: they are listed as holders, the rest are too many to lack',
      rows: [
        total('s', 100),
        held('s', 'x', 'UPDATE', 2),
        few('s', 3, ['t9', 't10']),
        item(3, 'x', 'UPDATE'),
      ],
      want: [{ grantee: 'x', privilege: 'UPDATE', holding: 2, total: 100, holders: ['t10', 't9'] }],
    },
    {
      name: 'PUBLIC is a null grantee and is told apart from a role',
      rows: [
        total('s', 4),
        held('s', null, 'SELECT', 1),
        held('s', 'ro', 'SELECT', 4),
        few('s', 1, ['a']),
        few('s', 2, ['b', 'c', 'd']),
        item(1, null, 'SELECT'),
        item(1, 'ro', 'SELECT'),
        item(2, 'ro', 'SELECT'),
      ],
      want: [
        {
          grantee: null,
          privilege: 'SELECT',
          holding: 1,
          total: 4,
          holders: ['a'],
          lacking: ['b', 'c', 'd'],
        },
        { grantee: 'ro', privilege: 'SELECT', holding: 4, total: 4, holders: ['a', 'b', 'c', 'd'] },
      ],
    },
    {
      name: 'schemas and classes do not mix their names',
      rows: [
        total('s', 2),
        total('t', 2),
        total('s', 2, 'sequences'),
        held('s', 'ro', 'SELECT', 1),
        held('s', 'ro', 'SELECT', 2, 'sequences'),
        few('s', 1, ['a']),
        few('s', 2, ['b']),
        few('t', 3, ['x', 'y']),
        few('s', 4, ['q', 'r'], 'sequences'),
        item(1, 'ro', 'SELECT'),
        item(3, 'ro', 'SELECT'),
        item(4, 'ro', 'SELECT'),
      ],
      want: [
        { grantee: 'ro', privilege: 'SELECT', holding: 1, total: 2, holders: ['a'], lacking: ['b'] },
        { grantee: 'ro', privilege: 'SELECT', holding: 2, total: 2, holders: ['q', 'r'] },
      ],
    },
  ];

  it.each(cases)('$name', ({ rows, want }) => {
    const { relationPrivileges } = mergeRelationRows(rows, CAP);
    expect(
      relationPrivileges.map(({ grantee, privilege, holding, total, holders, lacking }) => ({
        grantee,
        privilege,
        holding,
        total,
        ...(holders ? { holders } : {}),
        ...(lacking ? { lacking } : {}),
      })),
    ).toEqual(want);
  });

  it('reports every schema and class with relations, granted or not', () => {
    const { relationTotals } = mergeRelationRows([total('a', 5), total('b', 1, 'sequences')], CAP);
    expect(relationTotals).toEqual([
      { schema: 'a', class: 'tables', total: 5 },
      { schema: 'b', class: 'sequences', total: 1 },
    ]);
  });
});
