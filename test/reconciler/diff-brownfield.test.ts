import type { Access } from '../../src/model/config';
import { hasDrift, type Plan } from '../../src/model/plan';
import { diff } from '../../src/reconciler/diff';
import type { LiveState } from '../../src/reconciler/live-state';
import { managedComment } from '../../src/reconciler/markers';
import { desired, liveState, OWNER, role } from './live-fixture';

// The pure diff on databases pgcred did not set up: roles it does not manage keep
// what they have, adopted roles keep their passwords, and the admin's limits are
// refused before anything changes.

const level = (l: 'none' | 'read-only' | 'read-write'): Access => ({ kind: 'level', level: l });
const sql = (plan: Plan) => plan.statements.map((s) => s.sql);
const publicDefaults = (): Partial<LiveState> => ({
  server: {
    ...liveState().server,
    acl: [
      { grantee: null, privilege: 'CONNECT' },
      { grantee: null, privilege: 'TEMPORARY' },
    ],
  },
  schemas: [{ name: 'public', owner: OWNER, acl: [{ grantee: null, privilege: 'USAGE' }] }],
  definerFunctions: [
    {
      schema: 'public',
      name: 'place_order',
      kind: 'function',
      arguments: 'item integer',
      owner: OWNER,
      executors: [null],
    },
  ],
});
const app = role('shop_app');

describe('PUBLIC on a database with roles pgcred does not manage', () => {
  it.each<[string, 'auto' | 'keep' | 'harden' | undefined, ReturnType<typeof role>[], boolean]>([
    ['auto, a legacy login role reaches it through PUBLIC: PUBLIC is left as it is', undefined, [app], false],
    ['auto, only superusers and pgcred roles: PUBLIC is hardened', undefined, [], true],
    ['auto, the unmanaged role cannot log in: hardened', undefined, [role('group', { login: false })], true],
    [
      'auto, an unmanaged superuser: hardened (privileges do not bind it)',
      undefined,
      [role('dba', { superuser: true })],
      true,
    ],
    ['keep, nobody else: left as it is', 'keep', [], false],
    ['harden, with a legacy role: hardened', 'harden', [app], true],
  ])('%s', (_title, policy, extraRoles, hardened) => {
    const plan = diff(
      desired({ ...(policy ? { publicPolicy: policy } : {}) }),
      liveState({ ...publicDefaults(), extraRoles }),
    );
    const revokesFromPublic = sql(plan).filter((s) => s.endsWith('FROM PUBLIC'));
    if (hardened) {
      expect(revokesFromPublic).toEqual([
        'REVOKE CONNECT, TEMPORARY ON DATABASE "app" FROM PUBLIC',
        'REVOKE USAGE ON SCHEMA "public" FROM PUBLIC',
        'REVOKE EXECUTE ON FUNCTION "public"."place_order"(item integer) FROM PUBLIC',
      ]);
      expect(plan.findings.filter((f) => f.kind === 'public-kept')).toEqual([]);
    } else {
      expect(revokesFromPublic).toEqual([]);
      const notice = plan.findings.find((f) => f.kind === 'public-kept');
      expect(notice?.severity).toBe('notice');
      expect(notice?.description).toContain('PUBLIC keeps CONNECT, TEMPORARY on database app');
      expect(notice?.description).toContain('EXECUTE on 1 SECURITY DEFINER routine (public.place_order)');
      expect(hasDrift(plan)).toBe(false);
      expect(hasDrift(plan, true)).toBe(true);
    }
  });

  it("harden names each role that is not pgcred's and what it loses, marked destructive, under PUBLIC's statements", () => {
    const plan = diff(
      desired({ publicPolicy: 'harden' }),
      liveState({
        ...publicDefaults(),
        extraRoles: [
          app,
          role('etl', { memberOf: [{ role: 'loaders', admin: false }] }),
          role('loaders', { login: false }),
        ],
        server: {
          ...publicDefaults().server!,
          acl: [...publicDefaults().server!.acl, { grantee: 'loaders', privilege: 'CONNECT' }],
        },
      }),
    );
    const losses = plan.changes.filter((c) => c.subject === 'shop_app' || c.subject === 'etl');
    expect(losses.map((c) => [c.subject, c.description, c.destructive])).toEqual([
      ['etl', "loses TEMPORARY on database app: role etl is not pgcred's and held it through PUBLIC", true],
      [
        'shop_app',
        "loses CONNECT, TEMPORARY on database app: role shop_app is not pgcred's and held it through PUBLIC",
        true,
      ],
      ['etl', "loses USAGE on schema public: role etl is not pgcred's and held it through PUBLIC", true],
      [
        'shop_app',
        "loses USAGE on schema public: role shop_app is not pgcred's and held it through PUBLIC",
        true,
      ],
      [
        'etl',
        "loses EXECUTE on SECURITY DEFINER function public.place_order(item integer): role etl is not pgcred's and held it through PUBLIC",
        true,
      ],
      [
        'shop_app',
        "loses EXECUTE on SECURITY DEFINER function public.place_order(item integer): role shop_app is not pgcred's and held it through PUBLIC",
        true,
      ],
    ]);
    // The losses ride on PUBLIC's statements: no statement names the legacy roles.
    expect(sql(plan).some((s) => s.includes('shop_app') || s.includes('"etl"'))).toBe(false);
  });

  it("sets the levels' default privileges for a legacy role that creates tables, and leaves its own grants alone", () => {
    const plan = diff(
      desired({ credentials: [{ name: 'analyst', access: level('read-only') }] }),
      liveState({
        ...publicDefaults(),
        levelRoles: false,
        extraRoles: [app, role('analyst', { comment: managedComment('credential', 'app') })],
        schemas: [
          {
            name: 'public',
            owner: OWNER,
            acl: [
              { grantee: null, privilege: 'USAGE' },
              { grantee: 'shop_app', privilege: 'CREATE' },
            ],
          },
        ],
        foreignOwnership: [
          { owner: 'shop_app', schema: 'public', kind: 'table', count: 1, sample: ['app_cache'] },
        ],
      }),
    );
    expect(sql(plan)).toEqual(
      expect.arrayContaining([
        'ALTER DEFAULT PRIVILEGES FOR ROLE "shop_app" GRANT SELECT ON TABLES TO "pgcred:read-only:app"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "u_owner" GRANT SELECT ON TABLES TO "pgcred:read-only:app"',
      ]),
    );
    expect(sql(plan).some((s) => /FROM "shop_app"|FROM PUBLIC/.test(s))).toBe(false);
    const owner = plan.findings.find((f) => f.kind === 'foreign-owner');
    expect(owner?.severity).toBe('notice');
  });

  it('an object a managed credential owns is drift, not a notice', () => {
    const plan = diff(
      desired({ credentials: [{ name: 'writer', access: level('read-write') }] }),
      liveState({
        extraRoles: [role('writer', { comment: managedComment('credential', 'app') })],
        foreignOwnership: [{ owner: 'writer', schema: 'public', kind: 'table', count: 1, sample: ['stray'] }],
      }),
    );
    expect(plan.findings.find((f) => f.kind === 'foreign-owner')?.severity).toBe('drift');
    expect(hasDrift({ ...plan, changes: [] })).toBe(true);
  });
});

