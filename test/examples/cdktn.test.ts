import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../../src/project';

const CDKTN = projectFile('examples', 'cdktn-typescript');
const CDKTF = projectFile('examples', 'cdktf-typescript');
const CDKTN_BIN = join(CDKTN, 'node_modules', '.bin');

function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  timeout = 150_000,
): Promise<{ status: number; output: string }> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      {
        cwd,
        env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1', FORCE_COLOR: '0', ...env },
        timeout,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        done({
          status: error ? Number((error as { code?: number }).code ?? 1) : 0,
          output: `${stdout}${stderr}`,
        }),
    );
  });
}

/** What synth wrote, with what names the tool or the project's folder made neutral. */
function synthesized(out: string, example: string): { tf: unknown; manifest: unknown; version: string } {
  const dir = join(out, 'stacks', 'sunny');
  const neutral = (text: string) => text.replaceAll(`examples/${example}/`, 'examples/EXAMPLE/');
  const tf = JSON.parse(neutral(readFileSync(join(dir, 'cdk.tf.json'), 'utf8')));
  const version = tf['//'].metadata.version;
  delete tf['//'].metadata.version;
  return {
    tf,
    manifest: JSON.parse(neutral(readFileSync(join(dir, 'pgcred.manifest.json'), 'utf8'))),
    version,
  };
}

/**
 * GIVEN pgcred's constructs WHEN CDK Terrain's own CLI synthesizes the example
 * THEN it writes the Terraform JSON and the manifest cdktf writes for the same stack,
 * from one copy of the core classes.
 */
describe('CDK Terrain (cdktn)', () => {
  beforeAll(async () => {
    // The example has its own lock file: cdktn's peer range for constructs excludes the
    // root's, and cdktn-cli needs Node 22, which the example takes from npm.
    if (!existsSync(join(CDKTN_BIN, 'cdktn'))) {
      const install = await run('npm', ['ci', '--no-audit', '--no-fund'], CDKTN, {}, 540_000);
      if (install.status !== 0)
        throw new Error(`npm ci in examples/cdktn-typescript failed:\n${install.output}`);
    }
  }, 600_000);

  it('examples/cdktn-typescript synthesizes offline with cdktn-cli to what examples/cdktf-typescript does with cdktf', async () => {
    // Both at the same depth: the manifest's paths are relative to the output folder.
    const cdktnOut = join(mkdtempSync(join(tmpdir(), 'pgcred-cdktn-')), 'out');
    const cdktfOut = join(mkdtempSync(join(tmpdir(), 'pgcred-cdktf-')), 'out');
    const [cdktn, cdktf] = await Promise.all([
      // The example's bin first: its `node` is the Node 22 cdktn-cli requires.
      run(join(CDKTN_BIN, 'cdktn'), ['synth', '--output', cdktnOut], CDKTN, {
        PATH: `${CDKTN_BIN}:${process.env.PATH}`,
      }),
      run(projectFile('node_modules', '.bin', 'cdktf'), ['synth', '--output', cdktfOut], CDKTF),
    ]);
    expect(cdktn).toMatchObject({ status: 0 });
    expect(cdktf).toMatchObject({ status: 0 });
    const byCdktn = synthesized(cdktnOut, 'cdktn-typescript');
    const byCdktf = synthesized(cdktfOut, 'cdktf-typescript');
    expect([byCdktn.version, byCdktf.version]).toEqual(['0.24.0', '0.21.0']);
    expect(byCdktn.tf).toEqual(byCdktf.tf);
    expect(byCdktn.manifest).toEqual(byCdktf.manifest);
    expect(Object.keys((byCdktn.tf as { resource: object }).resource).sort()).toEqual([
      'postgresql_default_privileges',
      'postgresql_grant',
      'postgresql_role',
    ]);
  }, 320_000);

  it('the cdktn entry point leaves one copy of the core classes: cdktf is cdktn, and so are the bindings’ base classes', async () => {
    const check = `
require(${JSON.stringify(projectFile('src', 'cdktn.ts'))});
const cdktn = require('cdktn');
const pg = require('@cdktf/provider-postgresql');
const { BasicExampleStack } = require(${JSON.stringify(projectFile('src', 'stacks'))});
const stack = new BasicExampleStack(new cdktn.App({ outdir: require('os').tmpdir() }), 'sunny');
console.log(JSON.stringify({
  cdktf: require('cdktf') === cdktn,
  privatePath: require('cdktf/lib/synthesize/synthesizer') === require('cdktn/lib/synthesize/synthesizer'),
  bindings: pg.role.Role.prototype instanceof cdktn.TerraformResource,
  stack: stack instanceof cdktn.TerraformStack,
  constructs: require.resolve('constructs').startsWith(${JSON.stringify(join(CDKTN, 'node_modules'))}),
}));
`;
    const result = await run(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', check], CDKTN);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.output.trim().split('\n').at(-1)!)).toEqual({
      cdktf: true,
      privatePath: true,
      bindings: true,
      stack: true,
      constructs: true,
    });
  }, 60_000);
});
