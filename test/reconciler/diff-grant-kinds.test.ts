import type { Access, GrantSpec } from '../../src/model/config';
import type { Plan } from '../../src/model/plan';
import { diff } from '../../src/reconciler/diff';
import type { LiveRoutine, LiveState } from '../../src/reconciler/live-state';
import { desired, liveState, managed, OWNER, RO, RW, role } from './live-fixture';

// The grant kinds real databases need besides levels: CREATE on a schema, columns,
// routines and memberships in group roles, each declared, converged and revoked.

const grants = (...list: GrantSpec[]): Access => ({ kind: 'grants', grants: list });
const sql = (plan: Plan) => plan.statements.map((s) => s.sql);
const ok = (...names: string[]) => new Map(names.map((n) => [n, 'ok' as const]));
const ADMIN = 'GRANT "c" TO "u_owner" WITH ADMIN OPTION';
const connected = { ...liveState().server, acl: [{ grantee: 'c', privilege: 'CONNECT' }] };
const usage = [{ name: 'public', owner: OWNER, acl: [{ grantee: 'c', privilege: 'USAGE' }] }];
const total: LiveRoutine = {
  signature: '"public"."order_total"(order_id integer)',
  kind: 'function',
  schema: 'public',
  name: 'order_total',
  arguments: 'order_id integer',
  types: 'integer',
};
const declaredTotal = { key: 'public\torder_total\tinteger', routine: total };

