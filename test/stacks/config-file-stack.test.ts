import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type TerraformStack, Testing } from 'cdktf';
import { Manifest } from '../../src/constructs';
import { projectFile } from '../../src/project';
import { BasicExampleStack, ConfigFileStack } from '../../src/stacks';
import { parseTerraform, resourceContents, resourcesOf } from '../constructs/terraform-json';

const EXAMPLE_YAML = projectFile('examples', 'cdktf-yaml', 'pgcred.yaml');

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pgcred-stack-')), 'pgcred.yaml');
  writeFileSync(file, text);
  return file;
}

/** The manifest's config with env files reduced to their names: the two stacks resolve them from different directories. */
function portableConfig(stack: TerraformStack) {
  const config = Manifest.of(stack).document().config as { apps: { envFile?: string }[] };
  return {
    ...config,
    apps: config.apps.map((app) => ({ ...app, envFile: app.envFile && basename(app.envFile) })),
  };
}

describe('ConfigFileStack: a stack built from pgcred.yaml', () => {
  it('gives a YAML user the same Terraform and the same manifest as the TypeScript stack', () => {
    const yaml = new ConfigFileStack(Testing.app(), 'sunny', { file: EXAMPLE_YAML });
    const typescript = new BasicExampleStack(Testing.app(), 'sunny');
    const fromYaml = parseTerraform(Testing.synth(yaml, true));
    const fromTypeScript = parseTerraform(Testing.synth(typescript, true));
    expect(resourceContents(fromYaml)).toEqual(resourceContents(fromTypeScript));
    expect(
      resourcesOf(fromYaml, 'postgresql_role')
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      'analyst',
      'billing',
      'limited_user',
      'pgcred:read-only:postgresql-sunny-1234',
      'pgcred:read-write:postgresql-sunny-1234',
    ]);
    expect(fromYaml.variable).toEqual(fromTypeScript.variable);
    expect(portableConfig(yaml)).toEqual(portableConfig(typescript));
  });

  it('keeps ${VAR} references as references, even when the environment has the secret', () => {
    const previous = process.env.DATABASE_ADMIN_URL;
    process.env.DATABASE_ADMIN_URL = 'postgres://admin:s3cr3t-Pa55word@db.internal/d1';
    try {
      const stack = new ConfigFileStack(Testing.app(), 'sunny', { file: EXAMPLE_YAML });
      const dir = join(Testing.fullSynth(stack), 'stacks', 'sunny');
      const manifest = readFileSync(join(dir, Manifest.FILE_NAME), 'utf8');
      expect(JSON.parse(manifest).config.databases[0].url).toBe('${DATABASE_ADMIN_URL}');
      expect(manifest + readFileSync(join(dir, 'cdk.tf.json'), 'utf8')).not.toContain('s3cr3t');
    } finally {
      if (previous === undefined) delete process.env.DATABASE_ADMIN_URL;
      else process.env.DATABASE_ADMIN_URL = previous;
    }
  });

  it('refuses an admin URL written into the file, naming the file and the path', () => {
    const file = yamlFile(
      'version: 1\ndatabases:\n  - { name: sunny, url: "postgres://admin:hunter2@db/d1" }\n',
    );
    expect(() => new ConfigFileStack(Testing.app(), 'sunny', { file })).toThrow(
      'databases[0].url: must be a ${VAR} reference for cdktf',
    );
  });

  it("reports the file's own problems as pgcred does, before any construct exists", () => {
    const file = yamlFile(
      'version: 1\ndatabases:\n  - name: sunny\n    url: ${DATABASE_ADMIN_URL}\n    plan: essential-0\n    credentials: [ { name: analyst } ]\n',
    );
    expect(() => new ConfigFileStack(Testing.app(), 'sunny', { file })).toThrow(
      "databases[0].credentials: You can't create a custom credential on Essential-tier databases. (plan essential-0)",
    );
  });

  it('honours an executor the file names, schemas per database, and followers', () => {
    const file = yamlFile(`version: 1
databases:
  - name: sunny
    url: \${SUNNY_URL}
    credentials: [ { name: analyst, permission: read-only } ]
  - name: moonlight
    url: \${MOONLIGHT_URL}
    role: follower
    source: sunny
  - name: cloudy
    url: \${CLOUDY_URL}
    executor: pgcred
    credentials: [ { name: writer, permission: read-write } ]
apps: [ { name: example-app } ]
attachments:
  - { database: moonlight, credential: analyst, app: example-app }
`);
    const stack = new ConfigFileStack(Testing.app(), 'three', {
      file,
      schemas: { sunny: ['public', 'reporting'] },
    });
    const tf = parseTerraform(Testing.synth(stack, true));
    // sunny's one credential and its two level roles; the follower and cloudy (executor pgcred) have none.
    expect(
      resourcesOf(tf, 'postgresql_role')
        .map((r) => r.name)
        .sort(),
    ).toEqual(['analyst', 'pgcred:read-only:sunny', 'pgcred:read-write:sunny']);
    expect(
      resourcesOf(tf, 'postgresql_grant')
        .filter((g) => g.role === 'pgcred:read-only:sunny' && g.object_type === 'schema')
        .map((g) => g.schema),
    ).toEqual(['public', 'reporting']);
    expect(Object.keys(tf.variable ?? {}).filter((v) => v.endsWith('_password'))).toEqual(['sunny_password']);
    expect(Manifest.of(stack).document().config).toMatchObject({
      databases: [
        { name: 'sunny', url: '${SUNNY_URL}', executor: 'terraform' },
        { name: 'moonlight', role: 'follower', source: 'sunny', executor: 'terraform' },
        { name: 'cloudy', executor: 'pgcred' },
      ],
    });
  });
});
