import { TerraformStack, Testing } from 'cdktf';
import {
  AdminConnection,
  Application,
  Attachment,
  Credential,
  Database,
  DatabasePlan,
  DatabaseRole,
  Grant,
  Manifest,
  Permission,
  Rotation,
} from '../../src/constructs';

function newStack(): TerraformStack {
  return new TerraformStack(Testing.app(), 'checks');
}

function sunny(stack: TerraformStack, props: Partial<ConstructorParameters<typeof Database>[2]> = {}) {
  return new Database(stack, 'Sunny', {
    name: 'postgresql-sunny-1234',
    admin: AdminConnection.fromVariables(),
    ...props,
  });
}

/** The synth error's lines that name a construct, or [] when synth passes. */
function synthErrors(stack: TerraformStack): string[] {
  try {
    Testing.synth(stack, true);
    return [];
  } catch (error) {
    return (error as Error).message
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('['));
  }
}

describe('validation at synth names the construct path', () => {
  it('60 credentials synthesize; the 61st fails at its own path', () => {
    const stack = newStack();
    const db = sunny(stack);
    for (let i = 1; i <= 60; i++) db.addCredential(`Credential${i}`, { name: `c${i}` });
    expect(synthErrors(stack)).toEqual([]);
    db.addCredential('Credential61', { name: 'c61' });
    expect(synthErrors(stack)).toEqual([
      '[checks/Sunny/Credential61] database postgresql-sunny-1234 allows at most 60 credentials besides default (plan standard-0); the stack declares 61',
    ]);
  });

  it('the limit follows credentialLimit (Heroku later allowed 120)', () => {
    const stack = newStack();
    const db = sunny(stack, { credentialLimit: 2 });
    for (const name of ['a1', 'a2', 'a3']) db.addCredential(name, { name });
    expect(synthErrors(stack)).toEqual([
      '[checks/Sunny/a3] database postgresql-sunny-1234 allows at most 2 credentials besides default (plan standard-0); the stack declares 3',
    ]);
  });

  it('a bad or reserved name fails at the credential', () => {
    const stack = newStack();
    const db = sunny(stack);
    db.addCredential('Spaces', { name: 'bad name' });
    db.addCredential('TooLong', { name: 'x'.repeat(51) });
    db.addCredential('Reserved', { name: 'pg_monitor' });
    db.addCredential('Rotating', { name: 'analyst-rotating' });
    const errors = synthErrors(stack);
    expect(errors).toHaveLength(4);
    expect(errors[0]).toBe(
      `[checks/Sunny/Spaces] name: "bad name" may contain only letters, digits, '-' and '_' (at most 50)`,
    );
    expect(errors[1]).toMatch(/^\[checks\/Sunny\/TooLong\] name: "x{51}" may contain only/);
    expect(errors[2]).toMatch(/^\[checks\/Sunny\/Reserved\] name: "pg_monitor" is reserved/);
    expect(errors[3]).toMatch(/^\[checks\/Sunny\/Rotating\] name: "analyst-rotating" is reserved/);
  });

  it('a duplicate name (case-insensitive, as PUBLIC and public would read) fails at the second credential', () => {
    const stack = newStack();
    const db = sunny(stack);
    db.addCredential('Analyst', { name: 'analyst' });
    db.addCredential('AnalystAgain', { name: 'Analyst' });
    expect(synthErrors(stack)).toEqual([
      '[checks/Sunny/AnalystAgain] name: duplicate credential "Analyst" (also checks/Sunny/Analyst)',
    ]);
  });

  it('an attachment to an unknown credential fails at the attachment', () => {
    const stack = newStack();
    const db = sunny(stack);
    const analyst = db.addCredential('Analyst', { name: 'analyst' });
    const app = new Application(stack, 'ExampleApp', { name: 'example-app' });
    new Attachment(stack, 'Known', { credential: analyst, app });
    new Attachment(stack, 'Default', { credential: db.defaultCredential, app, as: 'PRIMARY' });
    new Attachment(stack, 'Ghost', { credential: Credential.fromName(db, 'ghost'), app, as: 'GHOST' });
    expect(synthErrors(stack)).toEqual([
      '[checks/Ghost] credential: unknown credential "ghost" of database postgresql-sunny-1234',
    ]);
  });

  it('an attachment to a database of another stack fails: each stack has its own manifest', () => {
    const app = Testing.app();
    const first = new TerraformStack(app, 'first');
    const second = new TerraformStack(app, 'second');
    const db = sunny(first);
    const analyst = db.addCredential('Analyst', { name: 'analyst' });
    sunny(second, { name: 'postgresql-other-1' });
    const consumer = new Application(second, 'App', { name: 'example-app' });
    new Attachment(second, 'Across', { credential: analyst, app: consumer });
    expect(synthErrors(first)).toEqual([]);
    expect(synthErrors(second)).toEqual([
      '[second/Across] database: unknown database "postgresql-sunny-1234"',
    ]);
  });

  it('named credentials on an Essential plan fail at each credential, in Heroku words', () => {
    const stack = newStack();
    const db = sunny(stack, { plan: DatabasePlan.ESSENTIAL_0 });
    db.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    db.addCredential('Billing', { name: 'billing' });
    expect(synthErrors(stack)).toEqual([
      "[checks/Sunny/Analyst] You can't create a custom credential on Essential-tier databases. (plan essential-0)",
      "[checks/Sunny/Billing] You can't create a custom credential on Essential-tier databases. (plan essential-0)",
    ]);
    const alone = newStack();
    sunny(alone, { plan: DatabasePlan.ESSENTIAL_0 });
    expect(synthErrors(alone)).toEqual([]);
  });

  it('a follower declares no credentials, and gets no Terraform: replication brings them', () => {
    const stack = newStack();
    const primary = sunny(stack);
    primary.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    const follower = new Database(stack, 'Follower', {
      name: 'postgresql-moonlight-5678',
      admin: AdminConnection.fromVariables({ urlVariable: 'FOLLOWER_URL' }),
      role: DatabaseRole.followerOf(primary),
    });
    expect(synthErrors(stack)).toEqual([]);
    expect(follower.node.children).toHaveLength(0);
    follower.addCredential('Reader', { name: 'reader' });
    expect(synthErrors(stack)).toEqual([
      "[checks/Follower/Reader] This operation is not supported for follower databases. A follower has its primary's credentials: declare them there.",
    ]);
  });

  it('grants that postgresql_grant cannot hold together fail at the credential', () => {
    const stack = newStack();
    const db = sunny(stack);
    const mixed = db.addCredential('Mixed', { name: 'mixed' });
    mixed.addGrant(Grant.onAllTablesIn(['public'], ['SELECT']));
    mixed.grantReadWrite('public.users');
    expect(synthErrors(stack)).toEqual([
      "[checks/Sunny/Mixed] table public.users gets INSERT, UPDATE, DELETE beside the grant on all tables in schema public: postgresql_grant cannot hold both without a perpetual diff; grant those privileges on all tables in public, or let pgcred own this database's grants",
    ]);
  });

  it('a bad grant fails at the credential, with the path inside it', () => {
    const stack = newStack();
    const db = sunny(stack);
    const odd = db.addCredential('Odd', { name: 'odd' });
    odd.grantSelect('a.b.c');
    odd.addGrant(Grant.fromSpec({ on: 'schema', objects: ['public'], privileges: ['OWN'] }));
    expect(synthErrors(stack)).toEqual([
      '[checks/Sunny/Odd] grants[1].privileges[0]: "OWN" is not one of SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, MAINTAIN, USAGE, CONNECT, TEMPORARY, CREATE, EXECUTE, ALL',
      '[checks/Sunny/Odd] grants[0].objects[0]: "a.b.c" has more than two parts: write schema.name',
    ]);
  });

  it('bad app and attachment names fail at their constructs', () => {
    const stack = newStack();
    const db = sunny(stack);
    const app = new Application(stack, 'Shouting', { name: 'Example_App' });
    new Attachment(stack, 'Suffixed', { credential: db.defaultCredential, app, as: 'ANALYTICS_URL' });
    expect(synthErrors(stack)).toEqual([
      '[checks/Shouting] name: "Example_App" is not an app name (lower-case letters, digits and \'-\', 2 to 30, starting with a letter)',
      '[checks/Suffixed] as: give the attachment name without _URL: "ANALYTICS"',
    ]);
  });

  it('a stack of apps and no database fails at the manifest', () => {
    const stack = newStack();
    new Application(stack, 'Lonely', { name: 'lonely-app' });
    expect(synthErrors(stack)).toEqual(['[checks/PgcredManifest] databases: needs at least 1 entry']);
    expect(Manifest.of(stack).node.path).toBe('checks/PgcredManifest');
  });
});

