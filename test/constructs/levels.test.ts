import 'cdktf/lib/testing/adapters/jest';
import { DefaultPrivileges } from '@cdktf/provider-postgresql/lib/default-privileges';
import { Grant as PostgresqlGrant } from '@cdktf/provider-postgresql/lib/grant';
import { PostgresqlProvider } from '@cdktf/provider-postgresql/lib/provider';
import { Role } from '@cdktf/provider-postgresql/lib/role';
import { TerraformStack, Testing } from 'cdktf';
import {
  AdminConnection,
  Database,
  type DatabaseProps,
  Grant,
  Permission,
  Rotation,
} from '../../src/constructs';
import { parseTerraform, resourcesOf } from './terraform-json';

Testing.setupJest();

function stackWith(props: Partial<DatabaseProps> = {}) {
  const stack = new TerraformStack(Testing.app(), 'levels');
  const database = new Database(stack, 'Sunny', {
    name: 'postgresql-sunny-1234',
    admin: AdminConnection.fromVariables(),
    ...props,
  });
  return { stack, database };
}

/** Grants of one credential as `type schema objects: privileges`, addresses and providers left out. */
function grantsOf(synthesized: string, credential: string): string[] {
  const tf = parseTerraform(synthesized);
  return [
    ...resourcesOf(tf, 'postgresql_grant')
      .filter((g) => g.role === credential)
      .map(
        (g) =>
          `grant ${g.object_type}${g.schema ? ` ${g.schema}` : ''}${g.objects ? ` ${(g.objects as string[]).join(',')}` : ''}: ${(g.privileges as string[]).join(', ')}`,
      ),
    ...resourcesOf(tf, 'postgresql_default_privileges')
      .filter((d) => d.role === credential)
      .map(
        (d) =>
          `future ${d.object_type}${d.schema ? ` in ${d.schema}` : ''} of ${d.owner}: ${(d.privileges as string[]).join(', ')}`,
      ),
  ].sort();
}

/** The roles a credential's postgresql_role lists, resolved to names. */
function membershipsOf(synthesized: string, credential: string): string[] {
  const tf = parseTerraform(synthesized);
  const names = new Map(
    Object.entries(tf.resource?.postgresql_role ?? {}).map(([id, body]) => [id, body.name as string]),
  );
  const role = Object.values(tf.resource?.postgresql_role ?? {}).find((body) => body.name === credential);
  return ((role?.roles as string[] | undefined) ?? []).map(
    (ref) => names.get(/^\$\{postgresql_role\.(.+)\.name\}$/.exec(ref)?.[1] ?? '') ?? ref,
  );
}

