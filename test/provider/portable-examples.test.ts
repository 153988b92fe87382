import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installPackage, removeBuiltPackage } from './installed-package';
import { ROOT, run } from './terraform-cli';

/**
 * The CDKTF examples as a user takes them: copied out of the repository into two
 * checkouts at different paths, pgcred installed as a package, `cdktf synth` run in
 * each. Both synthesize, and to the same bytes: nothing of the machine or the
 * checkout's path is baked in.
 */
describe.each(['cdktf-typescript', 'cdktf-yaml'])('examples/%s copied out of the repository', (example) => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'pgcred-portable-'));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    removeBuiltPackage();
  });

  it('synthesizes against the installed package, the same JSON in two checkouts', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CHECKPOINT_DISABLE: '1',
      CI: '1',
      FORCE_COLOR: '0',
    };
    const outputs: string[][] = [];
    for (const into of ['a', join('elsewhere', 'deeper', 'b')]) {
      const dir = join(work, into);
      cpSync(join(ROOT, 'examples', example), dir, {
        recursive: true,
        filter: (source) => !/cdktf\.out|node_modules|\.terraform/.test(source),
      });
      installPackage(dir);
      const synth = await run(join(dir, 'node_modules', '.bin', 'cdktf'), ['synth'], dir, env);
      expect({ status: synth.status, output: synth.status === 0 ? '' : synth.stdout + synth.stderr }).toEqual(
        {
          status: 0,
          output: '',
        },
      );
      const stack = join(dir, 'cdktf.out', 'stacks', 'sunny');
      outputs.push(
        ['cdk.tf.json', 'pgcred.manifest.json'].map((file) => readFileSync(join(stack, file), 'utf8')),
      );
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[0]!.join('\n')).not.toContain(work);
  }, 180_000);
});
