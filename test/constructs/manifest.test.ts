import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerraformStack, Testing } from 'cdktf';
import { loadConfigFile, parseConfig } from '../../src/config/load';
import { loadManifest } from '../../src/config/manifest';
import {
  AdminConnection,
  Application,
  Attachment,
  Database,
  Manifest,
  Permission,
  Rotation,
} from '../../src/constructs';
import { configDocument } from '../../src/constructs/config-document';
import { projectFile } from '../../src/project';
import { derivedOwnerName } from '../../src/reconciler/diff';

const SECRET_URL = 'postgres://admin:s3cr3t-Pa55word@db.internal:5432/d123';

function declare(stack: TerraformStack) {
  const db = new Database(stack, 'Sunny', {
    name: 'postgresql-sunny-1234',
    admin: AdminConnection.fromVariables({ urlVariable: 'SUNNY_ADMIN_URL' }),
    color: 'CYAN',
    schemas: ['public', 'reporting'],
  });
  const analyst = db.addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
  const billing = db.addCredential('Billing', {
    name: 'billing',
    permission: Permission.readWrite(),
    rotation: Rotation.every('90d', { grace: '10m' }),
  });
  db.addCredential('Limited', { name: 'limited_user' }).grantSelect('public.users');
  const app = new Application(stack, 'Billing', {
    name: 'billing-app',
    envFile: '/srv/billing/.env',
    restart: 'systemctl restart billing',
  });
  new Attachment(stack, 'BillingDatabase', { credential: billing, app });
  new Attachment(stack, 'BillingAnalytics', { credential: analyst, app, as: 'ANALYTICS' });
  return db;
}

describe('the pgcred manifest', () => {
  it('is written beside cdk.tf.json, and pgcred --manifest reads the model the constructs declared', () => {
    const stack = new TerraformStack(Testing.app(), 'sunny');
    declare(stack);
    const outdir = Testing.fullSynth(stack);
    const dir = join(outdir, 'stacks', 'sunny');
    expect(existsSync(join(dir, 'cdk.tf.json'))).toBe(true);
    const path = join(dir, Manifest.FILE_NAME);

    const { manifest, config } = loadManifest(path, { SUNNY_ADMIN_URL: SECRET_URL });
    expect(manifest).toMatchObject({
      manifestVersion: 1,
      stack: 'sunny',
      terraform: {
        provider: 'postgresql',
        databases: [{ name: 'postgresql-sunny-1234', schemas: ['public', 'reporting'] }],
      },
    });
    const declared = Manifest.of(stack).config();
    expect(config).toEqual({
      ...declared,
      databases: declared.databases.map((db) => ({ ...db, url: SECRET_URL })),
    });
    expect(config.databases[0]).toMatchObject({
      owner: derivedOwnerName('postgresql-sunny-1234'),
      executor: 'terraform',
      credentials: [
        { name: 'analyst', access: { kind: 'level', level: 'read-only' } },
        { name: 'billing', rotation: { everyMs: 90 * 86_400_000, graceMs: 10 * 60_000 } },
        {
          name: 'limited_user',
          access: {
            kind: 'grants',
            grants: [{ on: 'table', objects: ['public.users'], privileges: ['SELECT'] }],
          },
        },
      ],
    });
    expect(config.attachments).toEqual([
      { database: 'postgresql-sunny-1234', credential: 'billing', app: 'billing-app' },
      { database: 'postgresql-sunny-1234', credential: 'analyst', app: 'billing-app', as: 'ANALYTICS' },
    ]);
  });

  it('holds the admin URL as a ${VAR} reference: no secret reaches the synthesized files', () => {
    const previous = process.env.SUNNY_ADMIN_URL;
    process.env.SUNNY_ADMIN_URL = SECRET_URL;
    try {
      const stack = new TerraformStack(Testing.app(), 'sunny');
      declare(stack);
      const dir = join(Testing.fullSynth(stack), 'stacks', 'sunny');
      const manifest = readFileSync(join(dir, Manifest.FILE_NAME), 'utf8');
      expect(JSON.parse(manifest).config.databases[0].url).toBe('${SUNNY_ADMIN_URL}');
      for (const file of [Manifest.FILE_NAME, 'cdk.tf.json']) {
        expect(readFileSync(join(dir, file), 'utf8')).not.toContain('s3cr3t-Pa55word');
      }
    } finally {
      if (previous === undefined) delete process.env.SUNNY_ADMIN_URL;
      else process.env.SUNNY_ADMIN_URL = previous;
    }
  });

  it('a manifest with a literal admin URL is refused by its schema', () => {
    const stack = new TerraformStack(Testing.app(), 'sunny');
    declare(stack);
    const path = join(Testing.fullSynth(stack), 'stacks', 'sunny', Manifest.FILE_NAME);
    const edited = JSON.parse(readFileSync(path, 'utf8'));
    edited.config.databases[0].url = SECRET_URL;
    writeFileSync(path, JSON.stringify(edited));
    expect(() => loadManifest(path, {})).toThrow(
      /config\.databases\[0\]\.url: .* must be a \$\{VAR\} reference/,
    );
  });

  it('is not written when validation fails: synth stops first, naming the construct', () => {
    const stack = new TerraformStack(Testing.app(), 'broken');
    declare(stack).addCredential('Bad', { name: 'bad name' });
    expect(() => Testing.fullSynth(stack)).toThrow('[broken/Sunny/Bad] name:');
  });

  it('with executor pgcred it still carries the database, and lists no Terraform for it', () => {
    const stack = new TerraformStack(Testing.app(), 'sunny');
    new Database(stack, 'Sunny', {
      name: 'postgresql-sunny-1234',
      admin: AdminConnection.fromVariables(),
      executor: 'pgcred',
      owner: 'app_owner',
    }).addCredential('Analyst', { name: 'analyst', permission: Permission.readOnly() });
    const document = Manifest.of(stack).document();
    expect(document.terraform.databases).toEqual([]);
    expect(document.config).toMatchObject({
      databases: [
        {
          name: 'postgresql-sunny-1234',
          executor: 'pgcred',
          owner: 'app_owner',
          url: '${DATABASE_ADMIN_URL}',
        },
      ],
    });
  });

  it("writes the model back in pgcred.yaml's shape: loading it gives the same model", () => {
    const env = { DATABASE_ADMIN_URL: SECRET_URL };
    const original = loadConfigFile(projectFile('examples', 'basic', 'pgcred.yaml'), { env });
    const withEverything = {
      ...original,
      databases: [
        {
          ...original.databases[0]!,
          owner: 'app_owner',
          credentialLimit: 120,
          ignoreRoles: ['datadog'],
          credentials: [
            ...original.databases[0]!.credentials,
            {
              name: 'reporter',
              access: {
                kind: 'grants' as const,
                grants: [
                  { on: 'default-tables' as const, objects: [], privileges: ['SELECT'] },
                  { on: 'all-sequences' as const, objects: ['reporting'], privileges: ['USAGE'] },
                ],
              },
              rotation: { graceMs: 3000 },
            },
          ],
        },
      ],
      apps: original.apps.map((app) => ({
        ...app,
        restart: 'systemctl restart x',
        restartTimeoutMs: 90_000,
      })),
    };
    const text = JSON.stringify(configDocument(withEverything));
    expect(parseConfig(text, { env })).toEqual(withEverything);
  });
});
