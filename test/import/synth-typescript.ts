import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '..', '..');

/**
 * What a user does with `pgcred import --format typescript`: type-checks the stack
 * against pgcred's constructs, then runs it as `cdktf synth` would (in this process,
 * `pgcred` resolving to src/constructs), into a directory of its own. Returns the
 * manifest the synth wrote.
 */
export function synthImportedStack(source: string): { manifestPath: string; diagnostics: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'pgcred-import-ts-'));
  const file = join(dir, 'main.ts');
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
    baseUrl: dir,
    paths: {
      pgcred: [join(root, 'src', 'constructs', 'index.ts')],
      cdktf: [join(root, 'node_modules', 'cdktf')],
      constructs: [join(root, 'node_modules', 'constructs')],
    },
  });
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file || !d.file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  const js = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  }).outputText;
  const modules: Record<string, unknown> = {
    pgcred: require('../../src/constructs'),
    cdktf: require('cdktf'),
    constructs: require('constructs'),
  };
  const outdir = join(dir, 'cdktf.out');
  const previous = process.env.CDKTF_OUTDIR;
  process.env.CDKTF_OUTDIR = outdir;
  try {
    const module = { exports: {} };
    const load = (id: string) => {
      if (!(id in modules)) throw new Error(`the stack imports ${id}`);
      return modules[id];
    };
    new Function('require', 'module', 'exports', js)(load, module, module.exports);
  } finally {
    if (previous === undefined) delete process.env.CDKTF_OUTDIR;
    else process.env.CDKTF_OUTDIR = previous;
  }
  const stacks = readdirSync(join(outdir, 'stacks'));
  if (stacks.length !== 1) throw new Error(`synth wrote ${stacks.length} stacks`);
  return { manifestPath: join(outdir, 'stacks', stacks[0]!, 'pgcred.manifest.json'), diagnostics };
}