describe('prop conflicts throw at construction', () => {
  it('a level and custom grants', () => {
    const db = sunny(newStack());
    expect(() =>
      db.addCredential('Both', {
        name: 'both',
        permission: Permission.readOnly(),
        grants: [Grant.usageOnSchemas(['public'])],
      }),
    ).toThrow('checks/Sunny/Both: give a permission level or custom grants, not both');
    const analyst = db.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    expect(() => analyst.grantSelect('public.users')).toThrow(
      'credential analyst has permission level read-only; custom grants replace a level',
    );
  });

  it('a grant after synthesis, which the Terraform would not show', () => {
    const stack = newStack();
    const limited = sunny(stack).addCredential('Limited', { name: 'limited_user' });
    limited.grantSelect('public.users');
    Testing.synth(stack, true);
    expect(() => limited.grantSelect('public.orders')).toThrow(
      'grants must be added before the stack is synthesized',
    );
  });

  it('durations, schemas and variable names', () => {
    expect(() => Rotation.every('90 days')).toThrow(
      '"90 days" is not a duration such as 90d, 12h, 30m or 3s',
    );
    expect(() => Rotation.onRequest({ grace: '0m' })).toThrow('is not a duration');
    expect(() => sunny(newStack(), { schemas: ['public', 'pgcred'] })).toThrow(
      "holds pgcred's control store",
    );
    expect(() => sunny(newStack(), { schemas: ['public', 'public'] })).toThrow('listed twice');
    expect(() => AdminConnection.fromVariables({ urlVariable: 'postgres://x' })).toThrow(
      'is not an environment variable name',
    );
    expect(() => Permission.of('admin')).toThrow('unknown permission level "admin"');
  });
});