describe('a credential synthesizes to postgresql_role, postgresql_grant and postgresql_default_privileges', () => {
  it('a LOGIN role without a password, whose password Terraform leaves to pgcred', () => {
    const { stack, database } = stackWith();
    database.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    const synthesized = Testing.synth(stack, true);
    expect(synthesized).toHaveResourceWithProperties(Role, {
      name: 'analyst',
      login: true,
      lifecycle: { ignore_changes: ['password'] },
    });
    const [role] = resourcesOf(parseTerraform(synthesized), 'postgresql_role');
    expect(role).not.toHaveProperty('password');
    expect(role).not.toHaveProperty('password_wo');
  });

  it('none: CONNECT on the database and nothing else', () => {
    const { stack, database } = stackWith({ schemas: ['public', 'reporting'] });
    database.addCredential('Nobody', { name: 'nobody', permission: Permission.none() });
    expect(grantsOf(Testing.synth(stack, true), 'nobody')).toEqual(['grant database: CONNECT']);
  });

  it('read-only: the credential holds CONNECT and is a member of the level role, which holds the rest', () => {
    const { stack, database } = stackWith({ schemas: ['public', 'reporting'], owner: 'app_owner' });
    database.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    const synthesized = Testing.synth(stack, true);
    expect(grantsOf(synthesized, 'analyst')).toEqual(['grant database: CONNECT']);
    const level = 'pgcred:read-only:postgresql-sunny-1234';
    expect(membershipsOf(synthesized, 'analyst')).toEqual([level]);
    expect(grantsOf(synthesized, level)).toEqual(
      [
        'grant schema public: USAGE',
        'grant schema reporting: USAGE',
        'grant table public: SELECT',
        'grant table reporting: SELECT',
        'grant sequence public: SELECT',
        'grant sequence reporting: SELECT',
        'future table of app_owner: SELECT',
        'future sequence of app_owner: SELECT',
        'future schema of app_owner: USAGE',
      ].sort(),
    );
    // The level role logs in as no one and inherits nothing.
    expect(synthesized).toHaveResourceWithProperties(Role, { name: level, login: false, inherit: false });
    // "All tables in schema" is postgresql_grant with no objects.
    expect(synthesized).toHaveResourceWithProperties(PostgresqlGrant, {
      object_type: 'table',
      schema: 'reporting',
      privileges: ['SELECT'],
    });
    expect(synthesized).toHaveResourceWithProperties(DefaultPrivileges, {
      owner: 'app_owner',
      object_type: 'table',
      privileges: ['SELECT'],
    });
  });

  it('read-write: the level role holds TEMPORARY, writes tables and uses sequences; creates nothing', () => {
    const { stack, database } = stackWith({ owner: 'app_owner' });
    database.addCredential('Billing', { name: 'billing', permission: Permission.readWrite() });
    const synthesized = Testing.synth(stack, true);
    expect(grantsOf(synthesized, 'billing')).toEqual(['grant database: CONNECT']);
    const level = 'pgcred:read-write:postgresql-sunny-1234';
    expect(membershipsOf(synthesized, 'billing')).toEqual([level]);
    const grants = grantsOf(synthesized, level);
    expect(grants).toEqual(
      [
        'grant database: TEMPORARY',
        'grant schema public: USAGE',
        'grant table public: SELECT, INSERT, UPDATE, DELETE, TRUNCATE',
        'grant sequence public: USAGE, SELECT',
        'future table of app_owner: SELECT, INSERT, UPDATE, DELETE, TRUNCATE',
        'future sequence of app_owner: USAGE, SELECT',
        'future schema of app_owner: USAGE',
      ].sort(),
    );
    expect(grants.join('\n')).not.toMatch(/CREATE/);
  });

  it('a stack leaves PUBLIC as it is unless told: Terraform cannot see who else reaches the database', () => {
    const { stack } = stackWith({ schemas: ['public', 'reporting'] });
    const synthesized = Testing.synth(stack, true);
    const revokes = Object.values(
      (JSON.parse(synthesized).resource?.postgresql_grant ?? {}) as Record<string, { role: string }>,
    ).filter((grant) => grant.role === 'public');
    expect(revokes).toEqual([]);
  });

  it('with public: harden, PUBLIC holds nothing on the database or the covered schemas', () => {
    const { stack } = stackWith({ schemas: ['public', 'reporting'], public: 'harden' });
    const synthesized = Testing.synth(stack, true);
    for (const schema of ['public', 'reporting']) {
      expect(synthesized).toHaveResourceWithProperties(PostgresqlGrant, {
        role: 'public',
        object_type: 'schema',
        schema,
        privileges: [],
      });
    }
    expect(synthesized).toHaveResourceWithProperties(PostgresqlGrant, {
      role: 'public',
      object_type: 'database',
      privileges: [],
    });
  });

  it('custom grants: grantSelect gives one table and USAGE on its schema', () => {
    const { stack, database } = stackWith();
    const limited = database.addCredential('Limited', { name: 'limited_user' });
    const result = limited.grantSelect('public.users', '"Odd Schema"."Mixed Case"');
    expect(result.grantee).toBe('limited_user');
    expect(result.grant.toString()).toBe('SELECT on table public.users, "Odd Schema"."Mixed Case"');
    expect(grantsOf(Testing.synth(stack, true), 'limited_user')).toEqual(
      [
        'grant database: CONNECT',
        'grant schema public: USAGE',
        'grant schema Odd Schema: USAGE',
        'grant table public users: SELECT',
        'grant table Odd Schema Mixed Case: SELECT',
      ].sort(),
    );
  });

  it('custom grants: all tables in a schema, sequences and default privileges in one schema', () => {
    const { stack, database } = stackWith({ owner: 'app_owner' });
    database.addCredential('Reporter', {
      name: 'reporter',
      grants: [
        Grant.onAllTablesIn(['reporting'], ['SELECT']),
        Grant.onSequences(['reporting.counter'], ['USAGE']),
        Grant.onFutureTables(['SELECT'], ['reporting']),
        Grant.onDatabase(['TEMPORARY']),
      ],
    });
    expect(grantsOf(Testing.synth(stack, true), 'reporter')).toEqual(
      [
        'grant database: CONNECT, TEMPORARY',
        'grant schema reporting: USAGE',
        'grant table reporting: SELECT',
        'grant sequence reporting counter: USAGE',
        'future table in reporting of app_owner: SELECT',
      ].sort(),
    );
  });

  it('a level change is one changed line: the credential role’s membership', () => {
    const synth = (permission: Permission) => {
      const { stack, database } = stackWith();
      database.addCredential('Analyst', { name: 'analyst', permission });
      return Testing.synth(stack, true);
    };
    const resources = (synthesized: string) => {
      const tf = parseTerraform(synthesized);
      return Object.fromEntries(
        ['postgresql_role', 'postgresql_grant', 'postgresql_default_privileges'].flatMap((type) =>
          resourcesOf(tf, type).map(({ address, ...body }) => [address, JSON.stringify(body)]),
        ),
      );
    };
    const readOnly = synth(Permission.readOnly());
    const readWrite = synth(Permission.readWrite());
    const before = resources(readOnly);
    const after = resources(readWrite);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    const changed = Object.keys(after).filter((address) => after[address] !== before[address]);
    expect(changed).toEqual([expect.stringMatching(/^postgresql_role\.Sunny_Analyst_Role_/)]);
    expect(membershipsOf(readOnly, 'analyst')).toEqual(['pgcred:read-only:postgresql-sunny-1234']);
    expect(membershipsOf(readWrite, 'analyst')).toEqual(['pgcred:read-write:postgresql-sunny-1234']);
  });

  it('the admin password is a sensitive variable; no secret is in cdk.tf.json', () => {
    const { stack, database } = stackWith();
    database.addCredential('Billing', {
      name: 'billing',
      permission: Permission.readWrite(),
      rotation: Rotation.every('90d'),
    });
    const synthesized = Testing.synth(stack, true);
    const tf = parseTerraform(synthesized);
    expect(tf.variable?.postgresql_sunny_1234_password).toEqual(
      expect.objectContaining({ sensitive: true, type: 'string' }),
    );
    expect(tf.variable?.postgresql_sunny_1234_password).not.toHaveProperty('default');
    expect(synthesized).toHaveProviderWithProperties(PostgresqlProvider, {
      alias: 'postgresql_sunny_1234',
      password: '${var.postgresql_sunny_1234_password}',
    });
    expect(synthesized).not.toMatch(/"password":\s*"(?!\$\{var\.)/);
  });

  it('fromProvider uses the given provider and database, and adds no variables', () => {
    const stack = new TerraformStack(Testing.app(), 'own-provider');
    const provider = new PostgresqlProvider(stack, 'Postgres', { database: 'd123' });
    const database = new Database(stack, 'Sunny', {
      name: 'postgresql-sunny-1234',
      admin: AdminConnection.fromProvider(provider, { urlVariable: 'SUNNY_URL' }),
    });
    database.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    const tf = parseTerraform(Testing.synth(stack, true));
    expect(tf.variable).toBeUndefined();
    const grants = resourcesOf(tf, 'postgresql_grant');
    expect(grants.length).toBeGreaterThan(0);
    expect(new Set(grants.map((g) => g.database))).toEqual(new Set(['d123']));
    expect(new Set(grants.map((g) => g.provider))).toEqual(new Set(['postgresql']));
  });

  it("executor pgcred: roles and grants are the reconciler's, so no postgresql_* resource is synthesized", () => {
    const { stack, database } = stackWith({ executor: 'pgcred' });
    database.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    const tf = parseTerraform(Testing.synth(stack, true));
    expect(tf.resource).toBeUndefined();
    expect(tf.provider).toBeUndefined();
  });

  it('CREATE on a schema, columns, routines and group roles: postgresql_grant and postgresql_grant_role', () => {
    const { stack, database } = stackWith({ schemas: ['public', 'billing'] });
    database.addCredential('Support', {
      name: 'support',
      memberOf: ['staff'],
      grants: [
        Grant.onSchemas(['billing'], ['USAGE', 'CREATE']),
        Grant.onColumns(['public.users'], ['id', 'email'], ['SELECT']),
        Grant.onColumns(['public.users'], ['email'], ['UPDATE']),
        Grant.executeOn(['billing.refund(integer)']),
      ],
    });
    const tf = parseTerraform(Testing.synth(stack, true));
    const grants = resourcesOf(tf, 'postgresql_grant')
      .filter((g) => g.role === 'support')
      .map(({ address: _a, provider: _p, database: _d, ...g }) => g);
    expect(grants).toEqual(
      expect.arrayContaining([
        { role: 'support', object_type: 'schema', schema: 'billing', privileges: ['USAGE', 'CREATE'] },
        {
          role: 'support',
          object_type: 'column',
          schema: 'public',
          objects: ['users'],
          columns: ['email'],
          privileges: ['SELECT', 'UPDATE'],
        },
        {
          role: 'support',
          object_type: 'column',
          schema: 'public',
          objects: ['users'],
          columns: ['id'],
          privileges: ['SELECT'],
        },
        {
          role: 'support',
          object_type: 'routine',
          schema: 'billing',
          objects: ['refund(integer)'],
          privileges: ['EXECUTE'],
        },
      ]),
    );
    expect(resourcesOf(tf, 'postgresql_grant_role').map((g) => [g.role, g.grant_role])).toEqual([
      ['support', 'staff'],
    ]);
  });

  it('the pgcred Terraform provider refuses column grants and memberOf at synth, naming the way that works', () => {
    const { stack, database } = stackWith({ terraformProvider: 'pgcred' } as Partial<DatabaseProps>);
    database.addCredential('Support', {
      name: 'support',
      memberOf: ['staff'],
      grants: [Grant.onColumns(['public.users'], ['email'], ['SELECT'])],
    });
    expect(() => Testing.synth(stack, true)).toThrow(/column grants need the postgresql provider/);
  });
});