describe('adoption', () => {
  it('keeps the password of an existing role it adopts, and says so', () => {
    const plan = diff(
      desired({ credentials: [{ name: 'reporting', access: level('read-only') }] }),
      liveState({ extraRoles: [role('reporting', { connectionLimit: 5, config: ['work_mem=64MB'] })] }),
    );
    expect(sql(plan).some((s) => s.includes('PASSWORD'))).toBe(false);
    expect(sql(plan).some((s) => s.includes('CONNECTION LIMIT') || s.includes('RESET'))).toBe(false);
    const adopt = plan.changes.find((c) => c.action === 'adopt');
    expect(adopt?.description).toBe('adopts existing role reporting (password kept)');
    expect(adopt?.sql).toBe(
      `COMMENT ON ROLE "reporting" IS 'managed by pgcred: credential of database "app" (adopted)'`,
    );
    expect(plan.findings.find((f) => f.kind === 'password-unknown')?.severity).toBe('notice');
  });

  it('an adopted role stays password-kept on the next plan; one pgcred created gets a password it lacks', () => {
    const adopted = diff(
      desired({ credentials: [{ name: 'reporting', access: level('none') }] }),
      liveState({ extraRoles: [role('reporting', { comment: managedComment('credential', 'app', true) })] }),
    );
    expect(adopted.changes.filter((c) => c.action === 'reset-password')).toEqual([]);
    const created = diff(
      desired({ credentials: [{ name: 'made', access: level('none') }] }),
      liveState({ extraRoles: [role('made', { comment: managedComment('credential', 'app') })] }),
    );
    expect(created.changes.filter((c) => c.action === 'reset-password')).toHaveLength(1);
  });

  it('a password changed by hand is set back even on an adopted role, and marked destructive', () => {
    const plan = diff(
      desired({
        credentials: [{ name: 'reporting', access: level('none') }],
        passwords: new Map([['reporting', 'changed']]),
      }),
      liveState({ extraRoles: [role('reporting', { comment: managedComment('credential', 'app', true) })] }),
    );
    expect(plan.changes.find((c) => c.action === 'reset-password')?.destructive).toBe(true);
  });

  it('adopts an existing owner as the default credential without touching its password', () => {
    const plan = diff(
      desired({ passwords: new Map([[OWNER, 'unknown']]) }),
      liveState({ extraRoles: [role(OWNER, { memberOf: [] })] }),
    );
    expect(plan.changes.find((c) => c.action === 'adopt')?.description).toBe(
      `adopts existing role ${OWNER} as the default credential (password kept)`,
    );
    expect(sql(plan).some((s) => s.includes('PASSWORD'))).toBe(false);
    expect(hasDrift({ ...plan, changes: [] })).toBe(false);
  });

  it('refuses a default credential that another database of the cluster manages', () => {
    const plan = diff(
      desired(),
      liveState({ extraRoles: [role(OWNER, { comment: managedComment('default credential', 'other') })] }),
    );
    expect(plan.errors).toEqual([
      `role ${OWNER} is already the default credential of database "other" in this cluster: roles are cluster-wide, so database app cannot make it its default credential; name another username with owner:`,
    ]);
  });
});

