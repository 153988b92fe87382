import { join } from 'node:path';
import { TerraformStack, Testing } from 'cdktf';
import { loadManifest } from '../../src/config/manifest';
import { AdminConnection, Database, Manifest, Permission } from '../../src/constructs';
import { parseTerraform, resourcesOf } from './terraform-json';

/** The username scheme in CDKTF: the same model field as usernamePrefix in pgcred.yaml. */
describe('constructs: the username scheme', () => {
  const declare = (stack: TerraformStack, prefix: string, props: Record<string, unknown> = {}) => {
    const db = new Database(stack, 'Db17', {
      name: 'db17',
      admin: AdminConnection.fromVariables({ urlVariable: 'DB17_URL' }),
      usernamePrefix: prefix,
      ...props,
    });
    db.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    return db;
  };

  it('synthesizes postgresql_role db17_analyst, and the manifest carries the prefix', () => {
    const stack = new TerraformStack(Testing.app(), 'users');
    declare(stack, 'db17_');
    const roles = resourcesOf(parseTerraform(Testing.synth(stack)), 'postgresql_role').map((r) => r.name);
    expect(roles).toContain('db17_analyst');
    expect(roles).not.toContain('analyst');

    const outdir = Testing.fullSynth(stack);
    const { config } = loadManifest(join(outdir, 'stacks', 'users', Manifest.FILE_NAME), {
      DB17_URL: 'postgres://admin:pw@db.internal:5432/db17',
    });
    expect(config.databases[0]).toMatchObject({ name: 'db17', usernamePrefix: 'db17_' });
    expect(config.databases[0]!.credentials.map((c) => c.name)).toEqual(['analyst']);
  });

  it('a prefix that makes a username longer than 63 bytes fails synth, naming it', () => {
    const stack = new TerraformStack(Testing.app(), 'users');
    declare(stack, 'p'.repeat(54));
    expect(() => Testing.synth(stack, true)).toThrow(/is too long: its rotating username .* has 70 bytes/);
  });

  it('a prefix that is no role-name start fails synth, naming it', () => {
    const stack = new TerraformStack(Testing.app(), 'users');
    declare(stack, '1 x');
    expect(() => Testing.synth(stack, true)).toThrow(/usernamePrefix: "1 x" is not a username prefix/);
  });

  it("with the pgcred Terraform provider, is the database block's username_prefix", () => {
    const stack = new TerraformStack(Testing.app(), 'users');
    declare(stack, 'db17_', { terraformProvider: 'pgcred' });
    const tf = JSON.parse(Testing.synth(stack, true)) as {
      provider: { pgcred: { database: Record<string, unknown>[] }[] };
      resource: { pgcred_credential: Record<string, Record<string, unknown>> };
    };
    expect(tf.provider.pgcred[0]!.database).toEqual([
      expect.objectContaining({ name: 'db17', username_prefix: 'db17_' }),
    ]);
    // The resource names the credential; the provider makes the login db17_analyst.
    expect(Object.values(tf.resource.pgcred_credential).map((c) => c.name)).toEqual(['analyst']);
  });
});
