import { join, relative } from 'node:path';
import { PostgresqlProvider } from '@cdktf/provider-postgresql/lib/provider';
import { App, TerraformStack, Testing } from 'cdktf';
import {
  AdminConnection,
  Application,
  Attachment,
  Database,
  type DatabaseProps,
  Grant,
  Manifest,
  Permission,
  Rotation,
} from '../../src/constructs';
import { derivedOwnerName } from '../../src/reconciler/diff';

/**
 * The constructs targeting pgcred's provider (`terraformProvider: 'pgcred'`): what
 * they synthesize, what they refuse at synth, and the example's `cdktf synth`.
 */
interface TerraformJson {
  readonly provider?: Record<string, Record<string, unknown>[]>;
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly terraform?: { required_providers?: Record<string, unknown> };
  readonly variable?: Record<string, Record<string, unknown>>;
}

function sunny(stack: TerraformStack, props: Partial<DatabaseProps> = {}): Database {
  return new Database(stack, 'Sunny', {
    name: 'postgresql-sunny-1234',
    admin: AdminConnection.fromVariables(),
    terraformProvider: 'pgcred',
    ...props,
  });
}

/** Resources of a type by address, without cdktf's metadata. */
function resources(tf: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(tf.resource?.[type] ?? {}).map(([name, { '//': _metadata, ...body }]) => [name, body]),
  );
}

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

