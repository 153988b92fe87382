import type { Access } from '../../src/model/config';
import type { Plan } from '../../src/model/plan';
import { diff } from '../../src/reconciler/diff';
import type { DefinerFunction } from '../../src/reconciler/live-state';
import { managedComment } from '../../src/reconciler/markers';
import {
  atLevel,
  desired,
  held,
  liveState,
  managed,
  OWNER,
  RO,
  RW,
  readOnlyAnalyst,
  role,
} from './live-fixture';

const level = (l: 'none' | 'read-only' | 'read-write'): Access => ({ kind: 'level', level: l });
const sql = (plan: Plan) => plan.statements.map((s) => s.sql);
const ok = (...names: string[]) => new Map(names.map((n) => [n, 'ok' as const]));

describe('diff (pure): from declared and live to the statements that converge', () => {
  it.each<[string, Parameters<typeof desired>[0], Parameters<typeof liveState>[0] & {}, string[]]>([
    ['nothing declared, nothing to do', {}, {}, []],
    [
      'a new credential at none: created, CONNECT only',
      { credentials: [{ name: 'fresh', access: level('none') }] },
      {},
      [
        `CREATE ROLE "fresh" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'password'`,
        `COMMENT ON ROLE "fresh" IS 'managed by pgcred: credential of database "app"'`,
        'GRANT "fresh" TO "u_owner" WITH ADMIN OPTION',
        'GRANT CONNECT ON DATABASE "app" TO "fresh"',
      ],
    ],
    [
      'read-only over a live schema: one statement per object kind, and default privileges for later objects',
      { credentials: [{ name: 'analyst', access: level('read-only') }], passwords: ok('analyst') },
      { extraRoles: [managed('analyst')] },
      [
        'GRANT "analyst" TO "u_owner" WITH ADMIN OPTION',
        `GRANT "${RO}" TO "analyst" WITH INHERIT TRUE, SET FALSE GRANTED BY "u_owner"`,
        'GRANT CONNECT ON DATABASE "app" TO "analyst"',
      ],
    ],
    [
      'the first plan of a database creates its level roles and grants each level once, to its role',
      { credentials: [{ name: 'analyst', access: level('read-only') }], passwords: ok('analyst') },
      { extraRoles: [managed('analyst')], levelRoles: false },
      [
        `CREATE ROLE "${RO}" WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT`,
        `COMMENT ON ROLE "${RO}" IS 'managed by pgcred: level role of database "app"'`,
        `CREATE ROLE "${RW}" WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT`,
        `COMMENT ON ROLE "${RW}" IS 'managed by pgcred: level role of database "app"'`,
        `GRANT "${RO}" TO "u_owner" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
        `GRANT "${RW}" TO "u_owner" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
        'GRANT "analyst" TO "u_owner" WITH ADMIN OPTION',
        `GRANT "${RO}" TO "analyst" WITH INHERIT TRUE, SET FALSE GRANTED BY "u_owner"`,
        `GRANT TEMPORARY ON DATABASE "app" TO "${RW}"`,
        `GRANT USAGE ON SCHEMA "public" TO "${RO}", "${RW}"`,
        `GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "${RO}"`,
        `GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA "public" TO "${RW}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" GRANT SELECT ON TABLES TO "${RO}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" GRANT SELECT ON SEQUENCES TO "${RO}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" GRANT USAGE ON SCHEMAS TO "${RO}", "${RW}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO "${RW}"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" GRANT USAGE, SELECT ON SEQUENCES TO "${RW}"`,
        'GRANT CONNECT ON DATABASE "app" TO "analyst"',
      ],
    ],
    [
      'a converged read-only credential: nothing',
      { credentials: [{ name: 'analyst', access: level('read-only') }], passwords: ok('analyst') },
      {
        server: { ...liveState().server, acl: [{ grantee: 'analyst', privilege: 'CONNECT' }] },
        extraRoles: [atLevel('analyst', RO)],
      },
      ['GRANT "analyst" TO "u_owner" WITH ADMIN OPTION'],
    ],
    [
      'upgrade in place: direct read-only grants become a membership, granted before they are revoked',
      { credentials: [{ name: 'analyst', access: level('read-only') }], passwords: ok('analyst') },
      {
        ...readOnlyAnalyst(),
        extraRoles: [managed('analyst')],
      },
      [
        'GRANT "analyst" TO "u_owner" WITH ADMIN OPTION',
        `GRANT "${RO}" TO "analyst" WITH INHERIT TRUE, SET FALSE GRANTED BY "u_owner"`,
        'REVOKE USAGE ON SCHEMA "public" FROM "analyst"',
        'REVOKE ALL ON ALL TABLES IN SCHEMA "public" FROM "analyst"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" REVOKE SELECT ON TABLES FROM "analyst"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" REVOKE SELECT ON SEQUENCES FROM "analyst"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" REVOKE USAGE ON SCHEMAS FROM "analyst"',
      ],
    ],
    [
      'a role made a member of a level role by hand loses it; a hand grant to a level role is revoked',
      {},
      {
        extraRoles: [role('sneaky', { memberOf: [{ role: RW, admin: false, grantor: 'postgres' }] })],
        defaultPrivileges: [
          { owner: OWNER, schema: null, objtype: 'tables', grantee: RO, privilege: 'DELETE' },
        ],
      },
      [
        `REVOKE "${RW}" FROM "sneaky" GRANTED BY "postgres"`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" REVOKE DELETE ON TABLES FROM "${RO}"`,
      ],
    ],
    [
      'a downgrade from read-write to read-only is a change of membership',
      { credentials: [{ name: 'w', access: level('read-only') }], passwords: ok('w') },
      {
        extraRoles: [atLevel('w', RW)],
        server: { ...liveState().server, acl: [{ grantee: 'w', privilege: 'CONNECT' }] },
      },
      [
        'GRANT "w" TO "u_owner" WITH ADMIN OPTION',
        // The new membership first: no moment with less access than either level gives.
        `GRANT "${RO}" TO "w" WITH INHERIT TRUE, SET FALSE GRANTED BY "u_owner"`,
        `REVOKE "${RW}" FROM "w" GRANTED BY "u_owner"`,
      ],
    ],
    [
      'a read-write credential of the direct-grant form, downgraded: the membership, then the direct grants go',
      { credentials: [{ name: 'w', access: level('read-only') }], passwords: ok('w') },
      {
        extraRoles: [managed('w')],
        server: {
          ...liveState().server,
          acl: [
            { grantee: 'w', privilege: 'CONNECT' },
            { grantee: 'w', privilege: 'TEMPORARY' },
          ],
        },
        schemas: [{ name: 'public', owner: OWNER, acl: [{ grantee: 'w', privilege: 'USAGE' }] }],
        relationPrivileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'].map((p) =>
          held('w', 'public', p, 3, 3),
        ),
        defaultPrivileges: [
          ...['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'].map((privilege) => ({
            owner: OWNER,
            schema: null,
            objtype: 'tables' as const,
            grantee: 'w',
            privilege,
          })),
          { owner: OWNER, schema: null, objtype: 'sequences', grantee: 'w', privilege: 'SELECT' },
          { owner: OWNER, schema: null, objtype: 'sequences', grantee: 'w', privilege: 'USAGE' },
          { owner: OWNER, schema: null, objtype: 'schemas', grantee: 'w', privilege: 'USAGE' },
        ],
      },
      [
        'GRANT "w" TO "u_owner" WITH ADMIN OPTION',
        `GRANT "${RO}" TO "w" WITH INHERIT TRUE, SET FALSE GRANTED BY "u_owner"`,
        'REVOKE TEMPORARY ON DATABASE "app" FROM "w"',
        'REVOKE USAGE ON SCHEMA "public" FROM "w"',
        'REVOKE ALL ON ALL TABLES IN SCHEMA "public" FROM "w"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" REVOKE SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES FROM "w"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" REVOKE USAGE, SELECT ON SEQUENCES FROM "w"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" REVOKE USAGE ON SCHEMAS FROM "w"',
      ],
    ],
    [
      'PUBLIC loses what it holds on the database and schemas (CVE-2018-1058)',
      {},
      {
        server: {
          ...liveState().server,
          acl: [
            { grantee: null, privilege: 'CONNECT' },
            { grantee: null, privilege: 'TEMPORARY' },
          ],
        },
        schemas: [
          {
            name: 'public',
            owner: OWNER,
            acl: [
              { grantee: null, privilege: 'USAGE' },
              { grantee: null, privilege: 'CREATE' },
            ],
          },
        ],
      },
      [
        'REVOKE CONNECT, TEMPORARY ON DATABASE "app" FROM PUBLIC',
        'REVOKE USAGE, CREATE ON SCHEMA "public" FROM PUBLIC',
      ],
    ],
    [
      'one table granted by hand to a none credential is taken back',
      { credentials: [{ name: 'n', access: level('none') }], passwords: ok('n') },
      {
        extraRoles: [managed('n')],
        server: { ...liveState().server, acl: [{ grantee: 'n', privilege: 'CONNECT' }] },
        relationPrivileges: [held('n', 'public', 'SELECT', 1, 3, { holders: ['secrets'] })],
      },
      ['GRANT "n" TO "u_owner" WITH ADMIN OPTION', 'REVOKE ALL ON ALL TABLES IN SCHEMA "public" FROM "n"'],
    ],
    [
      'custom grants, down to one table, as the seed shows',
      {
        credentials: [
          {
            name: 'limited_user',
            access: {
              kind: 'grants',
              grants: [{ privileges: ['SELECT'], on: 'table', objects: ['public.users'] }],
            },
          },
        ],
        passwords: ok('limited_user'),
      },
      {
        extraRoles: [managed('limited_user')],
        server: { ...liveState().server, acl: [{ grantee: 'limited_user', privilege: 'CONNECT' }] },
        declaredObjects: [{ schema: 'public', name: 'users', class: 'tables' }],
        relationPrivileges: [held('limited_user', 'public', 'SELECT', 1, 3, { holders: ['orders'] })],
      },
      [
        'GRANT "limited_user" TO "u_owner" WITH ADMIN OPTION',
        'REVOKE SELECT ON TABLE "public"."orders" FROM "limited_user"',
        'GRANT USAGE ON SCHEMA "public" TO "limited_user"',
        'GRANT SELECT ON TABLE "public"."users" TO "limited_user"',
      ],
    ],
    [
      'a credential that owns too much has it taken back one by one',
      { credentials: [{ name: 'a', access: level('none') }], passwords: ok('a') },
      {
        extraRoles: [
          managed('a', {
            superuser: true,
            createrole: true,
            memberOf: [{ role: OWNER, admin: false }],
            config: ['role=u_owner'],
          }),
        ],
        server: { ...liveState().server, acl: [{ grantee: 'a', privilege: 'CONNECT' }] },
      },
      [
        'ALTER ROLE "a" WITH NOSUPERUSER NOCREATEROLE',
        'ALTER ROLE "a" RESET role',
        'REVOKE "u_owner" FROM "a"',
        'GRANT "a" TO "u_owner" WITH ADMIN OPTION',
      ],
    ],
  ])('%s', (_title, want, live, statements) => {
    const plan = diff(desired(want), liveState(live));
    expect(plan.errors).toEqual([]);
    expect(sql(plan)).toEqual(statements);
  });

  it('groups grantees: 60 credentials over 50 schemas are a handful of statements, not 3,000', () => {
    const tables: Record<string, number> = {};
    for (let s = 0; s < 50; s++) tables[`s${s}`] = 200;
    const credentials = Array.from({ length: 60 }, (_, i) => ({
      name: `c${i}`,
      access: level(i % 2 === 0 ? 'read-only' : 'read-write'),
    }));
    const plan = diff(desired({ credentials }), liveState({ tables, levelRoles: false }));
    const relationStatements = sql(plan).filter((s) => s.includes('ON ALL TABLES IN SCHEMA'));
    // One statement per level, each naming all 50 schemas and its level role only.
    expect(relationStatements).toHaveLength(2);
    expect(relationStatements[0]).toContain('"s0", "s1"');
    expect(relationStatements[0]).toMatch(/ TO "pgcred:read-only:app"$/);
    // The credentials are members: two statements for 60 of them, whatever the tables.
    const memberships = sql(plan).filter((s) => /^GRANT "pgcred:read-(only|write):app" TO "c/.test(s));
    expect(memberships).toHaveLength(2);
    expect(memberships[0]!.match(/"c\d+"/g)).toHaveLength(30);
    // Every credential still reads as its own change.
    const analyst = plan.changes.filter((c) => c.subject === 'c0' && c.action === 'grant-membership');
    expect(analyst.map((c) => c.description)).toEqual([
      'is read-only: member of level role pgcred:read-only:app',
    ]);
  });

  it('refuses to plan against a follower, with the seed message', () => {
    const plan = diff(desired(), liveState({ server: { ...liveState().server, inRecovery: true } }));
    expect(plan.errors).toContain('This operation is not supported for follower databases.');
  });

  it('refuses a credential name another database of the cluster already manages', () => {
    const other = role('analyst', { comment: managedComment('credential', 'other_db') });
    const plan = diff(
      desired({ credentials: [{ name: 'analyst', access: level('none') }] }),
      liveState({ extraRoles: [other] }),
    );
    expect(plan.errors[0]).toMatch(
      /^role analyst is already a credential of database "other_db" in this cluster/,
    );
  });

  it('reports a hand-changed password and sets the stored one back, without a secret in the plan', () => {
    const plan = diff(
      desired({
        credentials: [{ name: 'a', access: level('none') }],
        passwords: new Map([['a', 'changed']]),
      }),
      liveState({
        extraRoles: [managed('a')],
        server: { ...liveState().server, acl: [{ grantee: 'a', privilege: 'CONNECT' }] },
      }),
    );
    const reset = plan.changes.find((c) => c.action === 'reset-password');
    expect(reset?.description).toBe(
      'password was changed outside pgcred; it is set back to the one pgcred gives its apps',
    );
    expect(reset?.sql).toBe(`ALTER ROLE "a" PASSWORD :'password'`);
    expect(plan.statements[reset!.statement]!.passwordFor).toBe('a');
  });

  it('reports, and never changes, unmanaged roles that reach the database', () => {
    const plan = diff(
      desired(),
      liveState({
        extraRoles: [role('bob')],
        server: { ...liveState().server, acl: [{ grantee: 'bob', privilege: 'CONNECT' }] },
      }),
    );
    expect(sql(plan)).toEqual([]);
    expect(plan.findings).toEqual([
      expect.objectContaining({
        kind: 'unmanaged-role',
        subject: 'bob',
        description: 'role bob is not managed by pgcred and holds CONNECT on database app',
      }),
    ]);
    const ignored = diff(
      desired({ ignoreRoles: ['bob'] }),
      liveState({
        extraRoles: [role('bob')],
        server: { ...liveState().server, acl: [{ grantee: 'bob', privilege: 'CONNECT' }] },
      }),
    );
    expect(ignored.findings).toEqual([]);
  });

  it('keeps undeclared credentials unless --prune, and never prunes an attached one', () => {
    const live = liveState({ extraRoles: [managed('old')] });
    expect(sql(diff(desired(), live))).toEqual([]);
    expect(diff(desired(), live).findings[0]?.kind).toBe('undeclared-credential');
    expect(sql(diff(desired({ prune: true }), live))).toEqual([
      'REASSIGN OWNED BY "old" TO "u_owner"',
      'DROP OWNED BY "old"',
      'DROP ROLE "old"',
    ]);
    const attached = diff(desired({ prune: true, attachedApps: new Map([['old', ['web', 'api']]]) }), live);
    expect(attached.errors).toEqual([
      'Credential old must be detached from the apps ⬢ web, ⬢ api before destroying.',
    ]);
  });

  it('prunes many credentials in grouped statements: hand over, revoke schema by schema, then drop', () => {
    const names = ['a', 'b', 'c'];
    const live = liveState({
      extraRoles: names.map((n) => managed(n)),
      tables: { public: 3, s1: 200 },
      server: { ...liveState().server, acl: names.map((n) => ({ grantee: n, privilege: 'CONNECT' })) },
      schemas: ['public', 's1'].map((name) => ({
        name,
        owner: OWNER,
        acl: names.map((n) => ({ grantee: n, privilege: 'USAGE' })),
      })),
      // Read-only and read-write: different privileges, one statement that takes them all.
      relationPrivileges: [
        ...names.map((n) => held(n, 's1', 'SELECT', 200, 200)),
        held('b', 's1', 'INSERT', 200, 200),
      ],
      defaultPrivileges: names.map((n) => ({
        owner: OWNER,
        schema: null,
        objtype: 'tables' as const,
        grantee: n,
        privilege: 'SELECT',
      })),
    });
    const plan = diff(desired({ prune: true }), live);
    expect(sql(plan)).toEqual([
      'REASSIGN OWNED BY "a", "b", "c" TO "u_owner"',
      'REVOKE CONNECT ON DATABASE "app" FROM "a", "b", "c"',
      'REVOKE USAGE ON SCHEMA "public", "s1" FROM "a", "b", "c"',
      'REVOKE ALL ON ALL TABLES IN SCHEMA "s1" FROM "a", "b", "c"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" REVOKE SELECT ON TABLES FROM "a", "b", "c"',
      'DROP OWNED BY "a", "b", "c"',
      'DROP ROLE "a", "b", "c"',
    ]);
    // Each credential still reads as its own change: destroyed, and what it loses.
    expect(plan.changes.filter((c) => c.subject === 'b').map((c) => c.description)).toEqual(
      expect.arrayContaining([
        'loses SELECT, INSERT on all tables in schema s1 (SELECT, INSERT held on 200 of 200)',
        'is destroyed (no longer declared; --prune); objects it owns go to the default credential',
        'role b is dropped',
      ]),
    );
  });

  it('prunes under a CREATEROLE admin by taking the privileges of the role first (REASSIGN OWNED needs them)', () => {
    const server = { ...liveState().server, isSuperuser: false, currentUser: OWNER };
    const live = liveState({ server, extraRoles: [managed('old')] });
    expect(sql(diff(desired({ prune: true }), live))).toEqual([
      'GRANT "old" TO CURRENT_USER',
      'REASSIGN OWNED BY "old" TO "u_owner"',
      'DROP OWNED BY "old"',
      'DROP ROLE "old"',
    ]);
  });

  it('names objects another role owns, since default privileges do not cover them', () => {
    const plan = diff(
      desired(),
      liveState({
        extraRoles: [managed('a')],
        foreignOwnership: [{ owner: 'a', schema: 'public', kind: 'table', count: 2, sample: ['t1', 't2'] }],
      }),
    );
    expect(plan.findings.find((f) => f.kind === 'foreign-owner')?.description).toMatch(
      /^a, not the default credential, owns 2 tables in schema public: public\.t1, public\.t2\./,
    );
  });

  it('sets up the default credential on a database a superuser owns', () => {
    const live = liveState({
      server: {
        ...liveState().server,
        owner: 'postgres',
        ownerIsSuperuser: true,
        publicSchemaOwner: 'pg_database_owner',
      },
    });
    (live.roles as Map<string, unknown>).delete(OWNER);
    const plan = diff(desired({ owner: undefined }), live);
    const statements = sql(plan);
    expect(statements[0]).toMatch(/^CREATE ROLE "u[a-z0-9]{13}" WITH LOGIN/);
    expect(statements).toContainEqual(
      expect.stringMatching(
        /^GRANT "pg_monitor", "pg_read_all_settings", "pg_read_all_stats", "pg_signal_backend" TO "u[a-z0-9]{13}"$/,
      ),
    );
    expect(statements).toContainEqual(
      expect.stringMatching(/^ALTER DATABASE "app" OWNER TO "u[a-z0-9]{13}"$/),
    );
    // The derived name is stable: the same database gets the same default username on every run.
    expect(sql(diff(desired({ owner: undefined }), live))).toEqual(statements);
  });

  it.each<[string, string, boolean, string[], string[]]>([
    ['15+: public belongs to pg_database_owner', 'pg_database_owner', false, [], []],
    ['already the default credential', OWNER, false, [], []],
    [
      '14: public belongs to the bootstrap superuser; a superuser admin hands it over',
      'postgres',
      true,
      ['ALTER SCHEMA public OWNER TO "u_owner"'],
      [],
    ],
    [
      '14: a CREATEROLE admin cannot, and says who must',
      'postgres',
      false,
      [],
      [
        'schema public belongs to postgres, and the admin role u_owner is not a superuser: a superuser must run ' +
          'ALTER SCHEMA public OWNER TO "u_owner" in database app once (PostgreSQL 15 and later give public to the database owner themselves)',
      ],
    ],
  ])('public schema owner: %s', (_what, publicSchemaOwner, isSuperuser, statements, errors) => {
    const server = {
      ...liveState().server,
      publicSchemaOwner,
      isSuperuser,
      currentUser: isSuperuser ? 'postgres' : OWNER,
    };
    const plan = diff(desired(), liveState({ server }));
    expect(sql(plan).filter((s) => s.includes('SCHEMA public'))).toEqual(statements);
    expect(plan.errors).toEqual(errors);
  });

  const definer = (over: Partial<DefinerFunction> = {}): DefinerFunction => ({
    schema: 'public',
    name: 'transfer',
    kind: 'function',
    arguments: 'amount integer',
    owner: OWNER,
    executors: [null],
    ...over,
  });
  it.each<[string, DefinerFunction[], Parameters<typeof desired>[0], string[], string[]]>([
    [
      'PUBLIC loses EXECUTE on a SECURITY DEFINER function, which would run as the default credential',
      [definer()],
      {},
      ['REVOKE EXECUTE ON FUNCTION "public"."transfer"(amount integer) FROM PUBLIC'],
      [],
    ],
    [
      'several functions and procedures, in one statement per kind, hostile names quoted',
      [
        definer(),
        definer({ schema: 'we"ird', name: 'Pay Now', arguments: '' }),
        definer({ name: 'settle', kind: 'procedure', arguments: 'IN id bigint' }),
      ],
      {},
      [
        'REVOKE EXECUTE ON FUNCTION "public"."transfer"(amount integer), "we""ird"."Pay Now"() FROM PUBLIC',
        'REVOKE EXECUTE ON PROCEDURE "public"."settle"(IN id bigint) FROM PUBLIC',
      ],
      [],
    ],
    [
      'a credential granted EXECUTE by hand loses it too; an unmanaged role is left alone',
      [definer({ executors: ['analyst', 'bob'] })],
      { credentials: [{ name: 'analyst', access: level('read-only') }], passwords: ok('analyst') },
      ['REVOKE EXECUTE ON FUNCTION "public"."transfer"(amount integer) FROM "analyst"'],
      [],
    ],
    ['already revoked: nothing', [definer({ executors: [] })], {}, [], []],
  ])('SECURITY DEFINER: %s', (_what, definerFunctions, want, statements, findings) => {
    const live = liveState({
      ...readOnlyAnalyst(),
      extraRoles: [managed('analyst'), role('bob')],
      definerFunctions,
    });
    const plan = diff(desired(want), live);
    expect(sql(plan).filter((s) => s.includes('EXECUTE'))).toEqual(statements);
    expect(plan.findings.filter((f) => f.kind === 'definer-function').map((f) => f.description)).toEqual(
      findings,
    );
    if (statements.length > 0) {
      expect(plan.changes.find((c) => c.sql === statements[0])?.description).toMatch(
        /^loses EXECUTE on SECURITY DEFINER (function|procedure) .*: it runs as u_owner, so whoever calls it acts as u_owner$/,
      );
    }
  });

  it('SECURITY DEFINER: an admin that does not own the function reports it instead of failing', () => {
    const server = { ...liveState().server, isSuperuser: false, currentUser: OWNER };
    const plan = diff(desired(), liveState({ server, definerFunctions: [definer({ owner: 'postgres' })] }));
    expect(sql(plan).filter((s) => s.includes('EXECUTE'))).toEqual([]);
    expect(plan.findings).toContainEqual(
      expect.objectContaining({
        kind: 'definer-function',
        subject: 'PUBLIC',
        description:
          'PUBLIC may execute SECURITY DEFINER function public.transfer(amount integer), which runs as postgres',
      }),
    );
  });

  it.each([
    // The plan still says what it would do; the error keeps apply from trying.
    [
      160000,
      ['GRANT SELECT, MAINTAIN ON TABLE "public"."t" TO "m"'],
      ['credential m is granted MAINTAIN, which PostgreSQL 16 does not have (it came in 17)'],
    ],
    [170000, ['GRANT SELECT, MAINTAIN ON TABLE "public"."t" TO "m"'], []],
  ])('MAINTAIN on PostgreSQL %i', (versionNum, grants, errors) => {
    const access: Access = {
      kind: 'grants',
      grants: [{ privileges: ['SELECT', 'MAINTAIN'], on: 'table', objects: ['public.t'] }],
    };
    const plan = diff(
      desired({ credentials: [{ name: 'm', access }], passwords: ok('m') }),
      liveState({
        server: { ...liveState().server, versionNum },
        extraRoles: [managed('m')],
        declaredObjects: [{ schema: 'public', name: 't', class: 'tables' }],
      }),
    );
    expect(plan.errors).toEqual(errors);
    expect(sql(plan).filter((s) => s.includes('MAINTAIN'))).toEqual(grants);
  });

  it('quotes hostile names everywhere', () => {
    const schema = 'we"ird schema; DROP TABLE x';
    const plan = diff(
      desired({ credentials: [{ name: 'a', access: level('read-only') }], passwords: ok('a') }),
      liveState({ extraRoles: [managed('a')], tables: { [schema]: 1 }, levelRoles: false }),
    );
    expect(sql(plan)).toContain(
      `GRANT SELECT ON ALL TABLES IN SCHEMA "we""ird schema; DROP TABLE x" TO "${RO}"`,
    );
  });
});