describe('an owner-with-CREATEROLE admin', () => {
  const asOwner = (over: Parameters<typeof liveState>[0] = {}) =>
    liveState({
      ...over,
      server: {
        ...liveState().server,
        currentUser: OWNER,
        isSuperuser: false,
        versionNum: 170000,
        ...over.server,
      },
    });

  it('refuses, before any change, to grant on tables it does not own, naming them and the fix', () => {
    const plan = diff(
      desired({ credentials: [{ name: 'analyst', access: level('read-only') }] }),
      asOwner({
        levelRoles: false,
        extraRoles: [app, role('analyst', { comment: managedComment('credential', 'app') })],
        foreignOwnership: [
          { owner: 'shop_app', schema: 'public', kind: 'table', count: 1, sample: ['app_cache'] },
        ],
      }),
    );
    expect(plan.errors).toContain(
      `table public.app_cache belongs to shop_app, and the admin role ${OWNER} is neither a superuser nor a member of shop_app, so it cannot grant on it: a superuser must run GRANT "shop_app" TO "${OWNER}" in this cluster, or run pgcred apply once as a superuser`,
    );
  });

  it('refuses to adopt a role it has no ADMIN OPTION on (PostgreSQL 16 and later)', () => {
    const plan = diff(
      desired({ credentials: [{ name: 'reporting', access: level('none') }] }),
      asOwner({ extraRoles: [role('reporting')] }),
    );
    expect(plan.errors).toContain(
      `role reporting exists and the admin role ${OWNER} has no ADMIN OPTION on it (PostgreSQL 16 and later need it to alter a role): a superuser must run GRANT "reporting" TO "${OWNER}" WITH ADMIN OPTION`,
    );
  });
});

describe('row-level security', () => {
  it('names, per table, the credentials whose level shows them no rows', () => {
    const plan = diff(
      desired({
        credentials: [
          { name: 'analyst', access: level('read-only') },
          { name: 'auditor', access: level('read-only') },
        ],
      }),
      liveState({
        extraRoles: [
          role('analyst', { comment: managedComment('credential', 'app') }),
          role('auditor', { comment: managedComment('credential', 'app') }),
        ],
        rowSecurity: [
          { schema: 'public', name: 'orders', policyRoles: ['auditor'] },
          { schema: 'public', name: 'open', policyRoles: [''] },
        ],
      }),
    );
    expect(plan.findings.filter((f) => f.kind === 'row-security').map((f) => f.description)).toEqual([
      'table public.orders has row-level security and no policy for analyst: their access lets them query it, but they see no rows',
    ]);
  });
});

describe('missing objects', () => {
  it('a notice names the credential whose grants name a table that does not exist', () => {
    const plan = diff(
      desired({
        credentials: [
          {
            name: 'limited',
            access: {
              kind: 'grants',
              grants: [{ privileges: ['SELECT'], on: 'table', objects: ['public.users'] }],
            },
          },
        ],
      }),
      liveState({ extraRoles: [role('limited', { comment: managedComment('credential', 'app') })] }),
    );
    expect(plan.findings.filter((f) => f.kind === 'missing-object')).toEqual([
      {
        kind: 'missing-object',
        severity: 'notice',
        subject: 'limited',
        description: 'table public.users, named by the grants of limited, does not exist',
        remedy: 'create it, or correct the grant',
      },
    ]);
  });
});