describe('a stack that targets the pgcred provider', () => {
  it('bakes no default credential name and no path of this machine into the JSON or the manifest', () => {
    const stack = new TerraformStack(Testing.app(), 'portable');
    const db = sunny(stack);
    new Attachment(stack, 'ExampleAppDefault', {
      credential: db.defaultCredential,
      app: new Application(stack, 'ExampleApp', { name: 'example-app', envFile: 'run/example-app.env' }),
    });
    Manifest.of(stack).configureControl({ keyFile: '.pgcred/master.key' });
    const tf = JSON.parse(Testing.synth(stack, true)) as TerraformJson;
    const provider = (tf.provider!.pgcred as Record<string, unknown>[])[0]!;
    expect(provider.database).toEqual([
      {
        name: 'postgresql-sunny-1234',
        url: '${var.postgresql_sunny_1234_url}',
        plan: 'standard-0',
        color: 'BLUE',
      },
    ]);
    // Relative to the directory synth runs in, written from the stack's directory, where Terraform runs.
    const outdir = (App.of(stack) as App).outdir;
    const fromStack = relative(join(outdir, 'stacks', 'portable'), process.cwd());
    expect(provider.key_file).toBe(join(fromStack, '.pgcred', 'master.key'));
    expect(Object.values(resources(tf, 'pgcred_app'))[0]).toMatchObject({
      env_file: join(fromStack, 'run', 'example-app.env'),
    });
    expect(JSON.stringify(tf)).not.toContain(derivedOwnerName('postgresql-sunny-1234'));
  });

  it('synthesizes one provider block per stack, pgcred_credential with a level, grants and rotation, and nothing of postgresql', () => {
    const stack = new TerraformStack(Testing.app(), 'pgcred');
    const db = sunny(stack, { owner: 'app_owner', credentialLimit: 120 });
    db.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    db.addCredential('Limited', { name: 'limited_user' }).addGrant(
      Grant.onTables(['public.users'], ['SELECT']),
    );
    db.addCredential('Billing', {
      name: 'billing',
      permission: Permission.readWrite(),
      rotation: Rotation.every('90d', { grace: '30m' }),
      rotationTrigger: '2026-11-27',
    });
    Manifest.of(stack).configureControl({ urlVariable: 'CONTROL_URL', keyFile: '/etc/pgcred/master.key' });
    const tf = JSON.parse(Testing.synth(stack, true)) as TerraformJson;

    expect(tf.terraform?.required_providers).toEqual({
      pgcred: { source: 'pgcred/pgcred', version: '0.1.0' },
    });
    expect(tf.provider?.pgcred).toEqual([
      {
        // The control store as the manifest records it: its URL a sensitive variable, never a value.
        control_url: '${var.pgcred_control_url}',
        key_file: '/etc/pgcred/master.key',
        database: [
          {
            name: 'postgresql-sunny-1234',
            url: '${var.postgresql_sunny_1234_url}',
            plan: 'standard-0',
            color: expect.any(String),
            owner: 'app_owner',
            credential_limit: 120,
          },
        ],
      },
    ]);
    expect(tf.variable?.postgresql_sunny_1234_url).toMatchObject({ type: 'string', sensitive: true });
    expect(tf.variable?.pgcred_control_url).toMatchObject({ type: 'string', sensitive: true });
    expect(Object.keys(tf.resource ?? {})).toEqual(['pgcred_credential']);
    const credentials = Object.values(resources(tf, 'pgcred_credential'));
    expect(credentials.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual([
      { provider: 'pgcred', database: 'postgresql-sunny-1234', name: 'analyst', permission: 'read-only' },
      {
        provider: 'pgcred',
        database: 'postgresql-sunny-1234',
        name: 'billing',
        permission: 'read-write',
        rotation: { every: '90d', grace: '30m' },
        rotation_trigger: '2026-11-27',
      },
      {
        provider: 'pgcred',
        database: 'postgresql-sunny-1234',
        name: 'limited_user',
        grant: [{ privileges: ['SELECT'], on: 'table', objects: ['public.users'] }],
      },
    ]);
  });

  it('makes each app a pgcred_app and each attachment a pgcred_attachment that refers to both, chained per app in pgcred naming order', () => {
    const stack = new TerraformStack(Testing.app(), 'pgcred');
    const db = sunny(stack);
    const analyst = db.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    const web = new Application(stack, 'Web', { name: 'web', envFile: '/srv/web.env', restart: 'true' });
    // Declared out of order: `as` first, then the default credential, then by name.
    new Attachment(stack, 'WebAnalyst', { credential: analyst, app: web });
    new Attachment(stack, 'WebDefault', { credential: db.defaultCredential, app: web });
    new Attachment(stack, 'WebReports', { credential: analyst, app: web, as: 'REPORTS' });
    const tf = JSON.parse(Testing.synth(stack, true)) as TerraformJson;

    const apps = resources(tf, 'pgcred_app');
    const [appAddress] = Object.keys(apps);
    expect(Object.values(apps)).toEqual([
      { provider: 'pgcred', name: 'web', env_file: '/srv/web.env', restart: 'true' },
    ]);
    const credential = Object.keys(resources(tf, 'pgcred_credential'))[0];
    const attachments = resources(tf, 'pgcred_attachment');
    const address = (id: string) => Object.keys(attachments).find((name) => name.startsWith(`${id}_`))!;
    expect(attachments[address('WebReports')]).toEqual({
      provider: 'pgcred',
      database: 'postgresql-sunny-1234',
      credential: `\${pgcred_credential.${credential}.name}`,
      app: `\${pgcred_app.${appAddress}.name}`,
      as: 'REPORTS',
    });
    expect(attachments[address('WebDefault')]).toMatchObject({
      credential: 'default',
      depends_on: [`pgcred_attachment.${address('WebReports')}`],
    });
    expect(attachments[address('WebAnalyst')]).toMatchObject({
      depends_on: [`pgcred_attachment.${address('WebDefault')}`],
    });

    // Terraform makes the attachments: the manifest leaves them out, so `pgcred apply` does not make them again.
    const manifest = Manifest.of(stack).document();
    expect(manifest.terraform).toEqual({
      provider: 'pgcred',
      databases: [{ name: 'postgresql-sunny-1234', schemas: [] }],
    });
    expect((manifest.config as { attachments: unknown[] }).attachments).toEqual([]);
    expect((manifest.config as { apps: unknown[] }).apps).toHaveLength(1);
  });

  it('keeps the postgresql target as it was: no pgcred resources, attachments in the manifest', () => {
    const stack = new TerraformStack(Testing.app(), 'postgresql');
    const db = sunny(stack, { terraformProvider: undefined });
    const analyst = db.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    new Attachment(stack, 'WebAnalyst', {
      credential: analyst,
      app: new Application(stack, 'Web', { name: 'web' }),
    });
    const tf = JSON.parse(Testing.synth(stack, true)) as TerraformJson;
    expect(Object.keys(tf.resource ?? {}).filter((type) => type.startsWith('pgcred_'))).toEqual([]);
    expect(tf.provider).not.toHaveProperty('pgcred');
    const manifest = Manifest.of(stack).document();
    expect(manifest.terraform.provider).toBe('postgresql');
    expect((manifest.config as { attachments: unknown[] }).attachments).toHaveLength(1);
  });

  it('refuses at synth what it cannot deploy, naming the construct', () => {
    const stack = new TerraformStack(Testing.app(), 'checks');
    sunny(stack);
    const other = new Database(stack, 'Other', {
      name: 'postgresql-other-1',
      admin: AdminConnection.fromVariables(),
    });
    other.addCredential('Rotating', { name: 'rotating', rotationTrigger: '1' });
    expect(synthErrors(stack)).toEqual([
      "[checks/Other] its credentials target the postgresql Terraform provider and this stack's other databases the pgcred one: one stack targets one provider, so split the stack or give every database the same terraformProvider",
      "[checks/Other/Rotating] rotationTrigger needs the pgcred Terraform provider (terraformProvider: 'pgcred' on the database); otherwise rotate with pgcred credentials:rotate or a rotation policy",
    ]);

    const schemas = new TerraformStack(Testing.app(), 'schemas');
    expect(() => sunny(schemas, { schemas: ['public', 'reporting'] })).toThrow(
      'the pgcred provider covers every non-system schema, as pgcred does: leave schemas out',
    );
    const fromProvider = new TerraformStack(Testing.app(), 'provider');
    const provider = new PostgresqlProvider(fromProvider, 'Pg', { database: 'app' });
    expect(() => sunny(fromProvider, { admin: AdminConnection.fromProvider(provider) })).toThrow(
      'AdminConnection.fromProvider configures a postgresql provider, which the pgcred Terraform provider cannot use',
    );
  });
});
