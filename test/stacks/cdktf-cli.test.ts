import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest } from '../../src/config/manifest';
import { Manifest } from '../../src/constructs';
import { projectFile } from '../../src/project';
import { parseTerraform, resourcesOf } from '../constructs/terraform-json';

/** Runs the real `cdktf synth`, offline, as a user of an example would. */
function cdktfSynth(cwd: string, output: string): Promise<{ status: number; output: string }> {
  return new Promise((done) => {
    execFile(
      projectFile('node_modules', '.bin', 'cdktf'),
      ['synth', '--output', output],
      {
        cwd,
        env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1', FORCE_COLOR: '0' },
        timeout: 110_000,
      },
      (error, stdout, stderr) =>
        done({ status: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

describe('cdktf synth, as the CLI runs it', () => {
  it.each(['cdktf-typescript', 'cdktf-yaml'])(
    'examples/%s synthesizes cdk.tf.json and the manifest offline',
    async (example) => {
      const out = mkdtempSync(join(tmpdir(), 'pgcred-synth-'));
      const result = await cdktfSynth(projectFile('examples', example), out);
      expect(result).toMatchObject({ status: 0 });
      const dir = join(out, 'stacks', 'sunny');
      const tf = parseTerraform(readFileSync(join(dir, 'cdk.tf.json'), 'utf8'));
      // The three credentials, and the database's two level roles.
      expect(
        resourcesOf(tf, 'postgresql_role')
          .map((role) => role.name)
          .sort(),
      ).toEqual([
        'analyst',
        'billing',
        'limited_user',
        'pgcred:read-only:postgresql-sunny-1234',
        'pgcred:read-write:postgresql-sunny-1234',
      ]);
      const { config } = loadManifest(join(dir, Manifest.FILE_NAME), {
        DATABASE_ADMIN_URL: 'postgres://h/d',
      });
      expect(config.databases.map((db) => db.credentials.length)).toEqual([3]);
    },
    120_000,
  );

  it('a 61st credential fails the synth with its construct path, and writes no manifest', async () => {
    const project = mkdtempSync(join(tmpdir(), 'pgcred-broken-'));
    const tsx = projectFile('node_modules', '.bin', 'tsx');
    writeFileSync(
      join(project, 'cdktf.json'),
      JSON.stringify({ language: 'typescript', app: `${tsx} main.ts` }),
    );
    writeFileSync(
      join(project, 'main.ts'),
      `const { App } = require(${JSON.stringify(projectFile('node_modules', 'cdktf'))});
const { TerraformStack } = require(${JSON.stringify(projectFile('node_modules', 'cdktf'))});
const { AdminConnection, Database } = require(${JSON.stringify(projectFile('src', 'constructs'))});
const app = new App();
const stack = new TerraformStack(app, 'broken');
const db = new Database(stack, 'Sunny', { name: 'postgresql-sunny-1234', admin: AdminConnection.fromVariables() });
for (let i = 1; i <= 61; i++) db.addCredential('Credential' + i, { name: 'c' + i });
app.synth();
`,
    );
    const out = join(project, 'out');
    const result = await cdktfSynth(project, out);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(
      '[broken/Sunny/Credential61] database postgresql-sunny-1234 allows at most 60 credentials besides default',
    );
    expect(() => readFileSync(join(out, 'stacks', 'broken', Manifest.FILE_NAME))).toThrow();
  }, 120_000);
});