describe('diff (pure): schema CREATE, columns, routines and group memberships', () => {
  it.each<[string, Access, Partial<LiveState>, string[], boolean]>([
    [
      'CREATE on a schema is granted with USAGE',
      grants({ privileges: ['USAGE', 'CREATE'], on: 'schema', objects: ['public'] }),
      { server: connected },
      [
        ADMIN,
        // What c creates there is covered by the levels from this apply on.
        `ALTER DEFAULT PRIVILEGES FOR ROLE "c" GRANT SELECT ON TABLES TO "${RO}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "c" GRANT SELECT ON SEQUENCES TO "${RO}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "c" GRANT USAGE ON SCHEMAS TO "${RO}", "${RW}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "c" GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO "${RW}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "c" GRANT USAGE, SELECT ON SEQUENCES TO "${RW}"`,
        'GRANT USAGE, CREATE ON SCHEMA "public" TO "c"',
      ],
      false,
    ],
    [
      'CREATE on a schema no longer declared is revoked, destructively',
      grants({ privileges: ['USAGE'], on: 'schema', objects: ['public'] }),
      {
        server: connected,
        schemas: [
          {
            name: 'public',
            owner: OWNER,
            acl: [
              { grantee: 'c', privilege: 'USAGE' },
              { grantee: 'c', privilege: 'CREATE' },
            ],
          },
        ],
      },
      [ADMIN, 'REVOKE CREATE ON SCHEMA "public" FROM "c"'],
      true,
    ],
    [
      'column grants: one statement per column and privilege set, USAGE on the schema implied',
      grants({
        privileges: ['SELECT', 'UPDATE'],
        on: 'column',
        objects: ['public.customers'],
        columns: ['email', 'name'],
      }),
      { server: connected },
      [
        ADMIN,
        'GRANT USAGE ON SCHEMA "public" TO "c"',
        'GRANT SELECT ("email"), UPDATE ("email") ON TABLE "public"."customers" TO "c"',
        'GRANT SELECT ("name"), UPDATE ("name") ON TABLE "public"."customers" TO "c"',
      ],
      false,
    ],
    [
      'a converged column grant: nothing',
      grants({ privileges: ['SELECT'], on: 'column', objects: ['public.customers'], columns: ['email'] }),
      {
        server: connected,
        schemas: usage,
        columnPrivileges: [
          { schema: 'public', table: 'customers', column: 'email', grantee: 'c', privilege: 'SELECT' },
        ],
      },
      [ADMIN],
      false,
    ],
    [
      'a column privilege no longer declared is revoked, destructively',
      grants({ privileges: ['SELECT'], on: 'column', objects: ['public.customers'], columns: ['email'] }),
      {
        server: connected,
        schemas: usage,
        columnPrivileges: [
          { schema: 'public', table: 'customers', column: 'email', grantee: 'c', privilege: 'SELECT' },
          { schema: 'public', table: 'customers', column: 'email', grantee: 'c', privilege: 'UPDATE' },
          { schema: 'public', table: 'customers', column: 'card', grantee: 'c', privilege: 'SELECT' },
        ],
      },
      [
        ADMIN,
        'REVOKE SELECT ("card") ON TABLE "public"."customers" FROM "c"',
        'REVOKE UPDATE ("email") ON TABLE "public"."customers" FROM "c"',
      ],
      true,
    ],
    [
      'a column that does not exist is not granted (it is reported)',
      grants({ privileges: ['SELECT'], on: 'column', objects: ['public.customers'], columns: ['gone'] }),
      { server: connected, schemas: usage, declaredColumns: [] },
      [ADMIN],
      false,
    ],
    [
      'EXECUTE on a declared routine, as the server resolved it',
      grants({ privileges: ['EXECUTE'], on: 'routine', objects: ['public.order_total(integer)'] }),
      { server: connected, schemas: usage, declaredRoutines: [declaredTotal] },
      [ADMIN, 'GRANT EXECUTE ON FUNCTION "public"."order_total"(order_id integer) TO "c"'],
      false,
    ],
    [
      'a converged routine grant: nothing',
      grants({ privileges: ['EXECUTE'], on: 'routine', objects: ['public.order_total(integer)'] }),
      {
        server: connected,
        schemas: usage,
        declaredRoutines: [declaredTotal],
        routinePrivileges: [{ ...total, grantee: 'c' }],
      },
      [ADMIN],
      false,
    ],
    [
      'EXECUTE no longer declared is revoked, destructively; PUBLIC’s is left alone',
      grants({ privileges: ['USAGE'], on: 'schema', objects: ['public'] }),
      { server: connected, schemas: usage, routinePrivileges: [{ ...total, grantee: 'c' }] },
      [ADMIN, 'REVOKE EXECUTE ON FUNCTION "public"."order_total"(order_id integer) FROM "c"'],
      true,
    ],
  ])('%s', (_title, access, live, statements, destructive) => {
    const plan = diff(
      desired({ credentials: [{ name: 'c', access }], passwords: ok('c') }),
      liveState({ ...live, extraRoles: [managed('c')] }),
    );
    expect(plan.errors).toEqual([]);
    expect(sql(plan)).toEqual(statements);
    expect(plan.changes.some((c) => c.destructive)).toBe(destructive);
  });

  it('a declared SECURITY DEFINER routine keeps its EXECUTE; an undeclared one loses it', () => {
    const definer = {
      schema: 'public',
      name: 'order_total',
      kind: 'function' as const,
      arguments: 'order_id integer',
      owner: OWNER,
      executors: ['c', 'd'],
    };
    const plan = diff(
      desired({
        credentials: [
          {
            name: 'c',
            access: grants({
              privileges: ['EXECUTE'],
              on: 'routine',
              objects: ['public.order_total(integer)'],
            }),
          },
          { name: 'd', access: grants({ privileges: ['USAGE'], on: 'schema', objects: ['public'] }) },
        ],
        passwords: ok('c', 'd'),
      }),
      liveState({
        server: { ...connected, acl: [...connected.acl, { grantee: 'd', privilege: 'CONNECT' }] },
        schemas: [
          {
            name: 'public',
            owner: OWNER,
            acl: [
              { grantee: 'c', privilege: 'USAGE' },
              { grantee: 'd', privilege: 'USAGE' },
            ],
          },
        ],
        extraRoles: [managed('c'), managed('d')],
        definerFunctions: [definer],
        declaredRoutines: [declaredTotal],
        routinePrivileges: [
          { ...total, grantee: 'c' },
          { ...total, grantee: 'd' },
        ],
      }),
    );
    expect(sql(plan).filter((s) => s.includes('EXECUTE'))).toEqual([
      'REVOKE EXECUTE ON FUNCTION "public"."order_total"(order_id integer) FROM "d"',
    ]);
  });

  it.each<[string, string[], { role: string; admin: boolean }[], string[], string[]]>([
    ['a declared membership is granted', ['staff'], [], ['GRANT "staff" TO "c"'], []],
    ['a held, declared membership: nothing', ['staff'], [{ role: 'staff', admin: false }], [], []],
    [
      'an undeclared membership is revoked, destructively',
      [],
      [{ role: 'staff', admin: false }],
      ['REVOKE "staff" FROM "c"'],
      [],
    ],
    [
      'a group role that is not there is refused',
      ['nosuch'],
      [],
      [],
      ['credential c is declared a member of nosuch, which is not a role of this cluster'],
    ],
    [
      'a role pgcred manages is no group role',
      ['other'],
      [],
      [],
      [
        'credential c is declared a member of other, the credential of database "app": a credential belongs only to group roles pgcred does not manage',
      ],
    ],
  ])('memberOf: %s', (_title, memberOf, held, statements, errors) => {
    const plan = diff(
      desired({
        credentials: [{ name: 'c', access: { kind: 'level', level: 'none' }, memberOf }],
        passwords: ok('c'),
      }),
      liveState({
        server: connected,
        extraRoles: [managed('c', { memberOf: held }), role('staff', { login: false }), managed('other')],
      }),
    );
    expect(plan.errors).toEqual(errors);
    expect(sql(plan).filter((s) => s !== ADMIN)).toEqual(statements);
    expect(plan.changes.filter((c) => c.destructive).map((c) => c.sql)).toEqual(
      statements.filter((s) => s.startsWith('REVOKE')),
    );
  });

  it('a new credential gets its memberships after it is created', () => {
    const plan = diff(
      desired({
        credentials: [{ name: 'fresh', access: { kind: 'level', level: 'none' }, memberOf: ['staff'] }],
      }),
      liveState({ extraRoles: [role('staff', { login: false })] }),
    );
    expect(sql(plan)).toContain('GRANT "staff" TO "fresh"');
    expect(sql(plan).indexOf('GRANT "staff" TO "fresh"')).toBeGreaterThan(
      sql(plan).findIndex((s) => s.startsWith('CREATE ROLE "fresh"')),
    );
  });
});
